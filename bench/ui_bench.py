"""Terminal UI responsiveness with 100 and with 10,000 stored runs.

Each store contains one run written by ``store.append`` and copies of it
written with ``git fast-import``: the copies share its files but each has
its own commit-message summary (id, date, score, and every 7th an engine
change, every 11th a dataset change), which is all the run list reads.

Measured inside one process with Textual's headless driver, at 120x40:

- first paint: from reading the newest page of runs to the first frame;
- whole list: until the worker that reads every summary has shown them all
  (the wait includes the eval.lock check, another worker);
- keypress: one ``down`` (cursor move, row redraw) and one ``b`` (baseline
  change, which changes every visible verdict and delta), each until Textual
  is idle again.

Run with ``.venv/bin/python -m bench.ui_bench [--rounds N]``; it prints a
Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import platform
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from bench import fixtures
from bench.fixtures import MIB
from evallock import compare, fingerprint, lockfile, locking, store
from evallock.gitrepo import Project, find_project

SIZES = (100, 10_000)
SIZE = (120, 40)
PRESSES = 15
OUT = Path(__file__).parent / "out" / "ui"
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _record(lock: dict[str, Any]) -> dict[str, Any]:
    return {
        "record_version": store.RECORD_VERSION,
        "id": "00000000",
        "created": "2026-01-01T00:00:00Z",
        "status": "valid",
        "invalid_reasons": [],
        "drifted": False,
        "drift": [],
        "score": 0.5,
        "evals": {
            "bench": {
                "score": 0.5,
                "count": 20,
                "scorer": "exact_match",
                "dataset": "data/items.jsonl",
            }
        },
        "noise": None,
        "prefix_cache": {"queries": 20, "hits": 0, "enable_prefix_caching": False},
        "engine_args": {"seed": 0, "dtype": "float32", "max_num_seqs": 256},
        "sampling": {"temperature": 0.0, "max_tokens": 4},
        "software": lock["software"],
        "hardware": lock["hardware"],
        "source": {"commit": None, "branch": "main", "dirty": False},
        "timings": {"total_s": 20.0, "worker_s": 15.0},
    }


def _rows() -> list[dict[str, Any]]:
    return [
        {
            "eval": "bench",
            "key": f"q{n}",
            "item_digest": None,
            "prompt": f"{n}+1=",
            "output": str(n + 1),
            "finish_reason": "stop",
            "seed": n,
            "score": 1.0,
        }
        for n in range(20)
    ]


def build_store(root: Path, count: int) -> Project:
    """Build a project whose results ref contains *count* runs, or reuse it."""
    weights = fixtures.random_file(OUT / "weights-1m.bin", MIB)
    fixtures.project(root, weights)
    fixtures.commit_all(root)
    project = find_project(str(root))
    if len(store.list_runs(project, limit=count)) == count:
        return project
    subprocess.run(["git", "update-ref", "-d", store.RESULTS_REF], cwd=root, check=True)
    lock = locking.write_lock(project).lock
    record = _record(lock)
    first = store.append(project, record, _rows(), lockfile.dumps(lock), lock)
    stream = "".join(
        _commit(n, first if n == 1 else None, store.summary_of(record, lock))
        for n in range(1, count)
    )
    subprocess.run(
        ["git", "fast-import", "--quiet"], cwd=root, input=stream.encode(), check=True
    )
    return project


def _commit(n: int, parent: str | None, summary: dict[str, Any]) -> str:
    summary = json.loads(json.dumps(summary))
    summary["id"] = f"{n:08x}"
    moment = START + dt.timedelta(minutes=n)
    summary["created"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    summary["score"] = (n * 37 % 100) / 100
    if n % 7 == 0:
        summary["digests"]["engine"] = f"{n:032x}"
    if n % 11 == 0:
        summary["digests"]["datasets"] = {"data/items.jsonl": f"{n:032x}"}
    message = f"evallock run {summary['id']}\n\n{store.SUMMARY_MARK}"
    message += json.dumps(summary, sort_keys=True) + "\n"
    data = message.encode()
    lines = [
        f"commit {store.RESULTS_REF}",
        f"committer evallock <evallock@localhost> {1_700_000_000 + n} +0000",
        f"data {len(data)}",
    ]
    head = "\n".join(lines) + "\n"
    tail = f"from {parent}\n" if parent else ""
    return head + message + tail + "\n"


async def _first_paint(project: Project) -> float:
    """Seconds from reading the newest runs to the first rendered list line."""
    from evallock.tui.app import EvalLockApp, first_page
    from evallock.tui.runlist import RunList

    painted_at: list[float] = []
    render_line = RunList.render_line

    def timed_render_line(self: RunList, y: int) -> Any:
        if not painted_at:
            painted_at.append(time.perf_counter())
        return render_line(self, y)

    RunList.render_line = timed_render_line  # type: ignore[method-assign]
    try:
        started = time.perf_counter()
        runs, complete = first_page(project)
        app = EvalLockApp(project, compare.policy_of(project), runs, complete)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()
    finally:
        RunList.render_line = render_line  # type: ignore[method-assign]
    return painted_at[0] - started


async def _keys(project: Project) -> dict[str, float]:
    """Seconds until the whole list is shown, then per keypress."""
    from evallock.tui.app import EvalLockApp, first_page
    from evallock.tui.runlist import RunList

    started = time.perf_counter()
    runs, complete = first_page(project)
    app = EvalLockApp(project, compare.policy_of(project), runs, complete)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        loaded = time.perf_counter() - started
        down, baseline = [], []
        for _ in range(PRESSES):
            moment = time.perf_counter()
            await pilot.press("down")
            down.append(time.perf_counter() - moment)
            moment = time.perf_counter()
            await pilot.press("b")
            baseline.append(time.perf_counter() - moment)
        shown = len(app.runs_screen.query_one(RunList).model)
        await app.workers.wait_for_complete()
    return {
        "all_listed": loaded,
        "shown": shown,
        "down": statistics.median(down),
        "baseline": statistics.median(baseline),
    }


def _measure(project: Project) -> dict[str, float]:
    started = time.perf_counter()
    count = len(store.list_runs(project))
    listed = time.perf_counter() - started
    sample = {"list_runs": listed, "first_paint": asyncio.run(_first_paint(project))}
    sample.update(asyncio.run(_keys(project)))
    assert sample["shown"] == count, "the UI did not show every stored run"
    return sample


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    projects = {count: build_store(OUT / f"store-{count}", count) for count in SIZES}
    samples: dict[int, list[dict[str, float]]] = {count: [] for count in SIZES}
    for round_number in range(args.rounds):
        order = SIZES if round_number % 2 == 0 else tuple(reversed(SIZES))
        for count in order:
            samples[count].append(_measure(projects[count]))
    print(_table(samples))
    return 0


def _median(samples: list[dict[str, float]], key: str) -> float:
    return statistics.median(sample[key] for sample in samples)


def _table(samples: dict[int, list[dict[str, float]]]) -> str:
    small, large = SIZES
    rows = [
        ("reading the run list (`store.list_runs`)", "list_runs"),
        ("first paint (newest 200 runs read + first frame)", "first_paint"),
        ("whole list on screen (read in a worker thread)", "all_listed"),
        ("keypress `down` (move the cursor)", "down"),
        ("keypress `b` (change the baseline)", "baseline"),
    ]
    lines = [
        f"| what | {small:,} runs | {large:,} runs | ratio | target |",
        "|---|---|---|---|---|",
    ]
    for title, key in rows:
        low, high = _median(samples[small], key), _median(samples[large], key)
        target = "" if key in ("list_runs", "all_listed") else "≤ 2×"
        lines.append(
            f"| {title} | {low * 1000:.1f} ms | {high * 1000:.1f} ms | "
            f"{high / low:.2f}× | {target} |"
        )
    machine = f"{platform.python_version()}, {fingerprint.environment.cpu_model()}"
    lines.append("")
    lines.append(f"Medians of {len(samples[small])} rounds; Python {machine}.")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
