"""A customer's activity in one dated list: events, mails, invoices, payments, tasks."""

import heapq
from dataclasses import dataclass
from datetime import datetime

from ringup.billing.models import CreditNote, Invoice, Payment
from ringup.events.models import Event

from ..models import FollowUpTask

# Shown from their own records instead (with the number and the amount).
SHOWN_ELSEWHERE = {"invoice.issued"}
MAILING_KINDS = {"mailing.sent", "mailing.clicked"}

TITLES = {
    "customer.registered": "Registered",
    "customer.email_verified": "E-mail address verified",
    "customer.inactive": "No calls for a while",
    "trial.started": "Trial started",
    "trial.ending": "Trial ends soon",
    "trial.expired": "Trial ended without a decision",
    "subscription.started": "Subscription started",
    "subscription.changed": "Subscription changed",
    "option.added": "Option added",
    "option.removed": "Option removed",
    "subscription.suspended": "Service suspended",
    "subscription.resumed": "Service resumed",
    "subscription.cancelled": "Cancellation asked for",
    "subscription.ended": "Subscription ended",
    "invoice.paid": "Invoice paid",
    "payment.failed": "Payment failed",
    "referral.converted": "Referral converted",
    "banner.clicked": "Clicked a banner",
    "mailing.sent": "Mail sent",
    "mailing.clicked": "Clicked a link in a mail",
    "promo.redeemed": "Promo code redeemed",
}


@dataclass(frozen=True)
class Entry:
    """One line of the timeline: ``source`` is event, mail, invoice, credit_note, payment,
    task or task_done; ``ref`` the id of the row it comes from."""

    at: datetime
    source: str
    title: str
    detail: str
    ref: int

    def as_dict(self) -> dict:
        return {
            "at": self.at,
            "source": self.source,
            "title": self.title,
            "detail": self.detail,
            "ref": self.ref,
        }


def _event_detail(event: Event) -> str:
    payload = event.payload or {}
    if event.kind == "subscription.changed":
        return ", ".join(payload.get("changes", []))
    if event.kind in ("option.added", "option.removed"):
        return str(payload.get("option", ""))
    if event.kind.startswith(("subscription.", "trial.")):
        return str(payload.get("subscription", {}).get("plan", ""))
    if event.kind == "invoice.paid":
        return str(payload.get("invoice", {}).get("number", ""))
    if event.kind == "payment.failed":
        failed = payload.get("payment", {})
        parts = (failed.get("amount"), failed.get("currency"), failed.get("message"))
        return " ".join(str(part) for part in parts if part)
    if event.kind in MAILING_KINDS:
        mailing = payload.get("mailing", {})
        return str(mailing.get("subject") or mailing.get("name") or "")
    if event.kind == "banner.clicked":
        return str(payload.get("banner", {}).get("title", ""))
    return ""


def _events(customer_id: int, before: datetime | None, limit: int):
    rows = Event.objects.filter(customer_id=customer_id).exclude(kind__in=SHOWN_ELSEWHERE)
    if before is not None:
        rows = rows.filter(at__lt=before)
    for event in rows.order_by("-at", "-id")[:limit]:
        yield Entry(
            at=event.at,
            source="mail" if event.kind in MAILING_KINDS else "event",
            title=TITLES.get(event.kind, event.kind),
            detail=_event_detail(event),
            ref=event.pk,
        )


def _invoices(customer_id: int, before: datetime | None, limit: int):
    rows = Invoice.objects.filter(customer_id=customer_id, status=Invoice.Status.FINALISED)
    if before is not None:
        rows = rows.filter(issued_at__lt=before)
    for invoice in rows.order_by("-issued_at", "-id")[:limit]:
        yield Entry(
            at=invoice.issued_at,
            source="invoice",
            title=f"Invoice {invoice.number} issued",
            detail=f"{invoice.total} {invoice.currency}",
            ref=invoice.pk,
        )


def _credit_notes(customer_id: int, before: datetime | None, limit: int):
    rows = CreditNote.objects.filter(customer_id=customer_id)
    if before is not None:
        rows = rows.filter(issued_at__lt=before)
    for note in rows.order_by("-issued_at", "-id")[:limit]:
        yield Entry(
            at=note.issued_at,
            source="credit_note",
            title=f"Credit note {note.number}",
            detail=f"{note.total} {note.currency}: {note.reason}",
            ref=note.pk,
        )


def _payments(customer_id: int, before: datetime | None, limit: int):
    rows = Payment.objects.filter(customer_id=customer_id)
    if before is not None:
        rows = rows.filter(received_at__lt=before)
    for payment in rows.order_by("-received_at", "-id")[:limit]:
        yield Entry(
            at=payment.received_at,
            source="payment",
            title="Payment received",
            detail=f"{payment.amount} {payment.currency} ({payment.provider} {payment.reference})",
            ref=payment.pk,
        )


def _tasks(customer_id: int, before: datetime | None, limit: int, done: bool):
    rows = FollowUpTask.objects.filter(customer_id=customer_id).select_related("assignee")
    field = "done_at" if done else "created_at"
    if done:
        rows = rows.filter(done_at__isnull=False)
    if before is not None:
        rows = rows.filter(**{f"{field}__lt": before})
    for task in rows.order_by(f"-{field}", "-id")[:limit]:
        who = task.assignee.get_username() if task.assignee else "unassigned"
        if done:
            outcome = task.get_outcome_display() if task.outcome else "Done"
            yield Entry(task.done_at, "task_done", f"Task done: {task.title}", outcome, task.pk)
        else:
            detail = f"{task.get_reason_display()}; due {task.due_on.isoformat()}; {who}"
            yield Entry(task.created_at, "task", f"Task: {task.title}", detail, task.pk)


def timeline(customer_id: int, *, before: datetime | None = None, limit: int = 100) -> list[Entry]:
    """The customer's ``limit`` latest entries (strictly before ``before``, when given),
    newest first: their events (except ``invoice.issued``, shown as the invoice itself),
    mails sent (``mailing.sent`` events), finalised invoices, credit notes, payments, and
    follow-up tasks made and done. Entries at the same instant keep a fixed order (by
    source, then newest row first). One query per source."""
    sources = [
        _events(customer_id, before, limit),
        _invoices(customer_id, before, limit),
        _credit_notes(customer_id, before, limit),
        _payments(customer_id, before, limit),
        _tasks(customer_id, before, limit, done=False),
        _tasks(customer_id, before, limit, done=True),
    ]
    # Each source is already newest first; merging keeps that without sorting everything.
    merged = heapq.merge(
        *sources, key=lambda entry: (entry.at, entry.source, entry.ref), reverse=True
    )
    return [entry for _, entry in zip(range(limit), merged, strict=False)]
