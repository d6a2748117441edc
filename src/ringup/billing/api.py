"""Billing API for the operator's staff: subscriptions (change preview and apply, cancel,
trial conversion, the minimum call commitment), invoices, credit notes, payments and balances.

Authentication, either of:
- an API key, ``Authorization: Bearer rk_…`` (back office → API keys, or
  ``ringup create-api-key``); the request acts as the key's staff owner and needs no
  CSRF token. A missing, unknown, revoked or expired key is 401;
- a Django session of a staff user (log in at /admin/). Writes also need the CSRF token
  (header ``X-CSRFToken``), as any session-authenticated POST does.

Invoices, credit notes and payments have no update or delete endpoints: they are
immutable once issued.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.security import SessionAuthIsStaff
from pydantic import ConfigDict, StringConstraints

from ringup.apikeys.auth import ApiKeyAuth
from ringup.catalog.api import Message, Unprocessable
from ringup.customers.models import Customer

from . import views
from .conf import billing_settings
from .selectors import invoices as invoice_selectors
from .selectors import subscriptions as subscription_selectors
from .services import invoicing, payments, subscriptions

router = Router(tags=["billing"], auth=[ApiKeyAuth(), SessionAuthIsStaff()])

Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
Amount = Annotated[str, Field(description='Decimal amount as a string, e.g. "1490.00"')]
AmountIn = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)]


# 403: a session-authenticated write without its CSRF token.
ERRORS = {401: Message, 403: Message, 404: Message, 422: Unprocessable}


class BillingPeriodOut(Schema):
    start: datetime
    end: datetime
    interval: Literal["monthly", "annual"]


class SubscriptionOut(Schema):
    id: int
    customer: int
    plan: str
    status: str
    period: str
    employees: int
    numbers: int
    options: list[str]
    traffic_package: str | None
    started_at: datetime
    trial_ends_at: datetime | None
    trial_converts: bool = Field(
        description="The trial turns paid by itself at its end; false: it waits for the "
        "customer's decision"
    )
    billing_starts_on: date
    ended_at: datetime | None
    minimum_usage: Amount | None = Field(
        description="Monthly minimum call spend, as call lines are priced; a period's calls "
        "below it are topped up on its invoice. Null: no commitment"
    )
    current_period: BillingPeriodOut | None


class ChangeIn(Schema):
    """Any subset: the plan, the head-count, the phone numbers, the full set of options
    wanted (omitted on a plan change: those the new plan offers are kept), the traffic
    package (``null`` removes it; omitted on a plan change: kept if the new plan offers
    it), the billing period."""

    model_config = ConfigDict(strict=True, extra="forbid")

    plan: Code | None = None
    employees: int | None = Field(None, ge=1, le=100_000)
    numbers: int | None = Field(
        None, ge=0, le=1_000_000, description="Phone numbers: at least those the plan includes"
    )
    options: list[Code] | None = Field(None, max_length=50)
    traffic_package: Code | None = Field(None, description="A package code; null removes it")
    period: Literal["monthly", "annual"] | None = None


class SubscriptionConfigOut(Schema):
    plan: str
    employees: int
    numbers: int
    options: list[str]
    traffic_package: str | None
    monthly_total: Amount


class InvoiceLineOut(Schema):
    kind: str
    code: str
    description: str
    quantity: Amount
    unit_amount: Amount | None
    amount: Amount
    vat_amount: Amount
    total: Amount


class SwitchOut(Schema):
    to: Literal["monthly", "annual"]
    effective_at: datetime


class ChangeOut(Schema):
    subscription: int
    at: datetime
    applied: bool
    currency: str
    current: SubscriptionConfigOut
    proposed: SubscriptionConfigOut
    period: BillingPeriodOut | None = Field(
        description="The paid period prorated (none in a trial)"
    )
    changes: list[str] = Field(description="The history records the change writes")
    lines: list[InvoiceLineOut] = Field(description="Credit for unused time, charge for the rest")
    net_amount: Amount
    vat_amount: Amount
    amount_due_now: Amount = Field(
        description="What the change adds to the bill of the current period (VAT included); "
        "it is invoiced with that period, when it ends"
    )
    period_switch: SwitchOut | None


class CancelIn(Schema):
    model_config = ConfigDict(strict=True, extra="forbid")

    immediately: bool = Field(False, description="End now instead of at the period's end")


class ConvertTrialIn(Schema):
    """The customer's decision to keep a trial: optionally another plan and billing
    period; with ``start_now`` the trial ends now and paid periods start at the next
    local midnight (otherwise at the trial's end)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    plan: Code | None = None
    period: Literal["monthly", "annual"] | None = None
    start_now: bool = Field(False, description="End the trial now instead of at its end")


class MinimumUsageIn(Schema):
    """The contract's monthly minimum call spend in the subscription's currency, as call
    lines are priced (net of VAT where prices exclude it); null removes it."""

    model_config = ConfigDict(extra="forbid")

    minimum_usage: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)] | None = Field(
        description='E.g. "20000.00"; null: no commitment'
    )


