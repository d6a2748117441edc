"""Issued invoices, credit notes, payments and the ledger cannot be changed or deleted:
not through the ORM, not through the back office, not through the API — and on
PostgreSQL not even with raw SQL."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from ringup.billing.models import (
    CreditNote,
    Entry,
    ImmutableRecord,
    Invoice,
    InvoiceLine,
    Payment,
    Posting,
    Subscription,
)
from ringup.billing.selectors.invoices import invoice_owed
from ringup.billing.services.invoicing import bill, issue_credit_note
from ringup.billing.services.payments import record_payment
from ringup.billing.services.subscriptions import cancel_subscription

from .conftest import APRIL_1

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(subscribe, customer):
    """A finalised invoice, a credit note on it and a payment, all posted."""
    subscribe()
    bill(until=APRIL_1, at=APRIL_1)
    invoice = Invoice.objects.get()
    note = issue_credit_note(invoice, reason="Outage on 3 March", amount=D("100"), at=APRIL_1)
    payment = record_payment(
        customer, amount=D("500"), currency="RUB", reference="PP-1", at=APRIL_1
    )
    return invoice, note, payment


def records(invoice, note, payment):
    return [
        invoice,
        invoice.lines.first(),
        note,
        note.lines.first(),
        payment,
        Posting.objects.filter(invoice=invoice).get(),
        Entry.objects.filter(posting__invoice=invoice).first(),
    ]


def test_saving_or_deleting_an_issued_record_is_refused(issued):
    for record in records(*issued):
        with pytest.raises(ImmutableRecord):
            record.save()
        with pytest.raises(ImmutableRecord):
            record.delete()


def test_queryset_update_and_delete_are_refused(issued):
    invoice, _, _ = issued
    querysets = [
        Invoice.objects.filter(pk=invoice.pk),
        InvoiceLine.objects.filter(invoice=invoice),
        CreditNote.objects.all(),
        Payment.objects.all(),
        Posting.objects.all(),
        Entry.objects.all(),
    ]
    for queryset in querysets:
        with pytest.raises(ImmutableRecord):
            queryset.update(pk=queryset.first().pk)
        with pytest.raises(ImmutableRecord):
            queryset.delete()
    assert Invoice.objects.get().total == invoice.total


def test_adding_a_line_to_a_finalised_invoice_is_refused(issued):
    invoice, _, _ = issued
    with pytest.raises(ImmutableRecord):
        InvoiceLine.objects.create(
            invoice=invoice,
            position=99,
            kind="one_time",
            code="x",
            description="Sneaked in",
            quantity=1,
            amount=1,
            vat_amount=0,
            total=1,
        )


def test_a_draft_may_still_change(customer):
    draft = Invoice.objects.create(
        customer=customer,
        period_start=APRIL_1,
        period_end=APRIL_1 + timedelta(days=30),
        currency="RUB",
        issued_at=APRIL_1,
        due_at=APRIL_1,
        net_amount=0,
        vat_amount=0,
        total=0,
        vat_rate=20,
        vat_included=True,
        buyer={},
        created_at=APRIL_1,
    )
    draft.due_at = APRIL_1 + timedelta(days=5)
    draft.save()
    Invoice.objects.filter(pk=draft.pk).update(vat_rate=10)
    draft.delete()
    assert not Invoice.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers are PostgreSQL's")
def test_raw_sql_is_refused_by_the_database(issued):
    invoice, _, _ = issued
    statements = [
        ("UPDATE billing_invoice SET total = 0 WHERE id = %s", [invoice.pk]),
        ("DELETE FROM billing_invoice WHERE id = %s", [invoice.pk]),
        ("UPDATE billing_invoiceline SET amount = 0 WHERE invoice_id = %s", [invoice.pk]),
        ("UPDATE billing_entry SET amount = amount + 1", []),
        ("DELETE FROM billing_entry", []),
        ("DELETE FROM billing_posting", []),
        ("UPDATE billing_payment SET amount = 1", []),
        ("DELETE FROM billing_creditnote", []),
    ]
    for sql, params in statements:
        with (
            pytest.raises(DatabaseError, match="immutable"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, params)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_an_unbalanced_posting_is_refused_by_the_database(issued, customer):
    invoice, _, _ = issued
    posting = Posting.objects.filter(invoice=invoice).get()
    with pytest.raises(DatabaseError, match="does not balance"), transaction.atomic():
        Entry.objects.create(posting=posting, account="bank", amount=D("1.00"))


def test_the_back_office_shows_but_never_edits_or_deletes(issued, admin_client):
    invoice, note, payment = issued
    for model, record in (("invoice", invoice), ("creditnote", note), ("payment", payment)):
        change = reverse(f"admin:billing_{model}_change", args=[record.pk])
        assert admin_client.get(change).status_code == 200
        assert admin_client.post(change, {"total": "0"}).status_code == 403
        delete = reverse(f"admin:billing_{model}_delete", args=[record.pk])
        assert admin_client.get(delete).status_code == 403
        assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert admin_client.get(reverse("admin:billing_invoice_add")).status_code == 403
    changelist = reverse("admin:billing_invoice_changelist")
    response = admin_client.post(
        changelist, {"action": "delete_selected", "_selected_action": [invoice.pk]}
    )
    assert response.status_code in (200, 302, 403)
    assert Invoice.objects.filter(pk=invoice.pk).exists()


def test_the_api_has_no_way_to_change_or_delete(issued, staff_client):
    invoice, _, _ = issued
    url = f"/api/v1/invoices/{invoice.pk}"
    for method in ("put", "patch", "delete"):
        response = getattr(staff_client, method)(url, data={}, content_type="application/json")
        assert response.status_code == 405
    assert staff_client.delete("/api/v1/payments").status_code == 405
    assert Invoice.objects.get().total == invoice.total


def test_back_office_payments_and_actions_go_through_the_services(issued, admin_client, customer):
    invoice, _, _ = issued
    response = admin_client.post(
        reverse("admin:billing_payment_add"),
        {
            "customer": customer.pk,
            "amount": "250.00",
            "currency": "RUB",
            "reference": "PP-77",
            "received_at_0": "2025-04-02",
            "received_at_1": "10:00:00",
            "note": "",
        },
    )
    assert response.status_code == 302, response.content
    payment = Payment.objects.get(reference="PP-77")
    assert Posting.objects.filter(payment=payment).exists()

    changelist = reverse("admin:billing_invoice_changelist")
    admin_client.post(
        changelist,
        {"action": "record_payment_of_amount_owed", "_selected_action": [invoice.pk]},
    )
    assert invoice_owed(invoice) == 0
    admin_client.post(changelist, {"action": "credit_in_full", "_selected_action": [invoice.pk]})
    assert CreditNote.objects.filter(invoice=invoice).count() == 2


def test_subscriptions_are_read_only_in_the_back_office(subscribe, admin_client):
    """All but the minimum call commitment (tests/billing/test_commitments.py), a contract
    term with no history behind it; an ended subscription not even that."""
    subscription = subscribe()
    change = reverse("admin:billing_subscription_change", args=[subscription.pk])
    assert admin_client.get(change).status_code == 200
    admin_client.post(change, {"employees": "99"})
    assert Subscription.objects.get(pk=subscription.pk).employees == 10
    assert admin_client.get(reverse("admin:billing_subscription_add")).status_code == 403
    delete = reverse("admin:billing_subscription_delete", args=[subscription.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    cancel_subscription(subscription, at=APRIL_1, immediately=True)  # ended long ago
    assert admin_client.post(change, {"minimum_usage": "1.00"}).status_code == 403
