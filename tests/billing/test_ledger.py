"""The ledger balances after any sequence of operations; balances are sums of entries;
payments are recorded once; a payment provider is a small protocol."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from ringup.billing.models import Entry, Invoice, Payment
from ringup.billing.selectors.invoices import balance, invoice_owed, open_invoices
from ringup.billing.services.invoicing import CreditRefused, bill, issue_credit_note
from ringup.billing.services.payments import (
    Collection,
    ManualProvider,
    PaymentRefused,
    collect_payment,
    record_payment,
)
from ringup.billing.services.subscriptions import (
    ChangeRequest,
    StartRequest,
    cancel_subscription,
    change_subscription,
    start_subscription,
)
from ringup.customers.models import Customer
from ringup.demo.catalog import load_catalog
from ringup.engine.ledger import Account

from .conftest import APRIL_1, MARCH_1, money

DAY = timedelta(days=1)


def ledger_total() -> D:
    return money(Entry.objects.aggregate(total=Sum("amount"))["total"] or 0)


def receivable_of(customer) -> D:
    return money(
        Entry.objects.filter(customer=customer, account=Account.RECEIVABLE).aggregate(
            total=Sum("amount")
        )["total"]
        or 0
    )


def changeable(subscription, at) -> bool:
    """Still running, and ``at`` not inside a period already invoiced."""
    invoiced = subscription.invoices.filter(period_end__gt=at).exists()
    return subscription.ended_at is None and not invoiced


class FakeGateway:
    """A card gateway double: declines amounts above the card's limit."""

    code = "fakepay"

    def __init__(self, limit: D):
        self.limit = limit
        self.charged: list[tuple] = []

    def collect(self, *, customer_id, amount, currency, reference):
        if amount > self.limit:
            return Collection(False, reference, "insufficient funds")
        self.charged.append((customer_id, amount, currency))
        return Collection(True, f"fake-{reference}")


operation = st.one_of(
    st.tuples(st.just("bill"), st.integers(1, 25)),
    st.tuples(st.just("pay"), st.decimals(D("0.01"), D("5000"), places=2)),
    st.tuples(st.just("credit"), st.decimals(D("0.01"), D("900"), places=2)),
    st.tuples(st.just("change"), st.integers(2, 40)),
    st.tuples(st.just("cancel"), st.booleans()),
)


class TestLedgerAfterAnySequence(TestCase):
    """Each example runs in its own rolled-back transaction over the class's catalog."""

    @classmethod
    def setUpTestData(cls):
        load_catalog()
        cls.customer = Customer.objects.create(
            name="Seq", email="seq@example.com", tier="smb", registered_at=MARCH_1
        )

    @settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(operations=st.lists(operation, min_size=1, max_size=6))
    def test_money_is_never_created_or_lost(self, operations):
        customer = self.customer
        subscription = start_subscription(
            customer, StartRequest(plan="office-pbx", employees=5, trial=False), at=MARCH_1
        )
        clock = MARCH_1 + DAY
        payments = 0
        for kind, value in operations:
            clock += DAY * 3
            if kind == "bill":
                clock += DAY * value
                bill(until=clock, at=clock)
            elif kind == "pay":
                payments += 1
                record_payment(
                    customer, amount=value, currency="RUB", reference=f"r{payments}", at=clock
                )
            elif kind == "credit":
                invoice = Invoice.objects.filter(customer=customer).first()
                if invoice is not None:
                    left = invoice.total - sum(n.total for n in invoice.credit_notes.all())
                    if left > 0:
                        issue_credit_note(
                            invoice, reason="goodwill", amount=min(value, left), at=clock
                        )
            elif kind in {"change", "cancel"} and changeable(subscription, clock):
                if kind == "cancel":
                    cancel_subscription(subscription, at=clock, immediately=value)
                elif value != subscription.employees:
                    change_subscription(subscription, ChangeRequest(employees=value), at=clock)
            subscription.refresh_from_db()

            assert ledger_total() == 0
            invoiced = Invoice.objects.aggregate(t=Sum("total"))["t"] or D(0)
            paid = Payment.objects.aggregate(t=Sum("amount"))["t"] or D(0)
            credited = sum(n.total for i in Invoice.objects.all() for n in i.credit_notes.all())
            assert receivable_of(customer) == money(invoiced - paid - credited)
            assert balance(customer.pk) == receivable_of(customer)


