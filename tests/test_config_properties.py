"""The config loader raises only ConfigError, whatever text it is given."""

from __future__ import annotations

from typing import Any

import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evallock import config
from evallock.errors import ConfigError

KEYS = sorted(
    {key for table in config.TABLES.values() for key in table}
    | set(config.EVAL_DEFAULTS)
    | {"vllm", "nonsense"}
)
values = st.recursive(
    st.one_of(
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.floats(),
        st.text(max_size=12),
        st.sampled_from(
            [
                "exact_match",
                "regex:(",
                "regex:a+",
                "python:s.py:f",
                "checkpoint",
                "hf:a/b",
                "auto",
            ]
        ),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=3),
    ),
    max_leaves=10,
)
documents = st.dictionaries(
    st.sampled_from([*config.TABLES, "evals", "extra"]),
    st.one_of(
        st.dictionaries(st.sampled_from(KEYS), values, max_size=6),
        st.lists(
            st.dictionaries(st.sampled_from(KEYS), values, max_size=6), max_size=2
        ),
        values,
    ),
    max_size=6,
)


def load(text: str) -> None:
    try:
        config.load_text(text)
    except ConfigError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_config_arbitrary_text_only_config_error(text: str) -> None:
    load(text)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_config_arbitrary_tables_only_config_error(document: dict[str, Any]) -> None:
    load(tomli_w.dumps(document))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 400), st.text(max_size=3))
def test_config_cut_example_only_config_error(cut: int, tail: str) -> None:
    from helpers.project import CONFIG

    load(CONFIG[:cut] + tail)
