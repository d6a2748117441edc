"""Each paying customer's churn risk and lifetime value, stored in ``customers.CustomerScore``
where segments filter on them (docs/arpu-levers.md, "Scores").

The cohort is the customer's **tier and currency**: one shifted-beta-geometric fit per
tier (``ringup.engine.retention``), because a signup month holds too few customers to fit
two parameters and the tiers are where behaviour differs (a micro firm on a virtual number
leaves more easily than a contact centre). The tier's signup cohorts are pooled into one
survival curve by Kaplan–Meier (at each age, those who stopped paying over those still at
risk, among the cohorts old enough to be observed there), scaled to the tier's customers
and rounded to counts for :func:`~ringup.engine.retention.fit_sbg`.

A customer who has paid ``n`` months in a row since her last break has renewed ``n − 1``
times; her churn risk is the model's probability of leaving at the next renewal given that
tenure, ``α / (α + β + n − 1)``, and her CLV her margin per month (the mean of the last three
complete paid months, or her MRR in her first month) × DERL at the monthly rate equivalent
to ``RINGUP_CLV_DISCOUNT_RATE`` a year.
"""

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import polars as pl
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ringup.customers.models import CustomerScore
from ringup.engine import metrics, retention
from ringup.engine.money import CURRENCY_EXPONENTS
from ringup.sql import insert_rows

from .services.extract import extract

# Ages where fewer customers than this are still observed are left out of the fit: the
# curve's tail there is noise (one churn among three is not a 33 % hazard).
MIN_AT_RISK = 10
MARGIN_MONTHS = 3
RISK_PLACES = Decimal("0.0001")


def monthly_rate(yearly: Decimal | str) -> float:
    """The monthly discount rate compounding to ``yearly``: (1 + y)^(1/12) − 1."""
    return (1 + float(Decimal(yearly))) ** (1 / 12) - 1


def _index(column: str) -> pl.Expr:
    return pl.col(column).dt.year().cast(pl.Int32) * 12 + pl.col(column).dt.month().cast(pl.Int32)


def pooled_alive(survival: pl.DataFrame) -> list[int]:
    """One cohort's alive counts from several (``survival_counts`` rows of one tier):
    Kaplan–Meier over the ages at which at least ``MIN_AT_RISK`` customers are observed,
    scaled to the cohorts' total size."""
    steps = (
        survival.sort("cohort", "age")
        .with_columns(before=pl.col("alive").shift(1).over("cohort"))
        .filter(pl.col("age") > 0)
        .group_by("age")
        .agg(at_risk=pl.col("before").sum(), left=(pl.col("before") - pl.col("alive")).sum())
        .filter(pl.col("at_risk") >= MIN_AT_RISK)
        .sort("age")
    )
    size = int(survival.filter(pl.col("age") == 0)["alive"].sum())
    # Ages must run on from 1 without a gap for the product to be a survival curve.
    ages = steps["age"].to_list()
    usable = next((i for i, age in enumerate(ages) if age != i + 1), len(ages))
    steps = steps.head(usable)
    kept = (1 - steps["left"] / steps["at_risk"]).cum_prod()
    return [size, *[round(size * share) for share in kept.to_list()]]


def _tenure_and_margin(months: pl.DataFrame) -> pl.DataFrame:
    """Per customer paying in the last month: ``renewals`` (months paid in a row since her
    last unpaid month, minus one) and ``margin`` per month (minor units). One grouped pass
    over those customers' rows."""
    last = months["month"].max()
    last_idx = last.year * 12 + last.month
    paying_now = months.lazy().filter((pl.col("month") == last) & (pl.col("state") == "paying"))
    idx = _index("month")
    # The run of payments starts after the last unpaid month (or at the first row).
    start = idx.filter(pl.col("mrr") == 0).max().fill_null(idx.min() - 1) + 1
    recent = (idx >= start) & (idx < last_idx) & (idx >= last_idx - MARGIN_MONTHS)
    grouped = (
        months.lazy()
        .join(paying_now.select("customer_id"), on="customer_id", how="semi")
        .group_by("customer_id")
        .agg(
            renewals=last_idx - start,
            recent_margin=pl.col("margin").filter(recent).mean(),
            margin_months=recent.sum().cast(pl.Int64),
        )
    )
    return (
        paying_now.select("customer_id", "currency", "tier", "mrr")
        .join(grouped, on="customer_id")
        .with_columns(
            margin=pl.coalesce(pl.col("recent_margin").round(0), pl.col("mrr")).cast(pl.Int64)
        )
        .select("customer_id", "currency", "tier", "renewals", "margin", "margin_months")
        .sort("customer_id")
        .collect()
    )


