"""Public catalog API: the price list, quotes and plan advice (stable contract, v1)."""

from datetime import datetime
from typing import Annotated, Literal

from django.utils import timezone
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict, StringConstraints

from ringup.engine import advisor

from . import selectors, services
from .models import Quote

router = Router(tags=["catalog"])

Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
Amount = Annotated[str, Field(description='Decimal amount as a string, e.g. "1490.00"')]


class OptionOut(Schema):
    code: str
    name: str
    description: str
    monthly_fee: Amount
    setup_fee: Amount
    per_employee: bool


class TrafficPackageOut(Schema):
    code: str
    name: str
    minutes: int
    monthly_fee: Amount


class NumberOut(Schema):
    kind: str
    name: str
    monthly_fee: Amount
    setup_fee: Amount
    included: int


class PlanOut(Schema):
    code: str
    name: str
    segment: Literal["micro", "smb", "enterprise"]
    currency: str
    monthly_fee: Amount
    per_employee: Amount
    setup_fee: Amount
    min_employees: int
    max_employees: int
    annual_discount_percent: Amount
    trial_days: int
    options: list[OptionOut]
    traffic_packages: list[TrafficPackageOut]
    numbers: list[NumberOut]


class CatalogOut(Schema):
    plans: list[PlanOut]


class QuoteIn(Schema):
    # Strict: `true` is not 1 employee and "12" is not a count; JSON clients send numbers.
    model_config = ConfigDict(strict=True)

    plan: Code
    employees: int | None = Field(None, ge=0, le=100_000)
    numbers: int | None = Field(None, ge=0, le=10_000, description="Local numbers wanted")
    tollfree_numbers: int = Field(0, ge=0, le=10_000)
    options: list[Code] = Field(default_factory=list, max_length=50)
    traffic_package: Code | None = None
    period: Literal["monthly", "annual"] = "monthly"
    promo_code: Annotated[str, StringConstraints(max_length=40)] | None = Field(
        None, description="Accepted; applied once promotions are configured."
    )


class LineOut(Schema):
    kind: Literal["recurring", "one_time"]
    code: str
    description: str
    quantity: int
    unit_amount: Amount
    amount: Amount


class QuoteOut(Schema):
    token: str
    url: str
    plan: str
    period: str
    employees: int
    currency: str
    lines: list[LineOut]
    monthly_total: Amount
    one_time_total: Amount
    period_total: Amount
    per_employee_total: Amount
    created_at: datetime
    valid_until: datetime


class AdviceIn(Schema):
    model_config = ConfigDict(strict=True)

    employees: int = Field(..., ge=1, le=100_000)
    agents: int = Field(0, ge=0, le=100_000)
    calls_per_day: int = Field(0, ge=0, le=10_000_000)
    missed_call_cost: Literal["low", "medium", "high"] = "medium"
    needs: list[Literal[tuple(advisor.NEEDS)]] = Field(default_factory=list)  # type: ignore[valid-type]


class AdviceOut(Schema):
    segment: Literal["micro", "smb", "enterprise"]
    plan: str
    options: list[str]
    traffic_package: str | None
    tollfree_numbers: int
    employees: int
    currency: str
    monthly_total: Amount
    one_time_total: Amount
    lines: list[LineOut]
    reasons: list[str]


class Message(Schema):
    detail: str


class FieldError(Schema):
    type: str
    loc: list[str | int] = Field(description='Where the error is, e.g. ["body", "employees"]')
    msg: str


class Unprocessable(Schema):
    detail: list[FieldError]


def _plan_out(plan) -> dict:
    price = selectors.plan_price(plan)
    return {
        "code": plan.code,
        "name": plan.name,
        "segment": plan.segment,
        "currency": plan.currency,
        "monthly_fee": str(plan.monthly_fee),
        "per_employee": str(plan.per_employee),
        "setup_fee": str(plan.setup_fee),
        "min_employees": plan.min_employees,
        "max_employees": plan.max_employees,
        "annual_discount_percent": str(plan.annual_discount_percent),
        "trial_days": plan.trial_days,
        "options": [
            {
                "code": o.code,
                "name": o.name,
                "description": o.description,
                "monthly_fee": str(o.monthly_fee),
                "setup_fee": str(o.setup_fee),
                "per_employee": o.per_employee,
            }
            for o in plan.options.all()
            if o.code in price.options
        ],
        "traffic_packages": [
            {
                "code": t.code,
                "name": t.name,
                "minutes": t.minutes,
                "monthly_fee": str(t.monthly_fee),
            }
            for t in price.traffic_packages.values()
        ],
        "numbers": [
            {
                "kind": n.kind,
                "name": n.name,
                "monthly_fee": str(n.monthly_fee),
                "setup_fee": str(n.setup_fee),
                "included": n.included,
            }
            for n in price.numbers.values()
        ],
    }


def quote_out(quote: Quote) -> dict:
    return {
        "token": quote.token,
        "url": f"/q/{quote.token}/",
        "plan": quote.plan.code,
        "period": quote.period,
        "employees": quote.employees,
        "currency": quote.currency,
        "lines": quote.lines,
        "monthly_total": str(quote.monthly_total),
        "one_time_total": str(quote.one_time_total),
        "period_total": str(quote.period_total),
        "per_employee_total": str(quote.per_employee_total),
        "created_at": quote.created_at,
        "valid_until": quote.valid_until,
    }


@router.get("/catalog", response=CatalogOut, summary="Public plans, options and prices")
def catalog(request):
    return {"plans": [_plan_out(plan) for plan in selectors.public_plans()]}


@router.post(
    "/quotes",
    response={201: QuoteOut, 400: Message, 422: Unprocessable},
    summary="Price a selection and save it",
)
def create_quote(request, payload: QuoteIn):
    quote = services.create_quote(
        services.QuoteRequest(
            plan=payload.plan,
            employees=payload.employees,
            numbers=payload.numbers,
            tollfree_numbers=payload.tollfree_numbers,
            options=tuple(payload.options),
            traffic_package=payload.traffic_package,
            period=payload.period,
            promo_code=payload.promo_code or "",
        ),
        at=timezone.now(),
        source=Quote.Source.API,
    )
    return Status(201, quote_out(quote))


@router.get("/quotes/{token}", response={200: QuoteOut, 404: Message}, summary="A saved quote")
def get_quote(request, token: str):
    quote = Quote.objects.select_related("plan").filter(token=token).first()
    if quote is None:
        return Status(404, {"detail": "no quote with this token"})
    return Status(200, quote_out(quote))


@router.post(
    "/advice",
    response={200: AdviceOut, 400: Message, 422: Unprocessable},
    summary="Recommend a plan from a few answers",
)
def advice(request, payload: AdviceIn):
    recommendation, plan, priced = services.advise(
        advisor.Answers(
            employees=payload.employees,
            agents=payload.agents,
            calls_per_day=payload.calls_per_day,
            missed_call_cost=advisor.MissedCallCost(payload.missed_call_cost),
            needs=frozenset(payload.needs),
        )
    )
    return {
        "segment": str(recommendation.tier),
        "plan": plan.code,
        "options": list(recommendation.option_codes),
        "traffic_package": recommendation.traffic_package,
        "tollfree_numbers": recommendation.tollfree_numbers,
        "employees": priced.employees,
        "currency": priced.currency,
        "monthly_total": str(priced.monthly_total),
        "one_time_total": str(priced.one_time_total),
        "lines": services.line_dicts(priced),
        "reasons": list(recommendation.reasons),
    }
