"""Cohort retention tables (by signup or first-payment month, and by segment) and the
survival counts the sBG retention model is fitted to (ringup.engine.retention)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import polars as pl

from ._frames import Frame, at_start, count, metric, prepare, ratio, since_first

CohortStart = Literal["signup", "first_payment"]


def _with_cohort(months: Frame, start: CohortStart, by: Sequence[str]) -> pl.LazyFrame:
    """The rows from each customer's cohort month on, with ``cohort``, ``age`` (months since
    the cohort month), the ``by`` columns as they were in the cohort month and
    ``first_paid`` (the customer's first row with MRR)."""
    first, paid = pl.col("first"), pl.col("mrr") > 0
    first_paid = paid & ~pl.col("paid_before")
    if start == "first_payment":
        begins, started = first_paid, paid | pl.col("paid_before")
    else:
        begins, started = first, pl.lit(True)
    # The row of the cohort month, carried forward: the segment columns are read from it
    # (a gather, cheaper than carrying strings forward).
    start_row = at_start(pl.int_range(pl.len(), dtype=pl.UInt32), begins, started)
    return (
        prepare(months)
        .lazy()
        .with_columns(start_row=start_row)
        .with_columns(
            cohort=pl.col("month").gather(pl.col("start_row")),
            cohort_index=pl.col("index").gather(pl.col("start_row")),
            first_paid=first_paid,
            **{column: pl.col(column).gather(pl.col("start_row")) for column in by},
        )
        .filter(pl.col("cohort").is_not_null())
        .with_columns(age=pl.col("index") - pl.col("cohort_index"))
    )


@metric
def cohort_retention(
    months: Frame, *, by: Sequence[str] = (), start: CohortStart = "signup"
) -> pl.LazyFrame:
    """Logo and revenue retention of each cohort at each age.

    A customer's cohort is her signup month (``start="signup"``: her first month in
    ``months``) or her first month with MRR (``"first_payment"``; customers who never paid
    are left out), split further by the ``by`` columns (e.g. ``("tier",)``) as they were
    in the cohort month. Columns: ``cohort``, ``currency``, *by*, ``age`` (months since the
    cohort month, 0 = the cohort month), ``customers`` (cohort size), ``paying`` (paying at
    the end of that month), ``mrr``, ``starting_mrr`` (the sum of each member's first MRR
    above 0, whenever it came), ``logo_retention = paying / customers``,
    ``revenue_retention = mrr / starting_mrr`` (Float64; null when nobody in the cohort
    ever paid). Ages run to the last month of the frame.
    """
    keys = ["cohort", "currency", *by]
    # One pass: each member's first MRR falls in one (cohort, age) group; the groups of a
    # cohort add up to its starting MRR.
    table = (
        _with_cohort(months, start, by)
        .group_by(*keys, "age")
        .agg(
            size=pl.len().cast(pl.Int64),
            paying=count(pl.col("paying")),
            mrr=pl.col("mrr").sum(),
            starting_mrr=pl.col("mrr").filter(pl.col("first_paid")).sum(),
        )
        .with_columns(pl.col("starting_mrr").sum().over(keys))
    )
    sizes = table.filter(pl.col("age") == 0).select(*keys, customers="size")
    return _with_rates(table.join(sizes, on=keys, how="left", nulls_equal=True), keys)


@metric
def rollup(table: Frame, by: Sequence[str] = ()) -> pl.LazyFrame:
    """A :func:`cohort_retention` table with its segments added up, down to the ``by``
    columns (a customer is in one segment, so sizes and sums add up)."""
    keys = ["cohort", "currency", *by]
    sums = ("customers", "paying", "mrr", "starting_mrr")
    return _with_rates(table.lazy().group_by(*keys, "age").agg(pl.col(sums).sum()), keys)


def _with_rates(sums: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    return (
        sums.with_columns(
            logo_retention=ratio(pl.col("paying"), pl.col("customers")),
            revenue_retention=ratio(pl.col("mrr"), pl.col("starting_mrr")),
        )
        .select(
            *keys,
            "age",
            "customers",
            "paying",
            "mrr",
            "starting_mrr",
            "logo_retention",
            "revenue_retention",
        )
        .sort(*keys, "age")
    )


@metric
def survival_counts(months: Frame, *, by: Sequence[str] = ()) -> pl.LazyFrame:
    """How many of each first-payment cohort are still paying without a break, per age.

    This is the contractual survival the shifted-beta-geometric model describes (a customer
    whose MRR drops to 0 has churned, even if she comes back later), so ``alive`` of one
    cohort, in age order, is what :func:`ringup.engine.retention.fit_sbg` takes. Columns:
    ``cohort`` (first month with MRR), ``currency``, *by* (at the cohort month), ``age``
    (0 … the last month of the frame), ``alive`` (Int64, non-increasing in age; ages with
    nobody left are there with 0).
    """
    lf = _with_cohort(months, "first_payment", by)
    keys = ["cohort", "currency", *by]
    lapses = (pl.col("mrr") == 0).cast(pl.Int64).cum_sum()
    unbroken = since_first(lapses, pl.col("first_paid")) == 0
    counts = lf.filter(unbroken).group_by(*keys, "age").agg(alive=pl.len().cast(pl.Int64))
    # Every age up to the end of the history (where every customer's rows end), so that a
    # cohort nobody is left in shows 0 rather than no row.
    grid = (
        lf.group_by(keys)
        .agg(oldest=pl.col("age").max())
        .select(*keys, age=pl.int_ranges(0, pl.col("oldest") + 1, dtype=pl.Int32))
        .explode("age")
    )
    return (
        grid.join(counts, on=[*keys, "age"], how="left", nulls_equal=True)
        .with_columns(pl.col("alive").fill_null(0))
        .sort(*keys, "age")
    )
