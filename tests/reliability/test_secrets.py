"""No secret from the environment reaches a lock, a stored result, a log or a worker.

The secrets are the kinds people keep in their shells: Hugging Face and
OpenAI tokens, an AWS secret key, a password inside a URL, a custom
``*_TOKEN`` and a signed URL's query parameter. Each test sets all of them
and searches every byte evallock wrote for every value.
"""

from __future__ import annotations

import json
import os
import string
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import faults
from helpers.example import example_project, needs_example
from helpers.project import commit_all
from helpers.runs import locked_project, store_run
from hypothesis import given
from hypothesis import strategies as st

from evallock.redact import recorded_environment, redact_environment, scrub_value
from evallock.runner.launch import worker_environment

# Values long and odd enough that they cannot occur by chance in output.
SECRET_VALUES = {
    "HF_TOKEN": "hf_Zq8XsecretHFvalue0001",
    "OPENAI_API_KEY": "sk-proj-OPENAIsecret0002",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/AWSsecret0003",
    "HF_ENDPOINT": "https://alice:pa55wordURLsecret0004@mirror.example/hf",
    "EVAL_SERVICE_TOKEN": "svc-CUSTOMtokenSecret0005",
    "VLLM_API_KEY": "vllm-APIKEYsecret0006",
    "TORCH_HUB_TOKEN": "torch-HUBsecret0007",
    "HF_DATASETS_MIRROR": "https://mirror.example/d?X-Amz-Signature=SIGsecret0008&v=1",
}
# The part of each value that is the secret: for URLs, only the credential.
SECRETS = [
    "hf_Zq8XsecretHFvalue0001",
    "sk-proj-OPENAIsecret0002",
    "wJalrXUtnFEMI/K7MDENG/AWSsecret0003",
    "pa55wordURLsecret0004",
    "svc-CUSTOMtokenSecret0005",
    "vllm-APIKEYsecret0006",
    "torch-HUBsecret0007",
    "SIGsecret0008",
]


def leaked(data: str | bytes) -> list[str]:
    """Return the secrets that occur in *data*."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return [secret for secret in SECRETS if secret in text]


def test_recorded_environment_holds_no_secret() -> None:
    recorded = recorded_environment({**os.environ, **SECRET_VALUES})

    assert leaked(repr(recorded)) == []
    assert "HF_ENDPOINT" in recorded


def test_worker_environment_holds_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SECRET_VALUES.items():
        monkeypatch.setenv(name, value)

    env = worker_environment(str(tmp_path), 1.0)

    assert leaked(repr(env)) == []
    assert sorted(set(SECRET_VALUES) & set(env)) == []


def test_redacted_worker_environment_holds_no_secret() -> None:
    assert leaked(repr(redact_environment(SECRET_VALUES))) == []


def test_commands_with_secrets_leak_nothing(tmp_path: Path) -> None:
    project = locked_project(tmp_path / "repo")
    root = Path(project.root)
    store_run(project, "5ec7e700")
    env = faults.environment(tmp_path / "tmp", **SECRET_VALUES)
    outputs = []
    for args in (
        ["lock"],
        ["verify"],
        ["log"],
        ["show", "5ec7e700"],
        ["show", "5ec7e700", "--format", "json"],
        ["diff"],
    ):
        done = faults.evallock(root, "-v", *args, env=env)
        outputs.append(done.stdout + done.stderr)

    assert leaked("\n".join(outputs)) == []
    assert leaked((root / "eval.lock").read_bytes()) == []


def test_results_ref_objects_hold_no_secret(tmp_path: Path) -> None:
    project = locked_project(tmp_path / "repo")
    root = Path(project.root)
    store_run(project, "5ec7e701")

    objects = faults.reachable_objects(root)

    assert len(objects) >= 5
    assert [sha for sha, data in objects.items() if leaked(data)] == []


# Characters a URL's user or password may hold unescaped, "@" and ":" included.
URL_PART = st.text(
    alphabet=string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@%?#",
    min_size=1,
    max_size=20,
)


SCRUBBED = "https://<redacted>@mirror.example/path"


@given(
    user=URL_PART, password=URL_PART.filter(lambda p: len(p) >= 6 and p not in SCRUBBED)
)
def test_scrub_removes_any_url_password(user: str, password: str) -> None:
    value = f"https://{user}:{password}@mirror.example/path"

    assert password not in scrub_value(value)


def _worker_environ(run: subprocess.Popen[str]) -> dict[str, str]:
    """Read the environment of the live worker process of ``evallock run``."""
    pid = faults.wait_for_worker(run)
    with open(f"/proc/{pid}/environ", "rb") as stream:
        pairs = stream.read().split(b"\0")
    return dict(
        pair.decode("utf-8", "replace").split("=", 1) for pair in pairs if b"=" in pair
    )


@pytest.mark.vllm
@needs_example
def test_full_run_leaks_no_secret(tmp_path: Path) -> None:
    root = example_project(tmp_path / "repo", items=16)
    env = faults.environment(tmp_path / "tmp", **SECRET_VALUES)
    locked = faults.evallock(root, "-v", "lock", env=env)
    assert locked.returncode == 0, locked.stderr
    commit_all(root, "Lock inputs")
    run = subprocess.Popen(
        [sys.executable, "-m", "evallock", "-v", "-C", str(root), "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    worker_env = _worker_environ(run)
    run_out, run_err = run.communicate(timeout=600)
    assert run.returncode == 0, run_err
    outputs = [locked.stdout, locked.stderr, run_out, run_err]
    for args in (
        ["log"],
        ["show", run_out.split()[1].rstrip(":")],
        ["log", "--format", "json"],
    ):
        done = faults.evallock(root, "-v", *args, env=env)
        outputs += [done.stdout, done.stderr]
    record = json.loads(
        subprocess.run(
            ["git", "show", "refs/evallock/results:record.json"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )

    assert leaked("\n".join(outputs)) == []
    assert leaked((root / "eval.lock").read_bytes()) == []
    objects = faults.reachable_objects(root)
    assert [sha for sha, data in objects.items() if leaked(data)] == []
    assert leaked(json.dumps(record["worker"])) == []
    assert sorted(set(SECRET_VALUES) & set(record["worker"]["environment"])) == []
    assert leaked(repr(worker_env)) == []
    assert sorted(set(SECRET_VALUES) & set(worker_env)) == []
    assert faults.leftovers(tmp_path / "tmp") == []
