"""Dunning: subscriptions of customers who do not pay become past due, then suspended;
paying brings them back.

A customer is *overdue* by the days since the due date of their oldest invoice not yet
paid (payments settle the oldest invoices first). From ``RINGUP_DUNNING_PAST_DUE_DAYS``
(3) their active subscriptions turn past due, from ``RINGUP_DUNNING_SUSPEND_DAYS`` (14)
suspended; once they are no longer overdue that long, they are active again. Trials,
trials suspended waiting for the customer's decision and ended subscriptions are left
alone. Each change is recorded as a ``SubscriptionChange``; a suspension emits
``subscription.suspended`` and its end ``subscription.resumed``.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q

from ..conf import billing_settings
from ..models import Subscription, SubscriptionChange
from ..selectors.invoices import open_invoices
from .events import publish, subscription_events

Status = Subscription.Status
Kind = SubscriptionChange.Kind


def run_dunning(*, at: datetime, customers: Iterable[int] | None = None) -> dict[str, int]:
    """Bring subscription statuses in line with what their customers owe at ``at``
    (all customers, or only ``customers``). Safe to run any number of times."""
    settings = billing_settings()
    scope = list(customers) if customers is not None else None
    oldest_due: dict[int, datetime] = {}
    for item in open_invoices(scope):
        if item.customer_id not in oldest_due or item.due_at < oldest_due[item.customer_id]:
            oldest_due[item.customer_id] = item.due_at
    suspend_from = at - timedelta(days=settings.suspend_days)
    past_due_from = at - timedelta(days=settings.past_due_days)
    to_suspend = {c for c, due in oldest_due.items() if due <= suspend_from}
    to_past_due = {c for c, due in oldest_due.items() if due <= past_due_from} - to_suspend

    # Trials waiting for the customer's decision are never billed, so never dunned.
    live = Subscription.objects.filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=at), trial_converts=True
    )
    if scope is not None:
        live = live.filter(customer_id__in=scope)
    moves = [
        (
            live.filter(customer_id__in=to_suspend, status__in=[Status.ACTIVE, Status.PAST_DUE]),
            Status.SUSPENDED,
            Kind.SUSPENDED,
        ),
        (
            live.filter(customer_id__in=to_past_due, status=Status.ACTIVE),
            Status.PAST_DUE,
            Kind.PAST_DUE,
        ),
        (
            live.filter(status__in=[Status.PAST_DUE, Status.SUSPENDED]).exclude(
                customer_id__in=to_suspend | to_past_due
            ),
            Status.ACTIVE,
            Kind.REACTIVATED,
        ),
    ]
    counts = {}
    with transaction.atomic():
        for subscriptions, status, kind in moves:
            rows = list(subscriptions.select_for_update().values_list("pk", "status"))
            ids = [pk for pk, _ in rows]
            Subscription.objects.filter(pk__in=ids).update(status=status)
            SubscriptionChange.objects.bulk_create(
                SubscriptionChange(subscription_id=pk, kind=kind, at=at) for pk in ids
            )
            counts[str(kind)] = len(ids)
            if status == Status.SUSPENDED:
                suspended = [(pk, at, {"reason": "unpaid"}) for pk in ids]
                publish(subscription_events("subscription.suspended", suspended))
            elif kind == Kind.REACTIVATED:
                resumed = [(pk, at, {}) for pk, was in rows if was == Status.SUSPENDED]
                publish(subscription_events("subscription.resumed", resumed))
    return counts
