"""Billing periods and proration: worked examples and properties over time zones,
DST changes, month ends and anchor days 28–31."""

import calendar
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringup.engine.periods import (
    Cycle,
    Interval,
    billing_period,
    first_midnight_at_or_after,
    local_midnight,
    period_at,
    prorate,
    schedule_period_at,
    schedule_periods,
)

MOSCOW = ZoneInfo("Europe/Moscow")
ZONES = [
    "Europe/Moscow",
    "Europe/Berlin",
    "America/New_York",
    "America/Santiago",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "UTC",
    "America/Havana",
]


def test_anchor_31_bills_on_the_last_day_of_short_months():
    """Started 31 Jan 2024: periods start 31 Jan, 29 Feb (leap year), 31 Mar, 30 Apr."""
    starts = [
        billing_period(date(2024, 1, 31), 31, Interval.MONTHLY, k, MOSCOW).start for k in range(4)
    ]
    # Moscow is UTC+3 all year, so local midnight is 21:00 UTC the day before.
    assert starts == [
        datetime(2024, 1, 30, 21, tzinfo=UTC),
        datetime(2024, 2, 28, 21, tzinfo=UTC),
        datetime(2024, 3, 30, 21, tzinfo=UTC),
        datetime(2024, 4, 29, 21, tzinfo=UTC),
    ]


def test_dst_month_is_an_hour_short_in_berlin():
    """March 2024 in Berlin has a 23-hour day (31 March): 31 × 24 − 1 = 743 hours."""
    period = billing_period(date(2024, 3, 1), 1, Interval.MONTHLY, 0, ZoneInfo("Europe/Berlin"))
    assert period.seconds == 743 * 3600


def test_annual_period():
    period = billing_period(date(2023, 2, 28), 28, Interval.ANNUAL, 1, MOSCOW)
    assert period.start == datetime(2024, 2, 27, 21, tzinfo=UTC)
    assert period.end == datetime(2025, 2, 27, 21, tzinfo=UTC)


def test_proration_worked_example():
    """30-day period (April, Moscow). Upgrade 890 → 1,490 with 10 days left:
    remaining share 10/30; charge 1,490 × 1/3 = 496.666… → 496.67; net (1,490 − 890) × 1/3
    = 200.00; credit = 200.00 − 496.67 = −296.67 (890 × 1/3 = 296.666… → 296.67)."""
    period = billing_period(date(2024, 4, 1), 1, Interval.MONTHLY, 0, MOSCOW)
    at = period.end - timedelta(days=10)
    result = prorate(period, at, D("890"), D("1490"), "RUB")
    assert (result.remaining_seconds, result.period_seconds) == (864_000, 2_592_000)
    assert result.charge == D("496.67")
    assert result.credit == D("-296.67")
    assert result.net == D("200.00")


def test_change_outside_the_period_is_refused():
    period = billing_period(date(2024, 4, 1), 1, Interval.MONTHLY, 0, MOSCOW)
    with pytest.raises(ValueError):
        prorate(period, period.end, D("1"), D("2"), "RUB")


@given(
    zone=st.sampled_from(ZONES),
    first=st.dates(min_value=date(2000, 1, 1), max_value=date(2035, 12, 31)),
    anchor=st.integers(1, 31),
    interval=st.sampled_from(list(Interval)),
    count=st.integers(1, 30),
)
def test_consecutive_periods_have_no_gap_and_no_overlap(zone, first, anchor, interval, count):
    tz = ZoneInfo(zone)
    periods = [billing_period(first, anchor, interval, k, tz) for k in range(count)]
    for before, after in pairwise(periods):
        assert before.end == after.start
    for period in periods:
        assert period.seconds > 0
        # Each period starts on the anchor day, or the month's last day when shorter.
        local = period.start.astimezone(tz)
        assert (
            local.day == anchor
            or (local + timedelta(days=1)).month != local.month
            or (local.hour != 0)
        )


