"""Retention projection and customer lifetime value: the shifted-beta-geometric model.

Fader & Hardie's sBG model (“How to Project Customer Retention”, Journal of Interactive
Marketing 21(1), 2007) describes a contractual cohort: at each renewal a customer churns
with her own probability θ, and θ varies across the cohort as Beta(α, β). Then

* ``P(T = t) = B(α + 1, β + t − 1) / B(α, β)`` — churn at renewal *t* = 1, 2, …;
* ``S(t) = B(α, β + t) / B(α, β)`` — still a customer after *t* renewals;
* ``r(t) = S(t) / S(t − 1) = (β + t − 1) / (α + β + t − 1)`` — retention rises with
  tenure, because the customers likeliest to churn leave first.

:func:`fit_sbg` estimates α and β by maximum likelihood from a cohort's alive counts
(``alive[t]``: customers left after *t* periods, ``alive[0]`` the cohort size). Lifetime
value follows Fader & Hardie, “Customer-Base Valuation in a Contractual Setting: The
Perils of Ignoring Heterogeneity” (Marketing Science 29(1), 2010): the discounted expected
residual lifetime of a customer who has renewed *n* times, evaluated just before her next
renewal decision, is

    DERL(d | α, β, n) = B(α, β + n + 1) / B(α, β + n) · ₂F₁(1, β + n + 1; α + β + n + 1; 1/(1 + d))

in payments of 1 per period (the next payment, if she renews, counts undiscounted), so a
customer's CLV is her margin per period × DERL. Estimates are floats; only
:func:`customer_value` turns them into money (minor units, half-up).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy.special import betaln, hyp2f1

FloatArray = npt.NDArray[np.float64]


class RetentionError(ValueError):
    """Alive counts or parameters the model cannot be fitted to or evaluated with."""


@dataclass(frozen=True)
class SBGFit:
    """A fitted (or given) shifted-beta-geometric model."""

    alpha: float
    beta: float
    #: Log-likelihood of the counts at the estimate (0 for a model built by hand).
    log_likelihood: float = 0.0

    def __post_init__(self) -> None:
        if not (self.alpha > 0 and self.beta > 0):
            raise RetentionError("alpha and beta must be positive")

    @overload
    def survival(self, t: int | float) -> float: ...
    @overload
    def survival(self, t: npt.ArrayLike) -> FloatArray: ...
    def survival(self, t: npt.ArrayLike) -> float | FloatArray:
        """``S(t)``: the share of the cohort still a customer after ``t`` periods."""
        times = np.asarray(t, dtype=np.float64)
        value = np.exp(betaln(self.alpha, self.beta + times) - betaln(self.alpha, self.beta))
        return _same_shape(t, value)

    @overload
    def retention(self, t: int | float) -> float: ...
    @overload
    def retention(self, t: npt.ArrayLike) -> FloatArray: ...
    def retention(self, t: npt.ArrayLike) -> float | FloatArray:
        """``r(t) = S(t) / S(t − 1)``: the share of those alive at ``t − 1`` renewing at
        ``t`` (``t ≥ 1``)."""
        times = np.asarray(t, dtype=np.float64)
        value = (self.beta + times - 1) / (self.alpha + self.beta + times - 1)
        return _same_shape(t, value)

    @overload
    def churn_probability(self, tenure: int | float) -> float: ...
    @overload
    def churn_probability(self, tenure: npt.ArrayLike) -> FloatArray: ...
    def churn_probability(self, tenure: npt.ArrayLike) -> float | FloatArray:
        """Probability that a customer alive after ``tenure`` renewals churns at the next
        one: ``1 − r(tenure + 1) = α / (α + β + tenure)`` (her risk given that she lasted
        this long, which is lower than the cohort's at the start)."""
        tenures = np.asarray(tenure, dtype=np.float64)
        return _same_shape(tenure, self.alpha / (self.alpha + self.beta + tenures))

    @overload
    def derl(self, discount_rate: float, renewals: int | float = 0) -> float: ...
    @overload
    def derl(self, discount_rate: float, renewals: npt.ArrayLike) -> FloatArray: ...
    def derl(self, discount_rate: float, renewals: npt.ArrayLike = 0) -> float | FloatArray:
        """Discounted expected residual lifetime, in payments of 1 per period, of a customer
        who has renewed ``renewals`` times, just before her next renewal decision
        (Fader & Hardie 2010); ``discount_rate`` is per period (0.01 a month)."""
        if not discount_rate > 0:
            raise RetentionError("the discount rate must be positive")
        n = np.asarray(renewals, dtype=np.float64)
        if np.any(n < 0):
            raise RetentionError("renewals must not be negative")
        a, b, z = self.alpha, self.beta, 1 / (1 + discount_rate)
        head = np.exp(betaln(a, b + n + 1) - betaln(a, b + n))
        value = np.asarray(head * hyp2f1(1.0, b + n + 1, a + b + n + 1, z), dtype=np.float64)
        # SciPy's ₂F₁ gives up (nan) when α and β are very large (a nearly homogeneous
        # cohort); its series then converges at least as fast as zᵏ: sum it directly.
        lost = ~np.isfinite(value)
        if np.any(lost):
            value[lost] = [
                head_n * _series(b + m + 1, a + b + m + 1, z)
                for head_n, m in zip(np.broadcast_to(head, n.shape)[lost], n[lost], strict=True)
            ]
        return _same_shape(renewals, value)


def _series(b: float, c: float, z: float) -> float:
    """₂F₁(1, b; c; z) = Σₖ (b)ₖ / (c)ₖ · zᵏ for 0 < b < c, 0 < z < 1, to double precision."""
    terms = int(np.ceil(np.log(1e-17) / np.log(z))) + 1
    if terms > 10_000_000:
        raise RetentionError("the discount rate is too small to value this cohort")
    k = np.arange(terms, dtype=np.float64)
    ratios = (b + k[:-1]) / (c + k[:-1]) * z
    return float(1 + np.sum(np.cumprod(ratios)))


def _same_shape(given: npt.ArrayLike, value: FloatArray) -> float | FloatArray:
    """A float for a scalar argument, an array for an array."""
    return float(value) if np.ndim(given) == 0 else np.asarray(value, dtype=np.float64)


def _alive(alive_counts: Sequence[int]) -> npt.NDArray[np.int64]:
    counts = np.asarray(list(alive_counts))
    if counts.ndim != 1 or len(counts) < 2:
        raise RetentionError("need the cohort size and at least one later alive count")
    if not np.issubdtype(counts.dtype, np.integer):
        raise RetentionError("alive counts must be whole numbers")
    if counts[0] <= 0 or np.any(counts < 0):
        raise RetentionError("the cohort size must be positive and no count negative")
    if np.any(np.diff(counts) > 0):
        raise RetentionError("alive counts cannot grow: a cohort only loses customers")
    if counts[0] == counts[-1]:
        raise RetentionError("nobody churned: retention cannot be estimated")
    return counts.astype(np.int64)


def log_likelihood(alpha: float, beta: float, alive_counts: Sequence[int]) -> float:
    """The sBG log-likelihood of a cohort's alive counts at ``(alpha, beta)``.

    ``alive[t − 1] − alive[t]`` customers churned at renewal *t* (each ``log P(T = t)``)
    and ``alive[−1]`` are still customers (each ``log S(T)``, right-censored).
    """
    return _log_likelihood(np.log([alpha, beta]), _alive(alive_counts))


def _log_likelihood(log_params: FloatArray, alive: npt.NDArray[np.int64]) -> float:
    a, b = np.exp(log_params)
    t = np.arange(1, len(alive), dtype=np.float64)
    churned = alive[:-1] - alive[1:]
    base = betaln(a, b)
    churn_terms = churned * (betaln(a + 1, b + t - 1) - base)
    survivors = alive[-1] * (betaln(a, b + t[-1]) - base) if alive[-1] else 0.0
    return float(np.sum(churn_terms) + survivors)


def fit_sbg(alive_counts: Sequence[int]) -> SBGFit:
    """Maximum-likelihood α and β of the sBG model for ``alive_counts`` (t = 0, 1, …, T).

    The counts must start with the cohort size, never grow, and show at least one churn.
    The search runs over ``log α, log β`` (both stay positive) from α = β = 1 with L-BFGS-B.
    """
    # Imported here: scipy.optimize takes half a second to load, which every process
    # starting Django would pay (the analytics pages import this module) for a monthly fit.
    from scipy.optimize import minimize

    alive = _alive(alive_counts)
    result = minimize(
        lambda x: -_log_likelihood(x, alive),
        x0=np.zeros(2),
        method="L-BFGS-B",
        bounds=[(-12.0, 12.0), (-12.0, 12.0)],
    )
    if not np.all(np.isfinite(result.x)):
        raise RetentionError(f"the fit did not converge: {result.message}")
    alpha, beta = (float(value) for value in np.exp(result.x))
    return SBGFit(alpha=alpha, beta=beta, log_likelihood=-float(result.fun))


def project(fit: SBGFit, horizon: int) -> list[float]:
    """``S(t)`` for ``t = 0 … horizon`` (the projected survival curve)."""
    if horizon < 0:
        raise RetentionError("the horizon must not be negative")
    return [float(value) for value in fit.survival(np.arange(horizon + 1))]


def customer_value(
    fit: SBGFit, customers: pl.DataFrame | pl.LazyFrame, *, discount_rate: float
) -> pl.DataFrame:
    """Churn risk and lifetime value of each customer under ``fit``.

    ``customers`` has ``customer_id``, ``renewals`` (periods paid after the first: a
    customer in her first paid month has 0) and ``margin`` (expected margin per period,
    Int64 minor units). Returns ``customer_id``, ``churn_risk`` (probability of churning at
    the next renewal, Float64), ``derl`` (Float64, in periods) and ``clv = margin × derl``
    (Int64 minor units, rounded half away from zero: an estimate, not an invoice amount).
    """
    frame = customers.lazy().select("customer_id", "renewals", "margin").collect()
    renewals = frame["renewals"].to_numpy().astype(np.float64)
    margin = frame["margin"].to_numpy().astype(np.float64)
    derl = fit.derl(discount_rate, renewals)
    value = margin * derl
    clv = np.sign(value) * np.floor(np.abs(value) + 0.5)
    return pl.DataFrame(
        {
            "customer_id": frame["customer_id"],
            "churn_risk": fit.churn_probability(renewals),
            "derl": derl,
            "clv": pl.Series(clv).cast(pl.Int64),
        }
    )
