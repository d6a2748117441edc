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

from ringup.customers.models import Customer
from ringup.engine import ledger
from ringup.engine.money import MoneyError, quantize
from ringup.engine.pricing import SelectionError

from ..models import Payment, Posting
from .dunning import run_dunning
from .ledger import NewPosting, post, post_many
from .sql import insert_rows


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
) -> Payment:
    """Record money received and post it: the customer's balance falls by ``amount`` (an
    overpayment becomes their credit). Reporting the same ``(provider, reference)`` again
    returns the payment already recorded. Reactivates subscriptions suspended for debt."""
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
            payment = Payment.objects.create(
                customer=customer,
                amount=amount,
                currency=currency,
                received_at=at,
                provider=provider,
                reference=reference,
                note=note[:200],
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
    except IntegrityError:  # reported concurrently: the other report won
        existing = Payment.objects.get(provider=provider, reference=reference)
        return _same_payment(existing, customer, amount)
    run_dunning(at=at, customers=[customer.pk])
    return payment


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


def record_payments(payments: Sequence[NewPayment], *, at: datetime) -> int:
    """Record many payments at once (a bank statement, the demo history): set-based, and
    like :func:`record_payment` a reference already recorded is skipped. Returns how many
    were new. Run :func:`run_dunning` afterwards to reactivate who has paid."""
    if any(payment.amount <= 0 for payment in payments):
        raise PaymentRefused({"amount": "every payment must be above 0"})
    unique = {(p.provider, p.reference): p for p in payments}
    if len(unique) != len(payments):
        raise PaymentRefused({"reference": "the same reference appears twice"})
    with transaction.atomic():
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
    return len(ids)
