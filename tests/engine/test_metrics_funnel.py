"""The seven circles: conversion between stages, and trial-to-paid conversion."""

from datetime import UTC, date, datetime

import polars as pl

from ringup.engine.metrics import STAGES, funnel_conversion, trial_conversion


def funnel_frame(*rows: tuple[int, str, datetime]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"customer_id": pl.Int64, "stage": pl.String, "at": pl.Datetime("us", "UTC")},
        orient="row",
    )


def at(day: int, hour: int = 12, month: int = 3) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=UTC)


def test_reach_conversion_and_days_between_successive_stages():
    frame = funnel_frame(
        (1, "reach", at(1)), (1, "capture", at(2)), (1, "warm", at(4)), (1, "sell", at(11)),
        (2, "reach", at(1)), (2, "capture", at(5)), (2, "warm", at(6)),
        (3, "reach", at(1)), (3, "capture", at(1, 18)), (3, "sell", at(3)),  # no trial
        (4, "reach", at(2)),
    )  # fmt: skip
    table = funnel_conversion(frame)
    assert table["stage"].to_list() == list(STAGES)
    rows = {row["stage"]: row for row in table.iter_rows(named=True)}
    assert [rows[stage]["reached"] for stage in STAGES] == [4, 3, 2, 2, 0, 0, 0]
    # reach → capture: 3 of 4, after 1, 4 and 0.25 days: median 1.
    assert (rows["reach"]["reached_next"], rows["reach"]["conversion_to_next"]) == (3, 0.75)
    assert rows["reach"]["median_days_to_next"] == 1.0
    # warm → sell: customer 1 only (customer 3 sold without a trial), after 7 days.
    assert (rows["warm"]["reached_next"], rows["warm"]["conversion_to_next"]) == (1, 0.5)
    assert rows["warm"]["median_days_to_next"] == 7.0
    # Nobody reached upsell: no conversion to compute; the last stage has no next one.
    assert rows["upsell"]["conversion_to_next"] is None
    assert rows["recommendation"]["reached_next"] is None


def test_a_repeated_stage_counts_its_first_time():
    frame = funnel_frame((1, "reach", at(1)), (1, "capture", at(3)), (1, "capture", at(2)))
    rows = {row["stage"]: row for row in funnel_conversion(frame).iter_rows(named=True)}
    assert rows["capture"]["reached"] == 1
    assert rows["reach"]["median_days_to_next"] == 1.0


def test_trial_to_paid_within_the_window_by_trial_month_in_moscow():
    frame = funnel_frame(
        (1, "warm", at(31, 22, month=1)),  # 1 February, 01:00 in Moscow
        (1, "sell", at(14, 12, month=2)),  # 13.6 days later: converted
        (2, "warm", at(3, month=2)),
        (2, "sell", at(20, month=3)),  # 45 days later: outside 30 days
        (3, "warm", at(10, month=2)),  # never paid
        (4, "sell", at(5, month=2)),  # paid without a trial: not a trial
        (5, "warm", at(15, month=1)),
        (5, "sell", at(16, month=1)),
    )
    table = trial_conversion(frame, within_days=30)
    assert table["month"].to_list() == [date(2025, 1, 1), date(2025, 2, 1)]
    assert table["trials"].to_list() == [1, 3]
    assert table["converted"].to_list() == [1, 1]
    assert table["conversion"].to_list() == [1.0, 1 / 3]
    wider = trial_conversion(frame, within_days=60)
    assert wider["converted"].to_list() == [1, 2]
    # In UTC customer 1's trial started in January.
    assert trial_conversion(frame, time_zone="UTC")["trials"].to_list() == [2, 2]


def test_naive_times_are_taken_as_utc():
    frame = funnel_frame((1, "warm", at(1)), (1, "sell", at(2))).with_columns(
        pl.col("at").dt.replace_time_zone(None)
    )
    assert trial_conversion(frame)["converted"].to_list() == [1]
