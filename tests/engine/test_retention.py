"""The shifted-beta-geometric retention model, its fit and customer lifetime value."""

import numpy as np
import polars as pl
import pytest

from ringup.engine.retention import (
    RetentionError,
    SBGFit,
    customer_value,
    fit_sbg,
    log_likelihood,
    project,
)

# Fader & Hardie (2007), "How to Project Customer Retention", Table 1: customers still
# subscribing at the start of years 1 … 8 out of 1000 acquired; the published estimates
# from the first seven years are α = 0.668, β = 3.806 ("high end") and α = 0.704,
# β = 1.182 ("regular").
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]


@pytest.mark.parametrize(
    ("alive", "alpha", "beta"), [(HIGH_END, 0.668, 3.806), (REGULAR, 0.704, 1.182)]
)
def test_the_published_estimates_are_found(alive, alpha, beta):
    fit = fit_sbg(alive)
    assert fit.alpha == pytest.approx(alpha, abs=0.001)
    assert fit.beta == pytest.approx(beta, abs=0.001)
    # A maximum: nudging either parameter lowers the likelihood.
    for da, db in [(0.01, 0), (-0.01, 0), (0, 0.01), (0, -0.01)]:
        assert log_likelihood(fit.alpha + da, fit.beta + db, alive) < fit.log_likelihood


def test_the_projection_of_the_regular_cohort():
    fit = fit_sbg(REGULAR)
    # S(1) = β / (α + β) = 1.182 / 1.886 = 0.627 (631 observed); r(t) rises with tenure.
    assert fit.survival(1) == pytest.approx(fit.beta / (fit.alpha + fit.beta))
    retention = fit.retention(np.arange(1, 13))
    assert np.all(np.diff(retention) > 0)
    assert fit.survival(12) == pytest.approx(np.prod(retention))
    assert project(fit, 3)[0] == 1.0 and len(project(fit, 3)) == 4


@pytest.mark.parametrize(("alpha", "beta", "seed"), [(0.7, 1.2, 1), (3.0, 8.0, 2), (1.5, 20.0, 3)])
def test_known_parameters_are_recovered_from_a_simulated_cohort(alpha, beta, seed):
    rng = np.random.default_rng(seed)
    # Each customer churns at each renewal with her own θ ~ Beta(α, β): her lifetime is
    # geometric in θ. 20,000 customers observed for 12 periods.
    theta = rng.beta(alpha, beta, 20_000)
    lifetime = rng.geometric(theta)
    alive = [int(np.sum(lifetime > t)) for t in range(13)]
    fit = fit_sbg(alive)
    # Recovered within 15 %: what 20,000 customers over 12 periods pin down; the mean
    # churn probability α / (α + β) much more closely.
    assert fit.alpha == pytest.approx(alpha, rel=0.15)
    assert fit.beta == pytest.approx(beta, rel=0.15)
    assert fit.alpha / (fit.alpha + fit.beta) == pytest.approx(alpha / (alpha + beta), rel=0.03)


def test_churn_probability_falls_with_tenure():
    fit = SBGFit(alpha=1.0, beta=3.0)
    # P(churn next | alive at t) = α / (α + β + t): 1/4 for a new customer, 1/14 at t = 10.
    assert fit.churn_probability(0) == pytest.approx(0.25)
    assert fit.churn_probability(10) == pytest.approx(1 / 14)
    assert fit.churn_probability(3) == pytest.approx(1 - fit.retention(4))
    assert fit.churn_probability(np.array([0, 10])).shape == (2,)


@pytest.mark.parametrize("renewals", [0, 1, 5, 20])
def test_derl_is_the_discounted_sum_of_survival_beyond_the_renewals(renewals):
    fit = fit_sbg(HIGH_END)
    d = 0.10
    # DERL(d | n) = Σ_{t > n} S(t) / S(n) / (1 + d)^(t − n − 1): the next payment, if she
    # renews, is collected at once, later ones discounted by period.
    t = np.arange(renewals + 1, renewals + 3000)
    series = np.sum(fit.survival(t) / fit.survival(renewals) / (1 + d) ** (t - renewals - 1))
    assert fit.derl(d, renewals) == pytest.approx(series, rel=1e-9)


def test_derl_grows_with_renewals_and_falls_with_the_discount_rate():
    fit = fit_sbg(REGULAR)
    derl = fit.derl(0.1, np.arange(0, 10))
    assert np.all(np.diff(derl) > 0)  # survivors are the loyal ones
    assert fit.derl(0.2) < fit.derl(0.1)
    # Without heterogeneity (α, β large, θ = α / (α + β) = 0.2) DERL is the geometric
    # (1 − θ)(1 + d) / (d + θ) = 0.8 × 1.1 / 0.3.
    homogeneous = SBGFit(alpha=2e5, beta=8e5)
    assert homogeneous.derl(0.1, 7) == pytest.approx(0.8 * 1.1 / 0.3, rel=1e-4)


def test_customer_value_in_minor_units():
    fit = SBGFit(alpha=2e5, beta=8e5)  # churn 0.2 a period, DERL 2.9333…
    customers = pl.DataFrame(
        {"customer_id": [1, 2, 3], "renewals": [0, 5, 2], "margin": [300, 1000, -3]}
    )
    table = customer_value(fit, customers, discount_rate=0.1)
    assert table.schema["clv"] == pl.Int64
    assert table["churn_risk"].to_list() == pytest.approx([0.2] * 3, rel=1e-4)
    # 300 × 2.9333 = 880; 1000 × 2.9333 = 2933.3 → 2933; −3 × 2.9333 = −8.8 → −9.
    assert table["clv"].to_list() == [880, 2933, -9]


@pytest.mark.parametrize(
    ("alive", "message"),
    [
        ([1000], "at least one later"),
        ([1000, 1100], "cannot grow"),
        ([0, 0], "cohort size"),
        ([500, 500, 500], "nobody churned"),
        ([1000, 500.5], "whole numbers"),
    ],
)
def test_counts_the_model_cannot_be_fitted_to(alive, message):
    with pytest.raises(RetentionError, match=message):
        fit_sbg(alive)


def test_a_cohort_that_churned_entirely_still_fits():
    fit = fit_sbg([100, 40, 10, 0])
    assert fit.survival(3) < 0.05


def test_parameters_must_be_positive():
    with pytest.raises(RetentionError):
        SBGFit(alpha=0, beta=1)
    with pytest.raises(RetentionError, match="discount"):
        SBGFit(alpha=1, beta=1).derl(0)
