"""Starting the vLLM worker in a fresh, hermetic process and waiting for it.

The worker gets an allow-listed environment and new, empty folders for
``HOME``, ``TMPDIR`` and every cache that vLLM, torch.compile and Triton
write. So no compiled kernel, downloaded file or warm cache from an earlier
run can reach it. The folders are deleted afterwards, whatever happens.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from evallock.errors import RunError
from evallock.fsutil import remove_stale_temporaries
from evallock.redact import redact_environment

log = logging.getLogger(__name__)

# Variables copied from the caller's environment when set: where programs and
# libraries are, the locale, which devices are visible, and thread settings.
INHERITED = (
    "PATH",
    "LANG",
    "LC_ALL",
    "LD_LIBRARY_PATH",
    "CUDA_VISIBLE_DEVICES",
    "NVIDIA_VISIBLE_DEVICES",
    "CUDA_HOME",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "VLLM_CPU_OMP_THREADS_BIND",
    "VLLM_CPU_NUM_OF_RESERVED_CPU",
    "VLLM_TARGET_DEVICE",
    "VLLM_LOGGING_LEVEL",
)
CACHE_FOLDERS = {
    "HOME": "home",
    "TMPDIR": "tmp",
    "XDG_CACHE_HOME": "cache",
    "VLLM_CACHE_ROOT": "vllm-cache",
    "TORCHINDUCTOR_CACHE_DIR": "inductor-cache",
    "TRITON_CACHE_DIR": "triton-cache",
    "HF_HOME": "hf-home",
}
FIXED = {
    "VLLM_ENABLE_V1_MULTIPROCESSING": "0",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "VLLM_NO_USAGE_STATS": "1",
    "DO_NOT_TRACK": "1",
    "PYTHONHASHSEED": "0",
    "PYTHONUNBUFFERED": "1",
    "TOKENIZERS_PARALLELISM": "false",
}
LOG_TAIL_LINES = 25
# The last line of a Python traceback: "package.module.NameError: message".
EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit)): (.*)$")
MAX_CAUSE_CHARS = 400
# vLLM prefixes the lines its workers log with "[rank0]: " (vLLM 0.32 on CPU).
RANK_PREFIX = re.compile(r"^\[rank\d+\]: ")
# Scratch folders are named after the evallock process that made them, so
# that one left by a killed process can be found and removed by the next run.
SCRATCH_NAME = re.compile(r"^evallock-run-(\d+)-[A-Za-z0-9_]+$")


@dataclass(frozen=True)
class WorkerResult:
    """The worker's result file and how the process was started."""

    result: dict[str, Any]
    command: list[str]
    environment: dict[str, str]
    seconds: float


def worker_environment(scratch: str, cpu_kv_cache_gib: float) -> dict[str, str]:
    env = {name: os.environ[name] for name in INHERITED if name in os.environ}
    for variable, folder in CACHE_FOLDERS.items():
        path = os.path.join(scratch, folder)
        os.makedirs(path, exist_ok=True)
        env[variable] = path
    env.update(FIXED)
    # A bounded KV cache: by default vLLM on CPU reserves most of the RAM.
    env["VLLM_CPU_KVCACHE_SPACE"] = os.environ.get(
        "VLLM_CPU_KVCACHE_SPACE", f"{cpu_kv_cache_gib:g}"
    )
    return env


