"""Reading and writing ``eval.lock``.

The lock is machine-written TOML: ``version`` first, then one table per
component in a fixed order, keys sorted inside each table, one line per file
or dataset item. A change to one prompt is therefore a small, readable git
diff. The writer below emits TOML directly in one pass, because building the
document with tomlkit takes quadratic time (24 s for 10,000 entries,
measured with tomlkit 0.13) and tomli-w cannot write the one-line inline
tables that keep per-file entries on one line.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from typing import Any

from evallock.errors import LockfileError
from evallock.fsutil import write_atomic

VERSION = 1
HEADER = "# Written by `evallock lock`. Do not edit by hand; rerun `evallock lock`.\n"
COMPONENT_ORDER = (
    "prompts",
    "datasets",
    "checkpoint",
    "engine",
    "sampling",
    "evals",
    "scorer",
    "software",
    "hardware",
)
BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
CONFLICT_MARKER = re.compile(r"^(<<<<<<<|>>>>>>>|=======$)", re.MULTILINE)


def _key(key: str) -> str:
    return key if BARE_KEY.match(key) else _string(key)


def _string(value: str) -> str:
    out = ['"']
    for char in value:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif char == "\r":
            out.append("\\r")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{_key(k)} = {_value(v)}" for k, v in sorted(value.items()))
        return "{ " + inner + " }" if inner else "{}"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _is_record(value: Any) -> bool:
    """A dict of plain values, written inline on one line."""
    return isinstance(value, dict) and all(
        not isinstance(v, dict) for v in value.values()
    )


def _emit(lines: list[str], path: list[str], table: dict[str, Any]) -> None:
    # A table whose values are all records is a map of files or items: each
    # record goes on its own line as an inline table.
    inline_children = bool(table) and all(_is_record(v) for v in table.values())
    subtables: list[tuple[str, dict[str, Any]]] = []
    body: list[str] = []
    for key in sorted(table):
        value = table[key]
        if isinstance(value, dict) and not inline_children:
            subtables.append((key, value))
        else:
            body.append(f"{_key(key)} = {_value(value)}")
    if path and (body or not subtables):
        lines.append("")
        lines.append("[" + ".".join(_key(p) for p in path) + "]")
    lines.extend(body)
    for key, value in subtables:
        _emit(lines, [*path, key], value)


def dumps(lock: dict[str, Any]) -> str:
    """Serialise a lock in a stable order; linear in the number of entries."""
    lines = [HEADER.rstrip("\n"), f"version = {int(lock['version'])}"]
    for component in COMPONENT_ORDER:
        if component in lock:
            _emit(lines, [component], lock[component])
    return "\n".join(lines) + "\n"


def loads(text: str, shown: str = "eval.lock") -> dict[str, Any]:
    """Parse a lock, rejecting conflicts, newer versions and malformed files."""
    if CONFLICT_MARKER.search(text):
        raise LockfileError(
            f"{shown} contains git merge-conflict markers; resolve the merge of the "
            "inputs, then rerun `evallock lock` to rewrite it"
        )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise LockfileError(
            f"{shown} is not valid TOML ({error}); rerun `evallock lock` to rewrite it"
        ) from None
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise LockfileError(
            f"{shown} has no integer 'version' key; rerun `evallock lock` to rewrite it"
        )
    if version > VERSION:
        raise LockfileError(
            f"{shown} has version {version}, newer than this evallock understands "
            f"({VERSION}); upgrade evallock, or rerun `evallock lock` to rewrite it"
        )
    if version < 1:
        raise LockfileError(
            f"{shown} has unknown version {version}; rerun `evallock lock`"
        )
    for component in COMPONENT_ORDER:
        if component in data and not isinstance(data[component], dict):
            raise LockfileError(
                f"{shown}: {component} must be a table; rerun `evallock lock`"
            )
    return _migrate(data)


def _migrate(data: dict[str, Any]) -> dict[str, Any]:
    # Version 1 is the only version so far; later versions convert older
    # locks here, one step at a time, so that old locks stay readable.
    return data


def read(path: str) -> dict[str, Any] | None:
    """Return the lock at *path*, or None when there is none yet."""
    try:
        with open(path, "rb") as stream:
            raw = stream.read()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise LockfileError(f"{path} cannot be read: {error.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise LockfileError(
            f"{os.path.basename(path)} is not valid UTF-8; rerun `evallock lock`"
        ) from None
    return loads(text, os.path.basename(path))


def write(path: str, lock: dict[str, Any]) -> None:
    write_atomic(path, dumps(lock).encode("utf-8"))