@pytest.mark.django_db
def test_overpaying_leaves_a_credit_that_pays_the_next_invoice(subscribe, customer):
    record_payment(customer, amount=D("2000"), currency="RUB", reference="PP-1", at=MARCH_1)
    assert balance(customer.pk) == D("-2000.00")
    subscribe()
    bill(until=APRIL_1, at=APRIL_1)
    invoice = Invoice.objects.get()
    assert invoice_owed(invoice) == 0
    assert balance(customer.pk) == D("1640.00") - D("2000.00")
    assert open_invoices([customer.pk]) == []


@pytest.mark.django_db
def test_payments_settle_the_oldest_invoice_first(subscribe, customer):
    subscribe()
    bill(until=APRIL_1 + DAY * 30, at=APRIL_1 + DAY * 30)
    march, april = Invoice.objects.order_by("issued_at")
    record_payment(
        customer, amount=D("2000"), currency="RUB", reference="PP-1", at=APRIL_1 + DAY * 31
    )
    assert invoice_owed(march) == 0
    assert invoice_owed(april) == D("1640.00") * 2 - D("2000.00")
    assert [(item.number, item.owed) for item in open_invoices([customer.pk])] == [
        (april.number, D("1280.00"))
    ]


@pytest.mark.django_db
def test_a_payment_reported_twice_is_recorded_once(customer):
    first = record_payment(customer, amount=D("100"), currency="RUB", reference="PP-7", at=MARCH_1)
    again = record_payment(customer, amount=D("100"), currency="RUB", reference="PP-7", at=APRIL_1)
    assert again.pk == first.pk
    assert Payment.objects.count() == 1
    with pytest.raises(PaymentRefused) as refused:
        record_payment(customer, amount=D("99"), currency="RUB", reference="PP-7", at=APRIL_1)
    assert "reference" in refused.value.errors


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount", "currency", "reference", "field"),
    [
        (D("0"), "RUB", "x", "amount"),
        (D("-5"), "RUB", "x", "amount"),
        (D("5"), "XXX", "x", "currency"),
        (D("5"), "RUB", " ", "reference"),
    ],
)
def test_bad_payments_are_refused_naming_the_field(customer, amount, currency, reference, field):
    with pytest.raises(PaymentRefused) as refused:
        record_payment(customer, amount=amount, currency=currency, reference=reference, at=MARCH_1)
    assert field in refused.value.errors
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_a_gateway_payment_is_recorded_only_when_collected(customer):
    gateway = FakeGateway(limit=D("1000"))
    with pytest.raises(PaymentRefused, match="insufficient funds"):
        collect_payment(
            gateway, customer, amount=D("1500"), currency="RUB", reference="o-1", at=MARCH_1
        )
    assert not Payment.objects.exists()

    payment = collect_payment(
        gateway, customer, amount=D("800"), currency="RUB", reference="o-2", at=MARCH_1
    )
    assert (payment.provider, payment.reference, payment.amount) == (
        "fakepay",
        "fake-o-2",
        D("800.00"),
    )
    assert gateway.charged == [(customer.pk, D("800"), "RUB")]
    assert balance(customer.pk) == D("-800.00")


@pytest.mark.django_db
def test_the_manual_provider_confirms_what_the_bank_received(customer):
    payment = collect_payment(
        ManualProvider(), customer, amount=D("10"), currency="RUB", reference="PP-9", at=MARCH_1
    )
    assert payment.provider == "manual"


@pytest.mark.django_db
def test_a_credit_note_is_numbered_in_its_own_series_and_reverses_revenue(subscribe, customer):
    subscribe()
    bill(until=APRIL_1, at=APRIL_1)
    invoice = Invoice.objects.get()
    note = issue_credit_note(invoice, reason="Outage", amount=D("164"), at=APRIL_1)
    assert note.number == "CN-000001"
    assert (note.net_amount, note.vat_amount) == (D("136.67"), D("27.33"))
    assert balance(customer.pk) == D("1476.00")
    rest = issue_credit_note(invoice, reason="Cancelled", at=APRIL_1)
    assert rest.number == "CN-000002"
    assert rest.total == D("1476.00")
    assert balance(customer.pk) == 0
    assert note.vat_amount + rest.vat_amount == invoice.vat_amount
    with pytest.raises(CreditRefused):  # nothing left to credit
        issue_credit_note(invoice, reason="Again", at=APRIL_1)
    revenue = Entry.objects.filter(account=Account.REVENUE).aggregate(s=Sum("amount"))["s"]
    assert money(revenue) == 0
