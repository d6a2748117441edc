"""The usage profile of a prospect's calls: volumes, ACD, ASR, channels, categories, months.

Definitions (docs/sales-formulas.md has each with a worked example):

* **calls** — every attempt in the file that has a readable start and billable seconds;
  **answered** — see :mod:`.records`; **seconds** — billable seconds; **minutes** —
  seconds / 60, two decimals, half-up.
* **ACD** = billable seconds / answered calls (one decimal); **ASR** = answered / calls
  (a fraction, four decimals). Both are 0 when their divisor is.
* **peak concurrent calls** — the most channels held at one moment, each call holding one
  from ``start`` to ``start + held`` (half-open: a call ending at the second another starts
  does not overlap it).
* **busiest hour** — the hour of day (0–23) with the most attempts; ties go to the earliest.
* **peak / lowest month** — the months with the most / fewest billable seconds; ties go to
  the earliest. Every month present in the file counts, so a first or last month covered
  only in part may be the lowest.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import numpy.typing as npt
import polars as pl

from .categories import Category
from .records import SHORT_CALL_SECONDS, CallRecords

_MINUTE = Decimal(60)
_EPOCH = datetime(1970, 1, 1)
#: No cost at the cost column's scale, so empty rows print like the others ("0.000000").
_NO_COST = Decimal("0.000000")
_CENT = Decimal("0.01")


def as_minutes(seconds: int) -> Decimal:
    """Seconds as minutes, two decimals, half-up."""
    return (Decimal(seconds) / _MINUTE).quantize(_CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Usage:
    """Calls of one category, month or hour: attempts, answered, billable seconds, cost."""

    calls: int
    answered: int
    seconds: int
    cost: Decimal | None = None

    @property
    def minutes(self) -> Decimal:
        return as_minutes(self.seconds)

    def to_json(self) -> dict[str, object]:
        return {
            "calls": self.calls,
            "answered": self.answered,
            "minutes": str(self.minutes),
            "cost": None if self.cost is None else str(self.cost),
        }


@dataclass(frozen=True, slots=True)
class Profile:
    """What a prospect's calls say about their usage (see the module docstring)."""

    calls: int
    answered: int
    seconds: int
    short_calls: int
    acd_seconds: Decimal
    asr: Decimal
    peak_concurrent_calls: int
    peak_at: datetime | None
    busiest_hour: int | None
    active_hours: int
    home_country: str
    home_area: str | None
    by_category: dict[Category, Usage]
    by_month: dict[str, Usage]
    by_month_category: dict[str, dict[Category, Usage]]
    by_hour: dict[int, Usage]
    peak_month: str | None
    lowest_month: str | None
    cost: Decimal | None
    cost_per_call: Decimal | None
    skipped: int

    @property
    def minutes(self) -> Decimal:
        return as_minutes(self.seconds)

    def to_json(self) -> dict[str, object]:
        """The profile as JSON-ready values (Decimal as strings, datetimes ISO 8601)."""
        return {
            "calls": self.calls,
            "answered": self.answered,
            "minutes": str(self.minutes),
            "acd_seconds": str(self.acd_seconds),
            "asr": str(self.asr),
            "short_calls": self.short_calls,
            "peak_concurrent_calls": self.peak_concurrent_calls,
            "peak_at": None if self.peak_at is None else self.peak_at.isoformat(),
            "busiest_hour": self.busiest_hour,
            "home_area": self.home_area,
            "by_category": {str(k): v.to_json() for k, v in self.by_category.items()},
            "by_month": {k: v.to_json() for k, v in self.by_month.items()},
            "by_hour": {str(k): v.to_json() for k, v in self.by_hour.items()},
            "peak_month": self.peak_month,
            "lowest_month": self.lowest_month,
            "cost": None if self.cost is None else str(self.cost),
            "cost_per_call": None if self.cost_per_call is None else str(self.cost_per_call),
            "skipped": self.skipped,
        }


