"""The follow-up rules: who should hear from a sales manager, found by one SQL query per
rule (the daily job) or from an event (the consumers), each made into a task once."""

from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Exists, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from ringup.billing.models import Subscription
from ringup.billing.selectors.events import customer_snapshots
from ringup.customers.models import Customer
from ringup.events.services import Emission, emit_many
from ringup.usage.models import RatedCall

from ..models import FollowUpTask
from .tasks import (
    ASK_AGAIN_MONTHS,
    RuleTask,
    add_months,
    last_assignee_id,
    reopen_due,
    task_from_rule,
    tasks_from_rule,
)

# Calls dropped sharply: the last 30 days' minutes are below 40 % of the monthly average
# of the 90 days before them (three 30-day months).
MONTH = timedelta(days=30)
PREVIOUS_MONTHS = 3
DROP_PERCENT = 40
# No calls for this many days: ``customer.inactive``.
INACTIVE_DAYS = 30
# A rule's call is due the day after the event that made it.
CALL_WITHIN = timedelta(days=1)


# A subscription in these states gives a working service: a suspended customer cannot call,
# so their silence says nothing.
WORKING = (
    Subscription.Status.TRIALING,
    Subscription.Status.ACTIVE,
    Subscription.Status.PAST_DUE,
)


def _live_subscriptions(at: datetime):
    return Subscription.objects.filter(Q(ended_at__isnull=True) | Q(ended_at__gt=at)).filter(
        status__in=WORKING
    )


def dropped_calls(at: datetime):
    """Customers with a working subscription (trial, active, past due) at ``at`` whose
    calls dropped sharply: rows of
    ``customer`` (id), ``recent`` and ``previous`` billable seconds, where ``recent`` is
    over ``[at − 30 d, at)``, ``previous`` over the 90 days before that, and
    ``recent < 40 % × previous / 3``, compared in integers as
    ``3 × 100 × recent < 40 × previous``. One SQL query (a GROUP BY with HAVING)."""
    since = at - MONTH * (PREVIOUS_MONTHS + 1)
    split = at - MONTH
    zero = Value(0, output_field=IntegerField())
    live = _live_subscriptions(at).filter(customer=OuterRef("customer"))
    return (
        RatedCall.objects.filter(
            customer__isnull=False, start__gte=since, start__lt=at, duration__isnull=False
        )
        .filter(Exists(live))
        .values("customer")
        .annotate(
            recent=Coalesce(Sum("duration", filter=Q(start__gte=split)), zero),
            previous=Coalesce(Sum("duration", filter=Q(start__lt=split)), zero),
        )
        .annotate(
            recent_scaled=F("recent") * (PREVIOUS_MONTHS * 100),
            previous_scaled=F("previous") * DROP_PERCENT,
        )
        .filter(previous__gt=0, recent_scaled__lt=F("previous_scaled"))
        .order_by("customer")
    )


def calls_dropped_tasks(at: datetime) -> int:
    """A "check on them" task for each customer of :func:`dropped_calls`, at most one per
    customer and calendar month (key ``calls_dropped:<customer>:<YYYY-MM>``); returns how
    many are new."""
    today = timezone.localdate(at)
    rows = list(dropped_calls(at).values_list("customer", "recent", "previous"))
    managers = _last_assignees([customer for customer, _, _ in rows])
    wanted = [
        RuleTask(
            customer_id=customer,
            key=f"calls_dropped:{customer}:{today:%Y-%m}",
            reason=FollowUpTask.Reason.CALLS_DROPPED,
            title="Calls dropped sharply: check on them",
            due_on=today + CALL_WITHIN,
            note=(
                f"{_minutes(recent)} min in the last 30 days against an average of "
                f"{_minutes(previous / PREVIOUS_MONTHS)} min a month before."
            ),
            assignee_id=managers.get(customer),
        )
        for customer, recent, previous in rows
    ]
    return tasks_from_rule(wanted, at=at)


def _minutes(seconds) -> str:
    return f"{seconds / 60:.0f}"


def _last_assignees(customer_ids: list[int]) -> dict[int, int]:
    """Each customer's last manager (the assignee of their latest assigned task); one query."""
    if not customer_ids:
        return {}
    latest = (
        FollowUpTask.objects.filter(customer=OuterRef("pk"), assignee__isnull=False)
        .order_by("-created_at", "-id")
        .values("assignee_id")[:1]
    )
    rows = (
        Customer.objects.filter(pk__in=customer_ids)
        .annotate(manager=Subquery(latest))
        .filter(manager__isnull=False)
        .values_list("pk", "manager")
    )
    return dict(rows)


def quiet_customers(at: datetime, *, days: int = INACTIVE_DAYS):
    """Customers with a working subscription (trial, active, past due) at ``at`` and no call
    in the ``days`` before it:
    their last call started before ``at − days``, or they never called and their service
    started before then. Each row carries ``last_call`` (``None``: never). One query."""
    cutoff = at - timedelta(days=days)
    last_call = (
        RatedCall.objects.filter(customer=OuterRef("pk"), start__lt=at)
        .order_by("-start")
        .values("start")[:1]
    )
    live = _live_subscriptions(at).filter(customer=OuterRef("pk"))
    return (
        Customer.objects.filter(Exists(live))
        .annotate(last_call=Subquery(last_call))
        .filter(
            Q(last_call__lt=cutoff)
            | Q(last_call__isnull=True) & Exists(live.filter(started_at__lt=cutoff))
        )
        .order_by("pk")
    )


