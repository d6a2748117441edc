"""Total cost of ownership: an on-premise IP-PBX against our hosted PBX over 1–5 years.

Conventions (docs/sales-formulas.md, "TCO / ROI", has a worked example):

* Month 0 carries the one-time costs (purchase, licences, phones, installation; our
  one-time fees and phones). Months 1 … 12 × years carry the monthly items. Maintenance is
  ``maintenance_percent`` % of the purchase per year, paid with the first month of each
  year (months 1, 13, 25 …). Year 1 is months 0–12, year *y* > 1 months 12(y−1)+1 … 12y.
* Each line is an exact amount rounded once, half-up, to the currency's minor unit; a
  year's cost is the sum of its lines, cumulative figures are sums of years.
* Saving = on-premise − hosted (positive: hosted is cheaper).
* **Payback month**: the first month *m* (0 … 12 × years) from which the cumulative saving
  stays ≥ 0 to the end of the horizon — the month it turns non-negative for good (a month
  0 without one-time costs, saving 0, is no payback when the months after it lose). 0
  means the hosted PBX is never behind; None that it is still behind at the end.
* **NPV** of the saving at the yearly discount rate *r*: Σ saving_m / (1 + r)^(m/12) over
  months 0 … 12 × years (month 0 undiscounted), rounded to the minor unit.

Every figure is traceable: each year carries the :class:`TcoLine` s it sums, with the
formula and the inputs that make the amount.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from decimal import Decimal

from .money import MoneyError, minor_unit, quantize

ZERO = Decimal(0)
MAX_YEARS = 5
_MONTHS_PER_YEAR = 12
_HUNDRED = Decimal(100)


class TcoError(ValueError):
    """The TCO inputs cannot be used; ``errors`` maps each bad field to its message."""

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


@dataclass(frozen=True, slots=True)
class OnPremise:
    """Owning an IP-PBX: one-time costs, then monthly and yearly running costs."""

    purchase: Decimal = ZERO  # PBX hardware and software bought outright
    rent_monthly: Decimal = ZERO  # or rented from a vendor
    licences: Decimal = ZERO  # one-time user/feature licences
    phones: Decimal = ZERO
    installation: Decimal = ZERO
    line_rental_monthly: Decimal = ZERO  # SIP trunk or PRI line rental
    maintenance_percent: Decimal = Decimal(15)  # % of the purchase a year (typically 10–20)
    it_hours_monthly: Decimal = ZERO  # in-house IT staff time spent on the PBX
    it_hourly_rate: Decimal = ZERO
    power_space_monthly: Decimal = ZERO
    calls_monthly: Decimal = ZERO  # current call charges (bill analysis: monthly average)


@dataclass(frozen=True, slots=True)
class Hosted:
    """Our hosted PBX: the quote's monthly total, one-time fees, phones, re-rated calls."""

    monthly_fee: Decimal = ZERO  # plan + employees + numbers + options (quote engine)
    one_time: Decimal = ZERO  # connection and set-up fees (quote engine)
    phones: Decimal = ZERO
    calls_monthly: Decimal = ZERO  # re-rated calls beyond included minutes (monthly average)
    #: The quote's recurring lines as (description, monthly amount), discounts negative:
    #: given, they replace the one subscription line and must add up to ``monthly_fee``.
    subscription_lines: tuple[tuple[str, Decimal], ...] = ()


@dataclass(frozen=True, slots=True)
class TcoLine:
    """One traceable amount: ``key`` (stable id), English ``label``, the ``formula`` with
    its inputs, and the ``amount`` it comes to."""

    key: str
    label: str
    formula: str
    amount: Decimal

    def to_json(self) -> dict[str, str]:
        return {
            "key": self.key,
            "label": self.label,
            "formula": self.formula,
            "amount": str(self.amount),
        }


@dataclass(frozen=True, slots=True)
class TcoYear:
    """One year on both sides, its lines and the running totals."""

    year: int
    on_premise: Decimal
    hosted: Decimal
    cumulative_on_premise: Decimal
    cumulative_hosted: Decimal
    on_premise_lines: tuple[TcoLine, ...]
    hosted_lines: tuple[TcoLine, ...]

    @property
    def saving(self) -> Decimal:
        return self.on_premise - self.hosted

    @property
    def cumulative_saving(self) -> Decimal:
        return self.cumulative_on_premise - self.cumulative_hosted

    def to_json(self) -> dict[str, object]:
        return {
            "year": self.year,
            "on_premise": str(self.on_premise),
            "hosted": str(self.hosted),
            "saving": str(self.saving),
            "cumulative_on_premise": str(self.cumulative_on_premise),
            "cumulative_hosted": str(self.cumulative_hosted),
            "cumulative_saving": str(self.cumulative_saving),
            "on_premise_lines": [line.to_json() for line in self.on_premise_lines],
            "hosted_lines": [line.to_json() for line in self.hosted_lines],
        }


