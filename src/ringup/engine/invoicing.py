"""What a subscription owes for one billing period, as invoice lines.

A subscription's *configuration* (plan, employees, numbers, options, traffic package,
discount) changes at instants recorded in its history. For a period ``[start, end)`` the
invoice holds (Ringup bills in arrears, see ``docs/billing.md``):

* the recurring lines of the configuration in force at ``start``, for the whole period,
  priced by :func:`ringup.engine.pricing.price_quote` (so a quote and an invoice agree);
* for each instant inside the period where the configuration changed, a *credit* for the
  unused part of the old period price and a *charge* for the rest of the period at the new
  one (:func:`ringup.engine.periods.prorate`, by the second, rounded once), and the one-time
  fees of what the change added; an ending subscription is a change to nothing;
* the one-time fees of the starting configuration on the first period's invoice;
* with a minimum call commitment, the shortfall of the period's calls below it
  (:func:`commitment_lines`), the commitment prorated like the included minutes.

Every line is rounded once, in the currency's minor unit; VAT is computed per line
(:func:`taxed`) and an invoice's totals are exact sums of its lines (:func:`totals`).
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Protocol
from zoneinfo import ZoneInfo

from .money import ZERO, quantize
from .periods import BillingPeriod, Interval, prorate
from .pricing import LineKind as QuoteLineKind
from .pricing import Quote


@dataclass(frozen=True, slots=True)
class Config:
    """What a subscription has at an instant. ``options`` is sorted, so equal
    configurations compare and hash equal."""

    plan: str
    employees: int
    numbers: int = 1
    options: tuple[str, ...] = ()
    traffic_package: str | None = None
    discount_percent: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class PlanChange:
    """A recorded change of plan, head-count, phone numbers or traffic package: what it
    replaced (``None``: unchanged). A package change says so with ``package_changed``,
    since ``from_package=None`` there means "there was no package"."""

    at: datetime
    from_plan: str | None = None
    from_employees: int | None = None
    from_numbers: int | None = None
    from_package: str | None = None
    package_changed: bool = False


@dataclass(frozen=True, slots=True)
class OptionSpan:
    """An add-on held during ``[added_at, removed_at)`` (``removed_at`` ``None``: still held)."""

    code: str
    added_at: datetime
    removed_at: datetime | None = None


def _at(change: PlanChange) -> datetime:
    return change.at


@dataclass(frozen=True, slots=True)
class History:
    """A subscription's configuration through time: ``current`` is its configuration now;
    ``plan_changes`` say what plan and head-count were replaced when, and ``option_spans``
    when each option was held."""

    current: Config
    plan_changes: tuple[PlanChange, ...] = ()
    option_spans: tuple[OptionSpan, ...] = ()
    ended_at: datetime | None = None

    def __post_init__(self) -> None:
        # In time order, so that undoing walks back from the newest.
        object.__setattr__(self, "plan_changes", tuple(sorted(self.plan_changes, key=_at)))

    def at(self, instant: datetime) -> Config | None:
        """The configuration in force at ``instant`` (changes made at ``instant`` included);
        ``None`` once the subscription has ended."""
        if self.ended_at is not None and instant >= self.ended_at:
            return None
        current = self.current
        plan, employees = current.plan, current.employees
        numbers, package = current.numbers, current.traffic_package
        # Undo, newest first, every change made after the instant.
        for change in reversed(self.plan_changes):
            if change.at <= instant:
                break
            plan = change.from_plan or plan
            employees = change.from_employees if change.from_employees is not None else employees
            numbers = change.from_numbers if change.from_numbers is not None else numbers
            package = change.from_package if change.package_changed else package
        # Options without a span have no known history: held all along.
        held = set(self.current.options) - {span.code for span in self.option_spans}
        held.update(
            span.code
            for span in self.option_spans
            if span.added_at <= instant and (span.removed_at is None or instant < span.removed_at)
        )
        return Config(
            plan, employees, numbers, tuple(sorted(held)), package, current.discount_percent
        )

    def steps(self, start: datetime, end: datetime) -> list[tuple[datetime, Config | None]]:
        """Each instant strictly inside ``(start, end)`` where the configuration changed,
        with the configuration from then on."""
        instants = {change.at for change in self.plan_changes}
        for span in self.option_spans:
            instants.add(span.added_at)
            if span.removed_at is not None:
                instants.add(span.removed_at)
        if self.ended_at is not None:
            instants.add(self.ended_at)
        found, before = [], self.at(start)
        for instant in sorted(i for i in instants if start < i < end):
            config = self.at(instant)
            if config != before:
                found.append((instant, config))
                before = config
        return found


class LineKind(StrEnum):
    RECURRING = "recurring"
    DISCOUNT = "discount"
    PRORATION = "proration"
    ONE_TIME = "one_time"
    USAGE = "usage"
    COMMITMENT = "commitment"
    CREDIT = "credit"


@dataclass(frozen=True, slots=True)
class Line:
    """One invoice line. ``amount`` is as priced (VAT included or not, per the operator's
    rule); :func:`taxed` fills ``vat_amount`` and ``total`` (what the customer pays)."""

    kind: LineKind
    code: str
    description: str
    quantity: Decimal
    unit_amount: Decimal | None
    amount: Decimal
    vat_amount: Decimal = ZERO
    total: Decimal = ZERO


class Pricer(Protocol):
    """Prices configurations with the catalog in force (the billing app provides one)."""

    def quote(self, config: Config, interval: Interval) -> Quote: ...

    def plan_name(self, code: str) -> str: ...


def period_price(pricer: Pricer, config: Config | None, interval: Interval) -> Decimal:
    """The recurring price of ``config`` for a whole period of ``interval``."""
    if config is None:
        return ZERO
    return pricer.quote(config, interval).monthly_total * interval.months


def recurring_lines(quote: Quote, interval: Interval) -> list[Line]:
    """The quote's recurring lines for a whole period: monthly amounts × months."""
    months = interval.months
    suffix = f" × {months} months" if months > 1 else ""
    lines = []
    for line in quote.lines:
        if line.kind is not QuoteLineKind.RECURRING:
            continue
        lines.append(
            Line(
                kind=LineKind.DISCOUNT if line.amount < 0 else LineKind.RECURRING,
                code=line.code,
                description=line.description + suffix,
                quantity=Decimal(line.quantity),
                unit_amount=line.unit_amount * months,
                amount=line.amount * months,
            )
        )
    return lines


