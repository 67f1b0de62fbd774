"""Running ``evallock`` in-process and capturing what it prints and logs."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evallock.cli import main


@dataclass
class Result:
    """Exit code, stdout and stderr of one command, as a user would see them."""

    code: int
    stdout: str
    stderr: str
    debug: list[str]

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    def json(self) -> Any:
        return json.loads(self.stdout)


class _Capture(logging.Handler):
    def __init__(self, stream: io.StringIO, debug: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.stream = stream
        self.debug = debug

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.levelno >= logging.WARNING:
            self.stream.write(f"evallock: {record.levelname}: {message}\n")
        else:
            self.debug.append(message)


def run_cli(root: Path | str, *args: str) -> Result:
    """Run ``evallock -C ROOT ARGS...`` in this process.

    Log records of level WARNING and above count as stderr lines, because
    the real command prints them there; DEBUG records are kept apart.
    """
    stdout, stderr = io.StringIO(), io.StringIO()
    debug: list[str] = []
    handler = _Capture(stderr, debug)
    package_logger = logging.getLogger("evallock")
    root_logger = logging.getLogger()
    # A root handler makes main()'s logging.basicConfig a no-op, so it cannot
    # bind a handler to this test's temporary stderr.
    placeholder = logging.NullHandler()
    root_logger.addHandler(placeholder)
    package_logger.addHandler(handler)
    old_level = package_logger.level
    package_logger.setLevel(logging.DEBUG if "-v" in args else logging.WARNING)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main(["-C", str(root), *args])
    finally:
        package_logger.removeHandler(handler)
        package_logger.setLevel(old_level)
        root_logger.removeHandler(placeholder)
    return Result(code, stdout.getvalue(), stderr.getvalue(), debug)


def tree_snapshot(root: Path) -> dict[str, bytes | str]:
    """Map every path under *root*, ``.git`` excluded, to its bytes or link target."""
    snapshot: dict[str, bytes | str] = {}
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in dirs + files:
            path = os.path.join(current, name)
            relative = os.path.relpath(path, root)
            if os.path.islink(path):
                snapshot[relative] = "-> " + os.readlink(path)
            elif name in files and os.path.isfile(path):
                with open(path, "rb") as stream:
                    snapshot[relative] = stream.read()
            else:
                snapshot[relative] = "(folder or special file)"
    return snapshot


def temporary_files(root: Path) -> list[str]:
    """Return leftovers of atomic writes anywhere under *root*, ``.git`` included."""
    found = []
    for current, _dirs, files in os.walk(root):
        found += [os.path.join(current, n) for n in files if n.startswith(".evallock-")]
    return found
