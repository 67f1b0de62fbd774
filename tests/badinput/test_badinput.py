"""Every kind of bad input exits 2 with one plain line and writes nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.cli import run_cli, temporary_files, tree_snapshot
from helpers.project import commit_all, git, make_project

from badinput.cases import CASES, Case

# A few kinds also run as a real process, where logging and stderr are the
# command line's own and not this test process's.
SUBPROCESS_KINDS = (
    "config-toml-syntax",
    "dataset-invalid-jsonl-line",
    "lock-conflict-markers",
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A locked project with two commits, copied for every case."""
    root = make_project(tmp_path_factory.mktemp("template") / "repo")
    assert run_cli(root, "lock").code == 0
    commit_all(root, "Lock inputs")
    # Fewer files in .git make the copy for each case several times faster.
    git(root, "gc", "--quiet", "--prune=now")
    for sample in (root / ".git" / "hooks").glob("*.sample"):
        sample.unlink()
    return root


def apply(case: Case, root: Path, outside: Path) -> None:
    for old, new in case.config:
        path = root / ".evallock.toml"
        text = path.read_text()
        assert old in text, f"{case.kind}: {old!r} is not in .evallock.toml"
        path.write_text(text.replace(old, new, 1))
    for relative, data in case.files.items():
        path = root / relative
        if data is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    if case.setup is not None:
        case.setup(root, outside)
    for relative, target in case.links.items():
        (root / relative).symlink_to(target.replace("{outside}", str(outside)))


def parameters() -> list[object]:
    params = []
    for case in CASES:
        for command in case.commands:
            marks = [pytest.mark.skip(reason=case.skip)] if case.skip else []
            params.append(
                pytest.param(case, command, id=f"{case.kind}-{command[0]}", marks=marks)
            )
    return params


def test_badinput_corpus_has_many_kinds() -> None:
    kinds = [case.kind for case in CASES]
    assert len(set(kinds)) == len(kinds)
    assert len(kinds) >= 40


@pytest.mark.parametrize(("case", "command"), parameters())
def test_badinput_exits_2_one_line(
    case: Case,
    command: tuple[str, ...],
    template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tmp_path / "repo"
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copytree(template, root, symlinks=True)
    for name, value in case.env.items():
        monkeypatch.setenv(name, value.replace("{outside}", str(outside)))
    apply(case, root, outside)
    before = tree_snapshot(root)

    result = run_cli(root, *command)

    assert result.code == 2, result.stdout + result.stderr
    assert len(result.stderr_lines) == 1, result.stderr
    line = result.stderr_lines[0]
    assert line.startswith("evallock: error: ")
    assert "internal error" not in line
    assert "Traceback" not in result.stderr
    for expected in case.expected:
        assert expected in line
    assert result.stdout == ""
    assert tree_snapshot(root) == before
    assert temporary_files(root) == []
    if (root / "eval.lock").is_file() and os.access(root / "eval.lock", os.R_OK):
        assert (root / "eval.lock").read_bytes() == before.get("eval.lock")


def detach_head(root: Path) -> None:
    git(root, "checkout", "-q", "--detach", "HEAD")


def empty_repository(root: Path) -> None:
    shutil.rmtree(root / ".git")
    git(root, "init", "-q")


def project_in_subfolder(root: Path) -> None:
    sub = root / "evals"
    sub.mkdir()
    for name in (".evallock.toml", "eval.lock", "data", "prompts", "model"):
        shutil.move(root / name, sub / name)


@pytest.mark.parametrize(
    ("change", "folder"),
    [(detach_head, ""), (empty_repository, ""), (project_in_subfolder, "evals")],
    ids=["detached-head", "no-commits", "project-in-subfolder"],
)
@pytest.mark.parametrize("command", ["lock", "verify"])
def test_badinput_odd_repository_still_works(
    change: object, folder: str, command: str, template: Path, tmp_path: Path
) -> None:
    root = tmp_path / "repo"
    shutil.copytree(template, root, symlinks=True)
    change(root)  # type: ignore[operator]
    result = run_cli(root / folder, command)
    assert result.code == 0, result.stderr


@pytest.mark.parametrize(
    "case",
    [case for case in CASES if case.kind in SUBPROCESS_KINDS],
    ids=lambda case: case.kind,
)
def test_badinput_real_process_one_line(
    case: Case, template: Path, tmp_path: Path
) -> None:
    root = tmp_path / "repo"
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copytree(template, root, symlinks=True)
    apply(case, root, outside)
    done = subprocess.run(
        [sys.executable, "-m", "evallock", "-C", str(root), *case.commands[0]],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("evallock: error: ")
    assert done.stdout == ""