def one_time_lines(quote: Quote, skip: Iterable[str] = ()) -> list[Line]:
    """The quote's one-time lines (connection and setup fees) except codes in ``skip``."""
    skipped = set(skip)
    return [
        Line(
            kind=LineKind.ONE_TIME,
            code=line.code,
            description=line.description,
            quantity=Decimal(line.quantity),
            unit_amount=line.unit_amount,
            amount=line.amount,
        )
        for line in quote.lines
        if line.kind is QuoteLineKind.ONE_TIME and line.code not in skipped
    ]


def describe(pricer: Pricer, config: Config) -> str:
    """A short name of a configuration for proration lines: plan, employees, phone
    numbers, options and the traffic package ("Office PBX, 10 employees, 2 numbers, 1
    option, 1,000 minutes to Russian numbers")."""
    people = "employee" if config.employees == 1 else "employees"
    words = [pricer.plan_name(config.plan), f"{config.employees} {people}"]
    words.append(f"{config.numbers} number{'s' if config.numbers != 1 else ''}")
    if config.options:
        count = len(config.options)
        words.append(f"{count} option{'s' if count > 1 else ''}")
    if config.traffic_package:
        quote = pricer.quote(config, Interval.MONTHLY)
        words += [line.description for line in quote.lines if line.code == config.traffic_package]
    return ", ".join(words)