@given(
    zone=st.sampled_from(ZONES),
    first=st.dates(min_value=date(2010, 1, 1), max_value=date(2030, 12, 31)),
    anchor=st.integers(28, 31),
    offset=st.integers(0, 3 * 366 * 24 * 3600),
)
def test_every_instant_falls_in_exactly_one_period(zone, first, anchor, offset):
    tz = ZoneInfo(zone)
    origin = billing_period(first, anchor, Interval.MONTHLY, 0, tz).start
    at = origin + timedelta(seconds=offset)
    period = period_at(first, anchor, Interval.MONTHLY, at, tz)
    assert period.contains(at)
    if period.index:
        assert not billing_period(first, anchor, Interval.MONTHLY, period.index - 1, tz).contains(
            at
        )
    assert not billing_period(first, anchor, Interval.MONTHLY, period.index + 1, tz).contains(at)


money = st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False)


@given(old=money, new=money, share=st.integers(0, 2_592_000 - 1))
def test_credit_plus_charge_is_the_exact_difference_for_the_remaining_time(old, new, share):
    period = billing_period(date(2024, 4, 1), 1, Interval.MONTHLY, 0, MOSCOW)
    at = period.start + timedelta(seconds=share)
    result = prorate(period, at, old, new, "RUB")
    exact = (new - old) * result.remaining_seconds / result.period_seconds
    assert result.net == exact.quantize(D("0.01"), rounding="ROUND_HALF_UP")
    assert abs(result.credit + old * result.remaining_seconds / result.period_seconds) <= D("0.01")


@given(
    zone=st.sampled_from(ZONES),
    start=st.datetimes(min_value=datetime(2010, 1, 1), max_value=datetime(2030, 12, 31)),
)
def test_the_first_billable_midnight_is_at_or_after_the_instant_and_under_a_day_away(zone, start):
    tz = ZoneInfo(zone)
    at = start.replace(tzinfo=UTC)
    day = first_midnight_at_or_after(at, tz)
    midnight = local_midnight(day, tz)
    assert at <= midnight
    assert local_midnight(day - timedelta(days=1), tz) < at
    assert midnight - at <= timedelta(hours=25)  # a DST day can have 25 hours


@st.composite
def schedules(draw):
    """A subscription's cycles: a first one, then switches of interval on its boundaries."""
    zone = ZoneInfo(draw(st.sampled_from(ZONES)))
    anchor = draw(st.integers(28, 31))
    first = draw(st.dates(min_value=date(2012, 1, 1), max_value=date(2030, 1, 1)))
    first = first.replace(day=min(anchor, calendar.monthrange(first.year, first.month)[1]))
    cycles = [Cycle(first, anchor, draw(st.sampled_from(list(Interval))))]
    for _ in range(draw(st.integers(0, 3))):
        previous = cycles[-1]
        boundary = billing_period(
            previous.first, anchor, previous.interval, draw(st.integers(1, 14)), zone
        ).start
        other = Interval.ANNUAL if previous.interval is Interval.MONTHLY else Interval.MONTHLY
        cycles.append(Cycle(boundary.astimezone(zone).date(), anchor, other))
    return zone, tuple(cycles)


@given(
    schedule=schedules(),
    cuts=st.lists(st.integers(1, 20 * 366), min_size=1, max_size=6),
)
def test_bill_runs_at_any_dates_cover_time_once_across_switches_and_dst(schedule, cuts):
    """Successive bill runs, each starting where the last billed period ended, bill
    periods that chain without gap or overlap, so no instant (and no call made in it) is
    billed twice or never."""
    zone, cycles = schedule
    origin = local_midnight(cycles[0].first, zone)
    billed, after = [], origin
    for days in sorted(cuts):
        run = schedule_periods(cycles, zone, after=after, until=origin + timedelta(days=days))
        if run:
            after = run[-1].end
        billed += run
    for before, later in pairwise(billed):
        assert before.end == later.start
    if billed:
        assert billed[0].start == origin
        probe = billed[0].start + (billed[-1].end - billed[0].start) / 3
        assert sum(period.contains(probe) for period in billed) == 1
        assert schedule_period_at(cycles, zone, probe) in billed
    for cycle in cycles[1:]:
        starts = {period.start for period in billed}
        start = local_midnight(cycle.first, zone)
        if billed and billed[-1].end > start:
            assert start in starts  # a switch happens exactly on a boundary
