"""The seven circles: conversion between successive stages and trial-to-paid conversion."""

from __future__ import annotations

from itertools import pairwise

import polars as pl

from ._frames import FUNNEL_COLUMNS, STAGES, Frame, count, lazy, metric, ratio

SECONDS_PER_DAY = 86_400


def _stage(firsts: pl.LazyFrame, stage: str, name: str) -> pl.LazyFrame:
    """Each customer's first time at ``stage``, as column ``name``."""
    position = STAGES.index(stage) + 1
    return firsts.filter(pl.col("position") == position).select(
        "customer_id", pl.col("at").alias(name)
    )


def _firsts(funnel: Frame) -> pl.LazyFrame:
    """Each customer's first time at each stage: ``customer_id``, ``position`` (1 … 7),
    ``at`` (UTC; a naive time is taken as UTC). Unknown stages are left out."""
    lf = lazy(funnel, "funnel", FUNNEL_COLUMNS)
    at = lf.collect_schema()["at"]
    if isinstance(at, pl.Datetime) and at.time_zone is None:
        lf = lf.with_columns(pl.col("at").dt.replace_time_zone("UTC"))
    positions = {stage: number for number, stage in enumerate(STAGES, start=1)}
    return (
        lf.with_columns(
            position=pl.col("stage").replace_strict(positions, default=None, return_dtype=pl.Int8)
        )
        .drop_nulls("position")
        .group_by("customer_id", "position")
        .agg(pl.col("at").min())
        .cache()
    )


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
    lf = _firsts(funnel)
    reached = lf.group_by("position").agg(reached=pl.len().cast(pl.Int64))
    steps = [
        _stage(lf, stage, "start")
        .join(_stage(lf, following, "end"), on="customer_id")
        .filter(pl.col("end") >= pl.col("start"))
        .select(
            position=pl.lit(STAGES.index(stage) + 1, dtype=pl.Int8),
            reached_next=pl.len().cast(pl.Int64),
            median_days_to_next=_days("start", "end").median(),
        )
        for stage, following in pairwise(STAGES)
    ]
    order = pl.DataFrame(
        {"stage": STAGES, "position": range(1, len(STAGES) + 1)},
        schema={"stage": pl.String, "position": pl.Int8},
    ).lazy()
    return (
        order.join(reached, on="position", how="left")
        .join(pl.concat(steps), on="position", how="left")
        .with_columns(pl.col("reached").fill_null(0))
        .with_columns(
            pl.when(pl.col("position") < len(STAGES)).then(pl.col("reached_next").fill_null(0)),
            conversion_to_next=ratio(pl.col("reached_next"), pl.col("reached")),
        )
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
    lf = _firsts(funnel)
    days = _days("trial", "sale")
    converted = days.is_between(0, within_days)
    return (
        _stage(lf, "warm", "trial")
        .join(_stage(lf, "sell", "sale"), on="customer_id", how="left")
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
