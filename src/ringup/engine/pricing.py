"""Tariff pricing: one function turns a plan's price list and a customer's choices into a
quote with every line visible.

The public calculator, the quote API, the plan advisor and (later) the sales proposals all
call :func:`price_quote`, so a visitor, a sales manager and an invoice never disagree.

Conventions
-----------
* Recurring lines are monthly amounts; one-time lines are paid once.
* ``monthly_total`` is the sum of recurring lines (after discounts), ``one_time_total`` the
  sum of one-time lines, and ``period_total = monthly_total × months + one_time_total``
  where ``months`` is 1 (monthly) or 12 (annual).
* Each line is rounded once, to the currency's minor unit; totals are exact sums of lines.
* Discounts are negative recurring lines: first the sales manager's discount, then the
  annual prepayment discount on what remains.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

from .money import ZERO, percent_of, quantize

#: Sanity limits that catch typos ("1000000 employees") before they reach a price.
MAX_EMPLOYEES = 100_000
MAX_NUMBERS = 10_000


class Period(StrEnum):
    MONTHLY = "monthly"
    ANNUAL = "annual"

    @property
    def months(self) -> int:
        return 12 if self is Period.ANNUAL else 1


class LineKind(StrEnum):
    RECURRING = "recurring"
    ONE_TIME = "one_time"


@dataclass(frozen=True, slots=True)
class OptionPrice:
    """A paid add-on. ``per_employee`` options are charged once per employee."""

    code: str
    name: str
    monthly_fee: Decimal
    setup_fee: Decimal = ZERO
    per_employee: bool = False


@dataclass(frozen=True, slots=True)
class NumberPrice:
    """Price of one phone number of a kind (local, toll-free …) on a plan."""

    kind: str
    name: str
    monthly_fee: Decimal
    setup_fee: Decimal = ZERO
    included: int = 0


@dataclass(frozen=True, slots=True)
class TrafficPackagePrice:
    """A minute bundle paid monthly whether used or not (a guaranteed traffic payment)."""

    code: str
    name: str
    minutes: int
    monthly_fee: Decimal


@dataclass(frozen=True, slots=True)
class PlanPrice:
    """Everything needed to price one plan, in one currency."""

    code: str
    name: str
    currency: str
    monthly_fee: Decimal
    per_employee: Decimal = ZERO
    setup_fee: Decimal = ZERO
    included_employees: int = 0
    min_employees: int = 1
    max_employees: int = MAX_EMPLOYEES
    annual_discount_percent: Decimal = ZERO
    max_manager_discount_percent: Decimal = ZERO
    options: Mapping[str, OptionPrice] = field(default_factory=dict)
    numbers: Mapping[str, NumberPrice] = field(default_factory=dict)
    traffic_packages: Mapping[str, TrafficPackagePrice] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Selection:
    """What the customer picked. ``None`` counts mean "the plan's default"."""

    employees: int | None = None
    numbers: Mapping[str, int] = field(default_factory=dict)
    options: Sequence[str] = ()
    traffic_package: str | None = None
    period: Period = Period.MONTHLY
    manager_discount_percent: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class QuoteLine:
    kind: LineKind
    code: str
    description: str
    quantity: int
    unit_amount: Decimal
    amount: Decimal
    per_employee: bool = False


@dataclass(frozen=True, slots=True)
class Quote:
    plan_code: str
    currency: str
    period: Period
    employees: int
    lines: tuple[QuoteLine, ...]
    monthly_total: Decimal
    one_time_total: Decimal
    period_total: Decimal
    per_employee_total: Decimal

    @property
    def months(self) -> int:
        return self.period.months


class SelectionError(ValueError):
    """The selection cannot be priced; ``errors`` maps each bad field to its message."""

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


def _validate(plan: PlanPrice, selection: Selection) -> tuple[int, dict[str, int], list[str]]:
    errors: dict[str, str] = {}
    employees = plan.min_employees if selection.employees is None else selection.employees
    upper = min(plan.max_employees, MAX_EMPLOYEES)
    if employees < plan.min_employees or employees > upper:
        errors["employees"] = (
            f"must be between {plan.min_employees} and {upper} on plan {plan.code}"
        )
    numbers: dict[str, int] = {}
    for kind, count in selection.numbers.items():
        if kind not in plan.numbers:
            errors[f"numbers.{kind}"] = f"{kind} numbers are not offered on plan {plan.code}"
        elif count < 0 or count > MAX_NUMBERS:
            errors[f"numbers.{kind}"] = f"must be between 0 and {MAX_NUMBERS}"
        else:
            numbers[kind] = count
    options: list[str] = []
    unknown = [code for code in selection.options if code not in plan.options]
    if unknown:
        errors["options"] = f"not available on plan {plan.code}: {', '.join(unknown)}"
    for code in selection.options:
        if code in plan.options and code not in options:
            options.append(code)
    package = selection.traffic_package
    if package and package not in plan.traffic_packages:
        errors["traffic_package"] = f"{package} is not offered on plan {plan.code}"
    discount = selection.manager_discount_percent
    if discount < ZERO or discount > plan.max_manager_discount_percent:
        errors["discount_percent"] = (
            f"must be between 0 and {plan.max_manager_discount_percent}% on plan {plan.code}"
        )
    if errors:
        raise SelectionError(errors)
    return employees, numbers, options


def _line(
    kind: LineKind,
    code: str,
    description: str,
    quantity: int,
    unit: Decimal,
    currency: str,
    per_employee: bool = False,
) -> QuoteLine:
    return QuoteLine(
        kind=kind,
        code=code,
        description=description,
        quantity=quantity,
        unit_amount=quantize(unit, currency),
        amount=quantize(unit * quantity, currency),
        per_employee=per_employee,
    )


def _recurring_lines(
    plan: PlanPrice,
    employees: int,
    numbers: Mapping[str, int],
    options: Sequence[str],
    package: str | None,
) -> list[QuoteLine]:
    cur, rec = plan.currency, LineKind.RECURRING
    lines = [_line(rec, plan.code, f"{plan.name}: monthly fee", 1, plan.monthly_fee, cur)]
    charged_employees = max(0, employees - plan.included_employees)
    if plan.per_employee and charged_employees:
        lines.append(
            _line(
                rec,
                "employees",
                "Employees (users)",
                charged_employees,
                plan.per_employee,
                cur,
                per_employee=True,
            )
        )
    for kind, count in numbers.items():
        number = plan.numbers[kind]
        extra = max(0, count - number.included)
        if extra and number.monthly_fee:
            lines.append(_line(rec, f"number:{kind}", number.name, extra, number.monthly_fee, cur))
    for code in options:
        option = plan.options[code]
        quantity = employees if option.per_employee else 1
        if option.monthly_fee:
            lines.append(
                _line(
                    rec,
                    code,
                    option.name,
                    quantity,
                    option.monthly_fee,
                    cur,
                    per_employee=option.per_employee,
                )
            )
    if package:
        traffic = plan.traffic_packages[package]
        lines.append(_line(rec, package, traffic.name, 1, traffic.monthly_fee, cur))
    return lines


def _one_time_lines(
    plan: PlanPrice, employees: int, numbers: Mapping[str, int], options: Sequence[str]
) -> list[QuoteLine]:
    cur, once = plan.currency, LineKind.ONE_TIME
    lines = []
    if plan.setup_fee:
        lines.append(_line(once, plan.code, f"{plan.name}: connection", 1, plan.setup_fee, cur))
    for kind, count in numbers.items():
        number = plan.numbers[kind]
        extra = max(0, count - number.included)
        if extra and number.setup_fee:
            lines.append(
                _line(
                    once,
                    f"number:{kind}",
                    f"{number.name}: connection",
                    extra,
                    number.setup_fee,
                    cur,
                )
            )
    for code in options:
        option = plan.options[code]
        if option.setup_fee:
            quantity = employees if option.per_employee else 1
            lines.append(
                _line(once, code, f"{option.name}: setup", quantity, option.setup_fee, cur)
            )
    return lines


def _discount(code: str, description: str, base: Decimal, percent: Decimal, cur: str) -> QuoteLine:
    amount = -percent_of(base, percent, cur)
    return QuoteLine(LineKind.RECURRING, code, description, 1, amount, amount)


def price_quote(plan: PlanPrice, selection: Selection) -> Quote:
    """Price ``selection`` on ``plan``.

    Raises :class:`SelectionError` naming each field that cannot be priced (an option or
    package the plan does not offer, a count out of range, a discount above the plan's cap).
    """
    employees, numbers, options = _validate(plan, selection)
    cur = plan.currency
    recurring = _recurring_lines(plan, employees, numbers, options, selection.traffic_package)
    subtotal = sum((line.amount for line in recurring), ZERO)
    if selection.manager_discount_percent:
        pct = selection.manager_discount_percent
        recurring.append(
            _discount("manager_discount", f"Discount {pct.normalize():f}%", subtotal, pct, cur)
        )
        subtotal = sum((line.amount for line in recurring), ZERO)
    if selection.period is Period.ANNUAL and plan.annual_discount_percent:
        pct = plan.annual_discount_percent
        recurring.append(
            _discount(
                "annual_discount",
                f"Annual prepayment discount {pct.normalize():f}%",
                subtotal,
                pct,
                cur,
            )
        )
    one_time = _one_time_lines(plan, employees, numbers, options)
    zero = quantize(ZERO, cur)
    monthly_total = sum((line.amount for line in recurring), zero)
    one_time_total = sum((line.amount for line in one_time), zero)
    return Quote(
        plan_code=plan.code,
        currency=cur,
        period=selection.period,
        employees=employees,
        lines=(*recurring, *one_time),
        monthly_total=monthly_total,
        one_time_total=one_time_total,
        period_total=monthly_total * selection.period.months + one_time_total,
        per_employee_total=sum((line.amount for line in recurring if line.per_employee), zero),
    )


def annual_saving(plan: PlanPrice, selection: Selection) -> Decimal:
    """What paying a year ahead saves against twelve monthly payments."""
    monthly = price_quote(plan, replace(selection, period=Period.MONTHLY))
    annual = price_quote(plan, replace(selection, period=Period.ANNUAL))
    return (monthly.monthly_total - annual.monthly_total) * 12


def with_promotion(quote: Quote, code: str, description: str, amount: Decimal) -> Quote:
    """``quote`` with a promotion's discount on its first period: a negative line (kind
    one-time: it is what the first invoice is reduced by, whatever the promotion does
    later), at most the first period's recurring fees; ``period_total`` follows."""
    cap = quote.monthly_total * quote.months
    amount = min(quantize(amount, quote.currency), cap)
    if amount <= 0:
        return quote
    line = QuoteLine(LineKind.ONE_TIME, code, description, 1, -amount, -amount)
    return replace(
        quote,
        lines=(*quote.lines, line),
        one_time_total=quote.one_time_total - amount,
        period_total=quote.period_total - amount,
    )


__all__ = [
    "LineKind",
    "NumberPrice",
    "OptionPrice",
    "Period",
    "PlanPrice",
    "Quote",
    "QuoteLine",
    "Selection",
    "SelectionError",
    "TrafficPackagePrice",
    "annual_saving",
    "price_quote",
    "with_promotion",
]
