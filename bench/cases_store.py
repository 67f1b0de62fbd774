"""Benchmark of storing one run: `store.append` vs `git add` + `git commit`.

Both sides are timed inside one Python process, as `evallock run` stores its
result from inside its own process: the reference writes the same three
files into the work tree and runs `git add` and `git commit` on them.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from bench import fixtures
from bench.fixtures import MIB

ITEMS = 1000


def _record(run_id: str, lock: dict[str, Any]) -> dict[str, Any]:
    return {
        "record_version": 1,
        "id": run_id,
        "created": "2025-01-01T00:00:00+00:00",
        "status": "valid",
        "invalid_reasons": [],
        "drifted": False,
        "drift": [],
        "score": 0.5,
        "evals": {
            "bench": {
                "score": 0.5,
                "count": ITEMS,
                "scorer": "exact_match",
                "dataset": "data/items.jsonl",
            }
        },
        "noise": None,
        "prefix_cache": {"queries": 12000, "hits": 0},
        "engine_args": {"seed": 0, "dtype": "float32", "enable_prefix_caching": False},
        "sampling": {"temperature": 0.0, "max_tokens": 4},
        "software": lock["software"],
        "hardware": lock["hardware"],
        "source": {"commit": "0" * 40, "branch": "main", "dirty": False},
        "timings": {"total_s": 20.0, "worker_s": 15.0},
    }


def _rows(round_number: int) -> list[dict[str, Any]]:
    return [
        {
            "eval": "bench",
            "key": f"q{n}",
            "item_digest": f"{n:032x}",
            "prompt": f"{n}+1=",
            "output": str(n + 1 + round_number % 2),
            "finish_reason": "length",
            "seed": n * 7919 % 2_147_483_647,
            "score": float(round_number % 2 == 0),
        }
        for n in range(ITEMS)
    ]


def _git_commit(
    folder: Path,
    run_id: str,
    record: dict[str, Any],
    rows: list[dict[str, Any]],
    lock_text: str,
) -> None:
    results = folder / "results"
    results.mkdir(exist_ok=True)
    (results / "record.json").write_text(json.dumps(record, indent=1, sort_keys=True))
    (results / "items.jsonl").write_text(
        "".join(json.dumps(row, sort_keys=True) + "\n" for row in rows)
    )
    (results / "eval.lock").write_text(lock_text)
    subprocess.run(["git", "add", "results"], cwd=folder, check=True)
    subprocess.run(
        ["git", "commit", "-q", "-m", f"run {run_id}"], cwd=folder, check=True
    )


def store_speed(root: Path, out: Path, rounds: int) -> dict[str, Any]:
    """Store one 1,000-item run with evallock and with plain git, alternately."""
    from evallock import lockfile, locking, store
    from evallock.gitrepo import find_project

    weights = fixtures.random_file(out / "data" / "weights-1m.bin", MIB)
    folder = fixtures.project(out / "store", weights, items=ITEMS)
    fixtures.commit_all(folder)
    project = find_project(str(folder))
    lock, _ = locking.current(project, include_env=True)
    lock_text = lockfile.dumps(lock)
    times: dict[str, list[float]] = {"evallock": [], "git": []}
    for number in range(rounds + 1):
        run_id = f"{number:08x}"
        record, rows = _record(run_id, lock), _rows(number)
        order = ["evallock", "git"] if number % 2 else ["git", "evallock"]
        for side in order:
            started = time.perf_counter()
            if side == "evallock":
                store.append(project, record, rows, lock_text, lock)
            else:
                _git_commit(folder, run_id, record, rows, lock_text)
            if number:  # the first round warms the caches
                times[side].append(time.perf_counter() - started)
    subject, reference = (statistics.median(times[s]) for s in ("evallock", "git"))
    return {
        "items": ITEMS,
        "subject": {
            "median_s": subject,
            "min_s": min(times["evallock"]),
            "runs": rounds,
        },
        "reference": {
            "median_s": reference,
            "min_s": min(times["git"]),
            "runs": rounds,
        },
        "ratio": subject / reference,
    }
