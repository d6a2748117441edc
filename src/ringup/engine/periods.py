"""Billing periods in the operator's time zone, and proration by the second.

A subscription is billed in periods that start on its *anchor day* at local midnight in
the operator's time zone: an anchor of 31 means the 31st, or the last day of a shorter
month. Period *k* ends exactly where period *k + 1* starts, so consecutive periods have no
gap and no overlap by construction, across month ends, leap years and DST changes.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise
from zoneinfo import ZoneInfo

from .money import quantize


class Interval(StrEnum):
    MONTHLY = "monthly"
    ANNUAL = "annual"

    @property
    def months(self) -> int:
        return 12 if self is Interval.ANNUAL else 1


@dataclass(frozen=True, slots=True)
class BillingPeriod:
    """``[start, end)`` in UTC; ``index`` counts periods from the subscription's first."""

    index: int
    start: datetime
    end: datetime

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end


def _days_in_month(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant ``day`` starts in ``zone``, as UTC.

    Where a DST jump skips midnight (some American zones), PEP 495's ``fold=0`` reading
    of the missing wall time is the instant of the jump itself, the day's real start.
    Periods chain through this one function, so whatever it answers, no gap or overlap
    can appear between consecutive periods.
    """
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def period_start_date(first: date, anchor_day: int, interval: Interval, index: int) -> date:
    """The local date on which period ``index`` starts, counting from ``first``'s month."""
    months = first.month - 1 + index * interval.months
    year, month = first.year + months // 12, months % 12 + 1
    return date(year, month, min(anchor_day, _days_in_month(year, month)))


def billing_period(
    first: date, anchor_day: int, interval: Interval, index: int, zone: ZoneInfo
) -> BillingPeriod:
    """Period ``index`` of a subscription whose first period starts on local date ``first``.

    ``anchor_day`` (1–31) is normally ``first.day``; it is kept separately so that a
    subscription started on 31 January bills on 28/29 February and again on 31 March.
    """
    if not 1 <= anchor_day <= 31:
        raise ValueError("anchor_day must be between 1 and 31")
    start = period_start_date(first, anchor_day, interval, index)
    end = period_start_date(first, anchor_day, interval, index + 1)
    return BillingPeriod(index, local_midnight(start, zone), local_midnight(end, zone))


def period_at(
    first: date, anchor_day: int, interval: Interval, at: datetime, zone: ZoneInfo
) -> BillingPeriod:
    """The period that contains instant ``at`` (which must not precede the first)."""
    local = at.astimezone(zone).date()
    months = (local.year - first.year) * 12 + local.month - first.month
    index = max(0, months // interval.months)
    period = billing_period(first, anchor_day, interval, index, zone)
    while at < period.start and index > 0:
        index -= 1
        period = billing_period(first, anchor_day, interval, index, zone)
    while at >= period.end:
        index += 1
        period = billing_period(first, anchor_day, interval, index, zone)
    if at < period.start:
        raise ValueError("instant precedes the subscription's first period")
    return period


@dataclass(frozen=True, slots=True)
class Proration:
    """A mid-period change from ``old_price`` to ``new_price`` at an instant.

    ``credit`` (≤ 0 for a positive old price) returns the unused part of the old price;
    ``charge`` bills the rest of the period at the new price. ``credit + charge`` is the
    price difference for the remaining time, rounded once.
    """

    remaining_seconds: int
    period_seconds: int
    credit: Decimal
    charge: Decimal

    @property
    def net(self) -> Decimal:
        return self.credit + self.charge


def prorate(
    period: BillingPeriod, at: datetime, old_price: Decimal, new_price: Decimal, currency: str
) -> Proration:
    """Prorate a change of a period's price from ``old_price`` to ``new_price`` at ``at``.

    The share of the period left is counted in whole seconds. The net amount is
    ``(new − old) × remaining / total`` rounded once; the charge is ``new × remaining /
    total`` rounded once, and the credit is what makes them add up, so the invoice's lines
    always sum to the exact difference.
    """
    if not period.contains(at):
        raise ValueError("the change must fall inside the period")
    remaining = int((period.end - at).total_seconds())
    total = period.seconds
    net = quantize((new_price - old_price) * remaining / total, currency)
    charge = quantize(new_price * remaining / total, currency)
    return Proration(remaining, total, credit=net - charge, charge=charge)


def first_midnight_at_or_after(at: datetime, zone: ZoneInfo) -> date:
    """The local date whose midnight is the first at or after instant ``at``.

    Paid periods start at a local midnight: a trial ending at 14:20 is followed by a first
    period starting the next midnight, so the customer never pays for trial hours.
    """
    day = at.astimezone(zone).date()
    return day if local_midnight(day, zone) >= at else day + timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Cycle:
    """A run of periods of one interval, the first starting at local midnight of ``first``.

    A subscription's schedule is one cycle, or several when it switched between monthly and
    annual: each later cycle starts on a boundary of the one before and replaces it there.
    """

    first: date
    anchor_day: int
    interval: Interval


def _cycle_starts(cycles: tuple[Cycle, ...], zone: ZoneInfo) -> list[datetime]:
    starts = [local_midnight(cycle.first, zone) for cycle in cycles]
    if any(later <= earlier for earlier, later in pairwise(starts)):
        raise ValueError("cycles must start in increasing order")
    return starts


def schedule_periods(
    cycles: tuple[Cycle, ...], zone: ZoneInfo, *, after: datetime, until: datetime
) -> list[BillingPeriod]:
    """The periods of ``cycles`` that start at or after ``after`` and end by ``until``.

    ``after`` is normally the end of the last period already billed (or the start of the
    first cycle). A cycle ends where the next one starts, which must be one of its own
    period boundaries, so the chain has no gap and no overlap either.
    """
    starts = _cycle_starts(cycles, zone)
    found: list[BillingPeriod] = []
    for number, cycle in enumerate(cycles):
        stop = starts[number + 1] if number + 1 < len(cycles) else None
        if (stop is not None and stop <= after) or starts[number] >= until:
            continue
        begin = max(after, starts[number])
        period = period_at(cycle.first, cycle.anchor_day, cycle.interval, begin, zone)
        if period.start < begin:  # ``after`` falls inside a period: it is not ours to bill
            period = billing_period(
                cycle.first, cycle.anchor_day, cycle.interval, period.index + 1, zone
            )
        while period.end <= until and (stop is None or period.start < stop):
            if stop is not None and period.end > stop:
                raise ValueError("a cycle must start on a boundary of the one before")
            found.append(period)
            period = billing_period(
                cycle.first, cycle.anchor_day, cycle.interval, period.index + 1, zone
            )
    return found


def schedule_period_at(cycles: tuple[Cycle, ...], zone: ZoneInfo, at: datetime) -> BillingPeriod:
    """The period of ``cycles`` containing instant ``at`` (not before the first cycle)."""
    starts = _cycle_starts(cycles, zone)
    number = max(i for i, start in enumerate(starts) if start <= at) if at >= starts[0] else 0
    cycle = cycles[number]
    return period_at(cycle.first, cycle.anchor_day, cycle.interval, at, zone)
