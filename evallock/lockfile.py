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

import json
import logging
import math
import os
import re
import tomllib
from typing import Any

import xxhash

from evallock.config import toml_error_text
from evallock.errors import LockfileError
from evallock.fsutil import read_regular_file, write_atomic
from evallock.hashing import digest_value

log = logging.getLogger(__name__)

VERSION = 1
# Bumped when the layout of the parsed-lock cache file changes.
PARSED_CACHE_VERSION = 1
# The largest lock evallock reads or writes. It equals the result store's
# bound on one stored file (store.MAX_RECORD_BYTES), so every lock that can be
# written can also be loaded back from a stored run. The bound also keeps a
# lock from an untrusted branch from making evallock parse gigabytes of TOML.
MAX_LOCK_BYTES = 64 * 1024 * 1024
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
# The parts of the checkpoint table; the same names as inputs.checkpoint.PARTS,
# repeated here so that reading a lock does not import the input scanners.
CHECKPOINT_PARTS = ("weights", "tokenizer", "generation_config", "config", "other")
BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
CONFLICT_MARKER = re.compile(r"^(<<<<<<<|>>>>>>>|=======$)", re.MULTILINE)


def _key(key: str) -> str:
    return key if BARE_KEY.match(key) else _string(key)


_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f\x7f"\\]')
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or f"\\u{ord(char):04x}"


