"""The cause that a failed worker's message names, read from its log.

The log texts are the ends of real worker logs from vLLM 0.32 on CPU: a
configuration error, which pydantic reports on the line after the exception,
and a weights error, whose lines vLLM prefixes with ``[rank0]: ``.
"""

from __future__ import annotations

from pathlib import Path

from evallock.runner import launch

CONFIG_ERROR = """\
  File "/venv/lib/python3.11/site-packages/pydantic/_internal/_dataclasses.py", line 121
    s.__pydantic_validator__.validate_python(ArgsKwargs(args, kwargs), self_instance=s)
pydantic_core._pydantic_core.ValidationError: 1 validation error for ModelConfig
  Value error, Model architectures ['NoSuchModelForCausalLM'] are not supported for now.
    For further information visit https://errors.pydantic.dev/2.14/v/value_error
"""
WEIGHTS_ERROR = (
    '[rank0]:     with safe_open(st_file, framework="pt") as f:\n'
    "[rank0]:          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
    "[rank0]: safetensors._safetensors_rust.SafetensorError: Error while "
    "deserializing header: incomplete metadata, file not fully covered\n"
)


def test_last_error_adds_pydantic_reason(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    log.write_text(CONFIG_ERROR)

    cause = launch._last_error(str(log))

    assert cause is not None
    assert cause.startswith("ValidationError: 1 validation error for ModelConfig")
    assert "NoSuchModelForCausalLM" in cause


def test_last_error_strips_rank_prefix(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    log.write_text(WEIGHTS_ERROR)

    assert launch._last_error(str(log)) == (
        "SafetensorError: Error while deserializing header: incomplete metadata, "
        "file not fully covered"
    )


def test_failure_message_names_cause_command_log(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    log.write_text(WEIGHTS_ERROR)

    message = launch._failure(1, ["python", "-m", "evallock.runner.worker"], str(log))

    first = message.splitlines()[0]
    assert first.startswith("the vLLM worker failed with exit code 1 (SafetensorError")
    assert "nothing was stored" in first
    assert "command: python -m evallock.runner.worker" in first
    assert message.endswith("file not fully covered")


def test_last_error_without_traceback_none(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    log.write_text("INFO loading\nKilled\n")

    assert launch._last_error(str(log)) is None
