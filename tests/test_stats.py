"""Paired bootstrap intervals, McNemar's exact test and the binomial sampler."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from evallock import stats


@pytest.mark.parametrize(
    ("a_only", "b_only", "expected"),
    [
        (0, 0, 1.0),
        (0, 5, 2 / 32),
        (1, 6, 2 * (1 + 7) / 128),
        (6, 1, 2 * (1 + 7) / 128),
        (2, 8, 2 * (1 + 10 + 45) / 1024),
        (3, 3, 1.0),
    ],
)
def test_mcnemar_exact_hand_values(a_only: int, b_only: int, expected: float) -> None:
    assert stats.mcnemar_exact(a_only, b_only) == pytest.approx(expected)


def test_mcnemar_exact_large_counts() -> None:
    expected = 2 * sum(math.comb(3000, k) for k in range(1401)) / 2**3000
    assert stats.mcnemar_exact(1400, 1600) == pytest.approx(expected, rel=1e-12)


def test_mcnemar_exact_matches_scipy() -> None:
    scipy_stats = pytest.importorskip("scipy.stats")
    for a_only, b_only in [(3, 11), (20, 31), (0, 9)]:
        reference = scipy_stats.binomtest(a_only, a_only + b_only, 0.5).pvalue
        assert stats.mcnemar_exact(a_only, b_only) == pytest.approx(reference)


def test_mcnemar_negative_count_rejected() -> None:
    with pytest.raises(ValueError):
        stats.mcnemar_exact(-1, 3)


def test_discordant_pairs_counts_both_ways() -> None:
    pairs = [(1.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0), (0.0, 0.0)]
    assert stats.discordant_pairs([pairs]) == (2, 1)


def test_paired_delta_binary_uses_mcnemar() -> None:
    pairs = [(0.0, 1.0)] * 6 + [(1.0, 0.0)] + [(1.0, 1.0)] * 13
    result = stats.paired_delta([pairs])
    assert result.delta == pytest.approx(5 / 20)
    assert result.test == "mcnemar_exact"
    assert result.p_value == pytest.approx(0.125)
    assert result.discordant == (1, 6)


def test_paired_delta_constant_difference_interval() -> None:
    pairs = [(0.2, 0.5), (0.4, 0.7), (0.1, 0.4)]
    result = stats.paired_delta([pairs])
    assert result.low == pytest.approx(0.3)
    assert result.high == pytest.approx(0.3)
    assert result.test == "bootstrap"


def test_paired_delta_no_change_p_one() -> None:
    result = stats.paired_delta([[(1.0, 1.0), (0.0, 0.0)]])
    assert result.delta == 0
    assert result.p_value == 1.0
    assert (result.low, result.high) == (0.0, 0.0)


def test_paired_delta_same_seed_reproducible() -> None:
    generator = random.Random(5)
    pairs = [(generator.random(), generator.random()) for _ in range(300)]
    first = stats.paired_delta([pairs], seed=11)
    second = stats.paired_delta([pairs], seed=11)
    assert first == second


def test_paired_delta_interval_contains_delta() -> None:
    generator = random.Random(8)
    pairs = [
        (float(generator.random() < 0.5), float(generator.random() < 0.6))
        for _ in range(500)
    ]
    result = stats.paired_delta([pairs])
    assert result.low < result.delta < result.high


def test_paired_delta_groups_average_evals() -> None:
    small = [(0.0, 1.0)] * 2
    large = [(1.0, 1.0)] * 98
    result = stats.paired_delta([small, large])
    assert result.delta == pytest.approx(0.5)
    assert result.items == 100


def test_paired_delta_empty_rejected() -> None:
    with pytest.raises(ValueError):
        stats.paired_delta([[]])


def _bootstrap_reference(
    differences: list[float], resamples: int
) -> tuple[float, float]:
    """Item-by-item bootstrap, the textbook definition, for comparison."""
    generator = random.Random(99)
    means = sorted(
        statistics.fmean(generator.choices(differences, k=len(differences)))
        for _ in range(resamples)
    )
    return stats.percentile(means, 0.025), stats.percentile(means, 0.975)


def test_bootstrap_discrete_matches_item_draws() -> None:
    generator = random.Random(4)
    pairs = [
        (float(generator.random() < 0.55), float(generator.random() < 0.7))
        for _ in range(400)
    ]
    differences = [b - a for a, b in pairs]
    low, high = _bootstrap_reference(differences, 4000)
    result = stats.paired_delta([pairs], resamples=4000)
    assert result.low == pytest.approx(low, abs=0.01)
    assert result.high == pytest.approx(high, abs=0.01)


def test_bootstrap_matches_numpy_percentiles() -> None:
    numpy = pytest.importorskip("numpy")
    generator = random.Random(6)
    pairs = [(generator.random(), generator.random()) for _ in range(300)]
    differences = numpy.array([b - a for a, b in pairs])
    draws = numpy.random.default_rng(0).integers(0, 300, size=(4000, 300))
    low, high = numpy.percentile(differences[draws].mean(axis=1), [2.5, 97.5])
    result = stats.paired_delta([pairs], resamples=4000)
    assert result.low == pytest.approx(low, abs=0.01)
    assert result.high == pytest.approx(high, abs=0.01)


def test_percentile_interpolates_like_numpy() -> None:
    ordered = [1.0, 2.0, 4.0, 8.0]
    assert stats.percentile(ordered, 0.5) == pytest.approx(3.0)
    assert stats.percentile(ordered, 0.0) == 1.0
    assert stats.percentile(ordered, 1.0) == 8.0


def test_bootstrap_p_value_counts_sides() -> None:
    ordered = [-0.1] + [0.1] * 19
    assert stats.bootstrap_p_value(ordered, 0.08) == pytest.approx(0.1)


@pytest.mark.parametrize(("trials", "chance"), [(7, 0.5), (1000, 0.03), (50, 0.9)])
def test_binomial_mean_and_variance(trials: int, chance: float) -> None:
    generator = random.Random(3)
    draws = [stats.binomial(generator, trials, chance) for _ in range(20000)]
    mean, variance = trials * chance, trials * chance * (1 - chance)
    assert statistics.fmean(draws) == pytest.approx(
        mean, abs=4 * math.sqrt(variance / 20000)
    )
    assert statistics.pvariance(draws) == pytest.approx(variance, rel=0.05)


def test_binomial_small_exact_frequencies() -> None:
    generator = random.Random(12)
    draws = [stats.binomial(generator, 4, 0.5) for _ in range(32000)]
    for k in range(5):
        expected = math.comb(4, k) / 16
        assert draws.count(k) / 32000 == pytest.approx(expected, abs=0.01)


def test_binomial_edge_chances() -> None:
    generator = random.Random(1)
    assert stats.binomial(generator, 10, 0.0) == 0
    assert stats.binomial(generator, 10, 1.0) == 10
    assert stats.binomial(generator, 0, 0.5) == 0
