"""Properties of dataset canonicalisation, checked on generated items."""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from evallock.inputs import datasets

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=8), inner, max_size=4),
    ),
    max_leaves=12,
)
items = st.dictionaries(st.text(max_size=10), values, min_size=1, max_size=6)


def item_digest(item: dict[str, Any]) -> str:
    line = json.dumps(item, ensure_ascii=False)
    manifest = datasets.build_manifest(line.encode() + b"\n", "d.jsonl", "jsonl", "")
    (digest,) = manifest["items"].values()
    return str(digest)


def reorder(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {key: reorder(value[key], rng) for key in keys}
    if isinstance(value, list):
        return [reorder(inner, rng) for inner in value]
    return value


@settings(max_examples=60, deadline=None)
@given(items, st.integers(min_value=0), st.booleans(), st.integers(0, 4))
def test_datasets_layout_never_changes_digest(
    item: dict[str, Any], seed: int, ascii_only: bool, indent: int
) -> None:
    shuffled = reorder(item, random.Random(seed))
    separators = (" , ", " :  ") if indent else (",", ":")
    line = json.dumps(shuffled, ensure_ascii=ascii_only, separators=separators)
    reformatted = datasets.build_manifest(
        b"  " + line.encode() + b"  \n", "d.jsonl", "jsonl", ""
    )
    assert list(reformatted["items"].values()) == [item_digest(item)]


@settings(max_examples=60, deadline=None)
@given(items, st.text(min_size=1, max_size=10), values)
def test_datasets_content_change_changes_digest(
    item: dict[str, Any], key: str, value: Any
) -> None:
    changed = dict(item)
    changed[key] = value
    if changed == item or json.dumps(changed, sort_keys=True) == json.dumps(
        item, sort_keys=True
    ):
        return
    assert item_digest(changed) != item_digest(item)