@dataclass(frozen=True, slots=True)
class Tco:
    """The comparison over the horizon (see the module docstring)."""

    years: tuple[TcoYear, ...]
    payback_month: int | None
    npv: Decimal
    discount_rate: Decimal
    currency: str

    @property
    def total_on_premise(self) -> Decimal:
        return self.years[-1].cumulative_on_premise

    @property
    def total_hosted(self) -> Decimal:
        return self.years[-1].cumulative_hosted

    @property
    def total_saving(self) -> Decimal:
        return self.years[-1].cumulative_saving

    def to_json(self) -> dict[str, object]:
        return {
            "currency": self.currency,
            "discount_rate": str(self.discount_rate),
            "payback_month": self.payback_month,
            "npv": str(self.npv),
            "total_on_premise": str(self.total_on_premise),
            "total_hosted": str(self.total_hosted),
            "total_saving": str(self.total_saving),
            "years": [year.to_json() for year in self.years],
        }


@dataclass(frozen=True, slots=True)
class _Item:
    """A cost that recurs on some months: ``amount`` on each month ``due`` says."""

    key: str
    label: str
    amount: Decimal
    formula: str
    due: Callable[[int], bool]


def _once(month: int) -> bool:
    return month == 0


def _monthly(month: int) -> bool:
    return month >= 1


def _yearly(month: int) -> bool:
    return month >= 1 and (month - 1) % _MONTHS_PER_YEAR == 0


def tco(
    on_premise: OnPremise,
    hosted: Hosted,
    *,
    years: int = 3,
    discount_rate: Decimal = Decimal(10),
    currency: str = "RUB",
) -> Tco:
    """Compare owning ``on_premise`` with renting ``hosted`` over ``years`` (1–5) at a
    yearly ``discount_rate`` in percent. Raises :class:`TcoError` naming bad fields."""
    _validate(on_premise, hosted, years, discount_rate, currency)
    ours = _hosted_items(hosted, currency)
    theirs = _on_premise_items(on_premise, currency)
    months = range(years * _MONTHS_PER_YEAR + 1)
    saving_by_month = [_due(theirs, m) - _due(ours, m) for m in months]
    return Tco(
        years=_years(theirs, ours, years, currency),
        payback_month=_payback(saving_by_month),
        npv=quantize(_npv(saving_by_month, discount_rate), currency),
        discount_rate=discount_rate,
        currency=currency,
    )


def _on_premise_items(p: OnPremise, currency: str) -> list[_Item]:
    def q(amount: Decimal) -> Decimal:
        return quantize(amount, currency)

    maintenance = q(p.purchase * p.maintenance_percent / _HUNDRED)
    it_staff = q(p.it_hours_monthly * p.it_hourly_rate)
    return [
        _Item("purchase", "PBX purchase", q(p.purchase), f"{q(p.purchase)}", _once),
        _Item("licences", "Licences", q(p.licences), f"{q(p.licences)}", _once),
        _Item("phones", "Phones", q(p.phones), f"{q(p.phones)}", _once),
        _Item("installation", "Installation", q(p.installation), f"{q(p.installation)}", _once),
        _Item("rent", "PBX rent", q(p.rent_monthly), f"{q(p.rent_monthly)} a month", _monthly),
        _Item(
            "line_rental",
            "SIP trunk / PRI line rental",
            q(p.line_rental_monthly),
            f"{q(p.line_rental_monthly)} a month",
            _monthly,
        ),
        _Item(
            "maintenance",
            "Maintenance",
            maintenance,
            f"{q(p.purchase)} × {p.maintenance_percent}% a year",
            _yearly,
        ),
        _Item(
            "it_staff",
            "IT staff time",
            it_staff,
            f"{p.it_hours_monthly} h × {q(p.it_hourly_rate)} a month",
            _monthly,
        ),
        _Item(
            "power_space",
            "Power and space",
            q(p.power_space_monthly),
            f"{q(p.power_space_monthly)} a month",
            _monthly,
        ),
        _Item(
            "calls", "Call charges", q(p.calls_monthly), f"{q(p.calls_monthly)} a month", _monthly
        ),
    ]


def _hosted_items(h: Hosted, currency: str) -> list[_Item]:
    def q(amount: Decimal) -> Decimal:
        return quantize(amount, currency)

    subscription = [
        _Item(f"subscription.{n}", label, q(amount), f"{q(amount)} a month", _monthly)
        for n, (label, amount) in enumerate(h.subscription_lines, start=1)
    ] or [
        _Item(
            "subscription",
            "Plan, employees, numbers and options",
            q(h.monthly_fee),
            f"{q(h.monthly_fee)} a month",
            _monthly,
        )
    ]
    return [
        _Item("one_time", "One-time fees", q(h.one_time), f"{q(h.one_time)}", _once),
        _Item("phones", "Phones", q(h.phones), f"{q(h.phones)}", _once),
        *subscription,
        _Item(
            "calls", "Call charges", q(h.calls_monthly), f"{q(h.calls_monthly)} a month", _monthly
        ),
    ]


