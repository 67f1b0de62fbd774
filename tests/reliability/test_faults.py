"""Faults while writing: a full disk and a crash before the lock's rename.

Each test runs evallock as a separate process, with TMPDIR pointed at a
folder of the test, and checks afterwards that the previous ``eval.lock`` is
byte-identical, that the result history is whole, and that no temporary file
or run folder is left behind. A full disk is a real tmpfs of a few megabytes
when this machine lets the tests mount one (they run as root here and in CI);
elsewhere the process gets an RLIMIT_FSIZE of zero bytes, which fails every
write with EFBIG instead of ENOSPC, through the same error paths.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from helpers import faults
from helpers.project import items, make_project, write_jsonl
from helpers.runs import locked_project, store_run

STORE_ONE_RUN = """
    import sys
    from evallock.errors import EvalLockError
    from evallock.gitrepo import find_project
    from helpers.runs import store_run

    try:
        store_run(find_project(sys.argv[1]), sys.argv[2])
    except EvalLockError as error:
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(2)
"""


def _change_dataset(root: Path) -> None:
    write_jsonl(root / "data" / "addition.jsonl", items(3001))


def test_lock_disk_full_keeps_previous_lock(tmp_path: Path) -> None:
    with faults.small_disk(tmp_path / "disk", "2m") as disk:
        root = make_project(disk.path / "repo", count=3000)
        env = faults.environment(tmp_path / "tmp")
        first = faults.evallock(root, "lock", env=env)
        assert first.returncode == 0, first.stderr
        before = (root / "eval.lock").read_bytes()
        _change_dataset(root)
        faults.fill(disk)

        done = faults.evallock(root, "lock", env=env, fsize_limit=disk.fsize_limit)

        assert done.returncode == 2, done.stderr
        assert "previous eval.lock is unchanged" in done.stderr
        assert "Traceback" not in done.stderr
        assert (root / "eval.lock").read_bytes() == before
        assert faults.leftovers(root, tmp_path / "tmp") == []


def test_lock_after_disk_freed_succeeds(tmp_path: Path) -> None:
    with faults.small_disk(tmp_path / "disk", "2m") as disk:
        root = make_project(disk.path / "repo", count=3000)
        env = faults.environment(tmp_path / "tmp")
        faults.evallock(root, "lock", env=env)
        _change_dataset(root)
        faults.fill(disk)
        faults.evallock(root, "lock", env=env, fsize_limit=disk.fsize_limit)
        faults.free_space(disk)

        done = faults.evallock(root, "lock", env=env)

        assert done.returncode == 0, done.stderr
        assert "add-3000" in (root / "eval.lock").read_text()


def test_store_disk_full_keeps_history(tmp_path: Path) -> None:
    with faults.small_disk(tmp_path / "disk", "4m") as disk:
        project = locked_project(disk.path / "repo")
        root = Path(project.root)
        store_run(project, "aaaa0001")
        store_run(project, "aaaa0002")
        history = faults.results_history(root)
        lock = (root / "eval.lock").read_bytes()
        env = faults.environment(tmp_path / "tmp")
        faults.fill(disk)

        done = faults.python(
            STORE_ONE_RUN, str(root), "aaaa0003", env=env, fsize_limit=disk.fsize_limit
        )

        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("StoreError: "), done.stderr
        assert faults.results_history(root) == history
        assert (root / "eval.lock").read_bytes() == lock
        assert faults.leftovers(root, tmp_path / "tmp") == []
        faults.free_space(disk)
        fsck = subprocess.run(
            ["git", "fsck", "--no-dangling"], cwd=root, capture_output=True, text=True
        )
        assert fsck.returncode == 0, fsck.stdout + fsck.stderr


def test_lock_crash_before_rename_keeps_lock(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    env = faults.environment(tmp_path / "tmp")
    assert faults.evallock(root, "lock", env=env).returncode == 0
    before = (root / "eval.lock").read_bytes()
    _change_dataset(root)
    crash = faults.crash_on_replace(tmp_path / "crash", "eval.lock")
    crash_env = faults.environment(
        tmp_path / "tmp", PYTHONPATH=f"{crash}{os.pathsep}{env['PYTHONPATH']}"
    )

    done = faults.evallock(root, "lock", env=crash_env)

    assert done.returncode == 137, done.stderr
    assert (root / "eval.lock").read_bytes() == before


def test_next_lock_removes_crash_leftover(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    env = faults.environment(tmp_path / "tmp")
    faults.evallock(root, "lock", env=env)
    _change_dataset(root)
    crash = faults.crash_on_replace(tmp_path / "crash", "eval.lock")
    crash_env = faults.environment(
        tmp_path / "tmp", PYTHONPATH=f"{crash}{os.pathsep}{env['PYTHONPATH']}"
    )
    faults.evallock(root, "lock", env=crash_env)
    # A process killed before its rename cannot delete its own temporary file.
    assert len(faults.leftovers(root)) == 1

    done = faults.evallock(root, "lock", env=env)

    assert done.returncode == 0, done.stderr
    assert faults.leftovers(root) == []
    assert "add-3000" in (root / "eval.lock").read_text()


def test_stale_temporaries_of_live_process_kept(tmp_path: Path) -> None:
    from evallock.fsutil import remove_stale_temporaries

    mine = tmp_path / f".evallock-{os.getpid()}-abc.tmp"
    mine.write_text("being written")

    assert remove_stale_temporaries(str(tmp_path)) == []
    assert mine.exists()


def test_stale_run_folder_of_dead_process_removed(tmp_path: Path) -> None:
    from evallock.fsutil import remove_stale_temporaries
    from evallock.runner.launch import SCRATCH_NAME

    finished = subprocess.Popen(["true"])
    finished.wait()
    stale = tmp_path / f"evallock-run-{finished.pid}-x1y2"
    (stale / "home").mkdir(parents=True)
    other = tmp_path / "evallock-run-notapid"
    other.mkdir()

    removed = remove_stale_temporaries(str(tmp_path), SCRATCH_NAME)

    assert removed == [stale.name]
    assert not stale.exists()
    assert other.exists()


def test_stale_cleanup_never_follows_links(tmp_path: Path) -> None:
    from evallock.fsutil import remove_stale_temporaries
    from evallock.runner.launch import SCRATCH_NAME

    finished = subprocess.Popen(["true"])
    finished.wait()
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.txt").write_text("keep")
    (tmp_path / "scratch").mkdir()
    (tmp_path / "scratch" / f"evallock-run-{finished.pid}-abc").symlink_to(precious)

    remove_stale_temporaries(str(tmp_path / "scratch"), SCRATCH_NAME)

    assert (precious / "keep.txt").read_text() == "keep"
