"""Customers, revenue, ARPU and ARPPU per month; usage (minutes, margin) per customer."""

from __future__ import annotations

import polars as pl

from ._frames import Frame, count, divide_half_up, metric, prepare
from .mrr import cube, customers


@metric
def monthly_summary(months: Frame) -> pl.LazyFrame:
    """Customers and money per month and currency.

    Columns: ``month``, ``currency``; customers at month end — ``active`` (trialing or
    paying), ``paying``, ``trialing``; sums in minor units — ``mrr``, ``revenue`` (all
    customers' revenue of the month), ``paying_revenue`` (that of the customers paying at
    month end), ``margin``, ``seconds``; averages — ``arpu = revenue / active``,
    ``arppu = paying_revenue / paying``, ``margin_per_active = margin / active`` (Int64
    minor units, rounded half-up from the exact quotient; null without customers) and
    ``minutes_per_active`` (Float64).
    """
    sums = cube(months).group_by("month", "currency").agg(**summary_aggregations())
    return with_averages(sums)


def summary_aggregations() -> dict[str, pl.Expr]:
    """The sums of :func:`monthly_summary`, over a month's :func:`~.mrr.cube` rows."""
    return {
        "active": customers(pl.col("active")),
        "paying": customers(pl.col("paying")),
        "trialing": customers(pl.col("trialing")),
        "mrr": pl.col("mrr").sum(),
        "revenue": pl.col("revenue").sum(),
        "paying_revenue": pl.col("revenue").filter(pl.col("paying")).sum(),
        "margin": pl.col("margin").sum(),
        "seconds": pl.col("seconds").sum(),
    }


def with_averages(sums: pl.LazyFrame) -> pl.LazyFrame:
    """:func:`monthly_summary`'s averages from its sums."""
    return sums.with_columns(
        arpu=divide_half_up(pl.col("revenue"), pl.col("active")),
        arppu=divide_half_up(pl.col("paying_revenue"), pl.col("paying")),
        margin_per_active=divide_half_up(pl.col("margin"), pl.col("active")),
        minutes_per_active=pl.when(pl.col("active") > 0).then(
            pl.col("seconds") / 60 / pl.col("active")
        ),
    ).sort("month", "currency")


@metric
def usage_per_customer(months: Frame) -> pl.LazyFrame:
    """Usage and money per customer over the whole ``months`` frame (filter it first for
    a period).

    Columns: ``customer_id``, ``currency``, ``tier`` (the latest), ``active_months``
    (trialing or paying at month end), ``seconds``, ``minutes`` (Float64, seconds / 60),
    ``revenue``, ``margin`` (minor units), ``margin_per_month = margin / active_months``
    (minor units, half-up; null for a customer never active). Sorted by margin, highest
    first.
    """
    return (
        prepare(months)
        .lazy()
        .group_by("customer_id")
        .agg(
            # A customer's currency is her billing account's, fixed (the data contract).
            currency=pl.col("currency").first(),
            tier=pl.col("tier").last(),
            active_months=count(pl.col("active")),
            seconds=pl.col("seconds").sum(),
            revenue=pl.col("revenue").sum(),
            margin=pl.col("margin").sum(),
        )
        .with_columns(
            minutes=pl.col("seconds") / 60,
            margin_per_month=divide_half_up(pl.col("margin"), pl.col("active_months")),
        )
        .sort(["margin", "customer_id"], descending=[True, False])
    )