class CancelOut(Schema):
    subscription: int
    ended_at: datetime
    lines: list[InvoiceLineOut]
    amount_due_now: Amount


class InvoiceSummaryOut(Schema):
    id: int
    number: str | None
    status: str
    customer: int
    subscription: int | None
    period_start: datetime
    period_end: datetime
    issued_at: datetime
    due_at: datetime
    currency: str
    net_amount: Amount
    vat_amount: Amount
    total: Amount


class InvoiceOut(InvoiceSummaryOut):
    owed: Amount
    vat_rate: Amount
    vat_included: bool
    included_minutes: int
    lines: list[InvoiceLineOut]
    credit_notes: list[str]
    pdf_url: str


class CreditNoteIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    amount: AmountIn | None = Field(None, description="VAT included; default: all not credited")


class CreditNoteOut(Schema):
    id: int
    number: str
    invoice: int
    issued_at: datetime
    currency: str
    net_amount: Amount
    vat_amount: Amount
    total: Amount


class PaymentIn(Schema):
    model_config = ConfigDict(extra="forbid")

    customer: int = Field(..., ge=1)
    amount: AmountIn
    currency: Literal["RUB", "EUR", "USD"] = "RUB"
    reference: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    note: Annotated[str, StringConstraints(max_length=200)] = ""
    payer_reference: Annotated[str, StringConstraints(max_length=128)] = Field(
        "", description="The payer's identity at the provider (card fingerprint, account)."
    )


class PaymentOut(Schema):
    id: int
    customer: int
    amount: Amount
    currency: str
    received_at: datetime
    provider: str
    reference: str
    balance: Amount


class OpenInvoiceOut(Schema):
    id: int
    number: str
    due_at: datetime
    owed: Amount


class BalanceOut(Schema):
    customer: int
    balance: Amount = Field(description="Owed to the operator; negative: the customer's credit")
    open_invoices: list[OpenInvoiceOut]


def _lines(lines) -> list[dict]:
    return [
        {
            "kind": str(line.kind),
            "code": line.code,
            "description": line.description,
            "quantity": str(line.quantity),
            "unit_amount": None if line.unit_amount is None else str(line.unit_amount),
            "amount": str(line.amount),
            "vat_amount": str(line.vat_amount),
            "total": str(line.total),
        }
        for line in lines
    ]


def _period(found) -> dict | None:
    if found is None:
        return None
    period, interval = found
    return {"start": period.start, "end": period.end, "interval": interval.value}


def _config(config, monthly) -> dict:
    return {
        "plan": config.plan,
        "employees": config.employees,
        "numbers": config.numbers,
        "options": list(config.options),
        "traffic_package": config.traffic_package,
        "monthly_total": str(monthly),
    }


def _subscription_or_404(pk: int):
    subscription = subscription_selectors.get_subscription(pk)
    if subscription is None:
        return None, Status(404, {"detail": "no subscription with this id"})
    return subscription, None


def _change_out(outcome, applied: bool, interval) -> dict:
    return {
        "subscription": outcome.subscription_id,
        "at": outcome.at,
        "applied": applied,
        "currency": outcome.currency,
        "current": _config(outcome.before, outcome.monthly_before),
        "proposed": _config(outcome.after, outcome.monthly_after),
        "period": _period((outcome.period, interval) if outcome.period else None),
        "changes": list(outcome.kinds),
        "lines": _lines(outcome.lines),
        "net_amount": str(outcome.totals.net),
        "vat_amount": str(outcome.totals.vat),
        "amount_due_now": str(outcome.totals.total),
        "period_switch": (
            {"to": outcome.period_switch[0].value, "effective_at": outcome.period_switch[1]}
            if outcome.period_switch
            else None
        ),
    }


def _change_request(payload: ChangeIn) -> subscriptions.ChangeRequest:
    return subscriptions.ChangeRequest(
        plan=payload.plan,
        employees=payload.employees,
        numbers=payload.numbers,
        options=tuple(payload.options) if payload.options is not None else None,
        # Left out keeps the package; an explicit null removes it.
        traffic_package=(
            payload.traffic_package
            if "traffic_package" in payload.model_fields_set
            else subscriptions.KEEP
        ),
        period=payload.period,
    )


