"""Invoices, credit notes and their number series."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Round
from django.utils.translation import gettext_lazy as _

from ringup.customers.models import Customer

from .immutable import GuardedQuerySet, ImmutableRecord, WriteOnce
from .subscriptions import Subscription

AMOUNT = {"max_digits": 16, "decimal_places": 2}
# Rounded so that SQLite, which keeps decimals as floating point, compares like PostgreSQL.
NET_PLUS_VAT = Round(models.F("net_amount") + models.F("vat_amount"), 2)


class NumberSeries(models.Model):
    """A gapless number series: ``next_value`` is taken under a row lock in the same
    transaction that issues the document, so a rollback returns the number too."""

    class Code(models.TextChoices):
        INVOICE = "invoice", _("Invoices")
        CREDIT_NOTE = "credit_note", _("Credit notes")

    code = models.CharField(max_length=20, choices=Code.choices, unique=True)
    prefix = models.CharField(max_length=20)
    next_value = models.PositiveBigIntegerField(default=1)

    class Meta:
        verbose_name_plural = "number series"

    def __str__(self):
        return f"{self.get_code_display()}: next {self.prefix}{self.next_value:06d}"

    def format(self, value: int) -> str:
        return f"{self.prefix}{value:06d}"


class InvoiceQuerySet(GuardedQuerySet):
    def locked(self):
        return self.filter(status=Invoice.Status.FINALISED)


class Invoice(models.Model):
    """A bill to a customer. A draft may change; a finalised invoice carries a number and
    never changes again: corrections are credit notes."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        FINALISED = "finalised", _("Finalised")

    class Reason(models.TextChoices):
        PERIOD = "period", _("Billing period")
        # Calls of an ended subscription that arrived after its last period was invoiced;
        # ``period_start`` is the run's last day, so each later run has a key of its own.
        CLOSING = "closing", _("Closing usage")

    # Both foreign keys lead indexes below, so they need no index of their own.
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="invoices", db_index=False
    )
    subscription = models.ForeignKey(
        Subscription,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
        db_index=False,
    )
    reason = models.CharField(max_length=20, choices=Reason.choices, default=Reason.PERIOD)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    number = models.CharField(max_length=30, null=True, blank=True, unique=True)
    currency = models.CharField(max_length=3)
    issued_at = models.DateTimeField(help_text="Invoice date: the end of the period billed.")
    due_at = models.DateTimeField()
    net_amount = models.DecimalField(**AMOUNT)
    vat_amount = models.DecimalField(**AMOUNT)
    total = models.DecimalField(**AMOUNT)
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2)
    vat_included = models.BooleanField()
    included_minutes = models.PositiveIntegerField(
        default=0, help_text="Minutes of the traffic package included in this period."
    )
    buyer = models.JSONField(help_text="The customer's details as printed on the invoice.")
    created_at = models.DateTimeField()

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "period_start", "reason"], name="one_invoice_per_period"
            ),
            models.CheckConstraint(
                name="finalised_invoice_has_number",
                condition=models.Q(status="draft") | models.Q(number__isnull=False),
            ),
            models.CheckConstraint(
                name="invoice_total_is_net_plus_vat",
                condition=models.Q(total=NET_PLUS_VAT),
            ),
            models.CheckConstraint(
                name="invoice_period_is_not_empty",
                condition=models.Q(period_end__gt=models.F("period_start")),
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "issued_at"]),
            # A customer's totals by date from this index alone: PostgreSQL rebuilds the
            # revenue timelines from it (migration 0013), SQLite's segments sum from it.
            models.Index(
                fields=["customer", "issued_at"],
                include=["total"],
                condition=models.Q(status="finalised"),
                name="invoice_revenue_by_customer",
            ),
        ]

    def __str__(self):
        return self.number or f"Draft invoice {self.pk}"

    def save(self, *args, **kwargs):
        if self._stored_finalised():
            raise ImmutableRecord("a finalised invoice cannot be changed; issue a credit note")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.is_finalised or self._stored_finalised():
            raise ImmutableRecord("a finalised invoice cannot be deleted; issue a credit note")
        return super().delete(*args, **kwargs)

    @property
    def is_finalised(self) -> bool:
        return self.status == self.Status.FINALISED

    def _stored_finalised(self) -> bool:
        return (
            not self._state.adding
            and type(self).objects.filter(pk=self.pk, status=self.Status.FINALISED).exists()
        )


