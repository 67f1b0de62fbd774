"""A shallow CI clone: checks that need only HEAD work; history commands say why not."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers.cli import run_cli
from helpers.project import git, make_project


@pytest.fixture(scope="module")
def shallow(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A `git clone --depth 1` of a project with five commits."""
    base = tmp_path_factory.mktemp("shallow")
    origin = make_project(base / "origin")
    assert run_cli(origin, "-q", "lock").code == 0
    git(origin, "add", "eval.lock")
    git(origin, "commit", "-q", "-m", "Lock inputs")
    for number in range(3):
        (origin / "prompts" / "system.txt").write_text(f"Version {number}.\n")
        assert run_cli(origin, "-q", "lock").code == 0
        git(origin, "commit", "-q", "-am", f"Prompt version {number}")
    clone = base / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{origin}", str(clone)],
        check=True,
        capture_output=True,
    )
    return clone


def test_shallow_clone_is_shallow(shallow: Path) -> None:
    assert git(shallow, "rev-parse", "--is-shallow-repository").strip() == "true"


def test_shallow_verify_works(shallow: Path) -> None:
    result = run_cli(shallow, "verify")
    assert result.code == 0


def test_shallow_verify_staged_works(shallow: Path) -> None:
    assert run_cli(shallow, "verify", "--staged").code == 0


def test_shallow_verify_reports_drift(shallow: Path) -> None:
    prompt = shallow / "prompts" / "system.txt"
    original = prompt.read_text()
    prompt.write_text("Edited in CI.\n")
    try:
        assert run_cli(shallow, "verify").code == 1
    finally:
        prompt.write_text(original)


def test_shallow_diff_head_works(shallow: Path) -> None:
    assert run_cli(shallow, "diff", "HEAD").code == 0


def test_shallow_diff_history_exits_2(shallow: Path) -> None:
    result = run_cli(shallow, "diff", "HEAD~3")
    assert result.code == 2
    assert "shallow" in result.stderr
    assert "git fetch --unshallow" in result.stderr


def test_shallow_diff_unknown_revision_names_shallow(shallow: Path) -> None:
    result = run_cli(shallow, "diff", "HEAD~3", "HEAD")
    assert result.code == 2
    assert "HEAD~3" in result.stderr


def test_shallow_log_exits_2(shallow: Path) -> None:
    result = run_cli(shallow, "log")
    assert result.code == 2
    assert "shallow" in result.stderr
    assert "no stored runs" not in result.stdout


def test_unshallow_then_diff_works(shallow: Path, tmp_path: Path) -> None:
    origin = shallow.parent / "origin"
    full = tmp_path / "full"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{origin}", str(full)],
        check=True,
        capture_output=True,
    )
    git(full, "fetch", "-q", "--unshallow")
    result = run_cli(full, "diff", "HEAD~3")
    assert result.code == 1
    assert "prompts/system.txt" in result.stdout