def profile(records: CallRecords) -> Profile:
    """The usage profile of ``records`` (one pass of columnar sums; no loop per call)."""
    calls = records.calls
    total = _usage(calls, records.has_cost)
    by_month = {str(k): v for k, v in _grouped(calls, "month", records.has_cost).items()}
    by_hour = {int(str(k)): v for k, v in _grouped(calls, "hour", records.has_cost).items()}
    peak, peak_at = peak_concurrency(calls["start"], calls["held"])
    return Profile(
        calls=total.calls,
        answered=total.answered,
        seconds=total.seconds,
        short_calls=int((calls["seconds"] < SHORT_CALL_SECONDS).sum()),
        acd_seconds=_ratio(total.seconds, total.answered, Decimal("0.1")),
        asr=_ratio(total.answered, total.calls, Decimal("0.0001")),
        peak_concurrent_calls=peak,
        peak_at=peak_at,
        busiest_hour=_busiest(by_hour),
        active_hours=calls["start"].dt.truncate("1h").n_unique() if calls.height else 0,
        home_country=records.home_country,
        home_area=records.home_area,
        by_category=_by_category(calls, records.has_cost),
        by_month=dict(sorted(by_month.items())),
        by_month_category={
            str(month): _by_category(part, records.has_cost)
            for (month,), part in sorted(
                calls.partition_by("month", as_dict=True).items(), key=lambda item: str(item[0])
            )
        },
        by_hour={hour: by_hour.get(hour, Usage(0, 0, 0, _zero(records))) for hour in range(24)},
        peak_month=_extreme(by_month, max),
        lowest_month=_extreme(by_month, min),
        cost=total.cost,
        cost_per_call=(
            None
            if total.cost is None or not total.answered
            else (total.cost / total.answered).quantize(_CENT, rounding=ROUND_HALF_UP)
        ),
        skipped=records.skipped,
    )


def peak_concurrency(starts: pl.Series, held: pl.Series) -> tuple[int, datetime | None]:
    """The most calls in progress at once, and the first moment that many are.

    Each call occupies ``[start, start + held)`` seconds; calls holding 0 seconds occupy
    nothing. Sweep-line without a loop: with starts and ends sorted, the calls in progress
    just after a start ``s`` are the starts ≤ ``s`` less the ends ≤ ``s`` — counting the
    ends at ``s`` itself as gone is what makes "ends when the other starts" no overlap.
    """
    occupying = held.fill_null(0) > 0
    begin: npt.NDArray[np.int64] = starts.filter(occupying).dt.epoch("s").to_numpy()
    if not len(begin):
        return 0, None
    end = np.sort(begin + held.filter(occupying).to_numpy())
    begin = np.sort(begin)
    active = np.searchsorted(begin, begin, side="right") - np.searchsorted(end, begin, side="right")
    at = int(np.argmax(active))
    # Start times are naive wall-clock times: back from epoch seconds without a zone.
    return int(active[at]), _EPOCH + timedelta(seconds=int(begin[at]))


def _usage(calls: pl.DataFrame, has_cost: bool) -> Usage:
    return Usage(
        calls=calls.height,
        answered=int(calls["answered"].sum()),
        seconds=int(calls["seconds"].sum()),
        cost=_cost_sum(calls) if has_cost else None,
    )


def _cost_sum(calls: pl.DataFrame) -> Decimal:
    total = calls["cost"].sum()
    return _NO_COST if total is None else Decimal(total)


def _grouped(calls: pl.DataFrame, key: str, has_cost: bool) -> dict[object, Usage]:
    sums = [
        pl.len().alias("calls"),
        pl.col("answered").sum(),
        pl.col("seconds").sum(),
    ]
    if has_cost:
        sums.append(pl.col("cost").sum())
    grouped = calls.group_by(key).agg(sums)
    return {
        row[key]: Usage(
            calls=row["calls"],
            answered=row["answered"],
            seconds=row["seconds"],
            cost=Decimal(row["cost"]) if has_cost else None,
        )
        for row in grouped.iter_rows(named=True)
    }


def _by_category(calls: pl.DataFrame, has_cost: bool) -> dict[Category, Usage]:
    grouped = _grouped(calls, "category", has_cost)
    empty = Usage(0, 0, 0, _NO_COST if has_cost else None)
    return {category: grouped.get(category.value, empty) for category in Category}


def _zero(records: CallRecords) -> Decimal | None:
    return _NO_COST if records.has_cost else None


def _ratio(numerator: int, denominator: int, places: Decimal) -> Decimal:
    if not denominator:
        return Decimal(0).quantize(places)
    return (Decimal(numerator) / Decimal(denominator)).quantize(places, rounding=ROUND_HALF_UP)


def _busiest(by_hour: dict[int, Usage]) -> int | None:
    if not by_hour:
        return None
    return max(sorted(by_hour), key=lambda hour: (by_hour[hour].calls, -hour))


def _extreme(by_month: dict[str, Usage], pick: Callable[[Iterable[int]], int]) -> str | None:
    if not by_month:
        return None
    best = pick(usage.seconds for usage in by_month.values())
    return min(month for month, usage in by_month.items() if usage.seconds == best)