def inactive_key(customer_id: int, last_call: datetime | None) -> str:
    """One quiet spell of a customer: it begins after their last call (or never ends, for
    a customer who never called), so a new call and a new silence make a new spell."""
    spell = last_call.isoformat() if last_call else "never"
    return f"customer.inactive:{customer_id}:{spell}"


@transaction.atomic
def emit_inactive(at: datetime, *, days: int = INACTIVE_DAYS) -> int:
    """Emit ``customer.inactive`` for each of :func:`quiet_customers`, once per quiet spell
    (keyed by :func:`inactive_key`); returns how many events are new. The payload is the
    customer's snapshot and ``{"inactive": {"days": N, "last_call_at": … | null}}``."""
    quiet = list(quiet_customers(at, days=days).values_list("pk", "last_call"))
    snapshots = customer_snapshots(pk for pk, _ in quiet)
    written = emit_many(
        Emission(
            kind="customer.inactive",
            at=at,
            payload={**snapshots[pk], "inactive": {"days": days, "last_call_at": last_call}},
            customer_id=pk,
            key=inactive_key(pk, last_call),
        )
        for pk, last_call in quiet
    )
    return len(written)


def run_daily(at: datetime) -> dict[str, int]:
    """The daily job: reopen snoozed tasks whose day has come, make the calls-dropped
    tasks, and emit ``customer.inactive``. Running it again at the same ``at`` (or later
    the same month) makes nothing twice."""
    with transaction.atomic():
        reopened = reopen_due(at)
        dropped = calls_dropped_tasks(at)
    inactive = emit_inactive(at)
    return {"reopened": reopened, "calls_dropped": dropped, "inactive": inactive}


# Rules on events (``engagement.consumers``) -------------------------------------------


def _call_task(event, *, key: str, reason: str, title: str, note: str) -> FollowUpTask | None:
    due: date = timezone.localdate(event.at) + CALL_WITHIN
    return task_from_rule(
        RuleTask(
            customer_id=event.customer_id,
            key=key,
            reason=reason,
            title=title,
            due_on=due,
            note=note,
            assignee_id=last_assignee_id(event.customer_id),
        ),
        at=event.at,
    )


def on_trial_expired(event) -> FollowUpTask | None:
    """A trial that ended without a purchase: call the prospect (once per subscription)."""
    plan = (event.payload.get("subscription") or {}).get("plan", "")
    return _call_task(
        event,
        key=f"trial_expired:{event.subscription_id or event.id}",
        reason=FollowUpTask.Reason.TRIAL_EXPIRED,
        title="Trial ended without purchase: call them",
        note=f"The {plan} trial ended on {timezone.localdate(event.at).isoformat()}.",
    )


def on_payment_failed(event) -> FollowUpTask | None:
    """A failed payment: call the customer (at most once per customer and day)."""
    failed = event.payload.get("payment") or {}
    day = timezone.localdate(event.at)
    return _call_task(
        event,
        key=f"payment_failed:{event.customer_id}:{day.isoformat()}",
        reason=FollowUpTask.Reason.PAYMENT_FAILED,
        title="Payment failed: call them",
        note=f"{failed.get('amount', '')} {failed.get('currency', '')}: "
        f"{failed.get('message') or 'declined'}",
    )


def on_inactive(event) -> FollowUpTask | None:
    """A customer gone quiet may be talking to a competitor: call them, once per spell."""
    quiet = event.payload.get("inactive") or {}
    last = quiet.get("last_call_at")
    return _call_task(
        event,
        key=f"inactive:{event.key or event.id}",
        reason=FollowUpTask.Reason.INACTIVE,
        title="No calls for a while: call them",
        note=f"No calls for {quiet.get('days', INACTIVE_DAYS)} days; "
        + (f"last call {last}." if last else "never called."),
    )


def on_deal_lost(event) -> list[FollowUpTask]:
    """A lost deal ("not now", price, a competitor …) is asked again in 3 and 6 months,
    as a "no, not now" task is, by the deal's owner; once per loss of the deal."""
    deal = event.payload.get("deal") or {}
    lost = event.payload.get("lost") or {}
    lost_on = timezone.localdate(event.at)
    made = []
    for months in ASK_AGAIN_MONTHS:
        task = task_from_rule(
            RuleTask(
                customer_id=event.customer_id,
                key=f"deal_lost:{lost.get('change_id', event.id)}:{months}m",
                reason=FollowUpTask.Reason.SAID_NO,
                title=f"Ask about {deal.get('title', 'the deal')} again "
                f"({months} months after it was lost)",
                due_on=add_months(lost_on, months),
                note=f"Deal lost on {lost_on.isoformat()}: {lost.get('reason', '')}"
                + (f" — {lost['note']}" if lost.get("note") else ""),
                assignee_id=deal.get("owner_id"),
            ),
            at=event.at,
        )
        if task is not None:
            made.append(task)
    return made
