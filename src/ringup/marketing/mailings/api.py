"""Mailings API for the operator's staff: mailings (list, create, get, pause, resume), their
runs with counts, the lift report, suppressions and bounces. Authentication as billing's
(API key or staff session)."""

from datetime import datetime, time
from typing import Annotated, Literal

from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.security import SessionAuthIsStaff
from pydantic import StringConstraints

from ringup.apikeys.auth import ApiKeyAuth
from ringup.catalog.api import Message, Unprocessable
from ringup.marketing.segments.models import Segment

from . import selectors, services
from .models import Mailing, Suppression, Template

router = Router(tags=["mailings"], auth=[ApiKeyAuth(), SessionAuthIsStaff()])
ERRORS = {401: Message, 403: Message, 404: Message, 422: Unprocessable}
# PostgreSQL refuses NUL in text and JSON: such input is a 422, not a database error.
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00]+$")]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,60}$")]
Change = Literal[
    "plan_up", "plan_down", "employees", "options", "numbers", "traffic_package", "period"
]


class MailingIn(Schema):
    name: Name
    kind: Mailing.Kind = Mailing.Kind.ONE_OFF
    template: int
    segment: int | None = None
    send_at: datetime | None = None
    day_of_month: int | None = Field(None, ge=1, le=28)
    time_of_day: time | None = None
    trigger_kind: Annotated[str, StringConstraints(pattern=r"^[a-z._]{0,60}$")] = ""
    trigger_changes: list[Change] = []
    trigger_plans: list[Code] = []
    delay_minutes: int = Field(0, ge=0, le=60 * 24 * 366)
    holdout_percent: int = Field(10, ge=0, le=50)
    requires_consent: bool = True
    conversion_kind: Code = "invoice.paid"
    conversion_changes: list[Change] = []
    conversion_window_days: int = Field(30, ge=1, le=365)
    track_opens: bool = False
    activate: bool = False


class MailingOut(Schema):
    id: int
    name: str
    kind: str
    status: str
    template: int = Field(alias="template_id")
    segment: int | None = Field(alias="segment_id")
    send_at: datetime | None
    day_of_month: int | None
    time_of_day: time | None
    trigger_kind: str
    trigger_changes: list[str]
    trigger_plans: list[str]
    delay_minutes: int
    holdout_percent: int
    requires_consent: bool
    conversion_kind: str
    conversion_window_days: int


class RunOut(Schema):
    id: int
    scheduled_for: datetime
    status: str
    counts: dict[str, int]


class SuppressionIn(Schema):
    address: Annotated[str, StringConstraints(max_length=254, pattern=r"^[^\x00]*$")]
    kind: Suppression.Reason = Suppression.Reason.BOUNCED
    note: Annotated[str, StringConstraints(max_length=2000, pattern=r"^[^\x00]*$")] = ""


class SuppressionOut(Schema):
    address: str
    reason: str
    at: datetime


def _unprocessable(errors: dict[str, str]):
    detail = [
        {"type": "value_error", "loc": ["body", field], "msg": msg} for field, msg in errors.items()
    ]
    return Status(422, {"detail": detail})


@router.get("/mailings", response={200: list[MailingOut], **ERRORS})
def list_mailings(request):
    return Mailing.objects.all()[:500]


@router.post("/mailings", response={201: MailingOut, **ERRORS})
def create_mailing(request, data: MailingIn):
    template = Template.objects.filter(pk=data.template).first()
    if template is None:
        return _unprocessable({"template": "no such template"})
    if data.segment is not None and not Segment.objects.filter(pk=data.segment).exists():
        return _unprocessable({"segment": "no such segment"})
    fields = data.dict(exclude={"template", "segment", "activate"})
    mailing = Mailing(template=template, segment_id=data.segment, **fields)
    try:
        services.validate(mailing)
    except services.MailingError as error:
        return _unprocessable(error.errors)
    mailing.save()
    if data.activate:
        services.activate(mailing, at=timezone.now())
    return Status(201, mailing)


@router.get("/mailings/{mailing_id}", response={200: MailingOut, **ERRORS})
def get_mailing(request, mailing_id: int):
    return get_object_or_404(Mailing, pk=mailing_id)


@router.post("/mailings/{mailing_id}/pause", response={200: MailingOut, **ERRORS})
def pause_mailing(request, mailing_id: int):
    return services.pause(get_object_or_404(Mailing, pk=mailing_id))


@router.post("/mailings/{mailing_id}/resume", response={200: MailingOut, **ERRORS})
def resume_mailing(request, mailing_id: int):
    mailing = get_object_or_404(Mailing, pk=mailing_id)
    try:
        return services.activate(mailing, at=timezone.now())
    except services.MailingError as error:
        return _unprocessable(error.errors)


@router.get("/mailings/{mailing_id}/runs", response={200: list[RunOut], **ERRORS})
def mailing_runs(request, mailing_id: int):
    mailing = get_object_or_404(Mailing, pk=mailing_id)
    return [
        {"id": run.pk, "scheduled_for": run.scheduled_for, "status": run.status, "counts": counts}
        for run, counts in selectors.runs_with_counts(mailing)
    ]


@router.get("/mailings/{mailing_id}/lift", response={200: dict, **ERRORS})
def mailing_lift(request, mailing_id: int, run: int | None = None):
    """Conversion and revenue per customer, treated against the held-out control group,
    each difference with its 95 % confidence interval."""
    mailing = get_object_or_404(Mailing, pk=mailing_id)
    chosen = get_object_or_404(mailing.runs, pk=run) if run is not None else None
    return selectors.lift_report(mailing, run=chosen)


@router.post("/suppressions", response={201: SuppressionOut, **ERRORS})
def add_suppression(request, data: SuppressionIn):
    """Record a bounce, a complaint or an unsubscription: the address is never mailed."""
    try:
        services.suppress(data.address, reason=data.kind, at=timezone.now(), note=data.note)
    except services.MailingError as error:
        return _unprocessable(error.errors)
    return Status(201, Suppression.objects.get(address=data.address.strip().lower()))


@router.get("/suppressions", response={200: list[SuppressionOut], **ERRORS})
def list_suppressions(request):
    return Suppression.objects.all()[:1000]
