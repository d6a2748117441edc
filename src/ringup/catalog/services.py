"""Writes and commands of the catalog: pricing a selection, saving a quote, advising."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from ringup.engine import advisor, pricing

from . import selectors
from .models import Plan, Quote

QUOTE_VALID_DAYS = 30


@dataclass(frozen=True)
class QuoteRequest:
    """A selection as the calculator, the API and the advisor submit it."""

    plan: str
    employees: int | None = None
    numbers: int | None = None
    tollfree_numbers: int = 0
    options: tuple[str, ...] = ()
    traffic_package: str | None = None
    period: str = "monthly"
    discount_percent: Decimal = Decimal(0)
    customer_name: str = ""
    promo_code: str = ""
    selection_extra: dict = field(default_factory=dict)

    def as_selection(self) -> pricing.Selection:
        numbers = {}
        if self.numbers is not None:
            numbers["local"] = self.numbers
        if self.tollfree_numbers:
            numbers["tollfree"] = self.tollfree_numbers
        return pricing.Selection(
            employees=self.employees,
            numbers=numbers,
            options=self.options,
            traffic_package=self.traffic_package or None,
            period=pricing.Period(self.period),
            manager_discount_percent=self.discount_percent,
        )


def price_list(code: str) -> tuple[Plan, pricing.PlanPrice]:
    """The plan called ``code`` and its engine price list; an unknown plan is a
    :class:`pricing.SelectionError` on "plan", as every caller reports it."""
    found = selectors.priced_plan(code)
    if found is None:
        raise pricing.SelectionError({"plan": f"unknown plan {code!r}"})
    return found


#: Prices a request's promo code onto its quote; the promotions app, which sits above
#: the catalog, registers it when it loads (:func:`set_promo_pricer`).
_promo_pricer: Callable[[QuoteRequest, pricing.Quote], pricing.Quote] | None = None


def set_promo_pricer(
    pricer: Callable[[QuoteRequest, pricing.Quote], pricing.Quote] | None,
) -> None:
    """Have :func:`price` add the discount of a request's promo code to its quote (the
    pricer returns the quote unchanged when the code does not apply)."""
    global _promo_pricer
    _promo_pricer = pricer


def price(request: QuoteRequest) -> tuple[Plan, pricing.Quote]:
    """Price ``request``; raises :class:`pricing.SelectionError` for any bad field."""
    plan, plan_price = price_list(request.plan)
    if request.period not in {p.value for p in pricing.Period}:
        raise pricing.SelectionError({"period": "must be monthly or annual"})
    quote = pricing.price_quote(plan_price, request.as_selection())
    if request.promo_code and _promo_pricer is not None:
        quote = _promo_pricer(request, quote)
    return plan, quote


def line_dicts(quote: pricing.Quote) -> list[dict]:
    return [
        {
            "kind": str(line.kind),
            "code": line.code,
            "description": line.description,
            "quantity": line.quantity,
            "unit_amount": str(line.unit_amount),
            "amount": str(line.amount),
            "per_employee": line.per_employee,
        }
        for line in quote.lines
    ]


def create_quote(
    request: QuoteRequest, *, at: datetime, source: str = Quote.Source.CALCULATOR, manager=None
) -> Quote:
    """Price and save ``request`` as a shareable quote valid for 30 days from ``at``."""
    plan, priced = price(request)
    return Quote.objects.create(
        plan=plan,
        period=str(priced.period),
        employees=priced.employees,
        selection={
            "plan": request.plan,
            "employees": priced.employees,
            "numbers": request.numbers,
            "tollfree_numbers": request.tollfree_numbers,
            "options": list(request.options),
            "traffic_package": request.traffic_package,
            "period": request.period,
            **request.selection_extra,
        },
        currency=priced.currency,
        lines=line_dicts(priced),
        monthly_total=priced.monthly_total,
        one_time_total=priced.one_time_total,
        period_total=priced.period_total,
        per_employee_total=priced.per_employee_total,
        customer_name=request.customer_name,
        discount_percent=request.discount_percent,
        manager=manager,
        source=source,
        promo_code=request.promo_code,
        created_at=at,
        valid_until=at + timedelta(days=QUOTE_VALID_DAYS),
    )


def advise(answers: advisor.Answers) -> tuple[advisor.Advice, Plan, pricing.Quote]:
    """The advisor's recommendation, priced on the current catalog."""
    advice = advisor.advise(answers, selectors.advisor_plans())
    plan, priced = price(
        QuoteRequest(
            plan=advice.plan_code,
            employees=advice.employees,
            options=advice.option_codes,
            traffic_package=advice.traffic_package,
            tollfree_numbers=advice.tollfree_numbers,
        )
    )
    return advice, plan, priced
