"""Churn risk and CLV per customer: the sBG fit per tier over hand-made monthly histories,
checked against the formulas of ringup.engine.retention, and the stored CustomerScore."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest

from ringup.analytics.scores import (
    compute_scores,
    monthly_rate,
    pooled_alive,
    score_frame,
)
from ringup.customers.models import Customer, CustomerScore
from ringup.engine import metrics, retention

# 15 June 2025: the history's last month is June (months Jan … Jun 2025).
AT = datetime(2025, 6, 15, 9, tzinfo=UTC)
MONTHS = [date(2025, m, 1) for m in range(1, 7)]


def history(customer_id, *, paid, tier="smb", since=0, mrr=100_000, margin=60_000):
    """Rows of one customer from MONTHS[since] to June; paying (MRR ``mrr`` minor units)
    in the months whose positions (from ``since``) are in ``paid``."""
    rows = []
    for age, month in enumerate(MONTHS[since:]):
        paying = age in paid
        rows.append(
            {
                "customer_id": customer_id,
                "month": month,
                "currency": "RUB",
                "tier": tier,
                "plan": "office-pbx" if paying else None,
                "state": "paying" if paying else "none",
                "mrr": mrr if paying else 0,
                "revenue": mrr if paying else 0,
                "margin": margin if paying else 0,
                "seconds": 0,
            }
        )
    return rows


def frame(rows):
    return pl.DataFrame(
        rows,
        schema={
            "customer_id": pl.Int64,
            "month": pl.Date,
            "currency": pl.Utf8,
            "tier": pl.Utf8,
            "plan": pl.Utf8,
            "state": pl.Utf8,
            "mrr": pl.Int64,
            "revenue": pl.Int64,
            "margin": pl.Int64,
            "seconds": pl.Int64,
        },
    )


def cohort(first_id, lifetimes, **kw):
    """One January cohort: a customer per lifetime (months paid from January; 6 = still
    paying in June)."""
    rows = []
    for offset, months in enumerate(lifetimes):
        rows += history(first_id + offset, paid=range(months), **kw)
    return rows


# A January cohort of 20: 4 leave after 1 month, 3 after 2, 2 after 3, 1 after 4, none
# after 5; 10 still pay in June. Alive at ages 0…5: 20, 16, 13, 11, 10, 10.
SMB = [1] * 4 + [2] * 3 + [3] * 2 + [4] + [6] * 10


def test_pooled_alive_of_one_cohort_is_its_counts():
    survival = metrics.survival_counts(frame(cohort(1, SMB)), by=("tier",))
    assert pooled_alive(survival) == [20, 16, 13, 11, 10, 10]


def test_pooled_alive_weighs_cohorts_by_who_is_at_risk():
    """January (ages 0…5): 20 customers; 5 pay 1 month, 3 pay 2, 12 pay all 6.
    February (ages 0…4): 10 customers; 2 pay 1 month, 8 pay all 5.
    Age 1: 20 + 10 at risk, 5 + 2 leave → S(1) = 23/30.
    Age 2: 15 + 8 at risk, 3 leave → S(2) = 23/30 × 20/23 = 20/30.
    Ages 3, 4: 12 + 8 at risk, none leave; age 5: January's 12 only (≥ 10), none leave.
    × 30 customers: 30, 23, 20, 20, 20, 20."""
    january = cohort(1, [1] * 5 + [2] * 3 + [6] * 12)
    february = []
    for offset, months in enumerate([1, 1] + [5] * 8):
        february += history(100 + offset, paid=range(months), since=1)
    survival = metrics.survival_counts(frame(january + february), by=("tier",))
    assert pooled_alive(survival) == [30, 23, 20, 20, 20, 20]


def test_churn_risk_and_clv_follow_the_sbg_formulas():
    """The 10 June payers have paid 6 months in a row: 5 renewals. Churn risk =
    1 − r(6) = 1 − (β + 5)/(α + β + 5) = α/(α + β + 5) for the fit of the tier's counts;
    margin = mean of March, April, May = 600.00 ₽ (60,000 kopecks); CLV = margin × DERL
    at the monthly rate of 10 % a year, (1.10)^(1/12) − 1 ≈ 0.797 %."""
    scores, fits = score_frame(frame(cohort(1, SMB)), discount_rate=monthly_rate("0.10"))
    fit = retention.fit_sbg([20, 16, 13, 11, 10, 10])
    assert fits[("RUB", "smb")].alpha == pytest.approx(fit.alpha)
    assert scores["customer_id"].to_list() == list(range(11, 21))
    row = scores.row(0, named=True)
    assert row["renewals"] == 5
    assert row["margin"] == 60_000
    assert row["margin_months"] == 3
    expected_risk = fit.alpha / (fit.alpha + fit.beta + 5)
    assert row["churn_risk"] == pytest.approx(expected_risk)
    assert row["churn_risk"] == pytest.approx(1 - fit.retention(6))
    rate = 1.10 ** (1 / 12) - 1
    assert row["clv"] == round(60_000 * fit.derl(rate, 5))


def test_a_returning_customer_counts_tenure_from_her_return():
    """Customer 99 paid January–February, skipped March, pays again April–June: three
    months in a row → 2 renewals, and her margin is April and May's (not January's)."""
    rows = cohort(1, SMB) + history(99, paid={0, 1, 3, 4, 5}, margin=30_000)
    scores, _ = score_frame(frame(rows), discount_rate=0.01)
    back = scores.filter(pl.col("customer_id") == 99).row(0, named=True)
    assert (back["renewals"], back["margin"], back["margin_months"]) == (2, 30_000, 2)


def test_a_tier_without_churn_is_not_scored():
    """Enterprise: 12 customers, nobody ever left → no fit, no scores for them."""
    rows = cohort(1, SMB) + cohort(200, [6] * 12, tier="enterprise")
    scores, fits = score_frame(frame(rows), discount_rate=0.01)
    assert set(fits) == {("RUB", "smb")}
    assert scores.filter(pl.col("tier") == "enterprise").is_empty()


@pytest.mark.django_db
def test_stored_scores_replace_the_last_run(settings):
    """Scores for the 10 June payers, Decimal: risk to 4 places, CLV in roubles; run
    twice, still the same 10 rows; the old score of a customer no longer paying is gone."""
    settings.RINGUP_CLV_DISCOUNT_RATE = "0.10"
    ids = [
        Customer.objects.create(
            name=f"C{n}",
            email=f"c{n}@example.com",
            tier="smb",
            registered_at=AT - timedelta(days=200),
        ).pk
        for n in range(20)
    ]
    rows = frame(cohort(1, SMB)).with_columns(
        pl.col("customer_id").replace_strict(dict(enumerate(ids, start=1)))
    )
    CustomerScore.objects.create(
        customer_id=ids[0],
        churn_risk=Decimal("0.9"),
        clv=0,
        currency="RUB",
        basis="old",
        computed_at=AT - timedelta(days=30),
    )
    assert compute_scores(at=AT, months=rows)["scored"] == 10
    assert compute_scores(at=AT, months=rows) == {"scored": 10, "tiers": ["smb RUB"]}
    assert sorted(CustomerScore.objects.values_list("customer_id", flat=True)) == ids[10:]
    score = CustomerScore.objects.get(customer_id=ids[10])
    fit = retention.fit_sbg([20, 16, 13, 11, 10, 10])
    risk = fit.alpha / (fit.alpha + fit.beta + 5)
    assert score.churn_risk == Decimal(str(round(risk, 4)))
    clv = Decimal(round(60_000 * fit.derl(monthly_rate("0.10"), 5))) / 100
    assert score.clv == clv
    assert score.currency == "RUB"
    assert score.computed_at == AT
    assert "sBG of smb" in score.basis and "5 renewals" in score.basis
