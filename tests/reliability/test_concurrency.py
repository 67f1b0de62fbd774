"""Concurrent writers: eight runs storing at once, two locks written at once.

A real cold run takes about 15 s of vLLM start-up on this machine's CPU, so
eight concurrent ``evallock run`` processes would measure the CPU, not the
store. The tests below start eight real processes that build a complete
record (``helpers.runs.store_run``: a real lock, real rendered prompts, made-up
outputs) and then call ``store.append``, the step that ``evallock run`` ends
with. A file barrier stops every process just before ``store.append`` until
all eight are there, so that they race for the results ref together.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from helpers import faults
from helpers.project import make_project
from helpers.runs import locked_project, store_run

from evallock import lockfile, locking, store
from evallock.gitrepo import find_project

WRITERS = 8

STORE_AT_BARRIER = """
    import os, sys, time
    from evallock import store
    from evallock.gitrepo import find_project
    from helpers.runs import store_run

    root, run_id, barrier = sys.argv[1:4]
    append = store.append

    def append_at_barrier(*args, **kwargs):
        open(os.path.join(barrier, "ready-" + run_id), "w").close()
        while not os.path.exists(os.path.join(barrier, "go")):
            time.sleep(0.001)
        return append(*args, **kwargs)

    store.append = append_at_barrier
    store_run(find_project(root), run_id)
"""


def _start_writers(
    root: Path, barrier: Path, ids: list[str]
) -> list[subprocess.Popen[str]]:
    env = faults.environment(barrier.parent / "tmp")
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _dedent(STORE_AT_BARRIER),
                str(root),
                run_id,
                str(barrier),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for run_id in ids
    ]


def _dedent(code: str) -> str:
    import textwrap

    return textwrap.dedent(code)


def _release_when_ready(barrier: Path, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(list(barrier.glob("ready-*"))) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"only {len(list(barrier.glob('ready-*')))} ready")
        time.sleep(0.01)
    (barrier / "go").touch()


def test_eight_concurrent_stores_keep_all(tmp_path: Path) -> None:
    project = locked_project(tmp_path / "repo")
    store_run(project, "00000000")
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    ids = [f"c0ffee{n:02d}" for n in range(WRITERS)]

    writers = _start_writers(Path(project.root), barrier, ids)
    _release_when_ready(barrier, WRITERS)
    outcomes = [
        (w.wait(timeout=120), w.stderr.read() if w.stderr else "") for w in writers
    ]

    assert [code for code, _ in outcomes] == [0] * WRITERS, outcomes
    stored = [run.id for run in store.list_runs(find_project(project.root))]
    assert sorted(stored) == sorted([*ids, "00000000"])
    assert len(faults.results_history(Path(project.root))) == WRITERS + 1


def test_concurrent_stores_each_loadable(tmp_path: Path) -> None:
    project = locked_project(tmp_path / "repo")
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    ids = [f"beef00{n:02d}" for n in range(WRITERS)]

    writers = _start_writers(Path(project.root), barrier, ids)
    _release_when_ready(barrier, WRITERS)
    outcomes = [
        (w.wait(timeout=120), w.stderr.read() if w.stderr else "") for w in writers
    ]
    assert [code for code, _ in outcomes] == [0] * WRITERS, outcomes

    reopened = find_project(project.root)
    for run_id in ids:
        run = store.load(reopened, run_id)
        assert run.record["id"] == run_id
        assert len(run.items) == 20


# Process B appends one comment line to every lock it writes, so that the
# two writers' complete outputs differ and a mix of them would show.
MARK_WRITER = """
import evallock.lockfile as _lockfile

_dumps = _lockfile.dumps
_lockfile.dumps = lambda lock: _dumps(lock) + "# written by process B\\n"
"""

# Both processes log when they enter and leave the flock'd section.
TRACE_LOCK = """
import os, time
import evallock.fsutil as _fsutil
import contextlib

_exclusive = _fsutil.exclusive_lock

@contextlib.contextmanager
def _traced(path):
    with _exclusive(path):
        trace = os.environ["LOCK_TRACE"]
        with open(trace, "a") as stream:
            stream.write(f"enter {os.getpid()} {time.monotonic_ns()}\\n")
        try:
            yield
        finally:
            with open(trace, "a") as stream:
                stream.write(f"leave {os.getpid()} {time.monotonic_ns()}\\n")

_fsutil.exclusive_lock = _traced
import evallock.locking as _locking
_locking.exclusive_lock = _traced
"""


def _many_prompts(root: Path, count: int) -> None:
    folder = root / "prompts" / "fewshot"
    for n in range(count):
        (folder / f"shot-{n:05d}.txt").write_text(f"{n}+1={n + 1}\n")


def _lock_pair(tmp_path: Path, root: Path) -> list[subprocess.Popen[str]]:
    plain = tmp_path / "site-a"
    marked = tmp_path / "site-b"
    plain.mkdir()
    marked.mkdir()
    (plain / "sitecustomize.py").write_text(TRACE_LOCK)
    (marked / "sitecustomize.py").write_text(TRACE_LOCK + MARK_WRITER)
    trace = tmp_path / "trace.txt"
    processes = []
    for site in (plain, marked):
        env = faults.environment(tmp_path / "tmp", LOCK_TRACE=str(trace))
        env["PYTHONPATH"] = f"{site}{os.pathsep}{env['PYTHONPATH']}"
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "evallock", "-C", str(root), "lock"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    return processes


def test_two_concurrent_locks_never_interleave(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    _many_prompts(root, 3000)
    processes = _lock_pair(tmp_path, root)
    codes = [p.wait(timeout=300) for p in processes]
    errors = [p.stderr.read() if p.stderr else "" for p in processes]

    assert codes == [0, 0], errors
    text = (root / "eval.lock").read_text()
    output_a = lockfile.dumps(
        locking.current(find_project(str(root)), include_env=True)[0]
    )
    assert text in (output_a, output_a + "# written by process B\n")
    assert len(lockfile.loads(text)["prompts"]["files"]) == 3000 + 4
    assert faults.leftovers(root) == []


def test_two_concurrent_locks_serialised(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    _many_prompts(root, 1000)
    processes = _lock_pair(tmp_path, root)
    for process in processes:
        process.wait(timeout=300)

    events = [
        line.split() for line in (tmp_path / "trace.txt").read_text().splitlines()
    ]
    kinds = [kind for kind, _, _ in events]
    assert kinds == ["enter", "leave", "enter", "leave"]
    assert events[0][1] == events[1][1]
    assert events[2][1] == events[3][1]
    assert int(events[1][2]) <= int(events[2][2])
