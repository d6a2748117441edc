"""Double-entry bookkeeping rules: which accounts each business event moves.

Amounts are signed: a debit is positive, a credit negative, and the entries of every
posting sum to zero, so money is never created or lost. A customer's balance is the sum of
their receivable entries: positive, they owe the operator; negative, they have paid ahead
(a prepaid credit). One receivable account per customer, rather than a receivable and a
separate prepayment liability, keeps every posting independent of the balance at that
moment: no posting needs to read a balance first, so none can race another.

Payments and credit notes settle a customer's invoices oldest first (balance-forward
accounting, :func:`outstanding`).
"""

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from .money import ZERO


class Account(StrEnum):
    RECEIVABLE = "receivable"  # per customer: what they owe (negative: paid ahead)
    REVENUE = "revenue"  # sales net of VAT
    VAT_PAYABLE = "vat_payable"  # VAT collected for the state
    BANK = "bank"  # money received (cash, bank, payment gateway)


@dataclass(frozen=True, slots=True)
class Entry:
    account: Account
    amount: Decimal
    customer: int | None = None


class UnbalancedPosting(ValueError):
    """A posting whose entries do not sum to zero."""


def check_balanced(entries: Iterable[Entry]) -> None:
    """Raise :class:`UnbalancedPosting` unless the entries sum to exactly zero."""
    entries = list(entries)
    total = sum((entry.amount for entry in entries), ZERO)
    if total != 0:
        raise UnbalancedPosting(f"entries sum to {total}, not 0: {entries}")


def _nonzero(*entries: Entry) -> tuple[Entry, ...]:
    return tuple(entry for entry in entries if entry.amount)


def invoice_entries(customer: int, net: Decimal, vat: Decimal, total: Decimal) -> tuple[Entry, ...]:
    """An invoice: the customer owes ``total``; ``net`` is revenue, ``vat`` is owed to the state."""
    entries = _nonzero(
        Entry(Account.RECEIVABLE, total, customer),
        Entry(Account.REVENUE, -net),
        Entry(Account.VAT_PAYABLE, -vat),
    )
    check_balanced(entries)
    return entries


def credit_note_entries(
    customer: int, net: Decimal, vat: Decimal, total: Decimal
) -> tuple[Entry, ...]:
    """A credit note reverses (part of) an invoice."""
    return tuple(
        Entry(e.account, -e.amount, e.customer) for e in invoice_entries(customer, net, vat, total)
    )


def payment_entries(customer: int, amount: Decimal) -> tuple[Entry, ...]:
    """Money received from the customer; an amount above what they owe becomes credit."""
    entries = _nonzero(Entry(Account.BANK, amount), Entry(Account.RECEIVABLE, -amount, customer))
    check_balanced(entries)
    return entries


def refund_entries(customer: int, amount: Decimal) -> tuple[Entry, ...]:
    """Money paid back to the customer out of their credit."""
    return tuple(Entry(e.account, -e.amount, e.customer) for e in payment_entries(customer, amount))


def outstanding(
    invoices: Sequence[tuple[Hashable, Decimal]], settled: Decimal
) -> dict[Hashable, Decimal]:
    """What is still owed on each invoice when ``settled`` (payments and credit notes, net
    of refunds) pays them oldest first; ``invoices`` are ``(key, total)`` in issue order."""
    owed = {}
    remaining = settled
    for key, total in invoices:
        paid = min(max(remaining, ZERO), total)
        owed[key] = total - paid
        remaining -= total
    return owed


__all__ = [
    "Account",
    "Entry",
    "UnbalancedPosting",
    "check_balanced",
    "credit_note_entries",
    "invoice_entries",
    "outstanding",
    "payment_entries",
    "refund_entries",
]
