"""Faults of the vLLM worker: killed, interrupted, or unable to start.

Every test runs ``evallock run`` as a separate process with TMPDIR pointed at
a folder of the test. It then checks the exit code and message, that no
result was stored, that ``eval.lock`` is byte-identical, and that the
worker's scratch folder is gone. The tests that stop a worker during start-up use the
small checkpoint-shaped folder of ``helpers.project`` (the worker is stopped
before it would fail on the placeholder weights); the tests that need a
real generation use the bundled example model and skip without it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import faults
from helpers.example import example_project, needs_example
from helpers.project import commit_all, make_project

pytestmark = [
    pytest.mark.vllm,
    pytest.mark.skipif(
        importlib.util.find_spec("vllm") is None, reason="vllm is not installed"
    ),
]


def _wait_for_line(run: subprocess.Popen[str], text: str, timeout: float = 600) -> str:
    """Read stderr until a line containing *text*; return what was read."""
    assert run.stderr is not None
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = run.stderr.readline()
        if not line:
            raise AssertionError(f"stderr ended before {text!r}:\n{seen}")
        seen += line
        if text in line:
            return seen
    raise AssertionError(f"no {text!r} within {timeout} s:\n{seen}")


def _process_gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stream:
            return stream.read().split(") ", 1)[1].startswith("Z")
    except OSError:
        return True


def _start_run(
    root: Path, tmpdir: Path, *args: str, **env: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "evallock", "-C", str(root), "run", *args],
        env=faults.environment(tmpdir, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _locked(root: Path, tmpdir: Path) -> bytes:
    done = faults.evallock(root, "lock", env=faults.environment(tmpdir))
    assert done.returncode == 0, done.stderr
    commit_all(root, "Lock inputs")
    return (root / "eval.lock").read_bytes()


def test_worker_killed_run_stores_nothing(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    lock = _locked(root, tmp_path / "tmp")
    run = _start_run(root, tmp_path / "tmp")

    worker = faults.wait_for_worker(run)
    os.kill(worker, signal.SIGKILL)
    _, stderr = run.communicate(timeout=120)

    assert run.returncode == 2, stderr
    assert "killed by signal SIGKILL, so nothing was stored" in stderr
    assert faults.results_history(root) == []
    assert (root / "eval.lock").read_bytes() == lock
    assert faults.leftovers(tmp_path / "tmp") == []


def test_run_interrupted_exits_130(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    lock = _locked(root, tmp_path / "tmp")
    run = _start_run(root, tmp_path / "tmp")

    worker = faults.wait_for_worker(run)
    time.sleep(0.5)
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=120)

    assert run.returncode == 130, stderr
    assert "interrupted" in stderr
    assert _process_gone(worker)
    assert faults.results_history(root) == []
    assert (root / "eval.lock").read_bytes() == lock
    assert faults.leftovers(tmp_path / "tmp") == []


def test_unknown_architecture_names_cause(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo", commit=False)
    config = json.loads((root / "model" / "config.json").read_text())
    config.update(model_type="llama", architectures=["NoSuchModelForCausalLM"])
    (root / "model" / "config.json").write_text(json.dumps(config))
    _locked(root, tmp_path / "tmp")

    done = faults.evallock(
        root, "run", env=faults.environment(tmp_path / "tmp"), timeout=600
    )

    first = done.stderr.split("evallock: error: ", 1)[-1].splitlines()[0]
    assert done.returncode == 2, done.stderr
    assert "NoSuchModelForCausalLM" in first
    assert "-m evallock.runner.worker" in first
    assert "last lines of its log" in first
    assert faults.results_history(root) == []
    assert faults.leftovers(tmp_path / "tmp") == []


@needs_example
def test_truncated_weights_names_cause(tmp_path: Path) -> None:
    root = example_project(tmp_path / "repo")
    weights = root / "examples" / "arith" / "model" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    _locked(root, tmp_path / "tmp")

    done = faults.evallock(
        root, "run", env=faults.environment(tmp_path / "tmp"), timeout=600
    )

    first = done.stderr.split("evallock: error: ", 1)[-1].splitlines()[0]
    assert done.returncode == 2, done.stderr
    assert "failed with exit code" in first
    assert "Error" in first
    assert faults.results_history(root) == []
    assert faults.leftovers(tmp_path / "tmp") == []


@needs_example
def test_worker_killed_mid_generation(tmp_path: Path) -> None:
    root = example_project(tmp_path / "repo", items=50000)
    lock = _locked(root, tmp_path / "tmp")
    run = _start_run(root, tmp_path / "tmp")

    _wait_for_line(run, "generating")
    os.kill(faults.wait_for_worker(run), signal.SIGKILL)
    _, stderr = run.communicate(timeout=120)

    assert run.returncode == 2, stderr
    assert "killed by signal SIGKILL" in stderr
    assert faults.results_history(root) == []
    assert (root / "eval.lock").read_bytes() == lock
    assert faults.leftovers(tmp_path / "tmp") == []
