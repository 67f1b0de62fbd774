"""Per-component differences between two locks."""

from __future__ import annotations

from typing import Any

from evallock import drift
from evallock.fingerprint import INPUT_COMPONENTS


def prompts(**files: str) -> dict[str, Any]:
    table = {path: {"digest": d, "eol": "lf", "text": d} for path, d in files.items()}
    return {"digest": "|".join(sorted(files.values())), "files": table}


def dataset(items: dict[str, str], file: str = "f") -> dict[str, Any]:
    digest = "|".join(f"{k}={v}" for k, v in sorted(items.items()))
    return {
        "digest": digest,
        "items_digest": digest,
        "file": file,
        "count": len(items),
        "id_field": "id",
        "items": items,
    }


def test_drift_identical_locks_no_changes() -> None:
    lock = {"prompts": prompts(a="1"), "datasets": {"d": dataset({"x": "1"})}}
    assert drift.compare_locks(lock, lock, INPUT_COMPONENTS) == []


def test_drift_prompt_added_removed_modified() -> None:
    old = {"prompts": prompts(a="1", b="2")}
    new = {"prompts": prompts(b="3", c="4")}
    kinds = {c.path: c.kind for c in drift.compare_locks(old, new, ["prompts"])}
    assert kinds == {"a": "removed", "b": "modified", "c": "added"}


def test_drift_item_counts() -> None:
    old = dataset({"a": "1", "b": "2", "c": "3"})
    new = dataset({"b": "2", "c": "9", "d": "4", "e": "5"})
    changes = drift.compare_locks(
        {"datasets": {"d": old}}, {"datasets": {"d": new}}, ["datasets"]
    )
    assert changes[0].items == {"added": 2, "removed": 1, "changed": 1}


def test_drift_reformatted_dataset_not_a_change() -> None:
    old = {"datasets": {"d": dataset({"a": "1"}, file="f1")}}
    new = {"datasets": {"d": dataset({"a": "1"}, file="f2")}}
    assert drift.compare_locks(old, new, ["datasets"]) == []
    assert drift.reformatted_datasets(old, new) == ["d"]


def test_drift_dataset_removed_counts_items() -> None:
    old = {"datasets": {"d": dataset({"a": "1", "b": "2"})}}
    changes = drift.compare_locks(old, {"datasets": {}}, ["datasets"])
    assert changes[0].kind == "removed"
    assert changes[0].items == {"added": 0, "removed": 2, "changed": 0}


def test_drift_engine_setting_old_new() -> None:
    old = {"engine": {"digest": "1", "settings": {"seed": 0, "max_num_seqs": 64}}}
    new = {"engine": {"digest": "2", "settings": {"seed": 0, "max_num_seqs": 8}}}
    (change,) = drift.compare_locks(old, new, ["engine"])
    assert change.to_json() == {
        "component": "engine",
        "setting": "max_num_seqs",
        "kind": "modified",
        "old": 64,
        "new": 8,
    }
    assert change.name == "engine.max_num_seqs"


def test_drift_checkpoint_part_named() -> None:
    def checkpoint(weights: str) -> dict[str, Any]:
        return {
            "digest": weights,
            "source": "m",
            "weights": {"digest": weights, "files": {"w.safetensors": weights}},
        }

    (change,) = drift.compare_locks(
        {"checkpoint": checkpoint("1")}, {"checkpoint": checkpoint("2")}, ["checkpoint"]
    )
    assert change.path == "m/w.safetensors"
    assert change.part == "weights"
    assert change.name == "checkpoint.weights"


def test_drift_json_contract_fields() -> None:
    change = drift.Change(
        "datasets",
        "modified",
        "d.jsonl",
        items={"added": 3, "removed": 0, "changed": 1},
    )
    assert change.to_json() == {
        "component": "datasets",
        "path": "d.jsonl",
        "kind": "modified",
        "items": {"added": 3, "removed": 0, "changed": 1},
    }


def test_drift_line_endings_detail() -> None:
    old = {
        "prompts": {
            "digest": "1",
            "files": {"p": {"digest": "1", "eol": "lf", "text": "t"}},
        }
    }
    new = {
        "prompts": {
            "digest": "2",
            "files": {"p": {"digest": "2", "eol": "crlf", "text": "t"}},
        }
    }
    (change,) = drift.compare_locks(old, new, ["prompts"])
    assert change.detail == (
        "line endings changed (LF → CRLF); the text is otherwise the same"
    )
