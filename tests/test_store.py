"""The result store on refs/evallock/results, in real git repositories."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
from pathlib import Path
from typing import Any

import pytest

from evallock import lockfile, store
from evallock.cli import main
from evallock.errors import StoreError
from evallock.gitrepo import find_project
from helpers.project import git, make_project


def _record(run_id: str, score: float = 0.5) -> dict[str, Any]:
    return {
        "record_version": 1,
        "id": run_id,
        "created": "2026-12-04T12:00:00Z",
        "status": "valid",
        "invalid_reasons": [],
        "score": score,
        "evals": {"addition": {"score": score, "count": 2}},
        "prefix_cache": {"queries": 2, "hits": 0, "enable_prefix_caching": False},
        "source": {"commit": None, "dirty": False},
    }


@pytest.fixture
def project(tmp_path: Path) -> Any:
    root = make_project(tmp_path / "repo")
    assert main(["-C", str(root), "lock"]) == 0
    return find_project(str(root))


def _append(project: Any, run_id: str, score: float = 0.5) -> str:
    lock = lockfile.read(project.lock_path)
    assert lock is not None
    items = [{"eval": "addition", "key": "add-0000", "output": "20", "score": 1.0}]
    return store.append(
        project, _record(run_id, score), items, lockfile.dumps(lock), lock
    )


def test_store_append_lists_newest_first(project: Any) -> None:
    _append(project, "aaaa0001", 0.25)
    _append(project, "aaaa0002", 0.75)
    runs = store.list_runs(project)
    assert [run.id for run in runs] == ["aaaa0002", "aaaa0001"]
    assert runs[0].score == 0.75


def test_store_leaves_worktree_index_and_branch(project: Any) -> None:
    head = git(Path(project.root), "rev-parse", "HEAD")
    status = git(Path(project.root), "status", "--porcelain")
    _append(project, "bbbb0001")
    assert git(Path(project.root), "rev-parse", "HEAD") == head
    assert git(Path(project.root), "status", "--porcelain") == status
    refs = git(Path(project.root), "for-each-ref", "--format=%(refname)")
    assert "refs/evallock/results" in refs.split()


def test_store_load_roundtrip(project: Any) -> None:
    _append(project, "cccc0001")
    run = store.load(project, "cccc")
    assert run.record["id"] == "cccc0001"
    assert run.items[0]["key"] == "add-0000"
    assert run.lock["version"] == 1


def test_store_find_unknown_id(project: Any) -> None:
    _append(project, "dddd0001")
    with pytest.raises(StoreError, match="no stored run"):
        store.find(project, "ffff")


def test_store_find_ambiguous_prefix(project: Any) -> None:
    _append(project, "eeee0001")
    _append(project, "eeee0002")
    with pytest.raises(StoreError, match="ambiguous"):
        store.find(project, "eeee")


def _append_in_process(args: tuple[str, str]) -> str:
    root, run_id = args
    return _append(find_project(root), run_id)


def test_store_concurrent_appends_lose_nothing(project: Any) -> None:
    ids = [f"c0nc{n:04d}" for n in range(8)]
    with multiprocessing.get_context("spawn").Pool(8) as pool:
        pool.map(_append_in_process, [(project.root, run_id) for run_id in ids])
    stored = {run.id for run in store.list_runs(project)}
    assert stored == set(ids)


def test_sync_merges_diverged_histories(tmp_path: Path, project: Any) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    root = Path(project.root)
    git(root, "add", "eval.lock")
    git(root, "commit", "-q", "-m", "Lock inputs")
    git(root, "remote", "add", "origin", str(remote))
    git(root, "push", "-q", "origin", "main")
    other_root = tmp_path / "other"
    subprocess.run(
        ["git", "clone", "-q", "-b", "main", str(remote), str(other_root)], check=True
    )
    other = find_project(str(other_root))
    _append(project, "1oca1001")
    _append(other, "remote01")
    assert main(["-C", str(other_root), "sync"]) == 0
    assert main(["-C", str(root), "sync"]) == 0
    ids = {run.id for run in store.list_runs(project)}
    assert ids == {"1oca1001", "remote01"}


def test_log_json_lists_runs(project: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _append(project, "1ogj0001")
    assert main(["-C", project.root, "log", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["id"] == "1ogj0001"


def test_show_rejects_record_with_cache_hits(
    project: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = lockfile.read(project.lock_path)
    assert lock is not None
    record = _record("hit50001")
    record["prefix_cache"] = {"queries": 10, "hits": 4, "enable_prefix_caching": True}
    store.append(project, record, [], lockfile.dumps(lock), lock)
    assert main(["-C", project.root, "show", "hit50001"]) == 2
    error = capsys.readouterr().err
    assert "invalid" in error
    assert "prefix caching was on" in error
