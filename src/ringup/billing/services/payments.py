"""Payments: recording money received, and collecting it through a payment provider.

Providers implement :class:`PaymentProvider`. Ringup ships :class:`ManualProvider` (money
that arrived by bank transfer or in cash, entered by billing staff); a card or wallet
gateway plugs in the same way. Tests use a fake gateway; no real gateway is called here.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from django.db import IntegrityError, transaction
from django.db.models import Q

from ringup.customers.models import Customer
from ringup.engine import ledger
from ringup.engine.money import MoneyError, quantize
from ringup.engine.pricing import SelectionError
from ringup.sql import insert_rows

from ..models import Payment, Posting, Subscription
from ..selectors.invoices import open_invoices
from .dunning import run_dunning
from .events import customer_events, paid_events, publish
from .ledger import NewPosting, post, post_many
from .subscriptions import convert_trial

BATCH = 500


class PaymentRefused(SelectionError):
    """A payment that cannot be recorded or was declined; ``errors`` names the field."""


@dataclass(frozen=True)
class Collection:
    """What a provider answered: ``reference`` identifies the money at the provider."""

    succeeded: bool
    reference: str
    message: str = ""


class PaymentProvider(Protocol):
    code: str

    def collect(
        self, *, customer_id: int, amount: Decimal, currency: str, reference: str
    ) -> Collection:
        """Take ``amount`` from the customer (or confirm it arrived)."""
        ...


class ManualProvider:
    """Money already received by bank transfer or cash: staff confirm it with the bank's
    reference (payment order number)."""

    code = "manual"

    def collect(
        self, *, customer_id: int, amount: Decimal, currency: str, reference: str
    ) -> Collection:
        return Collection(succeeded=True, reference=reference)


def record_payment(
    customer: Customer,
    *,
    amount: Decimal,
    currency: str,
    reference: str,
    at: datetime,
    provider: str = ManualProvider.code,
    note: str = "",
    payer_reference: str = "",
) -> Payment:
    """Record money received and post it: the customer's balance falls by ``amount`` (an
    overpayment becomes their credit). Reporting the same ``(provider, reference)`` again
    returns the payment already recorded. Reactivates subscriptions suspended for debt, and
    converts the customer's trials waiting for their decision (paying is deciding).
    ``payer_reference``: the payer's identity at the provider, when it reports one."""
    try:
        amount = quantize(amount, currency)
    except MoneyError as error:
        field = "currency" if "currency" in str(error) else "amount"
        raise PaymentRefused({field: str(error)}) from None
    if amount <= 0:
        raise PaymentRefused({"amount": "must be above 0"})
    if not reference.strip():
        raise PaymentRefused({"reference": "give the bank's or the gateway's reference"})
    existing = Payment.objects.filter(provider=provider, reference=reference).first()
    if existing is not None:
        return _same_payment(existing, customer, amount)
    try:
        with transaction.atomic():
            owed_before = _open_invoice_ids([customer.pk])
            payment = Payment.objects.create(
                customer=customer,
                amount=amount,
                currency=currency,
                received_at=at,
                provider=provider,
                reference=reference,
                note=note[:200],
                payer_reference=payer_reference.strip()[:128],
                created_at=at,
            )
            post(
                NewPosting(
                    kind=Posting.Kind.PAYMENT,
                    source_id=payment.pk,
                    at=at,
                    currency=currency,
                    description=f"Payment {provider} {reference}",
                    entries=ledger.payment_entries(customer.pk, amount),
                )
            )
            _emit_paid(owed_before, {customer.pk: at})
            convert_paid_trials([customer.pk], at=at)
    except IntegrityError:  # reported concurrently: the other report won
        existing = Payment.objects.get(provider=provider, reference=reference)
        return _same_payment(existing, customer, amount)
    run_dunning(at=at, customers=[customer.pk])
    return payment


def convert_paid_trials(customer_ids: Sequence[int], *, at: datetime) -> int:
    """Convert the trials of ``customer_ids`` still waiting for the customer's decision:
    they paid. Returns how many converted."""
    payers = sorted(set(customer_ids))
    converted = 0
    for start in range(0, len(payers), BATCH):  # SQLite limits a statement's parameters
        waiting = Subscription.objects.filter(
            Q(ended_at__isnull=True) | Q(ended_at__gt=at),
            customer_id__in=payers[start : start + BATCH],
            trial_converts=False,
            status__in=[Subscription.Status.TRIALING, Subscription.Status.SUSPENDED],
        ).order_by("pk")
        for subscription in waiting:
            convert_trial(subscription, at=at)
            converted += 1
    return converted


