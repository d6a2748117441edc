"""Promotions API for the operator's staff (an API key or a staff session, as billing):
promotions with usage counts, promo codes (one memorable code, or unique ones in bulk),
checking a code on a selection (the discount it would give, or 422 with the reason) and
redeeming it for a subscription, and the lift report of the promotion's control group."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.db import transaction
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.security import SessionAuthIsStaff
from pydantic import StringConstraints

from ringup.apikeys.auth import ApiKeyAuth
from ringup.billing.models import Subscription
from ringup.catalog import services as catalog
from ringup.catalog.api import Message, Unprocessable
from ringup.catalog.models import Option, Plan
from ringup.customers.models import Customer
from ringup.marketing.segments.models import Segment

from . import selectors, services
from .models import Promotion, Redemption

router = Router(tags=["promotions"], auth=[ApiKeyAuth(), SessionAuthIsStaff()])

ERRORS = {401: Message, 403: Message, 404: Message, 422: Unprocessable}
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,40}$")]


def _unprocessable(errors: dict[str, str]):
    detail = [
        {"type": "value_error", "loc": ["body", *field.split(".")], "msg": message}
        for field, message in errors.items()
    ]
    return Status(422, {"detail": detail})


class PromotionIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    description: str = ""
    benefit: Literal["percent", "amount", "free_months"]
    value: Decimal = Field(..., gt=0, max_digits=14, decimal_places=2)
    duration: Literal["once", "repeating", "forever"] = "once"
    periods: int | None = Field(None, ge=1, le=1200)
    automatic: Literal["", "purchase", "turnover", "loyalty"] = ""
    first_purchase_only: bool = False
    plans: list[Code] = Field(default_factory=list)
    options: list[Code] = Field(default_factory=list)
    segment: int | None = None
    annual_only: bool = False
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    max_redemptions: int | None = Field(None, ge=1)
    per_customer_limit: int = Field(1, ge=1)
    min_revenue: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    revenue_months: int = Field(12, ge=1, le=120)
    min_months: int | None = Field(None, ge=1, le=1200)
    exclusive: bool = True
    priority: int = 0
    holdout_percent: int = Field(10, ge=0, le=50)
    conversion_kind: str = Field("invoice.paid", min_length=1, max_length=60)
    conversion_changes: list[Code] = Field(default_factory=list)
    conversion_window_days: int = Field(30, ge=1, le=730)


class PromotionOut(Schema):
    id: int
    name: str
    benefit: str
    value: str
    duration: str
    periods: int | None
    automatic: str
    active: bool
    exclusive: bool
    priority: int
    in_words: str
    max_redemptions: int | None
    redeemed: int
    codes: int
    holdout_percent: int
    created_at: datetime


class CodesIn(Schema):
    code: Code | None = Field(None, description="One memorable code; omit to generate.")
    count: int = Field(1, ge=1, le=100_000)
    prefix: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{0,20}$")] = ""
    length: int = Field(8, ge=4, le=32)
    max_uses: int | None = Field(1, ge=1, description="Uses per code; null: unlimited.")


class CodeOut(Schema):
    code: str
    promotion: int
    max_uses: int | None
    used: int
    active: bool


class SelectionIn(Schema):
    plan: Code
    period: Literal["monthly", "annual"] = "monthly"
    employees: int | None = Field(None, ge=1, le=100_000)
    numbers: int | None = Field(None, ge=1, le=10_000)
    options: list[Code] = Field(default_factory=list)
    traffic_package: Code | None = None
    customer: int | None = Field(None, description="Check the customer's conditions too.")


class CheckOut(Schema):
    code: str
    promotions: list[str]
    discount: str = Field(description="What the first period is reduced by")
    currency: str
    period_total: str = Field(description="The first period's total with the discount")


class RedeemIn(Schema):
    subscription: int


class RedemptionOut(Schema):
    id: int
    promotion: int
    code: str | None
    customer: int
    subscription: int
    discount: str
    at: datetime


def _promotion_out(promotion: Promotion) -> dict:
    return {
        "id": promotion.pk,
        "name": promotion.name,
        "benefit": promotion.benefit,
        "value": str(promotion.value),
        "duration": promotion.duration,
        "periods": promotion.periods,
        "automatic": promotion.automatic,
        "active": promotion.active,
        "exclusive": promotion.exclusive,
        "priority": promotion.priority,
        "in_words": selectors.describe(promotion),
        "max_redemptions": promotion.max_redemptions,
        "redeemed": promotion.redeemed,
        "codes": getattr(promotion, "code_count", None) or promotion.codes.count(),
        "holdout_percent": promotion.holdout_percent,
        "created_at": promotion.created_at,
    }


def _redemption_out(redemption: Redemption) -> dict:
    return {
        "id": redemption.pk,
        "promotion": redemption.promotion_id,
        "code": redemption.code.code if redemption.code else None,
        "customer": redemption.customer_id,
        "subscription": redemption.subscription_id,
        "discount": redemption.discount.description if redemption.discount else "",
        "at": redemption.at,
    }


@router.get("/promotions", response={200: list[PromotionOut], **ERRORS}, summary="Promotions")
def list_promotions(request):
    return [_promotion_out(p) for p in selectors.promotions_with_counts()]


@router.post("/promotions", response={201: PromotionOut, **ERRORS}, summary="Create a promotion")
def create_promotion(request, payload: PromotionIn):
    data = payload.dict()
    plans, options, segment = data.pop("plans"), data.pop("options"), data.pop("segment")
    errors = _promotion_errors(payload)
    if errors:
        return _unprocessable(errors)
    with transaction.atomic():
        promotion = Promotion.objects.create(**data, segment_id=segment, created_at=timezone.now())
        promotion.plans.set(Plan.objects.filter(code__in=plans))
        promotion.options.set(Option.objects.filter(code__in=options))
    return Status(201, _promotion_out(promotion))


def _promotion_errors(payload: PromotionIn) -> dict[str, str]:
    errors = {}
    if payload.benefit == "percent" and payload.value > 100:
        errors["value"] = "a percentage is at most 100"
    if payload.duration == "repeating" and payload.periods is None:
        errors["periods"] = "required when the duration is a number of periods"
    if payload.automatic == "turnover" and payload.min_revenue is None:
        errors["min_revenue"] = "required for a turnover promotion"
    if payload.automatic == "loyalty" and payload.min_months is None:
        errors["min_months"] = "required for a loyalty promotion"
    known_plans = set(Plan.objects.filter(code__in=payload.plans).values_list("code", flat=True))
    if set(payload.plans) - known_plans:
        errors["plans"] = f"unknown: {', '.join(sorted(set(payload.plans) - known_plans))}"
    if payload.segment is not None and not Segment.objects.filter(pk=payload.segment).exists():
        errors["segment"] = "no such segment"
    return errors


@router.get("/promotions/{pk}", response={200: PromotionOut, **ERRORS}, summary="A promotion")
def get_promotion(request, pk: int):
    promotion = selectors.promotions_with_counts().filter(pk=pk).first()
    if promotion is None:
        return Status(404, {"detail": "no such promotion"})
    return Status(200, _promotion_out(promotion))


@router.post(
    "/promotions/{pk}/codes",
    response={201: list[CodeOut], **ERRORS},
    summary="Add a memorable code, or generate unique codes in bulk",
)
def add_codes(request, pk: int, payload: CodesIn):
    promotion = Promotion.objects.filter(pk=pk).first()
    if promotion is None:
        return Status(404, {"detail": "no such promotion"})
    at = timezone.now()
    if payload.code:
        if selectors.find_code(payload.code) is not None:
            return _unprocessable({"code": "this code exists already"})
        codes = [services.create_code(promotion, payload.code, at=at, max_uses=payload.max_uses)]
    else:
        try:
            codes = services.generate_codes(
                promotion,
                payload.count,
                at=at,
                prefix=payload.prefix,
                length=payload.length,
                max_uses=payload.max_uses,
            )
        except services.PromotionRefused as error:
            return _unprocessable(error.errors)
    return Status(
        201,
        [
            {
                "code": c.code,
                "promotion": c.promotion_id,
                "max_uses": c.max_uses,
                "used": c.used,
                "active": c.active,
            }
            for c in codes
        ],
    )


@router.get(
    "/promotions/{pk}/lift",
    response={200: dict, **ERRORS},
    summary="Treated against held out: conversion and revenue per customer, 95 % intervals",
)
def promotion_lift(request, pk: int):
    promotion = Promotion.objects.filter(pk=pk).first()
    if promotion is None:
        return Status(404, {"detail": "no such promotion"})
    return Status(200, selectors.lift_report(promotion))


@router.get(
    "/promotions/{pk}/redemptions",
    response={200: list[RedemptionOut], **ERRORS},
    summary="Who redeemed a promotion",
)
def redemptions(request, pk: int, limit: int = 100, offset: int = 0):
    rows = Redemption.objects.filter(promotion_id=pk).select_related("code", "discount")
    return [_redemption_out(r) for r in rows[offset : offset + min(limit, 500)]]


@router.post(
    "/promo-codes/{code}/check",
    response={200: CheckOut, **ERRORS},
    summary="The discount a code gives on a selection, or why it does not apply",
)
def check(request, code: Code, payload: SelectionIn):
    customer = None
    if payload.customer is not None:
        customer = Customer.objects.filter(pk=payload.customer).first()
        if customer is None:
            return _unprocessable({"customer": "no such customer"})
    request_ = catalog.QuoteRequest(
        plan=payload.plan,
        employees=payload.employees,
        numbers=payload.numbers,
        options=tuple(payload.options),
        traffic_package=payload.traffic_package,
        period=payload.period,
    )
    _, quote = catalog.price(request_)  # a selection that cannot be priced is a 422
    purchase = selectors.Purchase(
        plan=payload.plan, period=payload.period, options=tuple(payload.options), customer=customer
    )
    try:
        checked = services.check_code(code, purchase, at=timezone.now(), quote=quote)
    except services.PromotionRefused as error:
        return _unprocessable(error.errors)
    discount = min(checked.first_period_discount or Decimal(0), quote.monthly_total * quote.months)
    return {
        "code": checked.code.code,
        "promotions": [p.name for p in checked.applied],
        "discount": str(discount),
        "currency": quote.currency,
        "period_total": str(quote.period_total - discount),
    }


@router.post(
    "/promo-codes/{code}/redeem",
    response={201: RedemptionOut, **ERRORS},
    summary="Redeem a code for a subscription (its next periods are discounted)",
)
def redeem(request, code: Code, payload: RedeemIn):
    subscription = (
        Subscription.objects.select_related("customer", "plan")
        .filter(pk=payload.subscription)
        .first()
    )
    if subscription is None:
        return _unprocessable({"subscription": "no such subscription"})
    try:
        redemption = services.redeem_code(code, subscription, at=timezone.now())
    except services.PromotionRefused as error:
        return _unprocessable(error.errors)
    return Status(201, _redemption_out(redemption))