def _due(items: Iterable[_Item], month: int) -> Decimal:
    return sum((item.amount for item in items if item.due(month)), ZERO)


def _year_months(year: int) -> range:
    first = 0 if year == 1 else _MONTHS_PER_YEAR * (year - 1) + 1
    return range(first, _MONTHS_PER_YEAR * year + 1)


def _lines(items: Iterable[_Item], year: int) -> tuple[TcoLine, ...]:
    """The year's lines: each item that falls due in the year, × the times it does."""
    lines = []
    for item in items:
        times = sum(1 for month in _year_months(year) if item.due(month))
        if not times or not item.amount:
            continue
        formula = item.formula if times == 1 else f"{times} × {item.formula}"
        lines.append(TcoLine(item.key, item.label, formula, item.amount * times))
    return tuple(lines)


def _years(
    theirs: list[_Item], ours: list[_Item], years: int, currency: str
) -> tuple[TcoYear, ...]:
    rows = []
    total_theirs = total_ours = ZERO
    for year in range(1, years + 1):
        their_lines, our_lines = _lines(theirs, year), _lines(ours, year)
        their_cost = sum((line.amount for line in their_lines), ZERO)
        our_cost = sum((line.amount for line in our_lines), ZERO)
        total_theirs += their_cost
        total_ours += our_cost
        rows.append(
            TcoYear(
                year=year,
                on_premise=quantize(their_cost, currency),
                hosted=quantize(our_cost, currency),
                cumulative_on_premise=quantize(total_theirs, currency),
                cumulative_hosted=quantize(total_ours, currency),
                on_premise_lines=their_lines,
                hosted_lines=our_lines,
            )
        )
    return tuple(rows)


def _payback(saving_by_month: list[Decimal]) -> int | None:
    cumulative = ZERO
    last_negative = -1
    for month, saving in enumerate(saving_by_month):
        cumulative += saving
        if cumulative < 0:
            last_negative = month
    if last_negative == len(saving_by_month) - 1:
        return None
    return last_negative + 1


def _npv(saving_by_month: list[Decimal], rate_percent: Decimal) -> Decimal:
    growth = 1 + rate_percent / _HUNDRED
    return sum(
        (
            saving / growth ** (Decimal(month) / _MONTHS_PER_YEAR)
            for month, saving in enumerate(saving_by_month)
        ),
        ZERO,
    )


def _subscription_errors(hosted: Hosted, currency: str) -> dict[str, str]:
    amounts = [amount for _, amount in hosted.subscription_lines]
    if not amounts:
        return {}
    if not all(isinstance(a, Decimal) and a.is_finite() for a in amounts):
        return {"hosted.subscription_lines": "every amount must be a number"}
    try:
        total = sum((quantize(a, currency) for a in amounts), ZERO)
        fee = quantize(hosted.monthly_fee, currency)
    except MoneyError:
        return {}  # the currency or the fee has its own error
    if total != fee:
        return {"hosted.subscription_lines": f"add up to {total}, not the monthly fee {fee}"}
    return {}


def _validate(
    on_premise: OnPremise, hosted: Hosted, years: int, discount_rate: Decimal, currency: str
) -> None:
    errors: dict[str, str] = {}
    for prefix, inputs in (("on_premise", on_premise), ("hosted", hosted)):
        for field in fields(inputs):
            if field.name == "subscription_lines":
                continue
            value = getattr(inputs, field.name)
            if not isinstance(value, Decimal) or not value.is_finite():
                errors[f"{prefix}.{field.name}"] = "must be a number"
            elif value < 0:
                errors[f"{prefix}.{field.name}"] = "must not be negative"
    if "on_premise.maintenance_percent" not in errors and on_premise.maintenance_percent > 100:
        errors["on_premise.maintenance_percent"] = "must be between 0 and 100 (typically 10–20)"
    errors.update(_subscription_errors(hosted, currency))
    if not isinstance(years, int) or not 1 <= years <= MAX_YEARS:
        errors["years"] = f"must be between 1 and {MAX_YEARS}"
    if not isinstance(discount_rate, Decimal) or not discount_rate.is_finite():
        errors["discount_rate"] = "must be a number"
    elif not 0 <= discount_rate <= 100:
        errors["discount_rate"] = "must be between 0 and 100 (% a year)"
    try:
        minor_unit(currency)
    except MoneyError as error:
        errors["currency"] = str(error)
    if errors:
        raise TcoError(errors)
