"""The seven circles: conversion between successive stages and trial-to-paid conversion."""

from __future__ import annotations

import polars as pl

from ._frames import FUNNEL_COLUMNS, STAGES, Frame, count, lazy, metric, ratio

SECONDS_PER_DAY = 86_400


def first_stages(funnel: Frame) -> pl.LazyFrame:
    """Each customer's first time at each stage, in customer and stage order:
    ``customer_id``, ``position`` (1 … 7), ``at`` (UTC; a naive time is taken as UTC) and
    the customer's next stage reached, ``next_position`` and ``next_at`` (null after her
    last). Unknown stages are left out. A frame it returned is passed through, so that
    :func:`~ringup.engine.metrics.recompute` builds it once for both funnel tables.

    (customer, stage) is packed in one integer (``customer_id × 8 + position``): grouping
    and sorting on one Int64 cost less than on two columns, and the next row of the sorted
    frame is the customer's next stage, which replaces a join per pair of stages.
    """
    lf = funnel.lazy()
    if set(lf.collect_schema().names()) >= FIRSTS_COLUMNS:
        return lf
    lf = lazy(lf, "funnel", FUNNEL_COLUMNS)
    at = lf.collect_schema()["at"]
    if isinstance(at, pl.Datetime) and at.time_zone is None:
        lf = lf.with_columns(pl.col("at").dt.replace_time_zone("UTC"))
    # Through the stages' Enum (unknown ones null): a third of a string lookup's cost.
    stage = pl.col("stage").cast(pl.Enum(STAGES), strict=False)
    position = stage.to_physical().cast(pl.Int64) + 1
    key = pl.col("key")
    customer = key // 8
    same = customer.shift(-1) == customer
    return (
        lf.select(key=pl.col("customer_id") * 8 + position, at="at")
        .drop_nulls("key")
        .group_by("key")
        .agg(pl.col("at").min())
        .sort("key")
        .select(
            customer_id=customer,
            position=(key - customer * 8).cast(pl.Int8),
            at="at",
            next_position=pl.when(same).then((key - customer * 8).cast(pl.Int8).shift(-1)),
            next_at=pl.when(same).then(pl.col("at").shift(-1)),
        )
    )


#: The columns of :func:`first_stages`.
FIRSTS_COLUMNS = {"customer_id", "position", "at", "next_position", "next_at"}


def _days(start: str, end: str) -> pl.Expr:
    return (pl.col(end) - pl.col(start)).dt.total_seconds() / SECONDS_PER_DAY


@metric
def funnel_conversion(funnel: Frame) -> pl.LazyFrame:
    """Customers reaching each stage and converting to the next one.

    Columns: ``stage``, ``position`` (1 … 7, in :data:`STAGES` order), ``reached``
    (customers who reached the stage), ``reached_next`` (of those, the ones who also reached
    the next stage, later or at the same time), ``conversion_to_next = reached_next /
    reached`` (Float64) and ``median_days_to_next`` (between the two, among those). A
    customer who skips a stage (a sale without a trial) counts at the stages she reached;
    the last stage has no next one (nulls).
    """
    lf = first_stages(funnel)
    # The next stage is on the customer's next row when she reached it.
    converts = (pl.col("next_position") == pl.col("position") + 1) & (
        pl.col("next_at") >= pl.col("at")
    )
    steps = lf.group_by("position").agg(
        reached=pl.len().cast(pl.Int64),
        reached_next=count(converts),
        median_days_to_next=_days("at", "next_at").filter(converts).median(),
    )
    order = pl.DataFrame(
        {"stage": STAGES, "position": range(1, len(STAGES) + 1)},
        schema={"stage": pl.String, "position": pl.Int8},
    ).lazy()
    return (
        order.join(steps, on="position", how="left")
        .with_columns(
            pl.col("reached").fill_null(0),
            pl.when(pl.col("position") < len(STAGES)).then(pl.col("reached_next").fill_null(0)),
        )
        .with_columns(conversion_to_next=ratio(pl.col("reached_next"), pl.col("reached")))
        .select(
            "stage",
            "position",
            "reached",
            "reached_next",
            "conversion_to_next",
            "median_days_to_next",
        )
        .sort("position")
    )


@metric
def trial_conversion(
    funnel: Frame, *, within_days: int = 30, time_zone: str = "Europe/Moscow"
) -> pl.LazyFrame:
    """Trial-to-paid conversion by the month the trial started.

    Of the customers whose first trial ("warm") started in a month of ``time_zone``,
    ``converted`` reached "sell" (their first paid period) within ``within_days`` days
    after the trial started (a sale before the trial does not count). Columns: ``month``
    (Date), ``trials``, ``converted``, ``conversion = converted / trials`` (Float64),
    ``median_days_to_paid`` (among the converted).
    """
    if within_days < 0:
        raise ValueError("within_days must not be negative")
    days = _days("trial", "sale")
    converted = days.is_between(0, within_days)
    return (
        first_stages(funnel)
        .filter(pl.col("position") == STAGES.index("warm") + 1)
        .select(
            trial="at",
            sale=pl.when(pl.col("next_position") == STAGES.index("sell") + 1).then("next_at"),
        )
        .with_columns(
            month=pl.col("trial").dt.convert_time_zone(time_zone).dt.truncate("1mo").dt.date()
        )
        .group_by("month")
        .agg(
            trials=pl.len().cast(pl.Int64),
            converted=count(converted.fill_null(False)),
            median_days_to_paid=days.filter(converted).median(),
        )
        .with_columns(conversion=ratio(pl.col("converted"), pl.col("trials")))
        .select("month", "trials", "converted", "conversion", "median_days_to_paid")
        .sort("month")
    )