def _local(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%d %b %Y %H:%M")


def _last_day(period: BillingPeriod, zone: ZoneInfo) -> str:
    return (period.end.astimezone(zone) - timedelta(days=1)).strftime("%d %b %Y")


def change_lines(
    pricer: Pricer,
    period: BillingPeriod,
    interval: Interval,
    at: datetime,
    old: Config | None,
    new: Config | None,
    zone: ZoneInfo,
) -> list[Line]:
    """The lines a change from ``old`` to ``new`` at ``at`` adds to ``period``'s invoice:
    credit for the unused part of the old price, charge for the rest at the new price (both
    omitted when the price does not change), and the one-time fees of what was added."""
    lines: list[Line] = []
    old_price = period_price(pricer, old, interval)
    new_price = period_price(pricer, new, interval)
    if old_price != new_price:
        priced = old if old is not None else new
        assert priced is not None  # the prices differ, so one side exists
        currency = pricer.quote(priced, interval).currency
        proration = prorate(period, at, old_price, new_price, currency)
        span = f"{_local(at, zone)} – {_last_day(period, zone)}"
        for config, amount, label, code in (
            (old, proration.credit, "Unused time", "proration:credit"),
            (new, proration.charge, "Remaining time", "proration:charge"),
        ):
            if config is not None and amount:
                lines.append(
                    Line(
                        kind=LineKind.PRORATION,
                        code=code,
                        description=f"{label}: {describe(pricer, config)}, {span}",
                        quantity=Decimal(1),
                        unit_amount=amount,
                        amount=amount,
                    )
                )
    if new is not None:
        before = (
            {line.code for line in one_time_lines(pricer.quote(old, interval))} if old else set()
        )
        lines += one_time_lines(pricer.quote(new, interval), skip=before)
    return lines


def period_lines(
    pricer: Pricer,
    period: BillingPeriod,
    interval: Interval,
    history: History,
    zone: ZoneInfo,
    *,
    first: bool,
) -> list[Line]:
    """Recurring, discount, proration and one-time lines of ``period`` (see the module
    docstring); empty when the subscription had ended before the period began."""
    start_config = history.at(period.start)
    if start_config is None:
        return []
    quote = pricer.quote(start_config, interval)
    lines = recurring_lines(quote, interval)
    if first:
        lines += one_time_lines(quote)
    before: Config | None = start_config
    for at, config in history.steps(period.start, period.end):
        lines += change_lines(pricer, period, interval, at, before, config, zone)
        before = config
    return lines


def included_minutes(
    history: History,
    period: BillingPeriod,
    interval: Interval,
    package_minutes: Callable[[Config], int],
) -> int:
    """The traffic package's minutes included in ``period``: each configuration's
    ``package_minutes`` × months, weighted by the seconds of the period it was held,
    summed and rounded down once to whole minutes. A period without changes includes the
    whole package; after the subscription ends nothing is held.

    1,000 minutes for 20 of March's 31 days, then 3,000 for the last 11:
    (1,000 × 20 + 3,000 × 11) / 31 = 1,709.67… → 1,709.
    """
    weighted = sum(
        package_minutes(config) * seconds
        for config, seconds in held_spans(history, period)
        if config.traffic_package
    )
    return weighted * interval.months // period.seconds


def held_spans(history: History, period: BillingPeriod) -> list[tuple[Config, int]]:
    """Each configuration held during ``period``, in time order, with the seconds it was
    held; nothing after the subscription ended. The weights of :func:`included_minutes`
    and :func:`held_months`, so minutes and commitments are prorated alike."""
    held = [(period.start, history.at(period.start))]
    held += history.steps(period.start, period.end)
    spans = []
    for (since, config), (until, _) in zip(held, [*held[1:], (period.end, None)], strict=True):
        if config is not None:
            spans.append((config, int((until - since).total_seconds())))
    return spans


def held_months(history: History, period: BillingPeriod, interval: Interval) -> Fraction:
    """How many months of ``period`` the subscription was held, exactly: the period's
    months × the seconds held / the period's seconds. A whole monthly period is 1, a whole
    annual one 12; a last period cut short by an immediate cancellation its share (10 of
    30 days: 1/3)."""
    seconds = sum(seconds for _, seconds in held_spans(history, period))
    return Fraction(seconds * interval.months, period.seconds)


@dataclass(frozen=True, slots=True)
class UsageGroup:
    """Rated usage of one destination (e.g. "Moscow mobile") within a period."""

    destination: str
    calls: int
    seconds: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class RatedUsage:
    """One rated call as billing sees it; ``included`` says whether the traffic package's
    minutes may cover it (domestic destinations)."""

    destination: str
    seconds: int
    amount: Decimal
    included: bool


def usage_groups(calls: Sequence[RatedUsage], included_seconds: int) -> list[UsageGroup]:
    """Group ``calls`` (in the order they started) by destination, the package's
    ``included_seconds`` applied first to the earliest calls it covers.

    A covered call is free; the call that uses up the allowance pays for its seconds beyond
    it, in proportion (``amount × uncovered / seconds``); later calls pay in full. Amounts
    stay exact: lines round once (:func:`usage_lines`).
    """
    groups: dict[str, UsageGroup] = {}
    left = included_seconds
    for call in calls:
        amount = call.amount
        if call.included and left > 0 and call.seconds > 0:
            free = min(left, call.seconds)
            left -= free
            amount = call.amount * (call.seconds - free) / call.seconds
        group = groups.get(call.destination) or UsageGroup(call.destination, 0, 0, ZERO)
        groups[call.destination] = UsageGroup(
            call.destination, group.calls + 1, group.seconds + call.seconds, group.amount + amount
        )
    return list(groups.values())


def usage_lines(groups: Sequence[UsageGroup], currency: str) -> list[Line]:
    """One line per destination: the sum of its rated calls, rounded once."""
    return [
        Line(
            kind=LineKind.USAGE,
            code="usage",
            description=f"Calls to {group.destination}: {group.calls} "
            + ("call" if group.calls == 1 else "calls"),
            quantity=(Decimal(group.seconds) / 60).quantize(Decimal("0.01")),
            unit_amount=None,
            amount=quantize(group.amount, currency),
        )
        for group in sorted(groups, key=lambda g: g.destination)
    ]


#: How the lines of late calls begin: readers of invoices tell them from a period's own.
LATE_USAGE = "Calls from earlier periods"


@dataclass(frozen=True, slots=True)
class LateUsage:
    """A rated call of a period already invoiced (imported after that invoice): billed on
    a later invoice at its rated cost, never covered by that invoice's included minutes."""

    day: date
    destination: str
    seconds: int
    amount: Decimal


def late_usage_lines(calls: Sequence[LateUsage], currency: str) -> list[Line]:
    """One line per destination for calls of earlier periods, apart from the period's own
    calls ("Calls from earlier periods: Russia mobile, 2025-03-15: 1 call"), with the
    days they were made; the sum of their rated costs, rounded once."""
    groups: dict[str, list[LateUsage]] = {}
    for call in calls:
        groups.setdefault(call.destination, []).append(call)
    lines = []
    for destination in sorted(groups):
        group = groups[destination]
        first, last = min(c.day for c in group), max(c.day for c in group)
        days = first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"
        count = len(group)
        lines.append(
            Line(
                kind=LineKind.USAGE,
                code="usage",
                description=f"{LATE_USAGE}: {destination}, {days}: {count} "
                + ("call" if count == 1 else "calls"),
                quantity=(Decimal(sum(c.seconds for c in group)) / 60).quantize(Decimal("0.01")),
                unit_amount=None,
                amount=quantize(sum((c.amount for c in group), ZERO), currency),
            )
        )
    return lines


def _amount(value: Decimal) -> str:
    return f"{value:,.2f}"


def commitment_lines(
    monthly: Decimal, months: Fraction, usage: Decimal, currency: str
) -> list[Line]:
    """The top-up of a period's calls to a minimum commitment of ``monthly`` a month.

    ``months`` is the period's share of months (:func:`held_months`); ``usage`` the
    period's own call charges as the usage lines price them: after included minutes,
    without late calls of earlier periods, recurring fees or VAT added. The commitment due
    is ``monthly × months`` rounded once, half-up; when ``usage`` (rounded like a line)
    falls below it, one line of the difference, otherwise none.

    20,000.00 a month, calls of 12,345.67: a shortfall of 7,654.33. A last period of 10
    of 30 days owes 20,000 × 10 / 30 = 6,666.67.
    """
    due = quantize(monthly * months.numerator / months.denominator, currency)
    calls = quantize(usage, currency)
    if due <= 0 or calls >= due:
        return []
    shortfall = due - calls
    share = "" if months == 1 else f", {_amount(due)} for this period"
    return [
        Line(
            kind=LineKind.COMMITMENT,
            code="commitment",
            description=f"Minimum call commitment {_amount(quantize(monthly, currency))} a "
            f"month{share}: shortfall (calls {_amount(calls)})",
            quantity=Decimal(1),
            unit_amount=shortfall,
            amount=shortfall,
        )
    ]


@dataclass(frozen=True, slots=True)
class Credit:
    """A credit granted to the customer (referral reward, goodwill) not yet used up."""

    key: int
    description: str
    amount: Decimal


def credit_lines(credits: Sequence[Credit], room: Decimal) -> tuple[list[Line], dict[int, Decimal]]:
    """Apply ``credits`` in order without taking the invoice below zero: ``room`` is the
    invoice's amount before credits. Returns the lines and the amount used of each credit."""
    lines, used = [], {}
    for credit in credits:
        if room <= 0:
            break
        amount = min(credit.amount, room)
        room -= amount
        used[credit.key] = amount
        lines.append(
            Line(
                kind=LineKind.CREDIT,
                code="credit",
                description=credit.description,
                quantity=Decimal(1),
                unit_amount=-amount,
                amount=-amount,
            )
        )
    return lines, used


class DiscountKind(StrEnum):
    PERCENT = "percent"
    AMOUNT = "amount"
    FREE_MONTHS = "free_months"


@dataclass(frozen=True, slots=True)
class PeriodDiscount:
    """A discount granted on a subscription's recurring fees (a promotion): ``value``
    percent, an amount off per period, or months free; ``left`` is how many periods (for
    free months: months) it may still cover, ``None`` for no end."""

    code: str
    kind: DiscountKind
    value: Decimal
    description: str
    left: int | None = None


def discount_lines(
    discounts: Sequence[PeriodDiscount], base: Decimal, months: int, currency: str
) -> tuple[list[Line], dict[str, int]]:
    """Negative lines of ``discounts`` on a period whose recurring fees, after the plan's
    own discounts, come to ``base`` over ``months`` months; each is rounded once.

    They apply in order, each on what the ones before it left, and never take the fees
    below zero: a percentage is of the remainder, a fixed amount is capped by it, and free
    months take ``covered / months`` of it, ``covered`` being the months still free
    (at most the period's). Returns the lines and, per discount code, what it used up
    (one period, or the months covered)."""
    lines, used = [], {}
    room = base
    for discount in discounts:
        if room <= 0 or discount.left == 0:
            continue
        if discount.kind is DiscountKind.PERCENT:
            amount, spent = quantize(room * min(discount.value, Decimal(100)) / 100, currency), 1
        elif discount.kind is DiscountKind.AMOUNT:
            amount, spent = min(quantize(discount.value, currency), room), 1
        else:
            covered = months if discount.left is None else min(discount.left, months)
            amount, spent = quantize(room * covered / months, currency), covered
        if amount <= 0:
            continue
        room -= amount
        used[discount.code] = spent
        lines.append(
            Line(
                kind=LineKind.DISCOUNT,
                code=discount.code,
                description=discount.description,
                quantity=Decimal(spent),
                unit_amount=-amount if spent == 1 else None,
                amount=-amount,
            )
        )
    return lines, used


@dataclass(frozen=True, slots=True)
class VatRule:
    """The operator's VAT: ``rate`` percent, ``included`` in prices (Russian B2C) or added."""

    rate: Decimal
    included: bool


def taxed(lines: Iterable[Line], vat: VatRule, currency: str) -> list[Line]:
    """``lines`` with VAT computed per line, rounded once, and each line's total."""
    result = []
    for line in lines:
        if vat.included:
            tax = quantize(line.amount * vat.rate / (100 + vat.rate), currency)
            total = line.amount
        else:
            tax = quantize(line.amount * vat.rate / 100, currency)
            total = line.amount + tax
        result.append(replace(line, vat_amount=tax, total=total))
    return result


@dataclass(frozen=True, slots=True)
class Totals:
    net: Decimal
    vat: Decimal
    total: Decimal


def totals(lines: Iterable[Line], currency: str) -> Totals:
    """Exact sums of the lines: ``net + vat == total`` always."""
    zero = quantize(ZERO, currency)
    vat = sum((line.vat_amount for line in lines), zero)
    total = sum((line.total for line in lines), zero)
    return Totals(net=total - vat, vat=vat, total=total)


def recurring_charged_twice(lines: Iterable[Line]) -> list[str]:
    """Codes of recurring fees that appear more than once: an invoice showing one must not
    be finalised (a period's fee is charged once; changes appear as prorations)."""
    seen: set[str] = set()
    twice = []
    for line in lines:
        if line.kind is LineKind.RECURRING:
            if line.code in seen:
                twice.append(line.code)
            seen.add(line.code)
    return twice


__all__ = [
    "LATE_USAGE",
    "Config",
    "Credit",
    "DiscountKind",
    "History",
    "LateUsage",
    "Line",
    "LineKind",
    "OptionSpan",
    "PeriodDiscount",
    "PlanChange",
    "Pricer",
    "Totals",
    "UsageGroup",
    "VatRule",
    "change_lines",
    "commitment_lines",
    "credit_lines",
    "describe",
    "discount_lines",
    "held_months",
    "held_spans",
    "included_minutes",
    "late_usage_lines",
    "one_time_lines",
    "period_lines",
    "period_price",
    "recurring_charged_twice",
    "recurring_lines",
    "taxed",
    "totals",
    "usage_lines",
]
