"""Untrusted locks and stored records: no reads outside, no code run, bounded memory.

A pull request or a fetched results ref can carry any ``eval.lock`` and any
stored record. The tests give evallock such inputs and watch, through
Python's audit hooks (PEP 578), every file the process opens and every
module it imports from a file.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import run_cli
from helpers.project import set_config
from helpers.runs import locked_project, store_run
from helpers.tamper import replace_tip_files

from evallock import lockfile, store
from evallock.errors import InputError
from evallock.runner import scoring

_opened: list[str] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _opened is None or event != "open":
        return
    path = args[0]
    if isinstance(path, (str, bytes, os.PathLike)):
        _opened.append(os.fsdecode(path))


sys.addaudithook(_audit)


@contextlib.contextmanager
def watch_opens() -> Iterator[list[str]]:
    """Record the path of every file this process opens inside the block."""
    global _opened
    _opened = []
    try:
        yield _opened
    finally:
        _opened = None


def _opened_under(opened: list[str], folder: Path) -> list[str]:
    real = os.path.realpath(folder)
    return [
        path
        for path in opened
        if os.path.realpath(path) == real
        or os.path.realpath(path).startswith(real + os.sep)
    ]


def _outside(tmp_path: Path) -> Path:
    """A folder outside the repository, holding a file an attacker wants read."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("outside the repository\n")
    (outside / "evil.py").write_text(
        "import pathlib\n"
        f"pathlib.Path({str(outside / 'ran')!r}).write_text('ran')\n"
        "def score(output, item):\n    return 1.0\n"
    )
    return outside


def _hostile_lock(outside: Path) -> Any:
    def edit(lock: dict[str, Any]) -> None:
        entry = {"digest": "0" * 32, "eol": "lf", "text": "0" * 32}
        files = lock["prompts"]["files"]
        files["../outside/secret.txt"] = dict(entry)
        files[str(outside / "secret.txt")] = dict(entry)
        files["link-to-outside.txt"] = dict(entry)
        lock["scorer"]["addition"] = {
            "name": f"python:{outside / 'evil.py'}:score",
            "source": str(outside / "evil.py"),
            "text": "0" * 32,
        }

    return edit


def _hostile_record(outside: Path) -> Any:
    def edit(record: dict[str, Any]) -> None:
        record["evals"]["addition"]["scorer"] = f"python:{outside / 'evil.py'}:score"
        record["evals"]["addition"]["dataset"] = "../outside/secret.txt"

    return edit


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Path, Path]:
    """A project with one honest run and one run whose record points outside."""
    outside = _outside(tmp_path)
    project = locked_project(tmp_path / "repo")
    root = Path(project.root)
    (root / "link-to-outside.txt").symlink_to(outside / "secret.txt")
    store_run(project, "900d0001")
    store_run(
        project,
        "bad00001",
        edit_lock=_hostile_lock(outside),
        edit_record=_hostile_record(outside),
    )
    return root, outside


@pytest.mark.parametrize(
    "args",
    [
        ["show", "bad00001"],
        ["show", "bad00001", "--format", "json"],
        ["compare", "900d0001", "bad00001"],
        ["compare", "bad00001", "900d0001", "--format", "json"],
        ["diff", "900d0001", "bad00001"],
        ["log"],
        ["verify"],
    ],
)
def test_stored_paths_never_opened(hostile: tuple[Path, Path], args: list[str]) -> None:
    root, outside = hostile

    with watch_opens() as opened:
        done = run_cli(root, *args)

    assert _opened_under(opened, outside) == []
    assert "internal error" not in done.stderr


def test_open_watch_sees_reads(hostile: tuple[Path, Path]) -> None:
    root, _ = hostile

    with watch_opens() as opened:
        run_cli(root, "verify")

    assert str(root / "eval.lock") in opened


@pytest.mark.parametrize(
    "args",
    [
        ["show", "bad00001"],
        ["compare", "900d0001", "bad00001"],
        ["diff", "900d0001", "bad00001"],
    ],
)
def test_stored_scorer_never_runs(hostile: tuple[Path, Path], args: list[str]) -> None:
    root, outside = hostile

    run_cli(root, *args)

    assert not (outside / "ran").exists()