class InvoiceLineQuerySet(GuardedQuerySet):
    def locked(self):
        return self.filter(invoice__status=Invoice.Status.FINALISED)


class InvoiceLine(models.Model):
    class Kind(models.TextChoices):
        RECURRING = "recurring", _("Recurring fee")
        DISCOUNT = "discount", _("Discount")
        PRORATION = "proration", _("Proration")
        ONE_TIME = "one_time", _("One-time fee")
        USAGE = "usage", _("Usage")
        COMMITMENT = "commitment", _("Minimum commitment shortfall")
        CREDIT = "credit", _("Credit")

    # Indexed by the unique (invoice, position) below.
    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, related_name="lines", db_index=False
    )
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    code = models.CharField(max_length=60)
    description = models.CharField(max_length=300)
    quantity = models.DecimalField(max_digits=14, decimal_places=2)
    unit_amount = models.DecimalField(**AMOUNT, null=True, blank=True)
    amount = models.DecimalField(**AMOUNT)
    vat_amount = models.DecimalField(**AMOUNT)
    total = models.DecimalField(**AMOUNT)

    objects = InvoiceLineQuerySet.as_manager()

    class Meta:
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="invoice_line_position")
        ]

    def __str__(self):
        return self.description

    def save(self, *args, **kwargs):
        # Adding a line to a finalised invoice is as much a change as editing one.
        if self._invoice_finalised():
            raise ImmutableRecord("lines of a finalised invoice cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._invoice_finalised():
            raise ImmutableRecord("lines of a finalised invoice cannot be deleted")
        return super().delete(*args, **kwargs)

    def _invoice_finalised(self) -> bool:
        return Invoice.objects.filter(pk=self.invoice_id, status=Invoice.Status.FINALISED).exists()


class CreditNote(WriteOnce):
    """A correction of a finalised invoice: credits (part of) it, with its own number."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="credit_notes")
    number = models.CharField(max_length=30, unique=True)
    issued_at = models.DateTimeField()
    reason = models.CharField(max_length=300)
    currency = models.CharField(max_length=3)
    net_amount = models.DecimalField(**AMOUNT)
    vat_amount = models.DecimalField(**AMOUNT)
    total = models.DecimalField(**AMOUNT)

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="credit_note_total_is_net_plus_vat",
                condition=models.Q(total=NET_PLUS_VAT),
            ),
            models.CheckConstraint(name="credit_note_is_positive", condition=models.Q(total__gt=0)),
        ]

    def __str__(self):
        return self.number


class CreditNoteLine(WriteOnce):
    credit_note = models.ForeignKey(CreditNote, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveIntegerField()
    description = models.CharField(max_length=300)
    amount = models.DecimalField(**AMOUNT)
    vat_amount = models.DecimalField(**AMOUNT)
    total = models.DecimalField(**AMOUNT)

    class Meta:
        ordering = ["credit_note", "position"]

    def __str__(self):
        return self.description


class RevenueTimeline(models.Model):
    """Per customer, the issue instants of its finalised invoices in order and the running
    total after each: what it was invoiced before any instant ``t`` is the running total at
    the last issue before ``t`` (a binary search in one row), so a segment's "invoiced over
    the last N months" reads one row per customer instead of every invoice in the window.

    Kept on PostgreSQL: the table and the triggers that fill it are created by migration
    0013, and nothing else writes it; an invoice's customer, instant and total never
    change once it is finalised, so the triggers only add. SQLite has no arrays: there the
    table stays empty and the same sum is read from the invoices
    (``ringup.marketing.segments``)."""

    customer = models.OneToOneField(
        Customer,
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    issued = ArrayField(models.DateTimeField())
    # Running sums, unbounded in SQL: a customer's lifetime total can outgrow one invoice's.
    running_total = ArrayField(models.DecimalField(max_digits=30, decimal_places=2))

    class Meta:
        managed = False
        db_table = "billing_revenuetimeline"

    def __str__(self):
        return f"Revenue timeline of customer {self.customer_id}"
