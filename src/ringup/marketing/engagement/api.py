"""Engagement API for the operator's staff: follow-up tasks, a customer's timeline and
related products, banners with their counts. Authentication as the billing API (an API
key, or a staff session with the CSRF token for writes)."""

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.security import SessionAuthIsStaff
from pydantic import BeforeValidator, ConfigDict, StringConstraints

from ringup.apikeys.auth import ApiKeyAuth
from ringup.catalog.api import Message, Unprocessable
from ringup.customers.models import Customer

from . import selectors
from .models import Banner, FollowUpTask
from .services import banners as banner_services
from .services import tasks as task_services

router = Router(tags=["engagement"], auth=[ApiKeyAuth(), SessionAuthIsStaff()])

# 400: a body that is not JSON; 403: a session-authenticated write without its CSRF token.
ERRORS = {400: Message, 401: Message, 403: Message, 404: Message, 422: Unprocessable}
Text = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
TaskStatus = Literal["open", "snoozed", "done"]


def _day(value):
    if not isinstance(value, str):
        raise ValueError("a date, YYYY-MM-DD")
    return date.fromisoformat(value)


def _instant(value):
    if not isinstance(value, str):
        raise ValueError("a date and time, ISO 8601 with a time zone")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("a date and time with a time zone (Z or +03:00)")
    try:
        # Stored in UTC: 9999-12-31T23:00-05:00 has no UTC instant, and failing at the
        # database would break the request's transaction rather than name the field.
        parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError("a date and time within the years 1–9999 in UTC") from None
    return parsed


# Request bodies are strict (a number is not a date, a string not a number); these two
# read the ISO text JSON carries.
Day = Annotated[date, BeforeValidator(_day)]
Instant = Annotated[datetime, BeforeValidator(_instant)]
STRICT = ConfigDict(strict=True, extra="forbid")


class TaskOut(Schema):
    id: int
    customer: int
    customer_name: str
    title: str
    reason: str
    note: str
    assignee: int | None
    due_on: date
    status: TaskStatus
    snoozed_until: date | None
    done_at: datetime | None
    outcome: str
    rule_key: str | None
    created_at: datetime
    overdue: bool


class TaskFilter(Schema):
    assignee: int | None = Field(None, ge=1, description="Tasks of this staff user")
    mine: bool = Field(False, description="Tasks of the calling user")
    unassigned: bool = Field(False, description="Tasks nobody has taken")
    status: TaskStatus | None = None
    customer: int | None = Field(None, ge=1)
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=10_000_000)


class TaskIn(Schema):
    model_config = STRICT

    customer: int = Field(..., ge=1)
    title: Text
    due_on: Day
    assignee: int | None = Field(None, ge=1, description="A staff user; default: nobody")
    note: Annotated[str, StringConstraints(max_length=5000)] = ""


class DoneIn(Schema):
    model_config = STRICT

    outcome: Literal["done", "not_now"] = Field(
        "done", description='"not_now": the customer said no, not now: ask again in 3 and 6 months'
    )
    note: Annotated[str, StringConstraints(max_length=5000)] = ""


class SnoozeIn(Schema):
    model_config = STRICT

    until: Day = Field(..., description="A later day; the task comes back then")


class AssignIn(Schema):
    model_config = STRICT

    assignee: int | None = Field(..., ge=1, description="A staff user; null: nobody")


class EntryOut(Schema):
    at: datetime
    source: Literal["event", "mail", "invoice", "credit_note", "payment", "task", "task_done"]
    title: str
    detail: str
    ref: int = Field(description="The id of the event, invoice, payment … it comes from")


class TimelineFilter(Schema):
    before: datetime | None = Field(None, description="Entries strictly before (paging)")
    limit: int = Field(100, ge=1, le=500)


class SuggestionOut(Schema):
    kind: Literal["option", "plan"]
    code: str
    name: str
    pitch: str
    monthly_fee: str
    currency: str
    subscription_id: int


class BannerOut(Schema):
    id: int
    title: str
    text: str
    label: str
    link: str
    target: str
    query: str
    segment: int | None
    language: str
    starts_at: datetime | None
    ends_at: datetime | None
    weight: int
    active: bool
    impressions: int
    clicks: int


class BannerIn(Schema):
    model_config = STRICT

    title: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    text: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    label: Annotated[str, StringConstraints(max_length=40)] = ""
    image_static: Annotated[str, StringConstraints(max_length=200)] = ""
    link: Literal["option", "plan", "buy", "help", "page"]
    target: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    query: Annotated[str, StringConstraints(max_length=200)] = ""
    segment: int | None = Field(None, ge=1)
    language: Literal["", "en", "ru"] = ""
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    weight: int = Field(1, ge=1, le=1_000_000)
    active: bool = True


