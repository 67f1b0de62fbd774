"""Pieces of the run pipeline that need no vLLM."""

from __future__ import annotations

import pytest

from evallock.errors import RunError
from evallock.runner import evaluate


def test_prefix_cache_hit_rejects_run() -> None:
    with pytest.raises(RunError, match="3 prefix-cache hits"):
        evaluate._check_prefix_cache({"prefix_cache": {"queries": 10, "hits": 3}})


def test_prefix_cache_missing_counters_rejects_run() -> None:
    with pytest.raises(RunError, match="did not report"):
        evaluate._check_prefix_cache({"prefix_cache": {"queries": None, "hits": None}})


def test_prefix_cache_zero_hits_recorded() -> None:
    counters = evaluate._check_prefix_cache({"prefix_cache": {"queries": 5, "hits": 0}})
    assert counters == {"queries": 5, "hits": 0, "enable_prefix_caching": False}


def test_item_seed_depends_on_key_only() -> None:
    assert evaluate.item_seed(0, "add-0001") == evaluate.item_seed(0, "add-0001")
    assert evaluate.item_seed(0, "add-0001") != evaluate.item_seed(0, "add-0002")
    assert evaluate.item_seed(0, "add-0001") != evaluate.item_seed(1, "add-0001")


def test_variant_first_is_as_locked() -> None:
    assert evaluate._variant(0, 64, 4) == (64, [0, 1, 2, 3])


def test_variant_second_reverses_with_batch_one() -> None:
    assert evaluate._variant(1, 64, 4) == (1, [3, 2, 1, 0])


def test_variant_later_permutes_all_requests() -> None:
    seqs, order = evaluate._variant(2, 64, 50)
    assert seqs == 32
    assert sorted(order) == list(range(50))
    assert order != list(range(50))
