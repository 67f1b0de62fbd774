"""Verdicts for pairs of stored runs, one changed component at a time."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers.project import items, set_config, write_jsonl
from helpers.runs import locked_project, noise_of, relock, store_run

from evallock import compare, store
from evallock.gitrepo import Project

DEFAULT = compare.Policy()


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return locked_project(tmp_path / "repo")


def _compare(
    project: Project,
    policy: compare.Policy = DEFAULT,
    a: str = "run-a",
    b: str = "run-b",
) -> compare.Comparison:
    return compare.compare_runs(store.load(project, a), store.load(project, b), policy)


def _pair_after(
    project: Project, change: Callable[[Path], None], **run_b: Any
) -> Project:
    """Store run A, apply *change* to the inputs, relock and store run B."""
    store_run(project, "run-a")
    change(Path(project.root))
    project = relock(project)
    store_run(project, "run-b", **run_b)
    return project


def _reasons(result: compare.Comparison) -> str:
    return "\n".join(result.reasons)


def test_compare_same_inputs_identical(project: Project) -> None:
    store_run(project, "run-a")
    store_run(project, "run-b", correct=lambda key: key != "add-0003")
    result = _compare(project)
    assert result.verdict == compare.IDENTICAL
    assert result.reasons == ["every compared component matches"]
    assert result.delta is not None
    assert result.delta.delta == pytest.approx(-0.05)
    assert [item.key for item in result.items] == ["add-0003"]


PROMPT_EDITS = {
    "prompts/system.txt": "Add the two numbers.\n",
    "prompts/fewshot/one.txt": "12+31=43\n",
    "prompts/addition.jinja": "{{ a }} + {{ b }} =",
}


@pytest.mark.parametrize("path", sorted(PROMPT_EDITS))
def test_compare_prompt_edit_drifted(project: Project, path: str) -> None:
    project = _pair_after(
        project, lambda root: (root / path).write_text(PROMPT_EDITS[path])
    )
    result = _compare(project)
    assert result.verdict == compare.DRIFTED
    assert [change.path for change in result.drift] == [path]
    assert f"prompt {path} changed outside under_test" in _reasons(result)


def test_compare_prompt_added_drifted(project: Project) -> None:
    project = _pair_after(
        project, lambda root: (root / "prompts/fewshot/three.txt").write_text("1+1=2\n")
    )
    result = _compare(project)
    assert result.verdict == compare.DRIFTED
    assert "prompt prompts/fewshot/three.txt added" in _reasons(result)


def test_compare_prompt_line_endings_named(project: Project) -> None:
    def to_crlf(root: Path) -> None:
        path = root / "prompts/system.txt"
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))

    result = _compare(_pair_after(project, to_crlf))
    assert result.verdict == compare.DRIFTED
    assert "line endings changed (LF → CRLF)" in _reasons(result)


def test_compare_prompt_under_test_comparable(project: Project) -> None:
    project = _pair_after(
        project, lambda root: (root / "prompts/system.txt").write_text("Add.\n")
    )
    policy = compare.Policy(under_test=("prompts.prompts/system.txt",))
    result = _compare(project, policy)
    assert result.verdict == compare.COMPARABLE
    assert [change.path for change in result.under_test] == ["prompts/system.txt"]


def test_compare_other_prompt_not_under_test(project: Project) -> None:
    project = _pair_after(
        project, lambda root: (root / "prompts/fewshot/two.txt").write_text("5+5=10\n")
    )
    policy = compare.Policy(under_test=("prompts.prompts/system.txt",))
    assert _compare(project, policy).verdict == compare.DRIFTED


def _append_items(root: Path) -> None:
    """Three new items appended and one line reformatted (keys reordered)."""
    rows = items(20)
    rows[4] = dict(reversed(list(rows[4].items())))
    write_jsonl(root / "data/addition.jsonl", rows + items(3, start=500))


def test_compare_items_added_subset(project: Project) -> None:
    result = _compare(_pair_after(project, _append_items))
    assert result.verdict == compare.SUBSET
    assert result.shared == 20
    assert result.only_b == 3
    assert result.datasets[0].items == {"added": 3, "removed": 0, "changed": 0}


def test_compare_items_added_reasons_counts(project: Project) -> None:
    result = _compare(_pair_after(project, _append_items))
    assert "dataset data/addition.jsonl (items added 3, removed 0, changed 0)" in (
        _reasons(result)
    )
    assert "recomputed on the 20 items both runs scored" in _reasons(result)


def test_compare_reformatted_line_identical(project: Project) -> None:
    def reformat(root: Path) -> None:
        rows = items(20)
        rows[7] = dict(sorted(rows[7].items(), reverse=True))
        write_jsonl(root / "data/addition.jsonl", rows)

    assert _compare(_pair_after(project, reformat)).verdict == compare.IDENTICAL


def test_compare_trimmed_dataset_shared_scores(tmp_path: Path) -> None:
    project = locked_project(tmp_path / "repo", count=399)
    flawed = {f"add-{n:04d}" for n in range(0, 399, 19)}
    assert len(flawed) == 21
    store_run(
        project, "run-a", correct=lambda key: key not in flawed and key < "add-0300"
    )
    write_jsonl(
        Path(project.root) / "data/addition.jsonl",
        [row for row in items(399) if row["id"] not in flawed],
    )
    project = relock(project)
    store_run(project, "run-b", correct=lambda key: key < "add-0300")
    result = _compare(project)
    assert result.verdict == compare.SUBSET
    assert result.shared == 378
    assert result.only_a == 21
    assert result.score_a == pytest.approx(result.score_b)
    assert result.score_a == pytest.approx(
        sum(1 for n in range(300) if f"add-{n:04d}" not in flawed) / 378
    )
    assert result.delta is not None
    assert result.delta.items == 378


def test_compare_changed_item_not_shared(project: Project) -> None:
    def relabel(root: Path) -> None:
        rows = items(20)
        rows[2]["answer"] = "0"
        write_jsonl(root / "data/addition.jsonl", rows)

    result = _compare(_pair_after(project, relabel))
    assert result.verdict == compare.SUBSET
    assert result.shared == 19
    assert result.datasets[0].items == {"added": 0, "removed": 0, "changed": 1}


def test_compare_disjoint_datasets_drifted(project: Project) -> None:
    project = _pair_after(
        project,
        lambda root: write_jsonl(root / "data/addition.jsonl", items(5, start=900)),
    )
    result = _compare(project)
    assert result.verdict == compare.DRIFTED
    assert "the two runs share no dataset items" in result.reasons


def test_compare_items_without_ids_match_content(project: Project) -> None:
    def drop_ids(root: Path) -> None:
        rows = [{k: v for k, v in row.items() if k != "id"} for row in items(20)]
        write_jsonl(root / "data/addition.jsonl", rows)

    def drop_ids_and_trim(root: Path) -> None:
        rows = [{k: v for k, v in row.items() if k != "id"} for row in items(20)]
        write_jsonl(root / "data/addition.jsonl", list(reversed(rows[:15])))

    drop_ids(Path(project.root))
    project = _pair_after(relock(project), drop_ids_and_trim)
    result = _compare(project)
    assert result.verdict == compare.SUBSET
    assert result.shared == 15
    assert result.only_a == 5


def _edit_file(relative: str, data: bytes) -> Callable[[Path], None]:
    return lambda root: (root / relative).write_bytes(data)


CHECKPOINT_EDITS = {
    "weights": _edit_file("model/model.safetensors", b"\x01" * 4096),
    "tokenizer": _edit_file(
        "model/tokenizer_config.json",
        json.dumps({"chat_template": "{{ 'Be brief.' }}{{ messages }}"}).encode(),
    ),
    "generation_config": _edit_file(
        "model/generation_config.json",
        json.dumps({"repetition_penalty": 1.3, "top_k": 20}).encode(),
    ),
    "config": _edit_file(
        "model/config.json", json.dumps({"max_position_embeddings": 64}).encode()
    ),
}


@pytest.mark.parametrize("part", sorted(CHECKPOINT_EDITS))
def test_compare_checkpoint_part_comparable(project: Project, part: str) -> None:
    result = _compare(_pair_after(project, CHECKPOINT_EDITS[part]))
    assert result.verdict == compare.COMPARABLE
    assert {change.part for change in result.under_test} == {part}
    assert result.drift == []


@pytest.mark.parametrize("part", ["tokenizer", "generation_config", "config"])
def test_compare_checkpoint_part_outside_weights(project: Project, part: str) -> None:
    result = _compare(
        _pair_after(project, CHECKPOINT_EDITS[part]),
        compare.Policy(under_test=("checkpoint.weights",)),
    )
    assert result.verdict == compare.DRIFTED
    assert f"checkpoint {part} file model/" in _reasons(result)


def test_compare_chat_template_named(project: Project) -> None:
    result = _compare(
        _pair_after(project, CHECKPOINT_EDITS["tokenizer"]),
        compare.Policy(under_test=()),
    )
    assert "the chat template changed" in _reasons(result)


def test_compare_weights_under_test_weights(project: Project) -> None:
    result = _compare(
        _pair_after(project, CHECKPOINT_EDITS["weights"]),
        compare.Policy(under_test=("checkpoint.weights",)),
    )
    assert result.verdict == compare.COMPARABLE


ENGINE_EDITS = [
    ("max_num_seqs = 64", "max_num_seqs = 8", "max_num_seqs", 64, 8),
    ('dtype = "float32"', 'dtype = "bfloat16"', "dtype", "float32", "bfloat16"),
    ("max_model_len = 64", "max_model_len = 32", "max_model_len", 64, 32),
    ("seed = 0", "seed = 7", "seed", 0, 7),
    ("seed = 0", "seed = 0\ntensor_parallel_size = 2", "tensor_parallel_size", 1, 2),
    ("seed = 0", "seed = 0\nenforce_eager = true", "enforce_eager", False, True),
    (
        "seed = 0",
        "seed = 0\nmax_num_batched_tokens = 512",
        "max_num_batched_tokens",
        8192,
        512,
    ),
    ("seed = 0", 'seed = 0\nkv_cache_dtype = "fp8"', "kv_cache_dtype", "auto", "fp8"),
]


@pytest.mark.parametrize(("old", "new", "setting", "before", "after"), ENGINE_EDITS)
def test_compare_engine_setting_drifted(
    project: Project, old: str, new: str, setting: str, before: Any, after: Any
) -> None:
    project = _pair_after(project, lambda root: set_config(root, old, new))
    result = _compare(project)
    assert result.verdict == compare.DRIFTED
    assert f"engine setting {setting} ({before!r} → {after!r})" in _reasons(result)


def test_compare_resolved_engine_args_drifted(project: Project) -> None:
    store_run(project, "run-a")
    store_run(
        project, "run-b", edit_record=lambda r: r["engine_args"].update(max_num_seqs=1)
    )
    result = _compare(project)
    assert result.verdict == compare.DRIFTED
    assert "engine setting max_num_seqs (64 → 1): as resolved by vLLM" in (
        _reasons(result)
    )


SAMPLING_EDITS = [
    ("temperature = 0.0", "temperature = 0.7", "temperature"),
    ("max_tokens = 8", "max_tokens = 16", "max_tokens"),
    ("max_tokens = 8", "max_tokens = 8\ntop_p = 0.9", "top_p"),
    ("max_tokens = 8", "max_tokens = 8\ntop_k = 5", "top_k"),
    (
        "max_tokens = 8",
        "max_tokens = 8\nrepetition_penalty = 1.2",
        "repetition_penalty",
    ),
    ("max_tokens = 8", 'max_tokens = 8\nstop = ["\\n"]', "stop"),
]


@pytest.mark.parametrize(("old", "new", "setting"), SAMPLING_EDITS)
def test_compare_sampling_setting_drifted(
    project: Project, old: str, new: str, setting: str
) -> None:
    result = _compare(_pair_after(project, lambda root: set_config(root, old, new)))
    assert result.verdict == compare.DRIFTED
    assert [change.setting for change in result.drift] == [setting]


def test_compare_generation_config_use_drifted(project: Project) -> None:
    project = _pair_after(
        project,
        lambda root: set_config(
            root,
            'checkpoint = "model"',
            'checkpoint = "model"\nuse_generation_config = true',
        ),
    )
    result = _compare(project)
    assert result.verdict == compare.DRIFTED
    assert "sampling setting use_generation_config (False → True)" in _reasons(result)


def test_compare_scorer_name_drifted(project: Project) -> None:
    project = _pair_after(
        project,
        lambda root: set_config(root, 'scorer = "exact_match"', 'scorer = "includes"'),
    )
    result = _compare(project)
    assert result.verdict == compare.DRIFTED
    assert "scorer setting addition.name ('exact_match' → 'includes')" in (
        _reasons(result)
    )


def test_compare_python_scorer_source_drifted(project: Project) -> None:
    root = Path(project.root)
    (root / "score.py").write_text("def check(output, item):\n    return 1.0\n")
    set_config(root, 'scorer = "exact_match"', 'scorer = "python:score.py:check"')
    project = _pair_after(
        relock(project),
        lambda root: (root / "score.py").write_text(
            "def check(output, item):\n    return 0.0\n"
        ),
    )
    result = _compare(project)
    assert result.verdict == compare.DRIFTED
    assert [change.path for change in result.drift] == ["score.py"]


def _software(version: str) -> Callable[[dict[str, Any]], None]:
    return lambda lock: lock["software"].update(vllm=version)


def _hardware(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda lock: lock["hardware"].update(values)


def test_compare_software_version_drifted(project: Project) -> None:
    store_run(project, "run-a")
    store_run(project, "run-b", edit_lock=_software("0.33.0"))
    result = _compare(project)
    assert result.verdict == compare.DRIFTED
    assert "software setting vllm ('0.32.0' → '0.33.0')" in _reasons(result)


def test_compare_software_ignored_identical(project: Project) -> None:
    store_run(project, "run-a")
    store_run(project, "run-b", edit_lock=_software("0.33.0"))
    result = _compare(project, compare.Policy(ignore=("software",)))
    assert result.verdict == compare.IDENTICAL
    assert [change.setting for change in result.ignored] == ["vllm"]


def test_compare_hardware_driver_drifted(project: Project) -> None:
    store_run(project, "run-a", edit_lock=_hardware(driver="550.54"))
    store_run(project, "run-b", edit_lock=_hardware(driver="560.10"))
    result = _compare(project)
    assert result.verdict == compare.DRIFTED
    assert "hardware setting driver ('550.54' → '560.10')" in _reasons(result)


def test_compare_hardware_driver_ignored(project: Project) -> None:
    store_run(project, "run-a", edit_lock=_hardware(driver="550.54"))
    store_run(project, "run-b", edit_lock=_hardware(driver="560.10"))
    policy = compare.Policy(ignore=("hardware.driver",))
    assert _compare(project, policy).verdict == compare.IDENTICAL


def test_compare_ignored_driver_keeps_model(project: Project) -> None:
    store_run(project, "run-a", edit_lock=_hardware(driver="550.54", model="A100"))
    store_run(project, "run-b", edit_lock=_hardware(driver="560.10", model="H100"))
    result = _compare(project, compare.Policy(ignore=("hardware.driver",)))
    assert result.verdict == compare.DRIFTED
    assert [change.setting for change in result.drift] == ["model"]


INVALID_RECORDS = [
    (
        lambda r: r["prefix_cache"].update(enable_prefix_caching=True),
        "the record says prefix caching was on",
    ),
    (
        lambda r: r["prefix_cache"].update(hits=3),
        "the record shows 3 prefix-cache hits",
    ),
    (lambda r: r.update(record_version=99), "record version 99 is not supported"),
]


@pytest.mark.parametrize(("edit", "reason"), INVALID_RECORDS)
def test_compare_invalid_record_says_why(
    project: Project, edit: Callable[[dict[str, Any]], None], reason: str
) -> None:
    store_run(project, "run-a")
    store_run(project, "run-b", edit_record=edit)
    result = _compare(project)
    assert result.verdict == compare.INVALID
    assert f"run run-b is invalid: {reason}" in _reasons(result)
    assert result.delta is None


def test_compare_delta_within_noise_flagged(project: Project) -> None:
    store_run(project, "run-a", noise=noise_of(0.90, 1.0))
    store_run(project, "run-b", correct=lambda key: key != "add-0001")
    result = _compare(project)
    assert result.noise is not None
    assert result.noise.within is True
    assert result.noise.band == pytest.approx(0.10)


def test_compare_delta_outside_noise(project: Project) -> None:
    store_run(project, "run-a", noise=noise_of(0.98, 1.0))
    store_run(project, "run-b", correct=lambda key: key > "add-0009")
    result = _compare(project)
    assert result.noise is not None
    assert result.noise.within is False


def test_compare_without_repeats_no_noise(project: Project) -> None:
    store_run(project, "run-a")
    store_run(project, "run-b")
    assert _compare(project).noise is None


def test_compare_policy_read_from_config(project: Project) -> None:
    config = Path(project.root) / ".evallock.toml"
    config.write_text(
        config.read_text()
        + '\n[compare]\nunder_test = ["engine"]\nignore = ["hardware.driver"]\n'
    )
    policy = compare.policy_of(project)
    assert policy.under_test == ("engine",)
    assert policy.ignore == ("hardware.driver",)


SUMMARY_CASES = [
    ("identical", lambda root: None, compare.IDENTICAL, True),
    ("weights", CHECKPOINT_EDITS["weights"], compare.COMPARABLE, True),
    (
        "engine",
        lambda root: set_config(root, "max_num_seqs = 64", "max_num_seqs = 2"),
        compare.DRIFTED,
        True,
    ),
    ("dataset", _append_items, compare.SUBSET, False),
]


@pytest.mark.parametrize(("name", "change", "verdict", "settled"), SUMMARY_CASES)
def test_compare_summary_verdict_matches(
    project: Project,
    name: str,
    change: Callable[[Path], None],
    verdict: str,
    settled: bool,
) -> None:
    project = _pair_after(project, change)
    newer, older = store.list_runs(project)
    quick = compare.summary_verdict(older.data, newer.data, DEFAULT)
    assert quick.verdict == verdict
    assert quick.settled is settled
    assert _compare(project).verdict == verdict


def test_compare_summary_invalid_run(project: Project) -> None:
    store_run(project, "run-a")
    store_run(project, "run-b", edit_record=lambda r: r["prefix_cache"].update(hits=1))
    newer, older = store.list_runs(project)
    assert compare.summary_verdict(older.data, newer.data, DEFAULT).verdict == (
        compare.INVALID
    )


def test_compare_summary_dotted_ignore_unsettled(project: Project) -> None:
    store_run(project, "run-a", edit_lock=_hardware(driver="550.54"))
    store_run(project, "run-b", edit_lock=_hardware(driver="560.10"))
    newer, older = store.list_runs(project)
    policy = compare.Policy(ignore=("hardware.driver",))
    quick = compare.summary_verdict(older.data, newer.data, policy)
    assert quick.settled is False
    assert quick.components == ("hardware",)
