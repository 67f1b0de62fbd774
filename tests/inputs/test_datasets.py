"""Dataset items, their canonical form and the manifest."""

from __future__ import annotations

import json

import pytest

from evallock.errors import InputError
from evallock.inputs import datasets


def jsonl(rows: list[dict[str, object]]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def manifest(data: bytes, fmt: str = "jsonl", id_field: str = "") -> dict[str, object]:
    return datasets.build_manifest(data, "data/x." + fmt, fmt, id_field)


def test_datasets_reordered_keys_same_items() -> None:
    first = manifest(b'{"id": "a", "q": "1+1", "answer": "2"}\n')
    second = manifest(b'{ "answer":"2","q":"1+1" , "id":"a"}\n')
    assert first["items"] == second["items"]
    assert first["file"] != second["file"]


def test_datasets_keyed_by_id_when_present() -> None:
    result = manifest(jsonl([{"id": "x", "v": 1}, {"id": 7, "v": 2}]))
    assert sorted(result["items"]) == ["7", "x"]  # type: ignore[arg-type]
    assert result["id_field"] == "id"


def test_datasets_keyed_by_content_without_ids() -> None:
    result = manifest(jsonl([{"v": 1}, {"v": 2}]))
    assert result["id_field"] == "(content digest)"
    assert result["count"] == 2


def test_datasets_repeated_item_counted_twice() -> None:
    once = manifest(jsonl([{"v": 1}, {"v": 2}]))
    twice = manifest(jsonl([{"v": 1}, {"v": 2}, {"v": 1}]))
    assert twice["count"] == 3
    assert once["items_digest"] != twice["items_digest"]


def test_datasets_load_items_keys_match_manifest() -> None:
    data = jsonl([{"v": 1}, {"v": 1}, {"v": 2}])
    keys = [item["__key__"] for item in datasets.load_items(data, "x", "jsonl", "")]
    assert sorted(keys) == sorted(manifest(data)["items"])  # type: ignore[arg-type]


def test_datasets_csv_rows_are_items() -> None:
    result = manifest(b"id,question,answer\nq1,1+1,2\nq2,2+2,4\n", fmt="csv")
    assert result["count"] == 2
    assert sorted(result["items"]) == ["q1", "q2"]  # type: ignore[arg-type]


def test_datasets_json_array_items() -> None:
    result = manifest(b'[{"id": "a"}, {"id": "b"}]', fmt="json")
    assert result["count"] == 2


def test_datasets_bom_and_blank_lines_ignored() -> None:
    plain = manifest(b'{"id": "a"}\n')
    noisy = manifest(b'\xef\xbb\xbf{"id": "a"}\n\n   \n')
    assert plain["items_digest"] == noisy["items_digest"]


@pytest.mark.parametrize(
    ("data", "fmt", "expected"),
    [
        (b'{"id": 1}\n{"id": 2\n', "jsonl", "line 2 is not valid JSON"),
        (b'{"id": 1}\n[1, 2]\n', "jsonl", "line 2 is a JSON list, not an object"),
        (b'{"id": 1}\n{"id": 1}\n', "jsonl", "duplicate id '1' at lines 1 and 2"),
        (b"", "jsonl", "holds no items"),
        (b'{"items": []}', "json", "contains an object at the top level"),
        (b"[1]", "json", "element 1 is not a JSON object"),
        (b"", "csv", "has no header row"),
        (b"12,30,42\n55,11,66\n", "csv", "has no header row (its first row"),
        (b"q,q\n1,2\n", "csv", "names column 'q' twice"),
        (b"q,a\n1,2,3\n", "csv", "line 2 has more fields than the header"),
        (b'{"q": "\xff"}\n', "jsonl", "not valid UTF-8 (byte 7)"),
        (b"\x1f\x8b\x08\x00\x00\x00", "jsonl", "binary file (NUL byte at offset 3)"),
        (
            b"version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 9\n",
            "jsonl",
            "Git LFS pointer",
        ),
    ],
)
def test_datasets_bad_file_named(data: bytes, fmt: str, expected: str) -> None:
    with pytest.raises(InputError) as caught:
        manifest(data, fmt)
    assert expected in str(caught.value)
    assert "data/x." + fmt in str(caught.value)


def test_datasets_missing_configured_id_field() -> None:
    with pytest.raises(InputError, match="line 2 has no 'qid' field"):
        manifest(jsonl([{"qid": "a"}, {"id": "b"}]), id_field="qid")


def test_datasets_unknown_extension_needs_format() -> None:
    with pytest.raises(InputError, match='set format = "jsonl"'):
        datasets.detect_format("data/items.txt", "")