def _task_out(task: FollowUpTask, today: date) -> dict:
    return {
        "id": task.pk,
        "customer": task.customer_id,
        "customer_name": task.customer.name,
        "title": task.title,
        "reason": task.reason,
        "note": task.note,
        "assignee": task.assignee_id,
        "due_on": task.due_on,
        "status": task.status,
        "snoozed_until": task.snoozed_until,
        "done_at": task.done_at,
        "outcome": task.outcome,
        "rule_key": task.rule_key,
        "created_at": task.created_at,
        "overdue": task.status == FollowUpTask.Status.OPEN and task.due_on < today,
    }


def _task_or_404(pk: int):
    task = selectors.get_task(pk)
    if task is None:
        return None, Status(404, {"detail": "no task with this id"})
    return task, None


def _reply(task: FollowUpTask, status: int = 200):
    found = selectors.get_task(task.pk)
    return Status(status, _task_out(found, timezone.localdate()))


@router.get("/tasks", response={200: list[TaskOut], **ERRORS}, summary="Follow-up tasks")
def list_tasks(request, filters: Query[TaskFilter]):
    assignee = request.user.pk if filters.mine else filters.assignee
    found = selectors.tasks(
        assignee_id=assignee,
        unassigned=filters.unassigned,
        status=filters.status,
        customer_id=filters.customer,
    )
    today = timezone.localdate()
    page = found[filters.offset : filters.offset + filters.limit]
    return [_task_out(task, today) for task in page]


@router.post("/tasks", response={201: TaskOut, **ERRORS}, summary="Add a follow-up task")
def create_task(request, payload: TaskIn):
    task = task_services.create_task(
        payload.customer,
        title=payload.title,
        due_on=payload.due_on,
        at=timezone.now(),
        assignee_id=payload.assignee,
        note=payload.note,
        created_by=request.user,
    )
    return _reply(task, 201)


@router.get("/tasks/{task_id}", response={200: TaskOut, **ERRORS}, summary="A follow-up task")
def get_task(request, task_id: int):
    task, missing = _task_or_404(task_id)
    return missing or _reply(task)


@router.post(
    "/tasks/{task_id}/done",
    response={200: TaskOut, **ERRORS},
    summary='Mark done; outcome "not_now" asks again in 3 and 6 months',
)
def done(request, task_id: int, payload: DoneIn):
    task, missing = _task_or_404(task_id)
    if missing:
        return missing
    return _reply(
        task_services.complete_task(
            task, at=timezone.now(), outcome=payload.outcome, note=payload.note, by=request.user
        )
    )


@router.post(
    "/tasks/{task_id}/snooze", response={200: TaskOut, **ERRORS}, summary="Put off until a day"
)
def snooze(request, task_id: int, payload: SnoozeIn):
    task, missing = _task_or_404(task_id)
    if missing:
        return missing
    return _reply(task_services.snooze_task(task, until=payload.until, at=timezone.now()))


@router.post(
    "/tasks/{task_id}/assign", response={200: TaskOut, **ERRORS}, summary="Give to a manager"
)
def assign(request, task_id: int, payload: AssignIn):
    task, missing = _task_or_404(task_id)
    if missing:
        return missing
    return _reply(task_services.assign_task(task, assignee_id=payload.assignee))


@router.get(
    "/customers/{customer_id}/timeline",
    response={200: list[EntryOut], **ERRORS},
    summary="A customer's activity, newest first: events, mails, invoices, payments, tasks",
)
def customer_timeline(request, customer_id: int, filters: Query[TimelineFilter]):
    if not Customer.objects.filter(pk=customer_id).exists():
        return Status(404, {"detail": "no customer with this id"})
    entries = selectors.timeline(customer_id, before=filters.before, limit=filters.limit)
    return [entry.as_dict() for entry in entries]


@router.get(
    "/customers/{customer_id}/related",
    response={200: list[SuggestionOut], **ERRORS},
    summary="Products related to what the customer has and does not own yet",
)
def customer_related(request, customer_id: int, limit: int = Query(3, ge=1, le=20)):
    if not Customer.objects.filter(pk=customer_id).exists():
        return Status(404, {"detail": "no customer with this id"})
    found = selectors.related_for(customer_id, at=timezone.now(), limit=limit)
    return [item.as_dict() for item in found]


def _banner_out(banner: Banner, stats: dict) -> dict:
    counts = stats.get(banner.pk, {})
    return {
        **{
            name: getattr(banner, name)
            for name in (
                "title",
                "text",
                "label",
                "link",
                "target",
                "query",
                "language",
                "starts_at",
                "ends_at",
                "weight",
                "active",
            )
        },
        "id": banner.pk,
        "segment": banner.segment_id,
        "impressions": counts.get("impressions", 0),
        "clicks": counts.get("clicks", 0),
    }


@router.get("/banners", response={200: list[BannerOut], **ERRORS}, summary="Portal banners")
def list_banners(request):
    banners = list(Banner.objects.order_by("pk"))
    stats = selectors.banner_stats(banners)
    return [_banner_out(banner, stats) for banner in banners]


@router.post("/banners", response={201: BannerOut, **ERRORS}, summary="Add a portal banner")
def create_banner(request, payload: BannerIn):
    banner = banner_services.create_banner(payload.model_dump())
    return Status(201, _banner_out(banner, {}))
