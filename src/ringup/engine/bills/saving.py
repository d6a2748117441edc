"""What the prospect pays now against what they would pay us, month by month.

* :func:`rerate` prices the prospect's calls on our retail deck with
  :func:`ringup.engine.rating.rate` — the rating engine itself, never a copy of it.
* Our monthly price (:func:`our_costs`) is the plan's monthly fee (plan, employees,
  numbers and options, from the quote engine) plus the re-rated calls beyond the plan's
  included minutes. Included minutes cover non-international calls, the earliest first;
  the call that uses them up pays for its seconds beyond them in proportion — the rule
  billing applies on invoices (``engine.invoicing.usage_groups``).
* What they pay now comes from the file's cost column (:func:`current_costs_from_file`),
  from per-minute rates per category that the sales manager enters
  (:func:`current_costs_from_rates`), or, for a prospect with invoices only, from the
  monthly summary form (:func:`current_costs_from_summary`) — each plus line rental and
  fixed fees.
* :func:`saving` compares the two month by month: saving = current − ours.

Every monthly amount is rounded once, half-up, to the currency's minor unit; totals and
averages are computed from those rounded months.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import polars as pl

from ..money import MoneyError, minor_unit, quantize
from ..rating import Numbering, RateDeck, rate
from .categories import Category
from .profile import Profile, Usage
from .records import BillAnalysisError, CallRecords

_ZERO = Decimal(0)
_MINUTE = Decimal(60)


@dataclass(frozen=True, slots=True)
class RatedMonth:
    """One month of the prospect's calls re-rated on our deck (cost exact, 6 places)."""

    calls: int
    rated: int
    billed_seconds: int
    cost: Decimal


@dataclass(frozen=True, slots=True, eq=False)
class Rerating:
    """The prospect's calls re-rated on our deck.

    ``calls`` has one row per call: ``start``, ``month``, ``category``, ``billed_seconds``
    and ``cost`` (null for unrated calls) and ``reason`` (null for rated ones).
    ``unrated`` counts the calls our deck could not price, by reason; they are left out of
    our price (most are internal calls to extensions).
    """

    calls: pl.DataFrame
    by_month: dict[str, RatedMonth]
    unrated: dict[str, int]
    cost: Decimal


def rerate(records: CallRecords, deck: RateDeck) -> Rerating:
    """Rate the calls of ``records`` on ``deck`` (our retail deck)."""
    # The numbers are normalised already: as bare E.164 digits under a numbering without a
    # country they are final as they are (no country code starts with the international
    # prefix's 0), so rating neither parses them again nor asks phonenumbers twice.
    dialled = records.calls["number"].alias(records.format.dst_column)
    cdrs = records.cdrs.with_columns(dialled)
    rated = rate(cdrs, deck, format=records.format, numbering=Numbering())
    calls = records.calls.select("start", "month", "category").with_columns(
        rated.select("billed_seconds", "cost", "reason")
    )
    grouped = (
        calls.group_by("month")
        .agg(
            pl.len().alias("calls"),
            pl.col("reason").is_null().sum().alias("rated"),
            pl.col("billed_seconds").sum(),
            pl.col("cost").sum(),
        )
        .sort("month")
    )
    by_month = {
        row["month"]: RatedMonth(
            calls=row["calls"],
            rated=row["rated"],
            billed_seconds=row["billed_seconds"] or 0,
            cost=Decimal(row["cost"] or 0),
        )
        for row in grouped.iter_rows(named=True)
    }
    reasons = calls["reason"].drop_nulls().value_counts()
    return Rerating(
        calls=calls,
        by_month=by_month,
        unrated={str(r): int(n) for r, n in reasons.sort("reason").iter_rows()},
        cost=sum((month.cost for month in by_month.values()), _ZERO),
    )


