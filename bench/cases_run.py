"""Benchmark of `evallock run` against a bare vllm.LLM script, equally cold.

The bundled example (the root .evallock.toml and examples/arith/) is copied
into a scratch git repository, so that benchmark runs never add results to
this repository's refs. The reference gets the job that evallock builds for
its worker (the same engine arguments, rendered prompts and per-item seeds)
and runs it through bench/bare_cold.sh, with the same environment and new,
empty cache folders every time.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
from pathlib import Path
from typing import Any

from bench import fixtures, harness

EXAMPLE_FILES = (".evallock.toml", "eval.lock", "examples/arith")


def _scratch_copy(root: Path, folder: Path) -> Path:
    """Copy the example into a fresh git repository at *folder*."""
    if folder.exists():
        shutil.rmtree(folder)
    fixtures.init_repo(folder)
    for name in EXAMPLE_FILES:
        source = root / name
        if source.is_dir():
            shutil.copytree(source, folder / name)
        elif source.is_file():
            shutil.copy2(source, folder / name)
    fixtures.commit_all(folder)
    return folder


def _job(folder: Path, target: Path) -> Path:
    """Write the worker job that `evallock run` would build for *folder*."""
    from evallock import fingerprint, locking
    from evallock.gitrepo import find_project
    from evallock.runner import evaluate

    project = find_project(str(folder))
    cfg = locking.load_config(project)
    lock = locking.read_lock(project)
    prepared = evaluate.prepare(project, cfg, lock)
    job = evaluate.build_job(
        cfg,
        fingerprint.checkpoint_folder(project, cfg),
        prepared.requests,
        int(cfg.engine["max_num_seqs"]),
    )
    target.write_text(json.dumps(job))
    return target


def run_speed(root: Path, out: Path, rounds: int) -> dict[str, Any]:
    """Time `evallock run` and the bare script, alternately, a few rounds."""
    folder = _scratch_copy(root, out / "run-example")
    python = root / ".venv" / "bin" / "python"
    subprocess.run([str(root / ".venv/bin/evallock"), "verify"], cwd=folder, check=True)
    job = _job(folder, out / "run-job.json")
    commands = [
        f"{root / '.venv/bin/evallock'} run",
        f"{root / 'bench/bare_cold.sh'} {python} {job}",
    ]
    # A cold run takes 15 s or more (minutes on a busy machine), so this
    # benchmark uses fewer rounds and no warm-up round: both commands start
    # cold by design, and alternating their order evens out the page cache.
    series = harness.interleaved(commands, str(folder), max(3, rounds // 5), warmup=0)
    comparison = harness.ratio(*series)
    overheads = _overheads(folder, series[0])
    reference = comparison["reference"]["median_s"]
    return {
        "items": len(json.loads(job.read_text())["requests"]),
        **comparison,
        "overhead_s": statistics.median(overheads),
        "overhead_ratio": (reference + statistics.median(overheads)) / reference,
    }


def _overheads(folder: Path, runs: harness.Series) -> list[float]:
    """Return, per measured run, its wall time minus its worker's time.

    That difference is evallock's own work around the vLLM worker (start-up,
    verification, rendering, scoring, re-hashing, storing). Each is measured
    within one run, so machine load moves it far less than the wall times.
    """
    from evallock import store
    from evallock.gitrepo import find_project

    project = find_project(str(folder))
    stored = list(reversed(store.list_runs(project)))[-len(runs.samples) :]
    return [
        sample.wall - store.load(project, run.id).record["timings"]["worker_s"]
        for sample, run in zip(runs.samples, stored, strict=True)
    ]
