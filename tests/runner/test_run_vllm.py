"""`evallock run` end to end with real vLLM on the CPU and the bundled model.

Each cold start of vLLM takes about 15 s here, so the tests share runs
through module-scoped fixtures: four cold starts in all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers.example import example_project, needs_example
from helpers.project import git

pytestmark = [pytest.mark.vllm, needs_example]


def evallock(root: Path, tmpdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, TMPDIR=str(tmpdir))
    return subprocess.run(
        [sys.executable, "-m", "evallock", "-C", str(root), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def show_json(root: Path, tmpdir: Path, run_id: str) -> dict[str, Any]:
    done = evallock(root, tmpdir, "show", run_id, "--format", "json")
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


@pytest.fixture(scope="module")
def greedy(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two cold greedy runs of the same lock, on 64 items."""
    base = tmp_path_factory.mktemp("greedy")
    root = example_project(base / "repo", items=64)
    scratch = base / "tmp"
    scratch.mkdir()
    assert evallock(root, scratch, "lock").returncode == 0
    runs = []
    for _ in range(2):
        done = evallock(root, scratch, "run", "--format", "json")
        assert done.returncode == 0, done.stderr
        runs.append(json.loads(done.stdout)["id"])
    return {"root": root, "tmp": scratch, "ids": runs}


def test_run_stores_result_on_results_ref(greedy: dict[str, Any]) -> None:
    refs = git(greedy["root"], "for-each-ref", "--format=%(refname)", "refs/evallock")
    assert refs.split() == ["refs/evallock/results"]
    count = git(greedy["root"], "rev-list", "--count", "refs/evallock/results")
    assert count.strip() == "2"


def test_run_records_zero_prefix_cache_hits(greedy: dict[str, Any]) -> None:
    record = show_json(greedy["root"], greedy["tmp"], greedy["ids"][0])["record"]
    assert record["prefix_cache"]["hits"] == 0
    assert record["prefix_cache"]["queries"] >= 0
    assert record["prefix_cache"]["enable_prefix_caching"] is False


def test_run_scores_example_model(greedy: dict[str, Any]) -> None:
    shown = show_json(greedy["root"], greedy["tmp"], greedy["ids"][0])
    assert len(shown["items"]) == 64
    assert shown["record"]["score"] >= 0.9


def test_run_two_cold_runs_identical(greedy: dict[str, Any]) -> None:
    first, second = (
        show_json(greedy["root"], greedy["tmp"], run_id)["items"]
        for run_id in greedy["ids"]
    )
    assert [row["output"] for row in first] == [row["output"] for row in second]
    done = evallock(
        greedy["root"], greedy["tmp"], "compare", *greedy["ids"], "--format", "json"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["verdict"] == "identical"


def test_run_leaves_no_scratch_folder(greedy: dict[str, Any]) -> None:
    leftovers = [
        p.name for p in greedy["tmp"].iterdir() if p.name.startswith("evallock")
    ]
    assert leftovers == []


def test_run_leaves_worktree_untouched(greedy: dict[str, Any]) -> None:
    status = git(greedy["root"], "status", "--porcelain")
    assert status.split("\n")[0].strip() in ("?? eval.lock", "")


def test_run_edited_prompt_blocks(tmp_path: Path) -> None:
    root = example_project(tmp_path / "repo", items=8)
    assert evallock(root, tmp_path, "lock").returncode == 0
    template = root / "examples" / "arith" / "prompts" / "addition.jinja"
    template.write_text(template.read_text() + " ")
    done = evallock(root, tmp_path, "run")
    assert done.returncode == 1
    assert "examples/arith/prompts/addition.jinja" in done.stderr
    refs = git(root, "for-each-ref", "refs/evallock")
    assert refs == ""


def test_run_sampled_outputs_ignore_batch_and_order(tmp_path: Path) -> None:
    """Temperature 0.8 with per-item seeds: max_num_seqs 64 vs 1, reversed order."""
    root = example_project(tmp_path / "repo", items=64)
    config = root / ".evallock.toml"
    config.write_text(
        config.read_text().replace("temperature = 0.0", "temperature = 0.8")
    )
    assert evallock(root, tmp_path, "lock").returncode == 0
    done = evallock(root, tmp_path, "run", "--repeat", "2", "--format", "json")
    assert done.returncode == 0, done.stderr
    noise = json.loads(done.stdout)["noise"]
    assert noise["max_num_seqs"] == [64, 1]
    assert noise["changed_items"] == 0
    assert noise["score_min"] == noise["score_max"]
