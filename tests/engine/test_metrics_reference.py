"""The fast recompute against plain reference formulations, on a seeded random history.

The engine packs group keys into integers, merges sorted frames instead of joining them,
reads a customer's next funnel stage from the next row and computes the monthly and the
trailing-12 churn in one pass; the references below are the direct (slower) statements of
the same definitions — a join per relation, one group per table — so any shortcut that
changes a figure shows here. The history is deliberately awkward: rows shuffled, holes,
tiers changing, MRR returning after a gap, duplicate and unknown funnel stages.
"""

from datetime import UTC, date, datetime, timedelta
from random import Random

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from ringup.engine import metrics
from ringup.engine.metrics._frames import month_index
from ringup.engine.metrics.cohorts import _with_rates
from ringup.engine.metrics.customers import with_averages
from ringup.engine.metrics.mrr import with_retention_rates

START = date(2023, 11, 1)
HISTORY = 30


def _month(offset: int) -> date:
    number = START.month - 1 + offset
    return date(START.year + number // 12, number % 12 + 1, 1)


def _history(seed: int, customers: int = 120) -> tuple[pl.DataFrame, ...]:
    """``months``, ``products`` and ``funnel`` of ``customers`` random customers."""
    rng = Random(seed)
    months, products, funnel = [], [], []
    for customer_id in range(1, customers + 1):
        signup = rng.randrange(HISTORY)
        currency = rng.choice(["RUB", "RUB", "EUR"])
        tier, state, mrr = rng.choice(["micro", "smb", "large"]), "none", 0
        hole = rng.randrange(signup, HISTORY) if rng.random() < 0.1 else None
        for offset in range(signup, HISTORY):
            state = rng.choices(["none", "trialing", "paying", state], [1, 1, 3, 6])[0]
            mrr = rng.choice([0, 1000, 2500, mrr, mrr]) if state == "paying" else 0
            if rng.random() < 0.05:
                tier = rng.choice(["micro", "smb", "large"])
            if offset == hole:
                continue
            month = _month(offset)
            revenue = mrr + rng.randrange(-50, 400)
            months.append(
                {
                    "customer_id": customer_id,
                    "month": month,
                    "currency": currency,
                    "tier": tier,
                    "plan": None if state == "none" else f"{tier}-plan",
                    "state": state,
                    "mrr": mrr,
                    "revenue": revenue,
                    "margin": revenue // 3,
                    "seconds": rng.randrange(5000),
                }
            )
            held = [("plan", f"{tier}-plan")] if state != "none" else []
            held += [("option", code) for code in ("crm", "ivr") if rng.random() < 0.4]
            held += [("package", "minutes-500")] if rng.random() < 0.2 else []
            products += [
                {"customer_id": customer_id, "month": month, "product": code, "kind": kind}
                for kind, code in held
            ]
        at = datetime(2023, 11, 1, tzinfo=UTC) + timedelta(hours=rng.randrange(24 * 600))
        for stage in (*metrics.STAGES, "unknown"):
            for _ in range(rng.choice([0, 1, 1, 2])):  # skipped, reached, reached twice
                at += timedelta(hours=rng.randrange(-24, 24 * 40))
                funnel.append({"customer_id": customer_id, "stage": stage, "at": at})
    frames = (pl.DataFrame(months), pl.DataFrame(products), pl.DataFrame(funnel))
    return tuple(frame.sample(fraction=1.0, shuffle=True, seed=seed) for frame in frames)


def _reference_history(months: pl.DataFrame, period: int) -> pl.DataFrame:
    """Each row with the same customer's row ``period`` rows earlier, by a join, when it
    is ``period`` months earlier (a hole in between: no service then, as documented)."""
    rows = months.with_columns(
        index=pl.col("month").dt.year().cast(pl.Int32) * 12
        + pl.col("month").dt.month().cast(pl.Int32),
        row=pl.col("month").rank("ordinal").over("customer_id"),
        paying=pl.col("state") == "paying",
        paid_before=((pl.col("mrr") > 0).cast(pl.Int64).cum_sum() - (pl.col("mrr") > 0) > 0).over(
            "customer_id", order_by="month"
        ),
    )
    earlier = rows.select(
        "customer_id",
        row=pl.col("row") + period,
        then_index="index",
        then_mrr="mrr",
        then_paying="paying",
    )
    same = pl.col("then_index") == pl.col("index") - period
    return rows.join(earlier, on=["customer_id", "row"], how="left").with_columns(
        then_mrr=pl.when(same).then("then_mrr").otherwise(0),
        then_paying=pl.when(same).then("then_paying").otherwise(False),
    )


def _count(condition: pl.Expr) -> pl.Expr:
    return condition.sum().cast(pl.Int64)


def _reference_monthly(months: pl.DataFrame) -> dict[str, pl.DataFrame]:
    rows = _reference_history(months, 1)
    previous, mrr = pl.col("then_mrr"), pl.col("mrr")
    kinds = {
        "new": (previous == 0) & (mrr > 0) & ~pl.col("paid_before"),
        "reactivation": (previous == 0) & (mrr > 0) & pl.col("paid_before"),
        "expansion": (previous > 0) & (mrr > previous),
        "contraction": (previous > 0) & (mrr > 0) & (mrr < previous),
        "churn": (previous > 0) & (mrr == 0),
    }
    counts = {
        "new": "new_customers",
        "reactivation": "reactivated_customers",
        "expansion": "expanded_customers",
        "contraction": "contracted_customers",
        "churn": "churned_customers",
    }
    keys = ("month", "currency")
    mrr_summary = (
        rows.group_by(keys)
        .agg(
            opening_mrr=previous.sum(),
            **{name: (mrr - previous).filter(kind).sum().abs() for name, kind in kinds.items()},
            closing_mrr=mrr.sum(),
            **{counts[name]: _count(kind) for name, kind in kinds.items()},
        )
        .sort(keys)
    )
    active = pl.col("state") != "none"
    summary = with_averages(
        rows.lazy()
        .group_by(keys)
        .agg(
            active=_count(active),
            paying=_count(pl.col("paying")),
            trialing=_count(pl.col("state") == "trialing"),
            mrr=mrr.sum(),
            revenue=pl.col("revenue").sum(),
            paying_revenue=pl.col("revenue").filter(pl.col("paying")).sum(),
            margin=pl.col("margin").sum(),
            seconds=pl.col("seconds").sum(),
        )
    ).collect()
    return {"monthly_summary": summary, "mrr_summary": mrr_summary}


def _reference_churn(months: pl.DataFrame, period: int) -> pl.DataFrame:
    rows = _reference_history(months, period)
    then_paying, then_mrr = pl.col("then_paying"), pl.col("then_mrr")
    sums = (
        rows.lazy()
        .group_by("month", "currency")
        .agg(
            start_customers=_count(then_paying),
            lost_customers=_count(then_paying & ~pl.col("paying")),
            start_mrr=then_mrr.sum(),
            retained_mrr_capped=pl.min_horizontal("mrr", "then_mrr").sum(),
            retained_mrr=pl.col("mrr").filter(then_paying | (then_mrr > 0)).sum(),
        )
    )
    return with_retention_rates(sums, period).collect()


def _reference_cohorts(months: pl.DataFrame) -> pl.DataFrame:
    """Signup cohorts by tier: the cohort month and tier joined from each first row."""
    rows = _reference_history(months, 1)
    firsts = rows.group_by("customer_id").agg(pl.col("month").min().alias("cohort"))
    cohort = firsts.join(
        rows.select("customer_id", cohort="month", cohort_index="index", cohort_tier="tier"),
        on=["customer_id", "cohort"],
    )
    rows = rows.join(cohort, on="customer_id").with_columns(
        age=pl.col("index") - pl.col("cohort_index"), tier=pl.col("cohort_tier")
    )
    keys = ["cohort", "currency", "tier"]
    table = rows.group_by(*keys, "age").agg(
        paying=_count(pl.col("paying")), mrr=pl.col("mrr").sum()
    )
    sizes = rows.filter(pl.col("age") == 0).group_by(keys).agg(customers=pl.len().cast(pl.Int64))
    first_paid = (pl.col("mrr") > 0) & ~pl.col("paid_before")
    starting = rows.filter(first_paid).group_by(keys).agg(starting_mrr=pl.col("mrr").sum())
    return _with_rates(
        table.join(sizes, on=keys, how="left")
        .join(starting, on=keys, how="left")
        .with_columns(pl.col("starting_mrr").fill_null(0))
        .lazy(),
        keys,
    ).collect()


def _reference_attach(months: pl.DataFrame, products: pl.DataFrame) -> pl.DataFrame:
    paying = months.filter(pl.col("state") == "paying").select("customer_id", "month", "tier")
    segments = paying.group_by("month", "tier").agg(paying=pl.len().cast(pl.Int64))
    held = (
        products.filter(pl.col("kind") != "plan")
        .join(paying, on=["customer_id", "month"])
        .group_by("month", "tier", "product")
        .agg(holders=pl.len().cast(pl.Int64))
    )
    return (
        held.join(segments, on=["month", "tier"])
        .with_columns(attach_rate=pl.col("holders") / pl.col("paying"))
        .select("month", "tier", "product", "paying", "holders", "attach_rate")
        .sort("month", "tier", "product")
    )


def _reference_stages(funnel: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Funnel and trial conversion with a join per pair of stages."""
    firsts = (
        funnel.filter(pl.col("stage").is_in(metrics.STAGES))
        .group_by("customer_id", "stage")
        .agg(pl.col("at").min())
    )

    def at(stage: str, name: str) -> pl.DataFrame:
        return firsts.filter(pl.col("stage") == stage).select(
            "customer_id", pl.col("at").alias(name)
        )

    def days(start: str, end: str) -> pl.Expr:
        return (pl.col(end) - pl.col(start)).dt.total_seconds() / 86_400

    rows = []
    for position, stage in enumerate(metrics.STAGES, start=1):
        reached = at(stage, "start")
        row = {"stage": stage, "position": position, "reached": reached.height}
        if position < len(metrics.STAGES):
            both = reached.join(at(metrics.STAGES[position], "end"), on="customer_id").filter(
                pl.col("end") >= pl.col("start")
            )
            row |= {
                "reached_next": both.height,
                "conversion_to_next": both.height / reached.height if reached.height else None,
                "median_days_to_next": both.select(days("start", "end").median()).item(),
            }
        rows.append(row)
    funnel_conversion = pl.DataFrame(
        rows,
        schema={
            "stage": pl.String,
            "position": pl.Int8,
            "reached": pl.Int64,
            "reached_next": pl.Int64,
            "conversion_to_next": pl.Float64,
            "median_days_to_next": pl.Float64,
        },
    )
    converted = days("trial", "sale").is_between(0, 30)
    trial_conversion = (
        at("warm", "trial")
        .join(at("sell", "sale"), on="customer_id", how="left")
        .group_by(
            month=pl.col("trial").dt.convert_time_zone("Europe/Moscow").dt.truncate("1mo").dt.date()
        )
        .agg(
            trials=pl.len().cast(pl.Int64),
            converted=_count(converted.fill_null(False)),
            median_days_to_paid=days("trial", "sale").filter(converted).median(),
        )
        .with_columns(conversion=pl.col("converted") / pl.col("trials"))
        .select("month", "trials", "converted", "conversion", "median_days_to_paid")
        .sort("month")
    )
    return {"funnel_conversion": funnel_conversion, "trial_conversion": trial_conversion}


@pytest.mark.parametrize("seed", [3, 17])
def test_recompute_equals_the_reference_formulations(seed: int) -> None:
    months, products, funnel = _history(seed)
    tables = metrics.recompute(months, products, funnel)
    expected = {
        **_reference_monthly(months),
        "churn_and_retention": _reference_churn(months, 1),
        "churn_and_retention_12": _reference_churn(months, 12),
        "cohort_retention_by_tier": _reference_cohorts(months),
        "attach_rate": _reference_attach(months, products),
        **_reference_stages(funnel),
    }
    for name, table in expected.items():
        assert_frame_equal(tables[name], table, check_exact=True)
    # The tables recompute derives in one pass equal the functions computing them alone.
    assert_frame_equal(
        tables["churn_and_retention_12"], metrics.churn_and_retention(months, period=12)
    )
    assert_frame_equal(tables["trial_conversion"], metrics.trial_conversion(funnel))
    assert_frame_equal(tables["funnel_conversion"], metrics.funnel_conversion(funnel))
    assert_frame_equal(tables["monthly_summary"], metrics.monthly_summary(months))


def test_month_index_is_year_times_twelve_plus_month_for_any_day() -> None:
    days = pl.DataFrame({"day": pl.date_range(date(1600, 1, 1), date(2500, 12, 31), eager=True)})
    index = days.select(
        fast=month_index(pl.col("day")),
        plain=pl.col("day").dt.year().cast(pl.Int32) * 12 + pl.col("day").dt.month().cast(pl.Int32),
    )
    assert (index["fast"] == index["plain"]).all()
