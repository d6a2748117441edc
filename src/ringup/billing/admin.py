"""Back office for billing. Invoices, credit notes, payments and the ledger are read-only
here: nothing issued can be edited or deleted. Corrections go through actions that call
the services (a credit note, a payment)."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.db.models import Sum
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from ringup.engine.pricing import SelectionError

from . import views
from .models import (
    AccountCredit,
    BillingAccount,
    CreditNote,
    CreditNoteLine,
    Entry,
    Invoice,
    InvoiceLine,
    NumberSeries,
    Payment,
    Posting,
    Subscription,
    SubscriptionChange,
    SubscriptionDiscount,
    SubscriptionOption,
)
from .selectors.invoices import invoice_owed
from .services.invoicing import issue_credit_note
from .services.payments import record_payment
from .services.subscriptions import set_minimum_usage


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable, never added, changed or deleted from the back office."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SubscriptionOptionInline(ReadOnlyInline):
    model = SubscriptionOption
    fields = ["option", "added_at", "removed_at"]


class SubscriptionChangeInline(ReadOnlyInline):
    model = SubscriptionChange
    fields = [
        "kind",
        "at",
        "from_plan",
        "to_plan",
        "from_employees",
        "to_employees",
        "from_numbers",
        "to_numbers",
        "from_package",
        "to_package",
        "option",
        "from_period",
        "to_period",
    ]


class SubscriptionDiscountInline(ReadOnlyInline):
    model = SubscriptionDiscount
    fields = ["description", "kind", "value", "periods", "starts_at", "source"]


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    """Read-only but for the minimum call commitment: invoices are computed from a
    subscription's recorded history, so changes go through the services
    (``/api/v1/subscriptions/{id}/preview-change``, ``…/change``, ``…/cancel``), which
    record it. The commitment is a contract term with no history to record, set through
    its own service."""

    EDITABLE = ("minimum_usage",)

    list_display = ["customer", "plan", "status", "period", "employees", "started_at", "ended_at"]
    list_filter = ["status", "plan", "period", "trial_converts"]
    search_fields = ["customer__name", "customer__email"]
    list_select_related = ["customer", "plan"]
    inlines = [SubscriptionOptionInline, SubscriptionChangeInline, SubscriptionDiscountInline]

    def has_change_permission(self, request, obj=None):
        # An ended subscription bills nothing more that a commitment could apply to.
        if obj is not None and (
            obj.status == Subscription.Status.CANCELLED
            or (obj.ended_at is not None and obj.ended_at <= timezone.now())
        ):
            return False
        return admin.ModelAdmin.has_change_permission(self, request, obj)

    def get_readonly_fields(self, request, obj=None):
        return [
            field.name
            for field in self.model._meta.fields
            if field.editable and field.name not in self.EDITABLE
        ]

    def save_model(self, request, obj, form, change):
        set_minimum_usage(obj, form.cleaned_data["minimum_usage"], at=timezone.now())


class InvoiceLineInline(ReadOnlyInline):
    model = InvoiceLine
    fields = ["position", "kind", "description", "quantity", "unit_amount", "vat_amount", "amount"]


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = [
        "__str__",
        "customer",
        "period_start",
        "reason",
        "issued_at",
        "due_at",
        "total",
        "currency",
        "status",
    ]
    list_filter = ["status", "reason", "currency", "issued_at"]
    search_fields = ["number", "customer__name", "customer__email"]
    date_hierarchy = "issued_at"
    list_select_related = ["customer"]
    inlines = [InvoiceLineInline]
    actions = ["record_payment_of_amount_owed", "credit_in_full"]
    readonly_fields = ["document_links", "owed"]

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/document/", wrap(views.invoice_document), name="billing_invoice_document"
            ),
            path("<int:pk>/pdf/", wrap(views.invoice_pdf), name="billing_invoice_pdf"),
            *super().get_urls(),
        ]

    @admin.display(description="Document")
    def document_links(self, invoice):
        return format_html(
            '<a href="{}">View invoice</a> · <a href="{}">PDF</a>',
            reverse("admin:billing_invoice_document", args=[invoice.pk]),
            reverse("admin:billing_invoice_pdf", args=[invoice.pk]),
        )

    @admin.display(description="Still owed")
    def owed(self, invoice):
        return invoice_owed(invoice) if invoice.is_finalised else "—"

    @admin.action(description="Record a bank payment of what is still owed")
    def record_payment_of_amount_owed(self, request, queryset):
        at = timezone.now()
        recorded = 0
        for invoice in queryset.filter(status=Invoice.Status.FINALISED):
            owed = invoice_owed(invoice)
            if owed > 0:
                record_payment(
                    invoice.customer,
                    amount=owed,
                    currency=invoice.currency,
                    reference=f"manual:{invoice.number}:{at:%Y%m%d%H%M%S}",
                    at=at,
                    note=f"Recorded from the back office for invoice {invoice.number}",
                )
                recorded += 1
        self.message_user(request, f"{recorded} payment(s) recorded.", messages.SUCCESS)

    @admin.action(description="Issue a credit note for the whole invoice")
    def credit_in_full(self, request, queryset):
        issued = 0
        for invoice in queryset.filter(status=Invoice.Status.FINALISED):
            try:
                issue_credit_note(invoice, reason="Cancelled by billing staff", at=timezone.now())
                issued += 1
            except SelectionError as error:
                self.message_user(request, f"{invoice}: {error}", messages.WARNING)
        self.message_user(request, f"{issued} credit note(s) issued.", messages.SUCCESS)


class CreditNoteLineInline(ReadOnlyInline):
    model = CreditNoteLine


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdmin):
    list_display = ["number", "invoice", "customer", "issued_at", "total", "currency"]
    search_fields = ["number", "invoice__number", "customer__name"]
    inlines = [CreditNoteLineInline]


class PaymentForm(forms.ModelForm):
    class Meta:
        model = Payment
        fields = ["customer", "amount", "currency", "reference", "received_at", "note"]


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    """Payments are entered (bank transfers, cash) but never edited or deleted."""

    form = PaymentForm
    list_display = ["received_at", "customer", "amount", "currency", "provider", "reference"]
    list_filter = ["provider", "currency"]
    search_fields = ["reference", "customer__name"]
    raw_id_fields = ["customer"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        payment = record_payment(
            obj.customer,
            amount=obj.amount,
            currency=obj.currency,
            reference=obj.reference,
            at=obj.received_at or timezone.now(),
            note=obj.note,
        )
        obj.pk = payment.pk
        obj._state.adding = False


class EntryInline(ReadOnlyInline):
    model = Entry
    fields = ["account", "customer", "amount"]


@admin.register(Posting)
class PostingAdmin(ReadOnlyAdmin):
    list_display = ["at", "kind", "description", "currency", "debits"]
    list_filter = ["kind", "currency"]
    date_hierarchy = "at"
    inlines = [EntryInline]

    @admin.display(description="Debits")
    def debits(self, posting):
        return posting.entries.filter(amount__gt=0).aggregate(total=Sum("amount"))[
            "total"
        ] or Decimal(0)


@admin.register(NumberSeries)
class NumberSeriesAdmin(ReadOnlyAdmin):
    list_display = ["code", "prefix", "next_value"]


@admin.register(BillingAccount)
class BillingAccountAdmin(admin.ModelAdmin):
    list_display = ["customer", "kind", "payment_terms_days"]
    list_filter = ["kind"]
    raw_id_fields = ["customer"]


@admin.register(AccountCredit)
class AccountCreditAdmin(admin.ModelAdmin):
    list_display = ["customer", "description", "amount", "used", "currency", "granted_at"]
    raw_id_fields = ["customer"]
    readonly_fields = ["used"]
