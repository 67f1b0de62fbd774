"""Dataset items and their manifest.

Each item is canonicalised as JSON with sorted keys and compact separators,
so that reordering keys or reformatting a line never changes its digest,
while any change of content does. Items are keyed by the configured id
field, else by an ``id`` field present in every item, else by their own
content digest. The manifest maps each key to its item digest.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator, Sequence
from typing import Any

from evallock.errors import InputError
from evallock.hashing import (
    digest_bytes,
    digest_value,
    is_lfs_pointer,
    lfs_pointer_error,
)

MAX_DATASET_BYTES = 4 * 1024**3


def detect_format(path: str, configured: str) -> str:
    if configured:
        return configured
    extension = os.path.splitext(path)[1].lower()
    formats = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv"}
    if extension not in formats:
        raise InputError(
            f"{path}: cannot tell the dataset format from the extension "
            f'{extension!r}; set format = "jsonl", "json" or "csv" in its '
            "[[evals]] table"
        )
    return formats[extension]


def canonical(item: dict[str, Any]) -> str:
    return json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def iter_items(
    data: bytes, path: str, fmt: str
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_or_position, item)`` for every item in a dataset file."""
    if is_lfs_pointer(data, len(data)):
        raise lfs_pointer_error(path)
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(
            f"{path} is a binary file (NUL byte at offset {nul}), not {fmt} text; "
            "point the dataset at a text file"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{path} is not valid UTF-8 (byte {error.start}); save it as UTF-8"
        ) from None
    if fmt == "jsonl":
        yield from _jsonl(text, path)
    elif fmt == "json":
        yield from _json_array(text, path)
    else:
        yield from _csv(text, path)


def _jsonl(text: str, path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    # JSON Lines separates records with "\n" only; str.splitlines() would also
    # split inside strings that hold U+0085 or U+2028, which JSON allows raw.
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            # json reports a cut-off string as "Unterminated string starting at".
            reason = error.msg.removesuffix(" starting at")
            raise InputError(
                f"{path} line {number} is not valid JSON ({reason} at column "
                f"{error.colno}); fix or remove that line"
            ) from None
        if not isinstance(item, dict):
            raise InputError(
                f"{path} line {number} is a JSON {type(item).__name__}, not an "
                "object; each line must be one JSON object"
            )
        yield number, item


def _json_array(text: str, path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            f"{path} is not valid JSON ({error.msg} at line {error.lineno}, column "
            f"{error.colno}); fix the file"
        ) from None
    if not isinstance(items, list):
        found = "an object" if isinstance(items, dict) else f"a {type(items).__name__}"
        raise InputError(
            f"{path} contains {found} at the top level, but a .json dataset must be an "
            "array of objects; wrap the items in [ ] or save them as JSONL"
        )
    for position, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise InputError(
                f"{path} element {position} is not a JSON object; every element "
                "must be an object"
            )
        yield position, item


def _csv(text: str, path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames
    except csv.Error as error:
        raise InputError(f"{path} line 1 is not valid CSV ({error}); fix it") from None
    _check_header(header, path)
    for row in _csv_rows(reader, path):
        if None in row:
            raise InputError(
                f"{path} line {reader.line_num} has more fields than the header; "
                "quote fields that contain commas"
            )
        yield reader.line_num, dict(row)


def _csv_rows(
    reader: csv.DictReader[str], path: str
) -> Iterator[dict[str | Any, str | Any]]:
    try:
        yield from reader
    except csv.Error as error:
        raise InputError(
            f"{path} line {reader.line_num} is not valid CSV ({error}); fix that line"
        ) from None


def _looks_numeric(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def _check_header(header: Sequence[str] | None, path: str) -> None:
    """Reject a missing header, and a first row that is plainly data."""
    if not header or not any(name.strip() for name in header):
        raise InputError(f"{path} has no header row; add one naming the columns")
    if all(_looks_numeric(name) for name in header):
        raise InputError(
            f"{path} has no header row (its first row, {','.join(header)}, is all "
            "numbers); add a first row naming the columns"
        )
    for position, name in enumerate(header, 1):
        if not name.strip():
            raise InputError(
                f"{path} header column {position} is empty; name every column"
            )
        if header.count(name) > 1:
            raise InputError(
                f"{path} header names column {name!r} twice; make column names unique"
            )


def item_key(item: dict[str, Any], id_field: str) -> str:
    value = item[id_field]
    return value if isinstance(value, str) else json.dumps(value)


def _content_key(digest: str, seen: dict[str, int]) -> str:
    """Key an item by its digest; repeats of the same item get ``#2``, ``#3``.

    Without the suffix an appended copy of an item would leave the manifest
    unchanged, although a run scores it twice.
    """
    if digest not in seen:
        return digest
    copy = 2
    while f"{digest}#{copy}" in seen:
        copy += 1
    return f"{digest}#{copy}"


def build_manifest(data: bytes, path: str, fmt: str, id_field: str) -> dict[str, Any]:
    """Return the lock entry of a dataset: file digest, item digests and count."""
    items = list(iter_items(data, path, fmt))
    if not items:
        raise InputError(f"{path} holds no items; add items or fix the path")
    field = id_field
    if not field and all("id" in item for _, item in items):
        field = "id"
    manifest: dict[str, str] = {}
    seen_at: dict[str, int] = {}
    for where, item in items:
        text = canonical(item)
        digest = digest_bytes(text.encode())
        if field:
            if field not in item:
                raise InputError(
                    f"{path} item at line {where} has no {field!r} field; give every "
                    "item an id or remove id_field"
                )
            key = item_key(item, field)
        else:
            key = _content_key(digest, seen_at)
        if key in seen_at:
            raise InputError(
                f"{path} has duplicate id {key!r} at lines {seen_at[key]} and "
                f"{where}; make ids unique"
            )
        seen_at[key] = where
        manifest[key] = digest
    return {
        "format": fmt,
        "id_field": field or "(content digest)",
        "count": len(manifest),
        "file": digest_bytes(data),
        "items_digest": digest_value(manifest),
        "items": dict(sorted(manifest.items())),
    }


def load_items(data: bytes, path: str, fmt: str, id_field: str) -> list[dict[str, Any]]:
    """Return items with their manifest key under ``__key__``, in file order."""
    result: list[dict[str, Any]] = []
    field = id_field
    items = [item for _, item in iter_items(data, path, fmt)]
    if not field and items and all("id" in item for item in items):
        field = "id"
    seen: dict[str, int] = {}
    for position, item in enumerate(items):
        # The file may have changed since it was locked, so a missing id is an
        # input error here too, not a crash.
        if field and field not in item:
            raise InputError(
                f"{path} item {position + 1} has no {field!r} field; give every item "
                "an id or remove id_field"
            )
        if field:
            key = item_key(item, field)
        else:
            key = _content_key(digest_bytes(canonical(item).encode()), seen)
        seen[key] = position
        result.append({**item, "__key__": key})
    return result
