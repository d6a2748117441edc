"""Deals API for the operator's staff: the pipeline, a new deal with its prospect, one
deal with its latest bill comparison, and moving a deal (won and lost included).
Authentication as the billing API (an API key, or a staff session with the CSRF token)."""

from decimal import Decimal
from typing import Annotated

from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.security import SessionAuthIsStaff
from pydantic import Field, StringConstraints

from ringup.apikeys.auth import ApiKeyAuth
from ringup.catalog.api import Message, Unprocessable

from .models import Deal, Stage
from .selectors import latest_bill
from .services import deals as deal_services

router = Router(tags=["deals"], auth=[ApiKeyAuth(), SessionAuthIsStaff()])
ERRORS = {400: Message, 401: Message, 403: Message, 404: Message, 422: Unprocessable}
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class DealOut(Schema):
    id: int
    customer_id: int
    company: str
    title: str
    stage: str
    lost_reason: str
    owner_id: int | None
    sites: int
    lines: int
    expected_mrr: Decimal | None
    plan: str | None
    employees: int | None
    subscription_id: int | None
    monthly_saving: Decimal | None = None


class DealIn(Schema):
    company: Name
    title: str = ""
    tier: str = "smb"
    sites: int = Field(1, ge=1)
    lines: int = Field(1, ge=1)
    employees: int = Field(1, ge=1)
    current_provider: str = ""
    email: str = ""
    phone: str = ""
    country: str = Field("RU", min_length=2, max_length=2)
    language: str = "ru"
    owner_id: int | None = None
    expected_mrr: Decimal | None = Field(None, ge=0)


class StageIn(Schema):
    stage: str
    reason: str = ""
    note: str = Field("", max_length=300)


class PipelineFilter(Schema):
    stage: str | None = None
    owner_id: int | None = None


def _out(deal: Deal) -> dict:
    bill = latest_bill(deal)
    saving = (bill.profile.get("saving") or {}) if bill else {}
    return {
        "id": deal.pk,
        "customer_id": deal.customer_id,
        "company": deal.customer.name,
        "title": deal.title,
        "stage": deal.stage,
        "lost_reason": deal.lost_reason,
        "owner_id": deal.owner_id,
        "sites": deal.sites,
        "lines": deal.lines,
        "expected_mrr": deal.expected_mrr,
        "plan": deal.plan.code if deal.plan_id else None,
        "employees": deal.employees,
        "subscription_id": deal.subscription_id,
        "monthly_saving": saving.get("average"),
    }


def _deal(pk: int) -> Deal:
    return get_object_or_404(Deal.objects.select_related("customer", "plan"), pk=pk)


@router.get("/deals/", response={200: list[DealOut], **ERRORS})
def list_deals(request, filters: Query[PipelineFilter]):
    """Deals, most recently moved first, optionally of one stage or owner."""
    deals = Deal.objects.select_related("customer", "plan")
    if filters.stage:
        deals = deals.filter(stage=filters.stage)
    if filters.owner_id:
        deals = deals.filter(owner_id=filters.owner_id)
    return [_out(deal) for deal in deals[:500]]


@router.post("/deals/", response={201: DealOut, **ERRORS})
def create_deal(request, body: DealIn):
    """A new prospect company and its deal at the lead stage."""
    deal = deal_services.create_deal(
        deal_services.NewDeal(**body.dict()), at=timezone.now(), by=request.user
    )
    return Status(201, _out(deal))


@router.get("/deals/{deal_id}", response={200: DealOut, **ERRORS})
def get_deal(request, deal_id: int):
    return _out(_deal(deal_id))


@router.post("/deals/{deal_id}/stage", response={200: DealOut, **ERRORS})
def move_deal(request, deal_id: int, body: StageIn):
    """Move the deal: ``won`` starts the subscription on its offer, ``lost`` needs a reason."""
    deal, at = _deal(deal_id), timezone.now()
    if body.stage == Stage.WON:
        deal = deal_services.win_deal(deal, at=at, by=request.user)
    elif body.stage == Stage.LOST:
        deal = deal_services.lose_deal(
            deal, reason=body.reason, at=at, by=request.user, note=body.note
        )
    else:
        deal = deal_services.move_deal(deal, body.stage, at=at, by=request.user, note=body.note)
    return _out(deal)