@router.get(
    "/subscriptions/{subscription_id}",
    response={200: SubscriptionOut, **ERRORS},
    summary="A subscription and its current period",
)
def get_subscription(request, subscription_id: int):
    subscription, missing = _subscription_or_404(subscription_id)
    if missing:
        return missing
    return _subscription_out(subscription)


def _subscription_out(subscription) -> dict:
    return {
        "id": subscription.pk,
        "customer": subscription.customer_id,
        "plan": subscription.plan.code,
        "status": subscription.status,
        "period": subscription.period,
        "employees": subscription.employees,
        "numbers": subscription.numbers,
        "options": subscription_selectors.current_options(subscription),
        "traffic_package": (
            subscription.traffic_package.code if subscription.traffic_package else None
        ),
        "started_at": subscription.started_at,
        "trial_ends_at": subscription.trial_ends_at,
        "trial_converts": subscription.trial_converts,
        "billing_starts_on": subscription.billing_starts_on,
        "ended_at": subscription.ended_at,
        "minimum_usage": (
            None if subscription.minimum_usage is None else str(subscription.minimum_usage)
        ),
        "current_period": _period(
            subscription_selectors.current_period(
                subscription, timezone.now(), billing_settings().zone
            )
        ),
    }


def _change(subscription_id: int, payload: ChangeIn, *, apply: bool):
    subscription, missing = _subscription_or_404(subscription_id)
    if missing:
        return missing
    at = timezone.now()
    action = subscriptions.change_subscription if apply else subscriptions.preview_change
    outcome = action(subscription, _change_request(payload), at=at)
    found = subscription_selectors.current_period(subscription, at, billing_settings().zone)
    interval = found[1] if found else None
    return Status(200, _change_out(outcome, applied=apply, interval=interval))


@router.post(
    "/subscriptions/{subscription_id}/preview-change",
    response={200: ChangeOut, **ERRORS},
    summary="What a change would cost now, without making it",
)
def preview_change(request, subscription_id: int, payload: ChangeIn):
    return _change(subscription_id, payload, apply=False)


@router.post(
    "/subscriptions/{subscription_id}/change",
    response={200: ChangeOut, **ERRORS},
    summary="Change plan, employees, numbers, options, traffic package or period (prorated)",
)
def change(request, subscription_id: int, payload: ChangeIn):
    return _change(subscription_id, payload, apply=True)


@router.post(
    "/subscriptions/{subscription_id}/cancel",
    response={200: CancelOut, **ERRORS},
    summary="Cancel at the end of the period, or immediately",
)
def cancel(request, subscription_id: int, payload: CancelIn):
    subscription, missing = _subscription_or_404(subscription_id)
    if missing:
        return missing
    outcome = subscriptions.cancel_subscription(
        subscription, at=timezone.now(), immediately=payload.immediately
    )
    return Status(
        200,
        {
            "subscription": outcome.subscription_id,
            "ended_at": outcome.ended_at,
            "lines": _lines(outcome.lines),
            "amount_due_now": str(outcome.totals.total),
        },
    )


@router.post(
    "/subscriptions/{subscription_id}/convert-trial",
    response={200: SubscriptionOut, **ERRORS},
    summary="Keep a trial: it turns paid at its end, or now (optionally on another plan)",
)
def convert_trial(request, subscription_id: int, payload: ConvertTrialIn):
    subscription, missing = _subscription_or_404(subscription_id)
    if missing:
        return missing
    converted = subscriptions.convert_trial(
        subscription,
        at=timezone.now(),
        plan=payload.plan,
        period=payload.period,
        start_now=payload.start_now,
    )
    found = subscription_selectors.get_subscription(converted.pk)
    return Status(200, _subscription_out(found))


@router.post(
    "/subscriptions/{subscription_id}/minimum-usage",
    response={200: SubscriptionOut, **ERRORS},
    summary="Set or remove the monthly minimum call spend (a contract's commitment)",
)
def set_minimum_usage(request, subscription_id: int, payload: MinimumUsageIn):
    subscription, missing = _subscription_or_404(subscription_id)
    if missing:
        return missing
    updated = subscriptions.set_minimum_usage(
        subscription, payload.minimum_usage, at=timezone.now()
    )
    return Status(200, _subscription_out(subscription_selectors.get_subscription(updated.pk)))


