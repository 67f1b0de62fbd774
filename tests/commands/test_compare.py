"""``evallock compare`` on stored runs in real repositories."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.cli import run_cli
from helpers.project import items, write_jsonl
from helpers.runs import locked_project, noise_of, relock, store_run

from evallock.gitrepo import Project


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return locked_project(tmp_path / "repo")


def _shared_library_grows(project: Project) -> Project:
    """Three items appended to the dataset and one line reformatted."""
    store_run(project, "old-data", correct=lambda key: key < "add-0015")
    rows = items(20)
    rows[0] = dict(reversed(list(rows[0].items())))
    write_jsonl(Path(project.root) / "data/addition.jsonl", rows + items(3, start=900))
    project = relock(project)
    store_run(project, "new-data", correct=lambda key: key < "add-0016")
    return project


def test_compare_text_grown_dataset_subset(project: Project) -> None:
    project = _shared_library_grows(project)
    result = run_cli(project.root, "compare", "old-data", "new-data")
    assert result.code == 0
    assert "verdict: comparable on subset" in result.stdout
    assert "items added 3, removed 0, changed 0" in result.stdout
    assert "score: A 0.7500, B 0.8000 on 20 shared items" in result.stdout


def test_compare_json_grown_dataset(project: Project) -> None:
    project = _shared_library_grows(project)
    data = run_cli(project.root, "compare", "old", "new", "--format", "json").json()
    assert data["verdict"] == "comparable on subset"
    assert data["items"] == {"shared": 20, "only_a": 0, "only_b": 3}
    assert data["scores"] == {"a": 0.75, "b": 0.8}
    assert data["delta"]["test"] == "mcnemar_exact"
    assert data["changed_items"][0]["key"] == "add-0015"


def test_compare_trimmed_dataset_both_scores(tmp_path: Path) -> None:
    project = locked_project(tmp_path / "repo", count=399)
    flawed = {f"add-{n:04d}" for n in range(5, 399, 19)}
    assert len(flawed) == 21
    store_run(project, "before", correct=lambda key: key not in flawed)
    kept = [row for row in items(399) if row["id"] not in flawed]
    write_jsonl(Path(project.root) / "data/addition.jsonl", kept)
    project = relock(project)
    store_run(project, "after", correct=lambda key: key < "add-0200")
    data = run_cli(
        project.root, "compare", "before", "after", "--format", "json"
    ).json()
    assert data["verdict"] == "comparable on subset"
    assert data["items"]["shared"] == 378
    assert data["items"]["only_a"] == 21
    assert data["scores"]["a"] == 1.0
    assert data["scores"]["b"] == pytest.approx(
        sum(1 for row in kept if row["id"] < "add-0200") / 378
    )


def test_compare_json_schema_keys(project: Project) -> None:
    store_run(project, "run-a")
    store_run(project, "run-b")
    data = run_cli(project.root, "compare", "run-a", "run-b", "--format", "json").json()
    assert list(data) == [
        "version",
        "a",
        "b",
        "verdict",
        "reasons",
        "policy",
        "changes",
        "invalid",
        "items",
        "scores",
        "delta",
        "noise",
        "changed_items",
    ]
    assert list(data["changes"]) == ["under_test", "datasets", "drift", "ignored"]
    assert data["verdict"] == "identical"


def test_compare_noise_flag_printed(project: Project) -> None:
    store_run(project, "run-a", noise=noise_of(0.9, 1.0))
    store_run(project, "run-b", correct=lambda key: key != "add-0004")
    result = run_cli(project.root, "compare", "run-a", "run-b")
    assert "noise: the delta is within the noise band of 0.1000" in result.stdout


def test_compare_invalid_run_refused(project: Project) -> None:
    store_run(project, "run-a")
    store_run(
        project,
        "run-b",
        edit_record=lambda r: r["prefix_cache"].update(enable_prefix_caching=True),
    )
    result = run_cli(project.root, "compare", "run-a", "run-b")
    assert result.code == 2
    assert "stored run run-b is invalid" in result.stderr
    assert "prefix caching was on" in result.stderr
    assert result.stdout == ""


def test_compare_unknown_run_exit_two(project: Project) -> None:
    store_run(project, "run-a")
    result = run_cli(project.root, "compare", "run-a", "nothing")
    assert result.code == 2
    assert "no stored run has id 'nothing'" in result.stderr


def test_compare_bad_resamples_exit_two(project: Project) -> None:
    result = run_cli(project.root, "compare", "a", "b", "--resamples", "0")
    assert result.code == 2
    assert "--resamples 0 must be at least 1" in result.stderr


def test_compare_items_limit_text(project: Project) -> None:
    store_run(project, "run-a")
    store_run(project, "run-b", correct=lambda key: key > "add-0009")
    result = run_cli(project.root, "compare", "run-a", "run-b", "--items", "3")
    assert "changed items (10):" in result.stdout
    assert "… 7 more (use --items N or --format json)" in result.stdout