def _same_payment(existing: Payment, customer: Customer, amount: Decimal) -> Payment:
    if existing.customer_id != customer.pk or existing.amount != amount:
        raise PaymentRefused({"reference": "already used for a different payment by this provider"})
    return existing


def collect_payment(
    provider: PaymentProvider,
    customer: Customer,
    *,
    amount: Decimal,
    currency: str,
    reference: str,
    at: datetime,
) -> Payment:
    """Ask ``provider`` for the money, and record it if it succeeded."""
    collection = provider.collect(
        customer_id=customer.pk, amount=amount, currency=currency, reference=reference
    )
    if not collection.succeeded:
        failed = {
            "payment": {
                "id": None,
                "amount": amount,
                "currency": currency,
                "provider": provider.code,
                "reference": collection.reference or reference,
                "message": collection.message,
            }
        }
        with transaction.atomic():
            publish(customer_events("payment.failed", [(customer.pk, at, failed)]))
        raise PaymentRefused({"payment": collection.message or "declined by the provider"})
    return record_payment(
        customer,
        amount=amount,
        currency=currency,
        reference=collection.reference,
        at=at,
        provider=provider.code,
    )


@dataclass(frozen=True)
class NewPayment:
    customer_id: int
    amount: Decimal
    currency: str
    received_at: datetime
    reference: str
    provider: str = ManualProvider.code
    note: str = ""


def record_payments(payments: Sequence[NewPayment], *, at: datetime, announce: bool = True) -> int:
    """Record many payments at once (a bank statement, the demo history): set-based, and
    like :func:`record_payment` a reference already recorded is skipped. Returns how many
    were new. Run :func:`run_dunning` afterwards to reactivate who has paid. The invoices
    they settle emit ``invoice.paid``, unless ``announce`` is off (loading a history)."""
    if any(payment.amount <= 0 for payment in payments):
        raise PaymentRefused({"amount": "every payment must be above 0"})
    unique = {(p.provider, p.reference): p for p in payments}
    if len(unique) != len(payments):
        raise PaymentRefused({"reference": "the same reference appears twice"})
    payers = sorted({p.customer_id for p in payments})
    with transaction.atomic():
        owed_before = _open_invoice_ids(payers) if announce else set()
        inserted = insert_rows(
            Payment,
            [
                "customer_id",
                "amount",
                "currency",
                "received_at",
                "provider",
                "reference",
                "note",
                "created_at",
            ],
            [
                (
                    p.customer_id,
                    p.amount,
                    p.currency,
                    p.received_at,
                    p.provider,
                    p.reference,
                    p.note,
                    at,
                )
                for p in payments
            ],
            ignore_conflicts=True,
            returning=["provider", "reference", "id"],
        )
        ids = {(provider, reference): pk for provider, reference, pk in inserted}
        post_many(
            [
                NewPosting(
                    kind=Posting.Kind.PAYMENT,
                    source_id=ids[(p.provider, p.reference)],
                    at=p.received_at,
                    currency=p.currency,
                    description=f"Payment {p.provider} {p.reference}",
                    entries=ledger.payment_entries(p.customer_id, p.amount),
                )
                for p in payments
                if (p.provider, p.reference) in ids
            ]
        )
        new = [p for p in payments if (p.provider, p.reference) in ids]
        latest: dict[int, datetime] = {}
        for p in new:
            latest[p.customer_id] = max(p.received_at, latest.get(p.customer_id, p.received_at))
        if announce:
            _emit_paid(owed_before, latest)
        convert_paid_trials(sorted(latest), at=at)
    return len(ids)


def _open_invoice_ids(customer_ids: Sequence[int]) -> set[int]:
    return {item.id for item in open_invoices(customer_ids)}


def _emit_paid(owed_before: set[int], paid_at: dict[int, datetime]) -> None:
    """``invoice.paid`` for the invoices of ``paid_at``'s customers that were owed before
    their payments and are settled now (oldest first, balance-forward)."""
    publish(paid_events(owed_before, sorted(paid_at), lambda inv: paid_at[inv.customer_id]))