def score_frame(months: pl.DataFrame, *, discount_rate: float) -> tuple[pl.DataFrame, dict]:
    """Churn risk and CLV of every customer paying in the last month of ``months``
    (docs/metrics.md's frame), with ``discount_rate`` per month.

    Returns the scores (``customer_id, currency, tier, renewals, margin, margin_months,
    churn_risk, clv``; money in minor units) and the fits by ``(currency, tier)``; a tier
    whose curve shows no churn (or no customers old enough) cannot be fitted, and its
    customers are not scored.
    """
    customers = _tenure_and_margin(months)
    survival = metrics.survival_counts(months, by=("tier",))
    fits, parts = {}, []
    for (currency, tier), group in customers.group_by("currency", "tier", maintain_order=True):
        curve = survival.filter((pl.col("currency") == currency) & (pl.col("tier") == tier))
        try:
            fit = retention.fit_sbg(pooled_alive(curve))
        except retention.RetentionError:
            continue
        fits[(currency, tier)] = fit
        valued = retention.customer_value(fit, group, discount_rate=discount_rate)
        parts.append(group.join(valued.drop("derl"), on="customer_id"))
    if not parts:
        return customers.head(0).with_columns(
            churn_risk=pl.lit(None, pl.Float64), clv=pl.lit(None, pl.Int64)
        ), fits
    return pl.concat(parts).sort("customer_id"), fits


def _basis(row: dict, fit, yearly: Decimal) -> str:
    margin = (
        f"margin per month over {row['margin_months']} months"
        if row["margin_months"]
        else "MRR as margin (first month)"
    )
    return (
        f"sBG of {row['tier']} ({row['currency']}): α {fit.alpha:.3f}, β {fit.beta:.3f}; "
        f"{row['renewals']} renewals; {margin}; discount {yearly * 100:.1f} %/year"
    )


COLUMNS = ("customer_id", "churn_risk", "clv", "currency", "basis", "computed_at")


def _rows(scores: pl.DataFrame, fits: dict, yearly: Decimal, at: datetime) -> list[tuple]:
    return [
        (
            row["customer_id"],
            Decimal(row["churn_risk"]).quantize(RISK_PLACES, rounding=ROUND_HALF_UP),
            Decimal(row["clv"]).scaleb(-CURRENCY_EXPONENTS.get(row["currency"], 2)),
            row["currency"],
            _basis(row, fits[(row["currency"], row["tier"])], yearly)[:200],
            at,
        )
        for row in scores.iter_rows(named=True)
    ]


@transaction.atomic
def store_scores(scores: pl.DataFrame, fits: dict, *, at: datetime) -> int:
    """Replace the stored scores with ``scores``, in one transaction: each customer in it
    gets exactly one row, customers not in it (no longer paying) none, so readers see the
    last run whole. Set-based: one DELETE, then COPY (PostgreSQL) or multi-row INSERTs."""
    yearly = Decimal(settings.RINGUP_CLV_DISCOUNT_RATE)
    rows = _rows(scores, fits, yearly, at)
    CustomerScore.objects.all().delete()
    insert_rows(CustomerScore, COLUMNS, rows)
    return len(rows)


def compute_scores(*, at: datetime | None = None, months: pl.DataFrame | None = None) -> dict:
    """Score every customer paying at ``at`` (default now) and store the scores.

    ``months`` is the metrics frame when the caller has it (the analytics recompute);
    otherwise the history before ``at``'s local day is extracted. Running it twice for the
    same ``at`` stores the same rows. Returns ``{"scored": n, "tiers": [...]}``.
    """
    at = at or timezone.now()
    if months is None:
        months = extract(timezone.localdate(at)).months
    if months.is_empty():
        CustomerScore.objects.all().delete()
        return {"scored": 0, "tiers": []}
    yearly = Decimal(settings.RINGUP_CLV_DISCOUNT_RATE)
    scores, fits = score_frame(months, discount_rate=monthly_rate(yearly))
    scored = store_scores(scores, fits, at=at)
    return {"scored": scored, "tiers": sorted(f"{tier} {cur}" for cur, tier in fits)}
