"""Billing's domain events, written to the outbox (``ringup.events``) in the transaction of
the change that caused them: a rolled-back change leaves no event.

Every subscription event carries the same snapshot of the customer and the subscription
(``billing.selectors.events.snapshots``), plus what is particular to its kind. Events that
can happen only once per subscription or invoice (started, ended, paid …) carry a key, so
that running a step again never emits them twice.
"""

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from ringup.events.services import Emission, emit_many

from ..models import CreditNote, Invoice
from ..selectors.events import customer_snapshots, snapshots
from ..selectors.invoices import open_invoices

# Kinds that happen at most once for their subject, and whose step may run again (a
# retried run, two runs at once): keyed "<kind>:<subject id>". ``invoice.issued`` needs no
# key: it is written with its invoice, which the database claims once.
ONCE = {
    "trial.started",
    "trial.ending",
    "trial.expired",
    "subscription.started",
    "subscription.cancelled",
    "subscription.ended",
    "invoice.paid",
    "credit_note.issued",
}


def subscription_events(
    kind: str, items: Iterable[tuple[int, datetime, dict]], *, subject: str = "subscription"
) -> list[Emission]:
    """Events ``kind`` for ``(subscription id, at, extra payload)`` items, each carrying the
    snapshot at ``at`` and its extra payload. A kind in ``ONCE`` is keyed by the
    subscription, or by ``extra[subject]["id"]`` (e.g. the invoice)."""
    items = list(items)
    found = snapshots((sub, at) for sub, at, _ in items)
    emissions = []
    for sub, at, extra in items:
        snapshot = found[sub]
        subject_id = extra[subject]["id"] if subject != "subscription" else sub
        emissions.append(
            Emission(
                kind=kind,
                at=at,
                payload={**snapshot, **extra},
                customer_id=snapshot["customer"]["id"],
                subscription_id=sub,
                key=f"{kind}:{subject_id}" if kind in ONCE else None,
            )
        )
    return emissions


def customer_events(
    kind: str, items: Iterable[tuple[int, datetime, dict]], *, subject: str | None = None
) -> list[Emission]:
    """Events ``kind`` about customers: ``(customer id, at, extra payload)`` items, each
    with the customer's snapshot; a kind in ``ONCE`` is keyed by ``extra[subject]["id"]``."""
    items = list(items)
    found = customer_snapshots(customer for customer, _, _ in items)
    return [
        Emission(
            kind=kind,
            at=at,
            payload={**found[customer], **extra},
            customer_id=customer,
            key=f"{kind}:{extra[subject]['id']}" if kind in ONCE and subject else None,
        )
        for customer, at, extra in items
    ]


def invoice_payload(invoice: Invoice) -> dict:
    """An invoice as events carry it (under ``"invoice"``)."""
    return {
        "id": invoice.pk,
        "number": invoice.number,
        "reason": invoice.reason,
        "period_start": invoice.period_start,
        "period_end": invoice.period_end,
        "issued_at": invoice.issued_at,
        "due_at": invoice.due_at,
        "currency": invoice.currency,
        "net_amount": invoice.net_amount,
        "vat_amount": invoice.vat_amount,
        "total": invoice.total,
    }


def invoice_events(kind: str, invoices: Sequence[tuple[Invoice, datetime]]) -> list[Emission]:
    """Events ``kind`` about written invoices at the instants given, keyed by the invoice:
    with their subscription's snapshot, or their customer's for one without."""
    by_subscription, by_customer = [], []
    for invoice, at in invoices:
        extra = {"invoice": invoice_payload(invoice)}
        if invoice.subscription_id:
            by_subscription.append((invoice.subscription_id, at, extra))
        else:
            by_customer.append((invoice.customer_id, at, extra))
    return [
        *subscription_events(kind, by_subscription, subject="invoice"),
        *customer_events(kind, by_customer, subject="invoice"),
    ]


def credit_note_events(note: CreditNote, invoice: Invoice) -> list[Emission]:
    """``credit_note.issued`` for ``note`` on ``invoice``, with the customer's snapshot,
    the credit note and the invoice it credits; keyed by the credit note."""
    extra = {
        "credit_note": {
            "id": note.pk,
            "number": note.number,
            "reason": note.reason,
            "issued_at": note.issued_at,
            "currency": note.currency,
            "net_amount": note.net_amount,
            "vat_amount": note.vat_amount,
            "total": note.total,
        },
        "invoice": invoice_payload(invoice),
    }
    return customer_events(
        "credit_note.issued", [(note.customer_id, note.issued_at, extra)], subject="credit_note"
    )


def paid_events(
    owed: set[int], customer_ids: Sequence[int], at: Callable[[Invoice], datetime]
) -> list[Emission]:
    """``invoice.paid`` for the invoices ``owed`` (ids, of ``customer_ids``) that are no
    longer among their customers' open invoices (balance-forward: oldest first), dated
    ``at(invoice)``. Keyed by the invoice, so an invoice is announced paid once."""
    if not owed:
        return []
    settled = owed - {item.id for item in open_invoices(customer_ids)}
    invoices = Invoice.objects.filter(pk__in=sorted(settled)).order_by("pk")
    return invoice_events("invoice.paid", [(invoice, at(invoice)) for invoice in invoices])


def publish(*groups: list[Emission]) -> int:
    """Write the events of ``groups`` in the current transaction (keys already written
    are skipped); returns how many were written."""
    emissions = [emission for group in groups for emission in group]
    return len(emit_many(emissions)) if emissions else 0


def emit_subscription(
    kind: str, subscription_id: int, *, at: datetime, extra: dict | None = None
) -> int:
    """One subscription event (see :func:`subscription_events`)."""
    return publish(subscription_events(kind, [(subscription_id, at, extra or {})]))
