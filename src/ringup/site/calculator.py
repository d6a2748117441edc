"""What the pricing pages show: plan cards, the calculator's state and related products.

Every figure comes from :func:`ringup.catalog.services.price`, the function behind the
quote API, so the page, a saved quote and the API never disagree.
"""

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from functools import cached_property

from ringup.catalog import selectors, services
from ringup.catalog.models import NumberKind, Option, Plan, RelatedProduct, Segment
from ringup.engine import pricing

from .breakdown import Breakdown
from .forms import CalculatorForm, CodeListField, selection_query


@dataclass(frozen=True)
class PlanCard:
    plan: Plan
    #: The plan at its smallest selection: what "from … a month" promises.
    cheapest: pricing.Quote


@dataclass(frozen=True)
class Calculator:
    plan: Plan
    form: CalculatorForm
    manager_mode: bool
    #: Both ``None`` while a field has an error: then nothing is priced.
    request: services.QuoteRequest | None
    quote: pricing.Quote | None

    @cached_property
    def breakdown(self) -> Breakdown | None:
        return Breakdown.of(self.quote) if self.quote else None

    @cached_property
    def annual_saving(self) -> Decimal | None:
        """What paying a year ahead saves on this selection."""
        if self.request is None:
            return None
        return pricing.annual_saving(self.price_list, self.request.as_selection())

    @property
    def link_query(self) -> str:
        """The priced selection as a query string, for "Try free" and "Buy" (no plan:
        buy links name it in the path)."""
        if self.request is None:
            return ""
        data = self.form.cleaned_data
        return selection_query(
            employees=self.request.employees,
            extra_numbers=data["extra_numbers"] or 0,
            options=self.request.options,
            traffic_package=self.request.traffic_package,
            period=self.request.period,
        )

    @property
    def shown_fields(self) -> list:
        """The form's fields that have an input on the page, each with an error slot."""
        names = ["employees", "extra_numbers", "options", "traffic_package", "period"]
        if self.tollfree_number:
            names.append("tollfree_numbers")
        if self.manager_mode:
            names += ["customer_name", "discount_percent"]
        return [self.form[name] for name in names]

    @cached_property
    def price_list(self) -> pricing.PlanPrice:
        return selectors.plan_price(self.plan)

    @property
    def options(self) -> list[Option]:
        """The plan's options that are sold in its currency, with their descriptions."""
        offered = self.price_list.options
        return [option for option in self.plan.options.all() if option.code in offered]

    @property
    def chosen_options(self) -> list[Option]:
        return [option for option in self.options if option.code in self.values["options"]]

    @property
    def local_number(self) -> pricing.NumberPrice | None:
        return self.price_list.numbers.get(NumberKind.LOCAL)

    @property
    def tollfree_number(self) -> pricing.NumberPrice | None:
        return self.price_list.numbers.get(NumberKind.TOLLFREE)

    @property
    def traffic_packages(self) -> list[pricing.TrafficPackagePrice]:
        return list(self.price_list.traffic_packages.values())

    @cached_property
    def values(self) -> dict:
        """What the inputs show: the visitor's own text, even when it is invalid, so a
        typo can be corrected rather than retyped."""

        def shown(name: str, default):
            value = self.form[name].value()
            return default if value in (None, "") else value

        return {
            "employees": shown("employees", self.plan.min_employees),
            "extra_numbers": shown("extra_numbers", 0),
            "tollfree_numbers": shown("tollfree_numbers", 0),
            "options": set(CodeListField().to_python(self.form["options"].value())),
            "traffic_package": shown("traffic_package", ""),
            "period": shown("period", pricing.Period.MONTHLY.value),
            "customer_name": shown("customer_name", ""),
            "discount_percent": shown("discount_percent", ""),
            "origin": shown("origin", ""),
        }


def build(data, plan: Plan, *, manager_mode: bool, promo_code: str = "") -> Calculator:
    """Parse ``data`` as a selection on ``plan`` and price it; bad fields become the
    form's errors (the engine's messages, per field), never an exception. A
    ``promo_code`` that applies adds its discount line to the quote."""
    form = CalculatorForm(data)
    if not form.is_valid():
        return Calculator(plan, form, manager_mode, None, None)
    request = replace(form.quote_request(plan, manager_mode=manager_mode), promo_code=promo_code)
    try:
        _, quote = services.price(request)
    except pricing.SelectionError as error:
        form.add_engine_errors(plan, error.errors)
        return Calculator(plan, form, manager_mode, None, None)
    return Calculator(plan, form, manager_mode, request, quote)


def plan_cards(plans: list[Plan]) -> list[PlanCard]:
    return [PlanCard(plan, cheapest(plan)) for plan in plans]


def cheapest(plan: Plan) -> pricing.Quote:
    _, quote = services.price(services.QuoteRequest(plan=plan.code))
    return quote


def default_plan(plans: list[Plan]) -> Plan | None:
    """The small-and-medium-business plan: most visitors of a cloud PBX site are there."""
    return next((p for p in plans if p.segment == Segment.SMB), plans[0] if plans else None)


@dataclass(frozen=True)
class Suggestion:
    """A related product as the page shows it."""

    item: RelatedProduct
    #: For a related plan, its cheapest quote; options show their own fee.
    plan_from: pricing.Quote | None


def suggestions(plan: Plan, *, at: datetime, seed: str) -> list[Suggestion]:
    """The related products shown as "often taken with this plan", rotated by ``seed``."""
    items = selectors.related_products(plan, at=at, seed=seed)
    return [
        Suggestion(item, cheapest(item.related_plan) if item.related_plan else None)
        for item in items
    ]
