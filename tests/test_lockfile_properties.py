"""The lock writer round-trips any keys and values through tomllib."""

from __future__ import annotations

import tomllib
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from evallock import lockfile
from evallock.hashing import digest_value

# Any text, control characters, quotes and backslashes included; surrogates
# cannot be encoded as UTF-8 and never occur in decoded file names.
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
scalars = st.one_of(
    text,
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
)
records = st.dictionaries(
    text, st.one_of(scalars, st.lists(scalars, max_size=3)), max_size=4
)
tables: st.SearchStrategy[dict[str, Any]] = st.recursive(
    records,
    lambda inner: st.dictionaries(text, st.one_of(inner, scalars), max_size=4),
    max_leaves=15,
)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(lockfile.COMPONENT_ORDER), tables, max_size=4))
def test_lockfile_dumps_round_trips(components: dict[str, dict[str, Any]]) -> None:
    lock = {"version": 1, **components}
    assert tomllib.loads(lockfile.dumps(lock)) == lock


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(text, text, max_size=20))
def test_lockfile_file_map_round_trips(files: dict[str, str]) -> None:
    lock = {
        "version": 1,
        "prompts": {
            "digest": digest_value(files),
            "files": {k: {"digest": v} for k, v in files.items()},
        },
    }
    assert lockfile.loads(lockfile.dumps(lock)) == lock
