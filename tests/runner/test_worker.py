"""Tests for the vLLM worker, run for real on the example model.

The tests marked `vllm` start the worker in a subprocess, three cold engine
starts in all. They pass `enforce_eager`, because every run gets fresh cache
folders and vLLM would otherwise spend most of each start compiling the model
with torch.compile.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jinja2
import pytest

from evallock.runner import worker

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "examples" / "arith"
MODEL = EXAMPLE / "model"
ITEM_COUNT = 64
WORKER_TIMEOUT_S = 600

requires_vllm = pytest.mark.skipif(
    importlib.util.find_spec("vllm") is None,
    reason="vllm is not installed (scripts/setup.sh installs it)",
)


def load_items(count: int) -> list[dict[str, Any]]:
    lines = (EXAMPLE / "data" / "addition.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines[:count]]


def render_prompt(item: dict[str, Any]) -> str:
    source = (EXAMPLE / "prompts" / "addition.jinja").read_text()
    environment = jinja2.Environment(keep_trailing_newline=True)
    return environment.from_string(source).render(**item)


def make_job(
    items: list[dict[str, Any]],
    *,
    temperature: float = 0.0,
    max_num_seqs: int = 64,
) -> dict[str, Any]:
    return {
        "model": str(MODEL),
        "engine": {
            "dtype": "float32",
            "max_model_len": 64,
            "seed": 0,
            "max_num_seqs": max_num_seqs,
            "enforce_eager": True,
        },
        "sampling": {"temperature": temperature, "top_p": 1.0, "max_tokens": 8},
        "use_generation_config": False,
        "requests": [
            {
                "key": item["id"],
                "prompt": render_prompt(item),
                "seed": int(item["id"].removeprefix("add-")),
            }
            for item in items
        ],
        "chat": False,
    }


def worker_env(folder: Path) -> dict[str, str]:
    """Return the environment of a cold, offline worker with fresh cache folders."""
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        VLLM_ENABLE_V1_MULTIPROCESSING="0",
        VLLM_CPU_KVCACHE_SPACE="1",
    )
    for name in (
        "HOME",
        "TMPDIR",
        "XDG_CACHE_HOME",
        "VLLM_CACHE_ROOT",
        "TORCHINDUCTOR_CACHE_DIR",
        "TRITON_CACHE_DIR",
    ):
        path = folder / name.lower()
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    return env


def run_worker(
    job: dict[str, Any], folder: Path
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any] | None]:
    folder.mkdir(parents=True, exist_ok=True)
    job_path = folder / "job.json"
    result_path = folder / "result.json"
    job_path.write_text(json.dumps(job))
    process = subprocess.run(
        [sys.executable, "-m", "evallock.runner.worker", job_path, result_path],
        cwd=REPO_ROOT,
        env=worker_env(folder),
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT_S,
    )
    result = json.loads(result_path.read_text()) if result_path.exists() else None
    return process, result


def run_worker_ok(job: dict[str, Any], folder: Path) -> dict[str, Any]:
    process, result = run_worker(job, folder)
    assert process.returncode == 0, (
        f"worker exited with {process.returncode}\n"
        f"stdout:\n{process.stdout}\nstderr (tail):\n{process.stderr[-4000:]}"
    )
    assert result is not None
    return {"process": process, "result": result}


@pytest.fixture(scope="module")
def greedy_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    job = make_job(load_items(ITEM_COUNT))
    return run_worker_ok(job, tmp_path_factory.mktemp("greedy"))


@pytest.fixture(scope="module")
def sampled_runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, Any], dict[str, Any]]:
    items = load_items(ITEM_COUNT)
    batched = make_job(items, temperature=0.8, max_num_seqs=64)
    serial = make_job(list(reversed(items)), temperature=0.8, max_num_seqs=1)
    return (
        run_worker_ok(batched, tmp_path_factory.mktemp("batched"))["result"],
        run_worker_ok(serial, tmp_path_factory.mktemp("serial"))["result"],
    )


def texts_by_key(result: dict[str, Any]) -> dict[str, str]:
    return {output["key"]: output["text"] for output in result["outputs"]}


def test_worker_import_loads_no_vllm() -> None:
    code = (
        "import sys, evallock.runner.worker\n"
        "print(sorted({'vllm', 'torch', 'transformers'} & set(sys.modules)))"
    )
    process = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert process.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"engine": {"enable_prefix_caching": True}}, "enable_prefix_caching"),
        ({"engine": {"generation_config": "auto"}}, "use_generation_config"),
        ({"engine": {"disable_log_stats": True}}, "disable_log_stats"),
        ({"sampling": {"seed": 1}}, "sampling.seed"),
        ({"sampling": {"n": 2}}, "sampling.n"),
        ({"requests": []}, "requests"),
        ({"use_generation_config": "yes"}, "use_generation_config"),
        ({"model": ""}, "model"),
    ],
)
def test_parse_job_rejects_invalid_fields(change: dict[str, Any], message: str) -> None:
    job = {**make_job(load_items(2)), **change}
    with pytest.raises(worker.InvalidJobError, match=message):
        worker.parse_job(job)


def test_parse_job_rejects_duplicate_keys() -> None:
    job = make_job(load_items(2))
    job["requests"][1]["key"] = job["requests"][0]["key"]
    with pytest.raises(worker.InvalidJobError, match="duplicate key"):
        worker.parse_job(job)


def test_parse_job_accepts_messages_only_in_chat() -> None:
    job = make_job(load_items(1))
    job["requests"][0]["prompt"] = [{"role": "user", "content": "2+2="}]
    with pytest.raises(worker.InvalidJobError, match="must be a string"):
        worker.parse_job(job)

    job["chat"] = True
    assert worker.parse_job(job).requests[0].prompt == job["requests"][0]["prompt"]


def test_worker_exits_3_on_prefix_caching(tmp_path: Path) -> None:
    job = make_job(load_items(2))
    job["engine"]["enable_prefix_caching"] = True
    process, result = run_worker(job, tmp_path)

    assert process.returncode == worker.EXIT_INVALID_JOB
    assert result is None
    assert "enable_prefix_caching" in process.stderr
    assert len(process.stderr.strip().splitlines()) == 1


def test_render_prompt_chat_matches_plain_tokens() -> None:
    transformers = pytest.importorskip("transformers")
    tokenizer = transformers.AutoTokenizer.from_pretrained(MODEL)

    class TokenizerOwner:
        def get_tokenizer(self) -> Any:
            return tokenizer

    request = worker.Request(key="add-0001", prompt="23+45=", seed=1)
    rendered = worker.render_prompt(TokenizerOwner(), True, request)

    assert rendered == {"prompt_token_ids": tokenizer.encode("23+45=")}


@requires_vllm
@pytest.mark.vllm
def test_worker_outputs_every_request_in_order(greedy_run: dict[str, Any]) -> None:
    outputs = greedy_run["result"]["outputs"]
    expected_keys = [item["id"] for item in load_items(ITEM_COUNT)]

    assert [output["key"] for output in outputs] == expected_keys
    for output in outputs:
        assert output["token_ids"], output
        assert output["finish_reason"] in ("stop", "length"), output
        assert output["num_prompt_tokens"] > 0, output


@requires_vllm
@pytest.mark.vllm
def test_worker_greedy_accuracy(greedy_run: dict[str, Any]) -> None:
    texts = texts_by_key(greedy_run["result"])
    items = load_items(ITEM_COUNT)
    correct = sum(texts[item["id"]] == item["answer"] for item in items)

    assert correct / len(items) >= 0.9, f"{correct} of {len(items)} correct"


@requires_vllm
@pytest.mark.vllm
def test_worker_reads_prefix_cache_counters(greedy_run: dict[str, Any]) -> None:
    prefix_cache = greedy_run["result"]["prefix_cache"]

    assert prefix_cache["queries"] is not None, prefix_cache
    assert prefix_cache["queries"] >= 0
    assert prefix_cache["hits"] == 0


@requires_vllm
@pytest.mark.vllm
def test_worker_records_resolved_settings(greedy_run: dict[str, Any]) -> None:
    result = greedy_run["result"]
    engine_args = result["engine_args"]

    assert engine_args["enable_prefix_caching"] is False
    assert engine_args["generation_config"] == "vllm"
    assert engine_args["max_num_seqs"] == 64
    assert engine_args["dtype"] == "float32"
    assert isinstance(engine_args["block_size"], int)
    assert isinstance(engine_args["max_num_batched_tokens"], int)
    assert result["generation_config_applied"] is False
    assert result["sampling_defaults_from_model"] == {}
    assert set(result["versions"]) == {"vllm", "torch", "transformers"}
    assert result["topology"]["tensor_parallel_size"] == 1
    assert result["topology"]["device"] in ("cpu", "cuda")
    assert result["timings"]["load_s"] > 0


@requires_vllm
@pytest.mark.vllm
def test_worker_stdout_carries_only_events(greedy_run: dict[str, Any]) -> None:
    lines = greedy_run["process"].stdout.splitlines()
    events = [json.loads(line)["event"] for line in lines]

    assert events == ["loading", "loaded", "generating", "generated", "written"]


@requires_vllm
@pytest.mark.vllm
def test_worker_seeded_sampling_ignores_batching(
    sampled_runs: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    batched, serial = sampled_runs
    batched_texts = texts_by_key(batched)
    serial_texts = texts_by_key(serial)
    batched_tokens = {o["key"]: o["token_ids"] for o in batched["outputs"]}
    serial_tokens = {o["key"]: o["token_ids"] for o in serial["outputs"]}

    assert batched["engine_args"]["max_num_seqs"] == 64
    assert serial["engine_args"]["max_num_seqs"] == 1
    assert serial_texts == batched_texts
    assert serial_tokens == batched_tokens


@requires_vllm
@pytest.mark.vllm
def test_worker_sampling_differs_from_greedy(
    greedy_run: dict[str, Any],
    sampled_runs: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    # Without some sampled outputs that differ from greedy ones, the batching
    # test above could pass with sampling silently turned off.
    greedy_texts = texts_by_key(greedy_run["result"])
    sampled_texts = texts_by_key(sampled_runs[0])
    changed = [key for key in greedy_texts if greedy_texts[key] != sampled_texts[key]]

    assert changed, "temperature 0.8 gave the greedy output for every item"
