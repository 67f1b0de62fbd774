"""Inputs that the parser fuzzing in tests/fuzz/ found, kept as regression tests."""

from __future__ import annotations

import pytest

from evallock import lockfile, store
from evallock.errors import InputError, LockfileError
from evallock.inputs import datasets


def test_load_items_missing_id_input_error() -> None:
    data = b'{"id": "a", "answer": "1"}\n{"answer": "2"}\n'

    with pytest.raises(InputError, match="item 2 has no 'id' field"):
        datasets.load_items(data, "data/x.jsonl", "jsonl", "id")


def test_lock_deep_nesting_lockfile_error() -> None:
    with pytest.raises(LockfileError, match="too deeply"):
        lockfile.loads("version = 1\nx = " + "[" * 1000 + "]" * 1000)


def test_summary_deep_nesting_skipped() -> None:
    body = "run\n\n" + store.SUMMARY_MARK + "[" * 5000 + "]" * 5000

    assert store._parse_summary(body) is None
