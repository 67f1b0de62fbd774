"""``evallock diff`` between revisions and the working tree."""

from __future__ import annotations

from pathlib import Path

from helpers.cli import run_cli
from helpers.project import commit_all, git, items, make_project, write_jsonl


def project_with_history(tmp_path: Path) -> tuple[Path, str]:
    root = make_project(tmp_path / "repo")
    assert run_cli(root, "lock").code == 0
    first = commit_all(root, "Lock inputs")
    write_jsonl(root / "data" / "addition.jsonl", items(23))
    assert run_cli(root, "lock").code == 0
    commit_all(root, "Add three items")
    return root, first


def test_diff_between_two_revisions(tmp_path: Path) -> None:
    root, first = project_with_history(tmp_path)
    result = run_cli(root, "diff", first, "HEAD", "--format", "json")
    assert result.code == 1
    (change,) = result.json()["changes"]
    assert change["items"] == {"added": 3, "removed": 0, "changed": 0}


def test_diff_head_against_worktree_clean(tmp_path: Path) -> None:
    root, _ = project_with_history(tmp_path)
    result = run_cli(root, "diff")
    assert result.code == 0
    assert result.stdout.startswith("ok:")


def test_diff_worktree_lock_change(tmp_path: Path) -> None:
    root, _ = project_with_history(tmp_path)
    (root / "prompts" / "system.txt").write_text("Add.\n")
    assert run_cli(root, "lock").code == 0
    result = run_cli(root, "diff", "HEAD")
    assert result.code == 1
    assert "modified prompts/system.txt" in result.stdout


def test_diff_unknown_revision_exit_2(tmp_path: Path) -> None:
    root, _ = project_with_history(tmp_path)
    result = run_cli(root, "diff", "no-such-rev")
    assert result.code == 2
    assert "'no-such-rev' is not a commit" in result.stderr


def test_diff_revision_before_first_lock(tmp_path: Path) -> None:
    root, _ = project_with_history(tmp_path)
    first = git(root, "rev-list", "--max-parents=0", "HEAD").strip()
    result = run_cli(root, "diff", first)
    assert result.code == 2
    assert "eval.lock does not exist at revision" in result.stderr


def test_diff_in_empty_repository(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo", commit=False)
    assert run_cli(root, "lock").code == 0
    assert run_cli(root, "verify").code == 0
    result = run_cli(root, "diff", "HEAD")
    assert result.code == 2
    assert "has no commits yet" in result.stderr


def test_diff_detached_head_works(tmp_path: Path) -> None:
    root, first = project_with_history(tmp_path)
    git(root, "checkout", "-q", "--detach", "HEAD")
    assert run_cli(root, "verify").code == 0
    assert run_cli(root, "diff", first, "HEAD").code == 1