@dataclass(frozen=True, slots=True)
class MonthCost:
    """One month's cost on one side: calls (``usage``) and fixed charges (``fixed``)."""

    month: str
    usage: Decimal
    fixed: Decimal

    @property
    def total(self) -> Decimal:
        return self.usage + self.fixed

    def to_json(self) -> dict[str, str]:
        return {"usage": str(self.usage), "fixed": str(self.fixed), "total": str(self.total)}


@dataclass(frozen=True, slots=True)
class OurPrice:
    """Our offer: the quote's monthly total and the plan's included minutes."""

    monthly_fee: Decimal
    included_minutes: int = 0
    currency: str = "RUB"


def our_costs(rerating: Rerating, price: OurPrice) -> dict[str, MonthCost]:
    """Our price for each month of the re-rated traffic (see the module docstring)."""
    _check_price(price)
    fee = quantize(price.monthly_fee, price.currency)
    allowance = price.included_minutes * 60
    rated = rerating.calls.filter(pl.col("reason").is_null())
    costs = {}
    for month in rerating.by_month:
        calls = rated.filter(pl.col("month") == month)
        usage = _beyond_allowance(calls, allowance)
        costs[month] = MonthCost(month, quantize(usage, price.currency), fee)
    return costs


def _beyond_allowance(calls: pl.DataFrame, allowance: int) -> Decimal:
    """The month's cost of ``calls`` once ``allowance`` seconds are covered."""
    covered_by = (
        calls.with_row_index("order")
        .with_columns(eligible=pl.col("category") != Category.INTERNATIONAL.value)
        .sort("start", "order")
        .with_columns(
            before=(pl.col("billed_seconds") * pl.col("eligible"))
            .cum_sum()
            .sub(pl.col("billed_seconds") * pl.col("eligible"))
        )
        .with_columns(
            free=pl.when(pl.col("eligible") & (pl.col("billed_seconds") > 0))
            .then(
                pl.min_horizontal(
                    pl.col("billed_seconds"), (allowance - pl.col("before")).clip(lower_bound=0)
                )
            )
            .otherwise(0)
        )
    )
    paid = covered_by.filter(pl.col("free") == 0)["cost"].sum()
    total = _ZERO if paid is None else Decimal(paid)
    # At most one call a month is covered in part: the one that uses the allowance up.
    partial = covered_by.filter((pl.col("free") > 0) & (pl.col("free") < pl.col("billed_seconds")))
    for cost, seconds, free in partial.select("cost", "billed_seconds", "free").iter_rows():
        total += Decimal(cost) * (seconds - free) / seconds
    return total


def current_costs_from_file(
    profile: Profile,
    *,
    line_rental: Decimal = _ZERO,
    fixed_fees: Decimal = _ZERO,
    currency: str = "RUB",
) -> dict[str, MonthCost]:
    """What the prospect paid each month by the file's cost column, plus fixed charges."""
    if profile.cost is None:
        raise BillAnalysisError({"cost_column": "the call records carry no cost column"})
    fixed = _fixed(line_rental, fixed_fees, currency)
    return {
        month: MonthCost(month, quantize(usage.cost or _ZERO, currency), fixed)
        for month, usage in profile.by_month.items()
    }


def current_costs_from_rates(
    profile: Profile,
    rates: Mapping[Category, Decimal],
    *,
    line_rental: Decimal = _ZERO,
    fixed_fees: Decimal = _ZERO,
    currency: str = "RUB",
) -> dict[str, MonthCost]:
    """What the prospect pays each month at their current per-minute ``rates`` per
    category (billable seconds / 60 × rate), plus fixed charges.

    Every category with billable traffic needs a rate, except ``other`` (calls that are
    not to phone numbers, which no bill charges).
    """
    errors = {
        f"rates.{category}": "must not be negative"
        for category, amount in rates.items()
        if amount < 0
    }
    for category, usage in profile.by_category.items():
        if usage.seconds and category is not Category.OTHER and category not in rates:
            errors[f"rates.{category}"] = f"needed for {usage.minutes} minutes of calls"
    if errors:
        raise BillAnalysisError(errors)
    fixed = _fixed(line_rental, fixed_fees, currency)
    return {
        month: MonthCost(month, quantize(_priced_seconds(usage, rates), currency), fixed)
        for month, usage in profile.by_month_category.items()
    }


