"""Turning subscription events into account operations, and delivering them.

``record_operation`` (the events consumer) turns one event into at most one
``Operation``, in the event's delivery transaction: ``UNIQUE (event_id, kind)`` and the
outbox's once-per-consumer delivery mean an event becomes its operation once. The
account row is locked while deciding, so "create" is recorded once per account.

``deliver_next`` sends one due operation. It is claimed under ``SELECT … FOR UPDATE SKIP
LOCKED`` and leased (``next_attempt_at`` moves past the longest an attempt can take) in a
short transaction; the call to the platform happens outside any transaction, so a slow
platform never holds database locks. A worker killed mid-attempt leaves the lease, which
expires, and the operation is sent again with the same ``webhook-id``. Operations of one
account go in event order: one is due only when every earlier one was delivered.
"""

import logging
import random
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.mail import mail_admins
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from ringup.events.services import on_commit_once

from .adapters import Adapter, Outcome, WebhookAdapter, configured_adapter
from .models import Account, Operation, WebhookEndpoint

log = logging.getLogger(__name__)

CREATE_OR_UPDATE = {
    "trial.started",
    "subscription.started",
    "subscription.changed",
    "option.added",
    "option.removed",
}
SUSPEND = {"subscription.suspended", "trial.expired"}
RESUME = {"subscription.resumed"}
DELETE = {"subscription.ended"}
KINDS = sorted(CREATE_OR_UPDATE | SUSPEND | RESUME | DELETE)
TRIAL_STATUSES = {"trialing", "trial"}
ERROR_CHARS = 2000


def record_operation(event) -> Operation | None:
    """The operation ``event`` asks of the customer's account, recorded (``None`` when it
    asks nothing: suspending, resuming or deleting an account that does not exist or
    that another subscription now holds, suspending a suspended one or resuming an
    active one)."""
    customer = dict(event.payload.get("customer") or {})
    customer.setdefault("id", event.customer_id)
    if customer["id"] is None:
        raise ValueError(f"{event.kind} #{event.id} names no customer")
    Account.objects.bulk_create(
        [Account(customer_id=customer["id"], updated_at=event.at)], ignore_conflicts=True
    )
    account = Account.objects.select_for_update().get(customer_id=customer["id"])
    kind = _kind(event.kind, account)
    if kind is None or _about_another_subscription(event, account, kind):
        return None
    account.status = {
        Operation.Kind.CREATE: Account.Status.ACTIVE,
        Operation.Kind.UPDATE: account.status,
        Operation.Kind.SUSPEND: Account.Status.SUSPENDED,
        Operation.Kind.RESUME: Account.Status.ACTIVE,
        Operation.Kind.DELETE: Account.Status.DELETED,
    }[kind]
    account.subscription_id = event.subscription_id or account.subscription_id
    account.name = (customer.get("name") or account.name)[:200]
    account.updated_at = event.at
    account.save()
    operation = Operation.objects.create(
        account=account,
        event_id=event.id,
        kind=kind,
        body=operation_body(kind, event, customer),
        next_attempt_at=min(event.at, timezone.now()),
        created_at=timezone.now(),
    )
    on_commit_once(send_deliver_task)
    return operation


def _about_another_subscription(event, account: Account, kind: str) -> bool:
    """An old subscription's suspension or end does not touch the account that a newer
    subscription of the customer now holds."""
    if kind in (Operation.Kind.CREATE, Operation.Kind.UPDATE):
        return False
    return None not in (account.subscription_id, event.subscription_id) and (
        account.subscription_id != event.subscription_id
    )


def _kind(event_kind: str, account: Account) -> Operation.Kind | None:
    if event_kind in CREATE_OR_UPDATE:
        return Operation.Kind.UPDATE if account.exists else Operation.Kind.CREATE
    if not account.exists:
        return None
    suspended = account.status == Account.Status.SUSPENDED
    # An expired trial emits trial.expired and subscription.suspended: one suspension.
    if event_kind in SUSPEND:
        return None if suspended else Operation.Kind.SUSPEND
    if event_kind in RESUME:
        return Operation.Kind.RESUME if suspended else None
    if event_kind in DELETE:
        return Operation.Kind.DELETE
    raise ValueError(f"provisioning does not handle {event_kind}")


def operation_body(kind: str, event, customer: dict) -> dict:
    """The JSON sent to the platform (docs/provisioning.md, "Payload")."""
    subscription = dict(event.payload.get("subscription") or {})
    subscription.setdefault("id", event.subscription_id)
    trial = event.kind == "trial.started" or subscription.get("status") in TRIAL_STATUSES
    body = {
        "event": kind,
        "customer": customer,
        "subscription": subscription,
        "limits": trial_limits() if trial else NO_LIMITS,
        "occurred_at": event.at.isoformat(),
        "cause": event.kind,
    }
    if event.payload.get("changes"):
        body["changes"] = list(event.payload["changes"])
    return body


NO_LIMITS = {"trial": False, "credit_cap": None, "allowed_prefixes": [], "blocked_prefixes": []}


def trial_limits() -> dict:
    """The toll-fraud guard of a trial account: a credit cap and the destinations it may
    call (the longest matching prefix decides; a number no prefix matches is blocked)."""
    return {
        "trial": True,
        "credit_cap": str(Decimal(settings.RINGUP_TRIAL_CREDIT_CAP).quantize(Decimal("0.01"))),
        "allowed_prefixes": list(settings.RINGUP_TRIAL_ALLOWED_PREFIXES),
        "blocked_prefixes": list(settings.RINGUP_TRIAL_BLOCKED_PREFIXES),
    }


def send_deliver_task() -> None:
    from .tasks import deliver_task  # the task module imports this one

    try:
        deliver_task.delay()
    except Exception:
        log.warning("could not send the delivery task; the sweep will deliver", exc_info=True)