def _invoice_summary(invoice) -> dict:
    return {
        "id": invoice.pk,
        "number": invoice.number,
        "status": invoice.status,
        "customer": invoice.customer_id,
        "subscription": invoice.subscription_id,
        "period_start": invoice.period_start,
        "period_end": invoice.period_end,
        "issued_at": invoice.issued_at,
        "due_at": invoice.due_at,
        "currency": invoice.currency,
        "net_amount": str(invoice.net_amount),
        "vat_amount": str(invoice.vat_amount),
        "total": str(invoice.total),
    }


class InvoiceFilter(Schema):
    customer: int | None = Field(None, ge=1)
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=10_000_000)


@router.get("/invoices", response={200: list[InvoiceSummaryOut], **ERRORS}, summary="Invoices")
def list_invoices(request, filters: Query[InvoiceFilter]):
    return [
        _invoice_summary(invoice)
        for invoice in invoice_selectors.customer_invoices(
            filters.customer, limit=filters.limit, offset=filters.offset
        )
    ]


@router.get("/invoices/{invoice_id}", response={200: InvoiceOut, **ERRORS}, summary="An invoice")
def get_invoice(request, invoice_id: int):
    invoice = invoice_selectors.get_invoice(invoice_id)
    if invoice is None:
        return Status(404, {"detail": "no invoice with this id"})
    return {
        **_invoice_summary(invoice),
        "owed": str(invoice_selectors.invoice_owed(invoice)),
        "vat_rate": str(invoice.vat_rate),
        "vat_included": invoice.vat_included,
        "included_minutes": invoice.included_minutes,
        "lines": _lines(invoice.lines.all()),
        "credit_notes": [note.number for note in invoice.credit_notes.all()],
        "pdf_url": f"/api/v1/invoices/{invoice.pk}/pdf",
    }


@router.get(
    "/invoices/{invoice_id}/pdf",
    response={200: None, **ERRORS},
    summary="The invoice as a PDF document",
    openapi_extra={"responses": {200: {"description": "PDF", "content": {"application/pdf": {}}}}},
)
def invoice_pdf(request, invoice_id: int):
    invoice = invoice_selectors.get_invoice(invoice_id)
    if invoice is None:
        return Status(404, {"detail": "no invoice with this id"})
    return views.pdf_response(invoice)


@router.post(
    "/invoices/{invoice_id}/credit-notes",
    response={201: CreditNoteOut, **ERRORS},
    summary="Credit (part of) a finalised invoice",
)
def credit_invoice(request, invoice_id: int, payload: CreditNoteIn):
    invoice = invoice_selectors.get_invoice(invoice_id)
    if invoice is None:
        return Status(404, {"detail": "no invoice with this id"})
    note = invoicing.issue_credit_note(
        invoice, reason=payload.reason, amount=payload.amount, at=timezone.now()
    )
    return Status(
        201,
        {
            "id": note.pk,
            "number": note.number,
            "invoice": invoice.pk,
            "issued_at": note.issued_at,
            "currency": note.currency,
            "net_amount": str(note.net_amount),
            "vat_amount": str(note.vat_amount),
            "total": str(note.total),
        },
    )


@router.post("/payments", response={201: PaymentOut, **ERRORS}, summary="Record a payment received")
def record_payment(request, payload: PaymentIn):
    customer = Customer.objects.filter(pk=payload.customer).first()
    if customer is None:
        return Status(404, {"detail": "no customer with this id"})
    payment = payments.record_payment(
        customer,
        amount=payload.amount,
        currency=payload.currency,
        reference=payload.reference,
        note=payload.note,
        payer_reference=payload.payer_reference,
        at=timezone.now(),
    )
    return Status(
        201,
        {
            "id": payment.pk,
            "customer": payment.customer_id,
            "amount": str(payment.amount),
            "currency": payment.currency,
            "received_at": payment.received_at,
            "provider": payment.provider,
            "reference": payment.reference,
            "balance": str(invoice_selectors.balance(customer.pk)),
        },
    )


@router.get(
    "/customers/{customer_id}/balance",
    response={200: BalanceOut, **ERRORS},
    summary="What a customer owes, and on which invoices",
)
def customer_balance(request, customer_id: int):
    if not Customer.objects.filter(pk=customer_id).exists():
        return Status(404, {"detail": "no customer with this id"})
    return {
        "customer": customer_id,
        "balance": str(invoice_selectors.balance(customer_id)),
        "open_invoices": [
            {"id": item.id, "number": item.number, "due_at": item.due_at, "owed": str(item.owed)}
            for item in invoice_selectors.open_invoices([customer_id])
        ],
    }
