"""Removing secrets from environment variables before anything is stored or logged."""

from __future__ import annotations

import re

SECRET_NAME = re.compile(
    r"TOKEN(?!IZERS?_)|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|API_?KEY|ACCESS_?KEY|"
    r"PRIVATE|AUTH|COOKIE|SESSION|_KEY$|^KEY",
    re.IGNORECASE,
)
# Greedy up to the last "@" before the path, so that a password holding an
# unescaped "@" is removed whole.
URL_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/\s]+@")
# Query parameters that carry credentials, as in signed or token URLs.
QUERY_SECRET = re.compile(
    r"(?P<name>[?&][^=&#\s]*(?:token|secret|passw|key|sig|auth|credential)"
    r"[^=&#\s]*=)[^&#\s]+",
    re.IGNORECASE,
)
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
    """Remove ``user:password@`` and credential query parameters from URLs."""
    value = URL_CREDENTIALS.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", value)
    return QUERY_SECRET.sub(lambda m: f"{m.group('name')}{REDACTED}", value)


def redact_environment(env: dict[str, str]) -> dict[str, str]:
    """Return *env* with secret-looking values replaced and URL credentials removed."""
    return {
        name: REDACTED if SECRET_NAME.search(name) else scrub_value(value)
        for name, value in sorted(env.items())
    }


def recorded_environment(env: dict[str, str]) -> dict[str, str]:
    """Return the redacted subset of the caller's environment stored with a run."""
    relevant = {k: v for k, v in env.items() if k.startswith(RECORDED_PREFIXES)}
    return redact_environment(relevant)