def retry_schedule() -> list[float]:
    """Seconds to wait after the 1st, 2nd, … failed attempt; one attempt more than waits."""
    return [float(s) for s in settings.RINGUP_PROVISIONING_RETRY_SCHEDULE]


def lease() -> timedelta:
    """How long an attempt may take before another worker may take the operation over."""
    return timedelta(seconds=2 * settings.RINGUP_PROVISIONING_TIMEOUT + 5)


def deliver_next(*, at: datetime, adapter: Adapter | None = None) -> str | None:
    """Send the next due operation: ``"delivered"``, ``"retrying"``, ``"failed"`` (its last
    attempt failed), ``"endpoint_gone"`` (410: the endpoint is now disabled), or ``None``
    when nothing is due or the endpoint is disabled."""
    adapter = adapter or configured_adapter()
    if not adapter.available():
        return None
    operation = _claim(at)
    if operation is None:
        return None
    return _record(operation, adapter.perform(operation), adapter, at)


def deliver_due(*, at: datetime, adapter: Adapter | None = None, limit: int = 100) -> dict:
    """Send up to ``limit`` operations due at ``at``; counts by :func:`deliver_next` result."""
    adapter = adapter or configured_adapter()
    counts = {"delivered": 0, "retrying": 0, "failed": 0, "endpoint_gone": 0}
    for _ in range(limit):
        result = deliver_next(at=at, adapter=adapter)
        if result is None:
            break
        counts[result] += 1
    return counts


def _claim(at: datetime) -> Operation | None:
    undelivered_before = Operation.objects.filter(
        account=OuterRef("account"), event_id__lt=OuterRef("event_id")
    ).exclude(status=Operation.Status.DELIVERED)
    with transaction.atomic():
        operation = (
            Operation.objects.select_for_update(skip_locked=True)
            .filter(status=Operation.Status.PENDING, next_attempt_at__lte=at)
            .exclude(Exists(undelivered_before))
            .order_by("next_attempt_at", "id")
            .first()
        )
        if operation is None:
            return None
        operation.attempts += 1
        operation.last_attempt_at = at
        operation.next_attempt_at = at + lease()
        operation.save(update_fields=["attempts", "last_attempt_at", "next_attempt_at"])
        return operation


def _record(operation: Operation, outcome: Outcome, adapter: Adapter, at: datetime) -> str:
    fields = {
        "last_http_status": outcome.http_status,
        "last_answer": outcome.answer,
        "last_error": outcome.error[:ERROR_CHARS],
    }
    if outcome.delivered:
        # Terminal and true whoever holds the lease: the platform accepted it.
        Operation.objects.filter(pk=operation.pk).update(
            status=Operation.Status.DELIVERED, delivered_at=at, **fields
        )
        return "delivered"
    mine = Operation.objects.filter(
        pk=operation.pk, attempts=operation.attempts, status=Operation.Status.PENDING
    )
    if outcome.gone and isinstance(adapter, WebhookAdapter):
        # Not the operation's fault: it waits, due at once, for the endpoint to return.
        mine.update(attempts=operation.attempts - 1, next_attempt_at=at, **fields)
        disable_endpoint(adapter.endpoint(), reason=f"HTTP 410: {outcome.answer[:200]}", at=at)
        return "endpoint_gone"
    schedule = retry_schedule()
    if operation.attempts > len(schedule):
        mine.update(status=Operation.Status.FAILED, **fields)
        log.error("%s gave up after %s attempts: %s", operation, operation.attempts, outcome.error)
        mail_admins(
            f"Provisioning gave up on {operation.kind} #{operation.pk}",
            f"After {operation.attempts} attempts: {outcome.error}\n"
            "Later operations of this account wait; retry it from the back office.",
        )
        return "failed"
    # Jitter only lengthens a wait, so the whole schedule still spans what it promises.
    wait = schedule[operation.attempts - 1] * random.uniform(1.0, 1.2)
    mine.update(next_attempt_at=at + timedelta(seconds=wait), **fields)
    return "retrying"


def disable_endpoint(endpoint: WebhookEndpoint, *, reason: str, at: datetime) -> bool:
    """Disable the endpoint and alert staff (once: ``False`` if it already was)."""
    disabled = WebhookEndpoint.objects.filter(pk=endpoint.pk, disabled_at__isnull=True).update(
        disabled_at=at, disabled_reason=reason[:300]
    )
    if disabled:
        log.error("provisioning endpoint %s disabled: %s", endpoint.url, reason)
        mail_admins(
            "Provisioning endpoint disabled",
            f"{endpoint.url} answered {reason}.\nOperations wait until staff enable it again "
            "in the back office (Provisioning → Webhook endpoints).",
        )
    return bool(disabled)


def enable_endpoint(endpoint: WebhookEndpoint, *, at: datetime) -> None:
    """Enable the endpoint again; waiting operations become due at once."""
    with transaction.atomic():
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(disabled_at=None, disabled_reason="")
        Operation.objects.filter(status=Operation.Status.PENDING, next_attempt_at__gt=at).update(
            next_attempt_at=at
        )
        on_commit_once(send_deliver_task)


def retry_now(operations, *, at: datetime) -> int:
    """Make these operations due at ``at`` again (failed ones get one more attempt).
    Delivered ones are left alone. Returns how many were rescheduled."""
    with transaction.atomic():
        count = (
            Operation.objects.filter(pk__in=[operation.pk for operation in operations])
            .exclude(status=Operation.Status.DELIVERED)
            .update(status=Operation.Status.PENDING, next_attempt_at=at)
        )
        on_commit_once(send_deliver_task)
    return count
