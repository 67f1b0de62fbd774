"""Removing secrets from environment variables before anything is stored or logged."""

from __future__ import annotations

import re

SECRET_NAME = re.compile(
    r"TOKEN(?!IZERS?_)|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|API_?KEY|ACCESS_?KEY|"
    r"PRIVATE|AUTH|COOKIE|SESSION|_KEY$|^KEY",
    re.IGNORECASE,
)
URL_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")
REDACTED = "<redacted>"
# Only variables with these prefixes can change what vLLM, torch or the
# tokenizer compute, so only they are stored with a run.
RECORDED_PREFIXES = (
    "VLLM_",
    "CUDA_",
    "NVIDIA_",
    "NCCL_",
    "TORCH",
    "PYTORCH_",
    "TRITON_",
    "HF_",
    "TRANSFORMERS_",
    "TOKENIZERS_",
    "OMP_",
    "MKL_",
    "OPENBLAS_",
    "XLA_",
    "PYTHONHASHSEED",
    "CUBLAS_",
    "LD_PRELOAD",
)


def scrub_value(value: str) -> str:
    """Remove ``user:password@`` from any URL inside a value."""
    return URL_CREDENTIALS.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", value)


def redact_environment(env: dict[str, str]) -> dict[str, str]:
    """Return *env* with secret-looking values replaced and URL credentials removed."""
    return {
        name: REDACTED if SECRET_NAME.search(name) else scrub_value(value)
        for name, value in sorted(env.items())
    }


def recorded_environment(env: dict[str, str]) -> dict[str, str]:
    """The redacted subset of the caller's environment that is stored with a run."""
    relevant = {k: v for k, v in env.items() if k.startswith(RECORDED_PREFIXES)}
    return redact_environment(relevant)
