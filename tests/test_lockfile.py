"""Reading and writing ``eval.lock``."""

from __future__ import annotations

import os
import time
import tomllib
from pathlib import Path

import pytest
from helpers.cli import run_cli, temporary_files
from helpers.project import commit_all, git, make_project

from evallock import lockfile
from evallock.errors import LockfileError
from evallock.hashing import digest_value


def small_lock() -> dict[str, object]:
    return {
        "version": 1,
        "prompts": {
            "digest": digest_value({"a.txt": "1", "b.txt": "2"}),
            "files": {"b.txt": {"digest": "2"}, "a.txt": {"digest": "1"}},
        },
        "engine": {
            "digest": digest_value({"seed": 0, "dtype": "auto"}),
            "settings": {"seed": 0, "dtype": "auto"},
        },
    }


def test_lockfile_version_is_first_key() -> None:
    lines = [
        line
        for line in lockfile.dumps(small_lock()).splitlines()
        if line and not line.startswith("#")
    ]
    assert lines[0] == "version = 1"


def test_lockfile_output_is_stable_and_sorted() -> None:
    text = lockfile.dumps(small_lock())
    assert text == lockfile.dumps(small_lock())
    assert text.index('"a.txt"') < text.index('"b.txt"')
    assert text.index("[prompts]") < text.index("[engine]")


def test_lockfile_round_trip() -> None:
    lock = small_lock()
    assert lockfile.loads(lockfile.dumps(lock)) == lock


def test_lockfile_one_file_per_line() -> None:
    text = lockfile.dumps(small_lock())
    assert '"a.txt" = { digest = "1" }' in text.splitlines()


def test_lockfile_one_prompt_change_small_diff(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo", count=200)
    assert run_cli(root, "lock").code == 0
    commit_all(root)
    (root / "prompts" / "fewshot" / "one.txt").write_text("12+31=43\n")
    assert run_cli(root, "lock").code == 0
    numstat = git(root, "diff", "--numstat", "eval.lock").split()
    assert numstat[:2] == ["2", "2"]


def test_lockfile_one_item_change_small_diff(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo", count=200)
    assert run_cli(root, "lock").code == 0
    commit_all(root)
    data = root / "data" / "addition.jsonl"
    data.write_text(data.read_text().replace('"answer": "20"', '"answer": "21"', 1))
    assert run_cli(root, "lock").code == 0
    added, removed = git(root, "diff", "--numstat", "eval.lock").split()[:2]
    assert int(added) <= 4
    assert int(removed) <= 4


def test_lockfile_write_is_atomic_replace(tmp_path: Path) -> None:
    path = tmp_path / "eval.lock"
    path.write_text("old")
    inode = path.stat().st_ino
    lockfile.write(str(path), small_lock())
    assert path.stat().st_ino != inode
    assert lockfile.read(str(path)) == small_lock()
    assert temporary_files(tmp_path) == []


def test_lockfile_failed_write_leaves_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "eval.lock"
    path.write_text("old")

    def fail_replace(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail_replace)
    with pytest.raises(LockfileError, match="previous eval.lock is unchanged"):
        lockfile.write(str(path), small_lock())
    assert path.read_text() == "old"
    assert temporary_files(tmp_path) == []


def test_lockfile_newer_version_rejected() -> None:
    with pytest.raises(LockfileError) as caught:
        lockfile.loads("version = 99\n")
    message = str(caught.value)
    assert "version 99, newer than this evallock understands" in message
    assert "rerun `evallock lock`" in message


def test_lockfile_conflict_markers_rejected() -> None:
    text = lockfile.dumps(small_lock()).replace(
        "seed = 0", "<<<<<<< HEAD\nseed = 0\n=======\nseed = 1\n>>>>>>> other"
    )
    with pytest.raises(LockfileError) as caught:
        lockfile.loads(text)
    message = str(caught.value)
    assert "merge-conflict markers" in message
    assert "rerun `evallock lock`" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "is empty"),
        ("version = \n", "is not valid TOML"),
        ("[prompts]\ndigest = 'x'\n", "no integer 'version'"),
        ("version = 0\n", "unknown version 0"),
        ("version = 1\nprompts = 3\n", "prompts is not a table"),
        ("version = 1\n[engine]\nsettings = {}\n", "engine has no digest"),
        ("version = 1\n[prompts]\ndigest = 'x'\nfiles = 3\n", "prompts.files is not"),
        ("version = 1\n[datasets]\n'a.jsonl' = 1\n", "datasets.a.jsonl is not"),
    ],
)
def test_lockfile_malformed_rejected(text: str, expected: str) -> None:
    with pytest.raises(LockfileError) as caught:
        lockfile.loads(text)
    assert expected in str(caught.value)
    assert "rerun `evallock lock`" in str(caught.value)


def test_lockfile_missing_reads_none(tmp_path: Path) -> None:
    assert lockfile.read(str(tmp_path / "eval.lock")) is None


def dataset_lock(count: int) -> dict[str, object]:
    items = {f"item-{n:05d}": f"{n:032x}" for n in range(count)}
    return {"version": 1, "datasets": {"d.jsonl": {"digest": "d", "items": items}}}


def best_dumps_seconds(lock: dict[str, object]) -> float:
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        lockfile.dumps(lock)
        timings.append(time.perf_counter() - started)
    return min(timings)


def test_lockfile_writer_fast_for_10000_items() -> None:
    lock = dataset_lock(10_000)
    assert best_dumps_seconds(lock) < 0.25
    assert tomllib.loads(lockfile.dumps(lock)) == lock


def test_lockfile_writer_time_grows_linearly() -> None:
    small = best_dumps_seconds(dataset_lock(5_000))
    large = best_dumps_seconds(dataset_lock(40_000))
    # Eight times the entries: linear is about 8x, quadratic would be 64x.
    assert large < 20 * small


def test_lockfile_lock_rewrites_conflicted_lock(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    (root / "eval.lock").write_text("<<<<<<< HEAD\nversion = 1\n=======\n>>>>>>> x\n")
    result = run_cli(root, "lock")
    assert result.code == 0
    assert "could not be read (eval.lock contains git merge-conflict" in result.stderr
    assert run_cli(root, "verify").code == 0