def _string(value: str) -> str:
    """Write a TOML basic string; control characters become escapes."""
    return '"' + _NEEDS_ESCAPE.sub(_escape, value) + '"'


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
    if len(text) > MAX_LOCK_BYTES:
        raise LockfileError(
            f"{shown} has {len(text)} characters, over the {MAX_LOCK_BYTES}-byte "
            "limit for a lock; rerun `evallock lock` to rewrite it"
        )
    if not text.strip():
        raise LockfileError(f"{shown} is empty; rerun `evallock lock` to rewrite it")
    if CONFLICT_MARKER.search(text):
        raise LockfileError(
            f"{shown} contains git merge-conflict markers; resolve the merge of the "
            "inputs, then rerun `evallock lock` to rewrite it"
        )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise LockfileError(
            f"{shown} is not valid TOML ({toml_error_text(error, text)}); rerun "
            "`evallock lock` to rewrite it"
        ) from None
    except RecursionError:
        # tomllib recurses once per nesting level of arrays and inline
        # tables and fails near 500 levels; no lock that evallock writes nests
        # deeper than four.
        raise LockfileError(
            f"{shown} nests arrays or tables too deeply to parse; rerun "
            "`evallock lock` to rewrite it"
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
    problem = _shape_problem(data)
    if problem is not None:
        raise LockfileError(
            f"{shown} is malformed ({problem}); rerun `evallock lock` to rewrite it"
        )
    problem = _digest_problem(data)
    if problem is not None:
        raise LockfileError(
            f"{shown} was edited by hand: {problem}; rerun `evallock lock` to "
            "rewrite it"
        )
    return _migrate(data)


def _without_digest(table: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in table.items() if key != "digest"}


def _digest_problem(data: dict[str, Any]) -> str | None:
    """Return which recorded digest disagrees with the values beside it.

    Drift is found by comparing digests first, so a value edited without
    its digest would otherwise go unnoticed.
    """
    expected: dict[str, Any] = {}
    if "prompts" in data:
        files = data["prompts"]["files"]
        expected["prompts"] = {p: f.get("digest") for p, f in files.items()}
    for component in ("engine", "sampling"):
        if component in data:
            expected[component] = data[component]["settings"]
    for component in ("evals", "scorer", "software", "hardware"):
        if component in data:
            expected[component] = _without_digest(data[component])
    for component, value in expected.items():
        if digest_value(value) != data[component]["digest"]:
            return f"the [{component}] values do not match its digest"
    for path, entry in data.get("datasets", {}).items():
        items = digest_value(entry["items"])
        if items != entry.get("items_digest") or items != entry.get("digest"):
            return f"the items of dataset {path} do not match its digest"
    return _checkpoint_digest_problem(data.get("checkpoint"))


def _checkpoint_digest_problem(table: dict[str, Any] | None) -> str | None:
    if table is None:
        return None
    identity: dict[str, Any] = {}
    for part in CHECKPOINT_PARTS:
        entry = table.get(part, {})
        if digest_value(entry.get("files", {})) != entry.get("digest"):
            return f"the checkpoint {part} files do not match their digest"
        identity[part] = entry.get("digest")
    if "hf_revision" in table:
        identity["hf_revision"] = table["hf_revision"]
    if digest_value(identity) != table.get("digest"):
        return "the checkpoint parts do not match the checkpoint digest"
    return None


# Sub-tables that drift reports read, per component: ``"files"`` names one
# sub-table, ``"*"`` means every value other than ``digest`` must be a table,
# and ``"*.items"`` means the ``items`` entry of each of those tables.
_TABLE_PATHS: dict[str, tuple[str, ...]] = {
    "prompts": ("files", "files.*"),
    "datasets": ("*", "*.items"),
    "checkpoint": (
        *CHECKPOINT_PARTS,
        *(f"{part}.files" for part in CHECKPOINT_PARTS),
        *(f"{part}.settings" for part in CHECKPOINT_PARTS),
    ),
    "engine": ("settings",),
    "sampling": ("settings",),
    "evals": ("*",),
    "scorer": ("*",),
}


def _shape_problem(data: dict[str, Any]) -> str | None:
    """Return what is wrong with the layout of a parsed lock, or None."""
    for component in COMPONENT_ORDER:
        if component not in data:
            continue
        table = data[component]
        if not isinstance(table, dict):
            return f"{component} is not a table"
        # Each dataset carries its own digest; the datasets table has none.
        if component != "datasets" and not isinstance(table.get("digest"), str):
            return f"{component} has no digest string"
        for path in _TABLE_PATHS.get(component, ()):
            problem = _path_problem(component, table, path.split("."))
            if problem is not None:
                return problem
    return None


def _path_problem(where: str, table: dict[str, Any], steps: list[str]) -> str | None:
    step, rest = steps[0], steps[1:]
    if step == "*":
        names = [name for name in table if name != "digest"]
    else:
        names = [step] if step in table else []
    for name in names:
        value = table[name]
        if not isinstance(value, dict):
            return f"{where}.{name} is not a table"
        if rest:
            problem = _path_problem(f"{where}.{name}", value, rest)
            if problem is not None:
                return problem
    return None


def _migrate(data: dict[str, Any]) -> dict[str, Any]:
    # Version 1 is the only version so far; later versions convert older
    # locks here, one step at a time, so that old locks stay readable.
    return data


def read(path: str, parsed_cache: str | None = None) -> dict[str, Any] | None:
    """Return the lock at *path*, or None when there is none yet.

    With *parsed_cache* (a file under ``.git/evallock``), the parse is reused
    while the lock's text is unchanged; see ``loads_cached``.
    """
    try:
        raw = read_regular_file(path, MAX_LOCK_BYTES)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise LockfileError(
            f"{path} cannot be read ({error.strerror}); delete it and rerun "
            "`evallock lock`"
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise LockfileError(
            f"{os.path.basename(path)} is not valid UTF-8; rerun `evallock lock` to "
            "rewrite it"
        ) from None
    if parsed_cache is not None:
        return loads_cached(text, os.path.basename(path), parsed_cache)
    return loads(text, os.path.basename(path))


def loads_cached(text: str, shown: str, cache_path: str) -> dict[str, Any]:
    """Parse like ``loads``, reusing the stored result for identical text.

    tomllib is pure Python: parsing a lock of 10,000 prompt files (1.6 MB)
    took 1.8 s on a busy 2-core VM, json.loads of the same data 0.07 s. The
    cache holds one parsed lock, keyed by the XXH3-128 digest of the text,
    so a stale entry can never be returned.
    """
    key = f"{PARSED_CACHE_VERSION} {xxhash.xxh3_128_hexdigest(text.encode())}\n"
    cached = _read_parsed(cache_path, key)
    if cached is not None:
        return cached
    lock = loads(text, shown)
    try:
        payload = key + json.dumps(lock, separators=(",", ":"), allow_nan=True)
        os.makedirs(os.path.dirname(cache_path), exist_ok=True)
        write_atomic(cache_path, payload.encode("utf-8"))
    except (OSError, TypeError, ValueError) as error:
        # TOML dates do not convert to JSON; the cache only saves time.
        log.debug("not caching the parsed %s: %s", shown, error)
    return lock


def _read_parsed(cache_path: str, key: str) -> dict[str, Any] | None:
    try:
        with open(cache_path, encoding="utf-8") as stream:
            if stream.readline() != key:
                return None
            data = json.loads(stream.read())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write(path: str, lock: dict[str, Any]) -> None:
    """Replace the lock at *path* atomically; on failure the old lock stays intact."""
    data = dumps(lock).encode("utf-8")
    if len(data) > MAX_LOCK_BYTES:
        raise LockfileError(
            f"the new {os.path.basename(path)} would be {len(data)} bytes, over the "
            f"{MAX_LOCK_BYTES}-byte limit for a lock, so it was not written; lock "
            "fewer or smaller datasets"
        )
    try:
        write_atomic(path, data)
    except OSError as error:
        raise LockfileError(
            f"could not write {path} ({error.strerror}), so the previous "
            f"{os.path.basename(path)} is unchanged; free space or fix permissions "
            "in that folder and rerun `evallock lock`"
        ) from None
