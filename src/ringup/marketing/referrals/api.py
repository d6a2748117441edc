"""Referral program API for the operator's staff (API key or staff session, as billing):
the program's terms, a customer's code and link, their referrals, rewards and
invitations."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.security import SessionAuthIsStaff
from pydantic import ConfigDict

from ringup.apikeys.auth import ApiKeyAuth
from ringup.catalog.api import Message, Unprocessable
from ringup.customers.models import Customer

from . import selectors, services
from .models import ReferralProgram

router = Router(tags=["referrals"], auth=[ApiKeyAuth(), SessionAuthIsStaff()])
ERRORS = {401: Message, 403: Message, 404: Message, 422: Unprocessable}
Amount = Annotated[str, Field(description='Decimal amount as a string, e.g. "500.00"')]
AmountIn = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]


class ProgramOut(Schema):
    is_active: bool
    reward_kind: Literal["percentage", "fixed"]
    percentage: Amount
    months: int
    fixed_bonus: Amount
    invitations_needed: int
    invitation_bonus: Amount
    invitation_buy_bonus: Amount
    currency: str


class ProgramIn(Schema):
    """Any subset of the program's terms."""

    model_config = ConfigDict(extra="forbid")

    is_active: bool | None = None
    reward_kind: Literal["percentage", "fixed"] | None = None
    percentage: Annotated[Decimal, Field(ge=0, le=100, decimal_places=2)] | None = None
    months: Annotated[int, Field(ge=1, le=120)] | None = None
    fixed_bonus: AmountIn | None = None
    invitations_needed: Annotated[int, Field(ge=1, le=50)] | None = None
    invitation_bonus: AmountIn | None = None
    invitation_buy_bonus: AmountIn | None = None


class CodeOut(Schema):
    customer: int
    code: str
    link: str


class ReferralOut(Schema):
    id: int
    referrer: int
    referred: int | None
    code: str
    email: str
    at: datetime
    status: Literal["signed_up", "joined", "converted", "rejected"]
    reason: str
    joined_at: datetime | None
    converted_at: datetime | None


class ReferralFilter(Schema):
    customer: int | None = Field(None, description="The referrer's customer id")


class SummaryOut(Schema):
    invited: int
    signed_up: int
    joined: int
    bought: int
    rejected: int
    rewards_earned: Amount
    currency: str


class RewardOut(Schema):
    id: int
    kind: str
    source_key: str
    referral: int | None
    invoice: int | None
    amount: Amount
    clawed_back: Amount
    credit: int | None
    at: datetime


class AcquaintanceIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(max_length=200)]
    email: Annotated[str, Field(max_length=254)] = ""
    phone: Annotated[str, Field(max_length=40)] = ""


class InvitationsIn(Schema):
    invitations: list[AcquaintanceIn]


class InvitationsOut(Schema):
    created: int
    invited: int


def _program_out(program: ReferralProgram) -> dict:
    return {
        **{field: getattr(program, field) for field in ProgramOut.model_fields},
        **{
            field: str(getattr(program, field))
            for field in ("percentage", "fixed_bonus", "invitation_bonus", "invitation_buy_bonus")
        },
    }


@router.get("/referrals/program", response={200: ProgramOut, **ERRORS}, summary="Program terms")
def get_program(request):
    return _program_out(ReferralProgram.current())


@router.patch(
    "/referrals/program", response={200: ProgramOut, **ERRORS}, summary="Change program terms"
)
def change_program(request, payload: ProgramIn):
    changes = payload.model_dump(exclude_none=True)
    return _program_out(services.update_program(ReferralProgram.current(), changes))


@router.get("/referrals", response={200: list[ReferralOut], **ERRORS}, summary="Referrals")
def list_referrals(request, filters: Query[ReferralFilter]):
    return [
        {
            "id": item.pk,
            "referrer": item.referrer_id,
            "referred": item.referred_id,
            "code": item.code,
            "email": item.email,
            "at": item.at,
            "status": item.status,
            "reason": item.reason,
            "joined_at": item.joined_at,
            "converted_at": item.converted_at,
        }
        for item in selectors.referrals_of(filters.customer)[:1000]
    ]


def _customer(customer_id: int) -> Customer | None:
    return Customer.objects.filter(pk=customer_id).first()


@router.get(
    "/referrals/customers/{customer_id}/code",
    response={200: CodeOut, **ERRORS},
    summary="A customer's referral code and link (created on first use)",
)
def customer_code(request, customer_id: int):
    customer = _customer(customer_id)
    if customer is None:
        return Status(404, {"detail": "no customer with this id"})
    code = services.code_for(customer, at=timezone.now())
    return {"customer": customer.pk, "code": code.code, "link": services.link_for(code)}


@router.get(
    "/referrals/customers/{customer_id}/summary",
    response={200: SummaryOut, **ERRORS},
    summary="What became of a customer's recommendations",
)
def customer_summary(request, customer_id: int):
    customer = _customer(customer_id)
    if customer is None:
        return Status(404, {"detail": "no customer with this id"})
    summary = selectors.referral_summary(customer)
    return {**summary, "rewards_earned": str(summary["rewards_earned"])}


@router.get(
    "/referrals/customers/{customer_id}/rewards",
    response={200: list[RewardOut], **ERRORS},
    summary="A referrer's rewards and what was clawed back",
)
def customer_rewards(request, customer_id: int):
    if _customer(customer_id) is None:
        return Status(404, {"detail": "no customer with this id"})
    return [
        {
            "id": reward.pk,
            "kind": reward.kind,
            "source_key": reward.source_key,
            "referral": reward.referral_id,
            "invoice": reward.invoice_id,
            "amount": str(reward.amount),
            "clawed_back": str(sum((c.amount for c in reward.clawbacks.all()), Decimal("0.00"))),
            "credit": reward.credit_id,
            "at": reward.at,
        }
        for reward in selectors.rewards_of(customer_id)
    ]


@router.post(
    "/referrals/customers/{customer_id}/invitations",
    response={201: InvitationsOut, **ERRORS},
    summary="Record acquaintances a customer names",
)
def invite(request, customer_id: int, payload: InvitationsIn):
    customer = _customer(customer_id)
    if customer is None:
        return Status(404, {"detail": "no customer with this id"})
    people = [services.Acquaintance(**item.model_dump()) for item in payload.invitations]
    created = services.submit_invitations(customer, people, at=timezone.now())
    invited = selectors.referral_summary(customer)["invited"]
    return Status(201, {"created": len(created), "invited": invited})
