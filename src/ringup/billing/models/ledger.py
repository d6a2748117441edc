"""The double-entry ledger and the payments that feed it (rules: ``ringup.engine.ledger``)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from ringup.customers.models import Customer
from ringup.engine.ledger import Account

from .immutable import WriteOnce
from .invoices import AMOUNT, CreditNote, Invoice


class Payment(WriteOnce):
    """Money received from a customer. ``(provider, reference)`` is unique, so a payment
    reported twice (a retried webhook, a re-imported bank statement) is recorded once."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(**AMOUNT)
    currency = models.CharField(max_length=3)
    received_at = models.DateTimeField()
    provider = models.CharField(max_length=30, help_text='"manual" for bank transfers and cash.')
    reference = models.CharField(max_length=100, help_text="Bank or gateway reference.")
    note = models.CharField(max_length=200, blank=True)
    # Who paid, as the provider identifies the payer across payments (a card fingerprint,
    # the payer's bank account or tax id); empty when unknown. The referral program
    # compares it between a referrer and the customers they refer.
    payer_reference = models.CharField(
        max_length=128,
        blank=True,
        default="",
        db_default="",
        help_text="The payer's identity at the provider: card fingerprint, account, tax id.",
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(
                fields=["payer_reference"],
                name="payment_payer",
                condition=~models.Q(payer_reference=""),
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["provider", "reference"], name="payment_reported_once"),
            models.CheckConstraint(name="payment_is_positive", condition=models.Q(amount__gt=0)),
        ]

    def __str__(self):
        return f"{self.amount} {self.currency} · {self.customer}"


class Posting(WriteOnce):
    """One business event in the ledger: its entries sum to zero."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        CREDIT_NOTE = "credit_note", _("Credit note")
        PAYMENT = "payment", _("Payment")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    at = models.DateTimeField(db_index=True)
    currency = models.CharField(max_length=3)
    description = models.CharField(max_length=200)
    invoice = models.OneToOneField(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="posting"
    )
    credit_note = models.OneToOneField(
        CreditNote, null=True, blank=True, on_delete=models.PROTECT, related_name="posting"
    )
    payment = models.OneToOneField(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="posting"
    )

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(
                name="posting_has_one_source",
                condition=(
                    models.Q(
                        kind="invoice",
                        invoice__isnull=False,
                        credit_note__isnull=True,
                        payment__isnull=True,
                    )
                    | models.Q(
                        kind="credit_note",
                        invoice__isnull=True,
                        credit_note__isnull=False,
                        payment__isnull=True,
                    )
                    | models.Q(
                        kind="payment",
                        invoice__isnull=True,
                        credit_note__isnull=True,
                        payment__isnull=False,
                    )
                ),
            )
        ]

    def __str__(self):
        return self.description


class Entry(WriteOnce):
    """A signed amount on an account: debit positive, credit negative."""

    posting = models.ForeignKey(Posting, on_delete=models.PROTECT, related_name="entries")
    account = models.CharField(max_length=20, choices=[(a.value, a.name) for a in Account])
    # Indexed by (customer, account) below.
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
        db_index=False,
    )
    amount = models.DecimalField(**AMOUNT)

    class Meta:
        verbose_name_plural = "entries"
        constraints = [
            models.CheckConstraint(name="entry_is_not_zero", condition=~models.Q(amount=0)),
            models.CheckConstraint(
                name="receivable_entry_names_customer",
                condition=~models.Q(account=Account.RECEIVABLE.value)
                | models.Q(customer__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["customer", "account"])]

    def __str__(self):
        return f"{self.account} {self.amount}"