def _priced_seconds(usage: Mapping[Category, Usage], rates: Mapping[Category, Decimal]) -> Decimal:
    # Seconds × rate first, one division last: 29 s at 4.50/min is exactly 2.175 (→ 2.18),
    # while 29/60 = 0.48333… minutes × 4.50 is 2.17499… (→ 2.17).
    seconds = {category: Decimal(u.seconds) for category, u in usage.items()}
    return _priced(seconds, rates) / _MINUTE


def _priced(minutes: Mapping[Category, Decimal], rates: Mapping[Category, Decimal]) -> Decimal:
    return sum(
        (m * rates.get(c, _ZERO) for c, m in minutes.items() if c is not Category.OTHER), _ZERO
    )


@dataclass(frozen=True, slots=True)
class MonthlySummary:
    """One month of a prospect's invoice, for prospects without call records."""

    month: str
    minutes: Mapping[Category, Decimal]
    usage_charges: Decimal
    line_rental: Decimal = _ZERO
    fixed_fees: Decimal = _ZERO


def current_costs_from_summary(
    months: Sequence[MonthlySummary], currency: str = "RUB"
) -> dict[str, MonthCost]:
    """What the prospect's invoices say they paid each month."""
    _check_summary(months, currency)
    return {
        m.month: MonthCost(
            m.month,
            quantize(m.usage_charges, currency),
            _fixed(m.line_rental, m.fixed_fees, currency),
        )
        for m in sorted(months, key=lambda m: m.month)
    }


def our_costs_from_summary(
    months: Sequence[MonthlySummary], our_rates: Mapping[Category, Decimal], price: OurPrice
) -> dict[str, MonthCost]:
    """Our price for the summarised months: minutes × our per-minute rate per category,
    less the included minutes, plus the monthly fee.

    Without the calls themselves it is unknown which minutes came first, so included
    minutes cover the non-international categories at our cheapest rate first: the saving
    claimed is never more than the calls would show.
    """
    _check_price(price)
    _check_summary(months, price.currency)
    missing = {
        f"our_rates.{c}": "needed for the summary's minutes"
        for m in months
        for c, minutes in m.minutes.items()
        if minutes and c is not Category.OTHER and c not in our_rates
    }
    if missing:
        raise BillAnalysisError(missing)
    fee = quantize(price.monthly_fee, price.currency)
    costs = {}
    for m in sorted(months, key=lambda m: m.month):
        usage = _priced(m.minutes, our_rates)
        left = Decimal(price.included_minutes)
        eligible = [c for c in m.minutes if c not in (Category.INTERNATIONAL, Category.OTHER)]
        for category in sorted(eligible, key=lambda c: (our_rates[c], c.value)):
            covered = min(left, m.minutes[category])
            usage -= covered * our_rates[category]
            left -= covered
        costs[m.month] = MonthCost(m.month, quantize(usage, price.currency), fee)
    return costs


def category_rates(deck: RateDeck, samples: Mapping[Category, str]) -> dict[Category, Decimal]:
    """Our per-minute rate for each category: the deck's rate for its sample E.164 number
    (connection fees and increments aside: the summary form has minutes, not calls)."""
    rates, errors = {}, {}
    for category, number in samples.items():
        entry = deck.longest_match(number)
        if entry is None:
            errors[f"samples.{category}"] = f"no prefix of the deck matches {number}"
        else:
            rates[category] = entry.rate
    if errors:
        raise BillAnalysisError(errors)
    return rates


