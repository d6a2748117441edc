"""Billing data: subscriptions and their history, invoices and credit notes, the ledger
and payments."""

from .immutable import ImmutableRecord
from .invoices import (
    CreditNote,
    CreditNoteLine,
    Invoice,
    InvoiceLine,
    NumberSeries,
    RevenueTimeline,
)
from .ledger import Entry, Payment, Posting
from .subscriptions import (
    AccountCredit,
    BillingAccount,
    Subscription,
    SubscriptionChange,
    SubscriptionDiscount,
    SubscriptionOption,
    UsageCharge,
)

__all__ = [
    "AccountCredit",
    "BillingAccount",
    "CreditNote",
    "CreditNoteLine",
    "Entry",
    "ImmutableRecord",
    "Invoice",
    "InvoiceLine",
    "NumberSeries",
    "Payment",
    "Posting",
    "RevenueTimeline",
    "Subscription",
    "SubscriptionChange",
    "SubscriptionDiscount",
    "SubscriptionOption",
    "UsageCharge",
]