def _tail(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as stream:
            lines = stream.read().splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(lines[-LOG_TAIL_LINES:]) or "(empty log)"


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the worker's whole process group: SIGTERM, then SIGKILL."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def run_worker(
    job: dict[str, Any],
    timeout: float,
    cpu_kv_cache_gib: float,
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> WorkerResult:
    """Run one cold worker on *job*; raise RunError on any failure."""
    parent = tempfile.gettempdir()
    for name in remove_stale_temporaries(parent, SCRATCH_NAME):
        log.info("removed %s, left by an evallock run that was killed", name)
    scratch = tempfile.mkdtemp(prefix=f"evallock-run-{os.getpid()}-", dir=parent)
    log.debug("worker scratch folder: %s", scratch)
    try:
        return _run_in(scratch, job, timeout, cpu_kv_cache_gib, on_event)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        log.debug("removed %s", scratch)


def _run_in(
    scratch: str,
    job: dict[str, Any],
    timeout: float,
    cpu_kv_cache_gib: float,
    on_event: Callable[[dict[str, Any]], None] | None,
) -> WorkerResult:
    job_path = os.path.join(scratch, "job.json")
    result_path = os.path.join(scratch, "result.json")
    log_path = os.path.join(scratch, "worker.log")
    with open(job_path, "w", encoding="utf-8") as stream:
        json.dump(job, stream)
    env = worker_environment(scratch, cpu_kv_cache_gib)
    command = [sys.executable, "-m", "evallock.runner.worker", job_path, result_path]
    log.info("starting worker: %s", shlex.join(command))
    log.debug("worker environment: %s", redact_environment(env))
    started = time.monotonic()
    with open(log_path, "wb") as log_stream:
        process = subprocess.Popen(
            command,
            cwd=env["TMPDIR"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=log_stream,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            _follow(process, started, timeout, on_event)
        except BaseException:
            _stop(process)
            raise
    seconds = time.monotonic() - started
    if process.returncode != 0:
        raise RunError(_failure(process.returncode, command, log_path))
    try:
        with open(result_path, encoding="utf-8") as stream:
            result = json.load(stream)
    except (OSError, ValueError) as error:
        raise RunError(
            f"the vLLM worker exited without a readable result ({error}); command: "
            f"{shlex.join(command)}; log tail:\n{_tail(log_path)}"
        ) from None
    return WorkerResult(result, command, redact_environment(env), seconds)


def _follow(
    process: subprocess.Popen[bytes],
    started: float,
    timeout: float,
    on_event: Callable[[dict[str, Any]], None] | None,
) -> None:
    """Read progress events until the worker exits, enforcing the timeout."""
    import selectors

    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    buffer = b""
    while True:
        remaining = timeout - (time.monotonic() - started)
        if remaining <= 0:
            raise RunError(
                f"the vLLM worker did not finish within {timeout:g} s and was stopped; "
                "raise [run] timeout in .evallock.toml or pass --timeout"
            )
        if selector.select(timeout=min(remaining, 1.0)):
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                break
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                _dispatch(line, on_event)
        elif process.poll() is not None:
            break
    process.wait(timeout=max(timeout - (time.monotonic() - started), 1))


def _dispatch(line: bytes, on_event: Callable[[dict[str, Any]], None] | None) -> None:
    try:
        event = json.loads(line)
    except ValueError:
        log.debug("worker: %s", line.decode(errors="replace"))
        return
    if on_event is not None and isinstance(event, dict):
        on_event(event)


def _failure(code: int, command: list[str], log_path: str) -> str:
    if code < 0:
        cause = f"was killed by signal {signal.Signals(-code).name}"
    elif code == 3:
        cause = "rejected its job"
    else:
        cause = f"failed with exit code {code}"
    error = _last_error(log_path)
    if error:
        cause += f" ({error})"
    return (
        f"the vLLM worker {cause}, so nothing was stored; command: "
        f"{shlex.join(command)}; last lines of its log:\n{_tail(log_path)}"
    )


def _last_error(log_path: str) -> str | None:
    """Return the exception line that ended the worker's traceback, if any.

    The line that follows it is added when it is indented, because pydantic
    (which vLLM uses for its configuration) puts the reason there.
    """
    try:
        with open(log_path, encoding="utf-8", errors="replace") as stream:
            lines = stream.read().splitlines()
    except OSError:
        return None
    lines = [RANK_PREFIX.sub("", line, count=1) for line in lines]
    for index in range(len(lines) - 1, -1, -1):
        match = EXCEPTION_LINE.match(lines[index])
        if match is None:
            continue
        text = f"{match.group(1).rsplit('.', 1)[-1]}: {match.group(2).strip()}"
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if following.startswith(" ") and following.strip():
            text += f": {following.strip()}"
        return text[:MAX_CAUSE_CHARS]
    return None
