"""Lift statistics against published and hand-computed values."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringup.engine.lift import (
    mean_difference,
    proportion_difference,
    t_cdf,
    t_quantile,
    welch_degrees_of_freedom,
    wilson,
)


def test_wilson_interval_of_81_in_263():
    """p = 81/263 = 0.30798; z = 1.95996, z² = 3.84146.
    centre = (p + z²/526) / (1 + z²/263) = (0.30798 + 0.0073032) / 1.0146063 = 0.31075
    half = z / 1.0146063 × √(p(1−p)/263 + z²/(4·263²)) = 1.93174 × 0.028717 = 0.05547
    → [0.2553, 0.3662] (Newcombe 1998, single proportion, example)."""
    interval = wilson(81, 263)
    assert interval.estimate == pytest.approx(81 / 263)
    assert (round(interval.low, 4), round(interval.high, 4)) == (0.2553, 0.3662)


def test_wilson_at_the_edges_stays_inside_zero_and_one():
    """0/10: centre = (0 + z²/20)/(1 + z²/10) = 0.19207/1.38415 = 0.13876 = half → [0, 0.2775]."""
    interval = wilson(0, 10)
    assert interval.low == 0.0
    assert round(interval.high, 4) == 0.2775
    assert wilson(10, 10).high == 1.0


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        # Newcombe 1998 (two proportions), Table II, method 10.
        ((56, 70, 48, 80), (0.0524, 0.3339)),
        ((9, 10, 3, 10), (0.1705, 0.8090)),
        ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ],
)
def test_newcombe_hybrid_score_interval_matches_the_paper(counts, expected):
    """e.g. 56/70 − 48/80 = 0.8 − 0.6 = 0.2; Wilson 56/70 = [0.6920, 0.8768], 48/80 =
    [0.4905, 0.7000]; δ = √(0.1080² + 0.1000²) = 0.1476 → low 0.0524;
    ε = √(0.0768² + 0.1095²) = 0.1338 → high 0.3339."""
    interval = proportion_difference(*counts)
    assert interval.estimate == pytest.approx(counts[0] / counts[1] - counts[2] / counts[3])
    assert (round(interval.low, 4), round(interval.high, 4)) == expected


@pytest.mark.parametrize(
    ("freedom", "quantile"),
    [(1, 12.7062), (2, 4.3027), (4, 2.7764), (10, 2.2281), (30, 2.0423), (1000, 1.9623)],
)
def test_t_quantile_matches_the_table(freedom, quantile):
    assert round(t_quantile(0.975, freedom), 4) == quantile
    assert t_cdf(t_quantile(0.975, freedom), freedom) == pytest.approx(0.975, abs=1e-10)
    assert t_quantile(0.025, freedom) == pytest.approx(-t_quantile(0.975, freedom))


def test_welch_interval_by_hand():
    """a = 10, 12, 14, 16: mean 13, s² = (9+1+1+9)/3 = 20/3, s²/n = 5/3.
    b = 8, 9, 10: mean 9, s² = 1, s²/n = 1/3.
    SE = √(5/3 + 1/3) = √2 = 1.41421; ν = 2² / ((5/3)²/3 + (1/3)²/2) = 4 / 0.98148 = 4.0755;
    t(0.975, 4.0755) = 2.7566 → half-width 3.8984 → 4 ± 3.8984 = [0.1016, 7.8984]."""
    assert welch_degrees_of_freedom(5 / 3, 4, 1 / 3, 3) == pytest.approx(4.0755, abs=1e-4)
    interval = mean_difference([10, 12, 14, 16], [8, 9, 10])
    assert interval.estimate == 4.0
    assert interval.low == pytest.approx(4 - math.sqrt(2) * t_quantile(0.975, 4.07547), abs=1e-4)
    assert (round(interval.low, 2), round(interval.high, 2)) == (0.10, 7.90)


def test_welch_needs_two_values_per_group_and_handles_no_spread():
    with pytest.raises(ValueError, match="two values"):
        mean_difference([1.0], [1.0, 2.0])
    assert mean_difference([5, 5], [3, 3]).low == 2.0


def test_bad_counts_are_refused():
    with pytest.raises(ValueError):
        wilson(3, 0)
    with pytest.raises(ValueError):
        wilson(4, 3)


@given(
    st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
)
def test_the_difference_interval_holds_the_estimate_and_stays_in_range(a, b):
    interval = proportion_difference(a[0], a[1], b[0], b[1])
    assert -1 <= interval.low <= interval.estimate <= interval.high <= 1
