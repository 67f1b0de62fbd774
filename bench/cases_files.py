"""Benchmarks of hashing: `lock` speed and memory, and `verify` with a warm cache."""

from __future__ import annotations

import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from bench import fixtures, harness
from bench.fixtures import GIB, MIB

CLEAR_CACHE = "rm -f .git/evallock/statcache.json"
# Files written less than two seconds before they are hashed are never
# trusted from the stat cache (evallock's racy-timestamp rule).
RACY_WAIT_S = 2.5


def _evallock(root: Path) -> str:
    return str(root / ".venv" / "bin" / "evallock")


def lock_speed(root: Path, out: Path, rounds: int) -> dict[str, Any]:
    """Time `evallock lock` of a 2 GiB checkpoint against `xxhsum -H2` and `md5sum`."""
    weights = fixtures.random_file(out / "data" / "weights-2g.bin", 2 * GIB)
    project = fixtures.project(out / "lock-2g", weights)
    lock = f"{_evallock(root)} lock"
    xxh = "xxhsum -H2 model/model.safetensors"
    md5 = "md5sum model/model.safetensors"
    fast = harness.interleaved([lock, xxh], str(project), rounds, CLEAR_CACHE)
    slow_rounds = max(3, rounds // 3)
    slow = harness.interleaved(
        [lock, md5], str(project), slow_rounds, CLEAR_CACHE, warmup=0
    )
    return {
        "file_bytes": 2 * GIB,
        "vs_xxhsum": harness.ratio(fast[0], fast[1]),
        "vs_md5sum": harness.ratio(slow[0], slow[1]),
    }


def verify_speed(root: Path, out: Path, rounds: int) -> dict[str, Any]:
    """Time a warm `evallock verify` against `git status` on the same tree."""
    weights = fixtures.random_file(out / "data" / "weights-2g.bin", 2 * GIB)
    project = out / "verify-10k"
    fresh = not (project / ".evallock.toml").is_file()
    fixtures.project(project, weights, prompt_count=10_000)
    if fresh:
        time.sleep(RACY_WAIT_S)
        subprocess.run([_evallock(root), "-q", "lock"], cwd=project, check=True)
        fixtures.commit_all(project)
    verify = f"{_evallock(root)} verify"
    series = harness.interleaved([verify, "git status"], str(project), rounds, warmup=2)
    return {"prompt_files": 10_000, "vs_git_status": harness.ratio(*series)}


def lock_memory(root: Path, out: Path, rounds: int) -> dict[str, Any]:
    """Compare the peak memory of `evallock lock` on 4 GiB and 1 MiB weights."""
    big = fixtures.random_file(out / "data" / "weights-4g.bin", 4 * GIB)
    small = fixtures.random_file(out / "data" / "weights-1m.bin", MIB)
    projects = {
        "4 GiB": fixtures.project(out / "mem-4g", big),
        "1 MiB": fixtures.project(out / "mem-1m", small),
    }
    argv = [_evallock(root), "-q", "lock"]
    peaks: dict[str, list[int]] = {name: [] for name in projects}
    for _ in range(max(3, rounds // 3)):
        for name, project in projects.items():
            peaks[name].append(harness.peak_rss_kib(argv, str(project), CLEAR_CACHE))
    big_kib = statistics.median(peaks["4 GiB"])
    small_kib = statistics.median(peaks["1 MiB"])
    return {
        "subject_kib": big_kib,
        "reference_kib": small_kib,
        "ratio": big_kib / small_kib,
        "runs": len(peaks["4 GiB"]),
    }
