"""Lift statistics: what a campaign caused, treated group against held-out group.

Two estimates, each with a two-sided confidence interval (95 % by default):

* :func:`proportion_difference` — conversion rate of the treated minus that of the
  held-out group, with Newcombe's hybrid score interval (method 10 of Newcombe 1998,
  built from the two Wilson score intervals). It stays inside [-1, 1] and behaves with
  small groups and rates near 0 or 1, where the textbook Wald interval does not.
* :func:`mean_difference` — mean revenue per customer of the treated minus that of the
  held-out group, with Welch's t interval (unequal variances, Welch–Satterthwaite degrees
  of freedom).

Revenue is money, but a mean and its interval are estimates, not amounts on an invoice:
they are computed in binary floating point and the caller rounds them for display.
Student's t quantile is computed here (regularised incomplete beta function and
bisection) rather than taken from SciPy, which the project does not depend on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np


@dataclass(frozen=True)
class Interval:
    """An estimate with its confidence interval ``[low, high]``."""

    estimate: float
    low: float
    high: float


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError("confidence must lie strictly between 0 and 1")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson(successes: int, trials: int, *, confidence: float = 0.95) -> Interval:
    """The proportion ``successes / trials`` with its Wilson score interval.

    ``trials`` must be positive and ``0 ≤ successes ≤ trials``.
    """
    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError("need trials > 0 and 0 <= successes <= trials")
    z = _z(confidence)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    # At 0 and n the bounds are exactly 0 and 1; rounding would leave a speck beside them.
    low = 0.0 if successes == 0 else centre - half
    high = 1.0 if successes == trials else centre + half
    return Interval(p, low, high)


def proportion_difference(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int, *, confidence: float = 0.95
) -> Interval:
    """``p_a − p_b`` with Newcombe's hybrid score interval::

        δ = √((p_a − l_a)² + (u_b − p_b)²)      low  = p_a − p_b − δ
        ε = √((u_a − p_a)² + (p_b − l_b)²)      high = p_a − p_b + ε

    where ``[l, u]`` are the Wilson intervals of each group.
    """
    a = wilson(successes_a, trials_a, confidence=confidence)
    b = wilson(successes_b, trials_b, confidence=confidence)
    difference = a.estimate - b.estimate
    delta = math.hypot(a.estimate - a.low, b.high - b.estimate)
    epsilon = math.hypot(a.high - a.estimate, b.estimate - b.low)
    return Interval(difference, difference - delta, difference + epsilon)


def mean_difference(
    values_a: Sequence[float], values_b: Sequence[float], *, confidence: float = 0.95
) -> Interval:
    """``mean(a) − mean(b)`` with Welch's t interval.

    Each group needs at least two values. When both groups have zero variance the
    interval is the point itself.
    """
    a = np.asarray(values_a, dtype=np.float64)
    b = np.asarray(values_b, dtype=np.float64)
    if a.size < 2 or b.size < 2:
        raise ValueError("each group needs at least two values")
    difference = float(a.mean() - b.mean())
    va, vb = float(a.var(ddof=1)) / a.size, float(b.var(ddof=1)) / b.size
    standard_error = math.sqrt(va + vb)
    if standard_error == 0:
        return Interval(difference, difference, difference)
    freedom = welch_degrees_of_freedom(va, a.size, vb, b.size)
    half = t_quantile(0.5 + confidence / 2, freedom) * standard_error
    return Interval(difference, difference - half, difference + half)


def welch_degrees_of_freedom(va: float, na: int, vb: float, nb: int) -> float:
    """Welch–Satterthwaite ν for the squared standard errors ``va = s_a²/n_a`` and
    ``vb = s_b²/n_b``."""
    return (va + vb) ** 2 / (va * va / (na - 1) + vb * vb / (nb - 1))


def t_cdf(t: float, freedom: float) -> float:
    """P(T ≤ t) for Student's t with ``freedom`` (> 0, not necessarily whole) degrees."""
    x = freedom / (freedom + t * t)
    tail = 0.5 * _incomplete_beta(freedom / 2, 0.5, x)
    return 1 - tail if t > 0 else tail


def t_quantile(probability: float, freedom: float) -> float:
    """The ``t`` with ``t_cdf(t, freedom) == probability`` (to about 1e-12)."""
    if not 0 < probability < 1:
        raise ValueError("probability must lie strictly between 0 and 1")
    if probability < 0.5:
        return -t_quantile(1 - probability, freedom)
    low, high = 0.0, 1.0
    while t_cdf(high, freedom) < probability:
        low, high = high, high * 2
    for _ in range(200):
        middle = (low + high) / 2
        if t_cdf(middle, freedom) < probability:
            low = middle
        else:
            high = middle
        if high - low < 1e-13 * max(1.0, high):
            break
    return (low + high) / 2


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b) (Lentz's continued fraction)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    # The fraction converges fast only below the mean; use the symmetry above it.
    if x > (a + 1) / (a + b + 2):
        return 1 - _incomplete_beta(b, a, 1 - x)
    return math.exp(log_front) * _beta_fraction(a, b, x) / a


def _beta_fraction(a: float, b: float, x: float) -> float:
    tiny = 1e-300
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 500):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1) < 1e-15:
            break
    return result
