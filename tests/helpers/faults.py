"""Fault injection for reliability tests: small disks, crashes and subprocesses.

Faults are real where this machine allows: a full disk is a tmpfs of a few
megabytes filled to the last byte, a kill is a real signal. Only a crash at
one exact line is simulated, by a ``sitecustomize`` module that turns one
call into ``os._exit``, because no signal can be timed to land there.
"""

from __future__ import annotations

import contextlib
import functools
import os
import resource
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from helpers.project import git

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Disk:
    """A folder on a small filesystem, and how writes there are made to fail.

    ``kind`` is ``tmpfs`` when a real size-limited filesystem could be
    mounted; otherwise ``fsize``, and processes started with
    ``limit_file_size`` get EFBIG for any write past ``fsize_limit`` bytes.
    """

    path: Path
    kind: str
    fsize_limit: int | None = None


@contextlib.contextmanager
def small_disk(folder: Path, size: str = "4m") -> Iterator[Disk]:
    """Mount a tmpfs of *size* on *folder*, or fall back to RLIMIT_FSIZE."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        yield Disk(folder, "fsize", fsize_limit=0)
        return
    try:
        yield Disk(folder, "tmpfs")
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(disk: Disk) -> None:
    """Write a filler file until the tmpfs has no free byte left."""
    if disk.kind != "tmpfs":
        return
    block = b"\0" * 65536
    with open(disk.path / "filler", "ab", buffering=0) as stream:
        while block:
            try:
                stream.write(block)
            except OSError:
                block = block[: len(block) // 2]


def free_space(disk: Disk) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(disk.path / "filler")


def limit_file_size(limit: int | None) -> None:
    """preexec_fn: make writes past *limit* bytes fail with EFBIG, not a signal."""
    if limit is None:
        return
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def environment(tmpdir: Path, **extra: str) -> dict[str, str]:
    """The caller's environment with TMPDIR set, so leftovers can be found."""
    tmpdir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["TMPDIR"] = str(tmpdir)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT / "tests"), str(REPO_ROOT), env.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    env.update(extra)
    return env


def evallock(
    root: Path,
    *args: str,
    env: dict[str, str],
    fsize_limit: int | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m evallock -C ROOT ARGS`` as a separate process."""
    return subprocess.run(
        [sys.executable, "-m", "evallock", "-C", str(root), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=functools.partial(limit_file_size, fsize_limit),
        check=False,
    )


def python(
    code: str, *args: str, env: dict[str, str], fsize_limit: int | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a Python snippet as a separate process with the test helpers importable."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=functools.partial(limit_file_size, fsize_limit),
        check=False,
    )


def crash_on_replace(folder: Path, target_name: str) -> Path:
    """Write a sitecustomize that kills the process when it renames onto *target_name*.

    This simulates a crash (power loss, SIGKILL) at the one moment between
    writing a temporary file and renaming it over the target. Exit code 137
    is what a shell reports for SIGKILL.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(
        textwrap.dedent(
            f"""\
            import os

            _replace = os.replace

            def _crashing_replace(source, target, *args, **kwargs):
                if os.path.basename(os.fspath(target)) == {target_name!r}:
                    os._exit(137)
                return _replace(source, target, *args, **kwargs)

            os.replace = _crashing_replace
            """
        )
    )
    return folder


def results_history(root: Path) -> list[str]:
    """Every commit on the results ref, oldest first; empty when there is none."""
    done = subprocess.run(
        ["git", "rev-list", "--reverse", "refs/evallock/results"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.split()


def reachable_objects(root: Path) -> dict[str, bytes]:
    """Map every object reachable from the results ref to its raw content."""
    listing = git(root, "rev-list", "--objects", "refs/evallock/results")
    contents: dict[str, bytes] = {}
    for line in listing.splitlines():
        sha = line.split(" ", 1)[0]
        kind = git(root, "cat-file", "-t", sha).strip()
        contents[sha] = subprocess.run(
            ["git", "cat-file", kind, sha], cwd=root, capture_output=True, check=True
        ).stdout
    return contents


def leftovers(*folders: Path) -> list[str]:
    """Temporary files and run folders of evallock under the given folders."""
    found = []
    for folder in folders:
        for current, dirs, files in os.walk(folder):
            for name in dirs + files:
                if name.startswith((".evallock-", "evallock-run-")):
                    found.append(os.path.join(current, name))
    return found


def children_of(pid: int) -> list[int]:
    path = f"/proc/{pid}/task/{pid}/children"
    try:
        with open(path) as stream:
            return [int(child) for child in stream.read().split()]
    except OSError:
        return []


def wait_for_worker(run: subprocess.Popen[str], timeout: float = 120) -> int:
    """Return the pid of the worker that ``evallock run`` started."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in children_of(run.pid):
            with open(f"/proc/{child}/cmdline", "rb") as stream:
                if b"evallock.runner.worker" in stream.read():
                    return child
        if run.poll() is not None:
            raise AssertionError(f"evallock exited early: {run.communicate()}")
        time.sleep(0.05)
    raise AssertionError("no worker process appeared")