@dataclass(frozen=True, slots=True)
class MonthSaving:
    """One month: what the prospect pays now, what they would pay us, the difference."""

    month: str
    current: MonthCost
    ours: MonthCost

    @property
    def saving(self) -> Decimal:
        return self.current.total - self.ours.total

    def to_json(self) -> dict[str, object]:
        return {
            "current": self.current.to_json(),
            "ours": self.ours.to_json(),
            "saving": str(self.saving),
        }


@dataclass(frozen=True, slots=True)
class Saving:
    """The month-by-month comparison and its summary figures (see :func:`saving`)."""

    months: tuple[MonthSaving, ...]
    total: Decimal
    average: Decimal
    current_average: Decimal
    ours_average: Decimal
    percent: Decimal | None
    currency: str

    def to_json(self) -> dict[str, object]:
        return {
            "currency": self.currency,
            "average": str(self.average),
            "total": str(self.total),
            "current_average": str(self.current_average),
            "ours_average": str(self.ours_average),
            "percent": None if self.percent is None else str(self.percent),
            "by_month": {m.month: m.to_json() for m in self.months},
        }


def saving(
    current: Mapping[str, MonthCost], ours: Mapping[str, MonthCost], currency: str = "RUB"
) -> Saving:
    """Compare ``current`` and ``ours`` over the months both have.

    ``average`` = total saving / months, ``percent`` = average / current average × 100
    (one decimal; None when they pay nothing now), averages rounded to the minor unit.
    """
    months = sorted(current.keys() & ours.keys())
    if not months:
        raise BillAnalysisError({"months": "no month has both a current and our cost"})
    rows = tuple(MonthSaving(m, current[m], ours[m]) for m in months)
    count = Decimal(len(rows))
    total = sum((r.saving for r in rows), _ZERO)
    current_total = sum((r.current.total for r in rows), _ZERO)
    ours_total = sum((r.ours.total for r in rows), _ZERO)
    percent = None
    if current_total:
        percent = (total / current_total * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return Saving(
        months=rows,
        total=total,
        average=quantize(total / count, currency),
        current_average=quantize(current_total / count, currency),
        ours_average=quantize(ours_total / count, currency),
        percent=percent,
        currency=currency,
    )


def _fixed(line_rental: Decimal, fixed_fees: Decimal, currency: str) -> Decimal:
    errors = {
        name: "must not be negative"
        for name, amount in (("line_rental", line_rental), ("fixed_fees", fixed_fees))
        if amount < 0
    }
    if errors:
        raise BillAnalysisError(errors)
    return quantize(line_rental, currency) + quantize(fixed_fees, currency)


def _check_price(price: OurPrice) -> None:
    errors = {}
    try:
        minor_unit(price.currency)
    except MoneyError as error:
        errors["currency"] = str(error)
    if price.monthly_fee < 0:
        errors["monthly_fee"] = "must not be negative"
    if price.included_minutes < 0:
        errors["included_minutes"] = "must not be negative"
    if errors:
        raise BillAnalysisError(errors)


def _check_summary(months: Sequence[MonthlySummary], currency: str) -> None:
    errors: dict[str, str] = {}
    seen: set[str] = set()
    for m in months:
        field = f"months.{m.month}"
        if not _is_month(m.month):
            errors[field] = "must be a month as YYYY-MM"
        elif m.month in seen:
            errors[field] = "appears twice"
        seen.add(m.month)
        amounts = [m.usage_charges, m.line_rental, m.fixed_fees, *m.minutes.values()]
        if any(amount < 0 for amount in amounts):
            errors[field] = "minutes and amounts must not be negative"
    if not months:
        errors["months"] = "at least one month is needed"
    if errors:
        raise BillAnalysisError(errors)
    minor_unit(currency)


def _is_month(text: str) -> bool:
    year, dash, month = text.partition("-")
    return (
        bool(dash)
        and len(year) == 4
        and year.isdigit()
        and len(month) == 2
        and month.isdigit()
        and 1 <= int(month) <= 12
    )