def test_lock_never_imports_python_scorer(tmp_path: Path) -> None:
    project = locked_project(tmp_path / "repo")
    root = Path(project.root)
    marker = tmp_path / "imported"
    (root / "scorer.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n"
        "def score(output, item):\n    return 1.0\n"
    )
    set_config(root, 'scorer = "exact_match"', 'scorer = "python:scorer.py:score"')

    for args in (["lock"], ["verify"], ["diff"]):
        run_cli(root, *args)

    assert not marker.exists()


@pytest.mark.parametrize(
    "scorer", ["python:../outside/evil.py:score", "python:/ABS/evil.py:score"]
)
def test_lock_rejects_scorer_outside_repository(tmp_path: Path, scorer: str) -> None:
    outside = _outside(tmp_path)
    project = locked_project(tmp_path / "repo")
    root = Path(project.root)
    scorer = scorer.replace("/ABS", str(outside))
    set_config(root, 'scorer = "exact_match"', f'scorer = "{scorer}"')

    done = run_cli(root, "lock")

    assert done.code == 2
    assert "outside" in done.stderr or "absolute" in done.stderr
    assert not (outside / "ran").exists()


def test_lock_rejects_scorer_linked_outside(tmp_path: Path) -> None:
    outside = _outside(tmp_path)
    project = locked_project(tmp_path / "repo")
    root = Path(project.root)
    (root / "scorer.py").symlink_to(outside / "evil.py")
    set_config(root, 'scorer = "exact_match"', 'scorer = "python:scorer.py:score"')

    done = run_cli(root, "lock")

    assert done.code == 2
    assert "outside the repository" in done.stderr
    assert not (outside / "ran").exists()


def test_scorer_build_rejects_link_outside(tmp_path: Path) -> None:
    outside = _outside(tmp_path)
    root = tmp_path / "repo"
    root.mkdir()
    (root / "scorer.py").symlink_to(outside / "evil.py")

    with pytest.raises(InputError, match="outside the project"):
        scoring.build("python:scorer.py:score", "answer", str(root))
    assert not (outside / "ran").exists()


def test_stored_record_over_bound_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = locked_project(tmp_path / "repo")
    store_run(project, "b16b16b1")
    monkeypatch.setattr(store, "MAX_RECORD_BYTES", 1024)

    done = run_cli(project.root, "show", "b16b16b1")

    assert done.code == 2
    assert "byte limit" in done.stderr


def test_lock_over_bound_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = locked_project(tmp_path / "repo")
    size = os.path.getsize(project.lock_path)
    monkeypatch.setattr(lockfile, "MAX_LOCK_BYTES", size - 1)

    done = run_cli(project.root, "verify")

    assert done.code == 2
    assert f"larger than {size - 1} bytes" in done.stderr


def test_lock_writer_rejects_lock_over_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = locked_project(tmp_path / "repo")
    before = Path(project.lock_path).read_bytes()
    monkeypatch.setattr(lockfile, "MAX_LOCK_BYTES", 100)
    set_config(Path(project.root), "max_tokens = 8", "max_tokens = 9")

    done = run_cli(project.root, "lock")

    assert done.code == 2
    assert "over the 100-byte limit" in done.stderr
    assert Path(project.lock_path).read_bytes() == before


def test_deeply_nested_lock_rejected(tmp_path: Path) -> None:
    project = locked_project(tmp_path / "repo")
    Path(project.lock_path).write_text("version = 1\nx = " + "[" * 2000 + "]" * 2000)

    done = run_cli(project.root, "verify")

    assert done.code == 2
    assert "nests arrays or tables too deeply" in done.stderr


def test_deeply_nested_config_rejected(tmp_path: Path) -> None:
    project = locked_project(tmp_path / "repo")
    with open(Path(project.root) / ".evallock.toml", "a") as stream:
        stream.write("\n[run]\nx = " + "[" * 2000 + "]" * 2000 + "\n")

    done = run_cli(project.root, "verify")

    assert done.code == 2
    assert "too deeply" in done.stderr


def test_deeply_nested_record_rejected(tmp_path: Path) -> None:
    project = locked_project(tmp_path / "repo")
    store_run(project, "deeb0001")
    replace_tip_files(Path(project.root), {"record.json": b"[" * 5000 + b"]" * 5000})

    done = run_cli(project.root, "show", "deeb0001")

    assert done.code == 2
    assert "nested too deeply" in done.stderr
