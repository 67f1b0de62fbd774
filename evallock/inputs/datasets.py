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
from collections.abc import Iterator
from typing import Any

from evallock.errors import InputError
from evallock.hashing import digest_bytes, digest_value

MAX_DATASET_BYTES = 4 * 1024**3


def detect_format(path: str, configured: str) -> str:
    if configured:
        return configured
    extension = os.path.splitext(path)[1].lower()
    formats = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv"}
    if extension not in formats:
        raise InputError(
            f"{path}: cannot tell the dataset format from the extension "
            f"{extension!r}; set format = \"jsonl\", \"json\" or \"csv\" in its "
            "[[evals]] table"
        )
    return formats[extension]


def canonical(item: dict[str, Any]) -> str:
    return json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def iter_items(data: bytes, path: str, fmt: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_or_position, item)`` for every item in a dataset file."""
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
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(
                f"{path} line {number} is not valid JSON ({error.msg}, column "
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
        raise InputError(f"{path} must hold a JSON array of objects at the top level")
    for position, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise InputError(
                f"{path} element {position} is not a JSON object; every element "
                "must be an object"
            )
        yield position, item


def _csv(text: str, path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise InputError(f"{path} has no header row; add one naming the columns")
    for row in reader:
        if None in row:
            raise InputError(
                f"{path} line {reader.line_num} has more fields than the header; "
                "quote fields that contain commas"
            )
        yield reader.line_num, dict(row)


def item_key(item: dict[str, Any], id_field: str) -> str:
    value = item[id_field]
    return value if isinstance(value, str) else json.dumps(value)


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
            key = digest
        if key in seen_at and field:
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
    for item in items:
        key = item_key(item, field) if field else digest_bytes(canonical(item).encode())
        result.append({**item, "__key__": key})
    return result
