"""Measuring commands against a reference in the same run.

Shared machines are noisy, so every figure is a ratio between evallock and a
reference measured in interleaved rounds. Each round runs every command once
through hyperfine, with the order reversed every other round, and a ratio
compares the medians over all rounds. Absolute times are kept for scale.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

# Each tool the benchmarks run, with the Debian package that provides it.
TOOLS = {
    "hyperfine": "hyperfine",
    "xxhsum": "xxhash",
    "md5sum": "coreutils",
    "git": "git",
}
GNU_TIME = "/usr/bin/time"


def missing_tools() -> list[str]:
    """Return one install hint per missing tool; the benchmarks install nothing."""
    hints = [
        f"{tool} is not installed; run `apt-get install -y {package}`"
        for tool, package in TOOLS.items()
        if shutil.which(tool) is None
    ]
    if not os.access(GNU_TIME, os.X_OK):
        hints.append(f"{GNU_TIME} is not installed; run `apt-get install -y time`")
    return hints


def prepare_environment() -> None:
    """Set up this process, whose children are the measured commands.

    Bytecode caches are allowed, as in an installed package: with
    PYTHONDONTWRITEBYTECODE set, every run would compile evallock from
    source. Where permitted (as root), the priority is raised so that other
    jobs on a shared machine disturb the measurements less. The reference
    commands inherit the same priority.
    """
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    try:
        os.nice(-10)
    except PermissionError:
        pass


@dataclass
class Sample:
    """One run of one command: wall-clock and CPU seconds."""

    wall: float
    user: float
    system: float


@dataclass
class Series:
    """All runs of one command across the rounds of a comparison."""

    command: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def cpu_median(self) -> float:
        return statistics.median(s.user + s.system for s in self.samples)

    def as_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "median_s": self.median,
            "min_s": min(s.wall for s in self.samples),
            "cpu_median_s": self.cpu_median,
            "runs": len(self.samples),
            "wall_s": [s.wall for s in self.samples],
            "cpu_s": [s.user + s.system for s in self.samples],
        }


def _hyperfine_once(commands: list[str], cwd: str, prepare: str | None) -> list[Sample]:
    """Run each command once through hyperfine, in order; return their samples."""
    with tempfile.NamedTemporaryFile(suffix=".json") as export:
        argv = ["hyperfine", "-N", "--runs", "1", "--style", "none"]
        argv += ["--export-json", export.name]
        if prepare is not None:
            argv += ["--prepare", prepare]
        done = subprocess.run(
            argv + commands, cwd=cwd, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"hyperfine failed in {cwd} (exit {done.returncode}):\n"
                f"{done.stdout}\n{done.stderr}"
            )
        with open(export.name, encoding="utf-8") as stream:
            results = json.load(stream)["results"]
    return [Sample(r["times"][0], r["user"], r["system"]) for r in results]


def interleaved(
    commands: list[str],
    cwd: str,
    rounds: int,
    prepare: str | None = None,
    warmup: int = 1,
) -> list[Series]:
    """Measure *commands* in *rounds* rounds, alternating their order."""
    for _ in range(warmup):
        _hyperfine_once(commands, cwd, prepare)
    series = [Series(command) for command in commands]
    for number in range(rounds):
        order = list(range(len(commands)))
        if number % 2:
            order.reverse()
        samples = _hyperfine_once([commands[i] for i in order], cwd, prepare)
        for index, sample in zip(order, samples, strict=True):
            series[index].samples.append(sample)
    return series


def ratio(subject: Series, reference: Series) -> dict[str, Any]:
    """Compare two series measured in the same rounds."""
    return {
        "subject": subject.as_dict(),
        "reference": reference.as_dict(),
        "ratio": subject.median / reference.median,
        "cpu_ratio": subject.cpu_median / reference.cpu_median,
    }


def peak_rss_kib(argv: list[str], cwd: str, prepare: str | None = None) -> int:
    """Return the maximum resident set size of one run, from ``time -v``."""
    if prepare is not None:
        subprocess.run(prepare, shell=True, cwd=cwd, check=True)
    done = subprocess.run(
        [GNU_TIME, "-v", *argv], cwd=cwd, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed in {cwd}:\n{done.stderr}")
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    if match is None:
        raise RuntimeError(f"no peak memory in the output of {GNU_TIME} -v")
    return int(match.group(1))


def _first_line(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
    except OSError:
        return "not installed"
    return (done.stdout or done.stderr).strip().splitlines()[0]


def _cpu_model() -> str:
    with open("/proc/cpuinfo", encoding="utf-8") as stream:
        for line in stream:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def _memory_gib() -> float:
    with open("/proc/meminfo", encoding="utf-8") as stream:
        for line in stream:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    return 0.0


def machine() -> dict[str, Any]:
    """Describe the machine and tools, as read from it at run time."""
    gpu = "none"
    if shutil.which("nvidia-smi"):
        gpu = _first_line(["nvidia-smi", "-L"])
    return {
        "date": time.strftime("%Y-%m-%d"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(_memory_gib(), 1),
        "gpu": gpu,
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "git": _first_line(["git", "--version"]),
        "hyperfine": _first_line(["hyperfine", "--version"]),
        "xxhsum": _first_line(["xxhsum", "--version"]),
        "evallock_commit": _first_line(["git", "rev-parse", "--short", "HEAD"]),
        "nice": os.nice(0),
    }
