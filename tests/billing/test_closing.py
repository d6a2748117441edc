"""Closing usage invoices: calls (and usage rows) of an ended subscription that arrive
after its last period was invoiced are billed on an invoice of their own, once, by the
first run that sees them; a run repeated for the same day creates nothing."""

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from django.db import connection, connections
from django.db.models import Sum
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from ringup.billing.models import Invoice, InvoiceLine, UsageCharge
from ringup.billing.services.invoicing import bill
from ringup.billing.services.subscriptions import (
    StartRequest,
    cancel_subscription,
    start_subscription,
)
from ringup.customers.models import Customer
from ringup.demo.catalog import load_catalog
from ringup.engine.rating import Numbering
from ringup.usage.models import RatedCall
from ringup.usage.services import import_cdr_file

from .conftest import APRIL_1, MARCH_1, MAY_1, money

pytestmark = pytest.mark.django_db

MARCH_21 = datetime(2025, 3, 20, 21, tzinfo=UTC)
MAY_2 = MAY_1 + timedelta(days=1)
HEADER = "id,account,src,dst,start,duration\n"


def import_calls(tmp_path, name: str, rows: str) -> None:
    path = tmp_path / f"{name}.csv"
    path.write_text(HEADER + rows)
    import_cdr_file(path, source="pbx1", numbering=Numbering(country="RU"))


def usage(invoice: Invoice) -> list[tuple]:
    return list(
        invoice.lines.filter(kind=InvoiceLine.Kind.USAGE)
        .order_by("position")
        .values_list("description", "quantity", "amount")
    )


@pytest.fixture
def ended(subscribe, customer):
    """Office PBX with 1,000 minutes, paid from 1 March, cancelled on 21 March for the end
    of March; March is invoiced."""
    customer.account = "acc-romashka"
    customer.save()
    subscription = subscribe(traffic_package="min-1000")
    cancel_subscription(subscription, at=MARCH_21)
    bill(until=APRIL_1, at=APRIL_1)
    assert subscription.invoices.count() == 1
    return subscription


def test_late_calls_of_an_ended_subscription_get_a_closing_invoice_once(ended, tmp_path):
    """After March was invoiced (and the subscription ended with it), calls of 20 and 31
    March arrive, and one of 3 April (after the end: not this subscription's to bill).

    The run for 30 April bills the two March calls at their rated cost, never covered by
    March's included minutes: Russia mobile 5 min × 1.90 = 9.50 and Moscow local 10 min ×
    0.90 = 9.00; total 18.50, VAT 20% included: 9.50 × 20/120 = 1.583… → 1.58 and 9.00 ×
    20/120 = 1.50, so VAT 3.08. It is filed under the run's last day (30 April).
    """
    import_calls(
        tmp_path,
        "late",
        "l1,acc-romashka,74951110000,89161234567,2025-03-20T10:00:00,300\n"
        "l2,acc-romashka,74951110000,84951234567,2025-03-31T23:00:00,600\n"
        "l3,acc-romashka,74951110000,89161234567,2025-04-03T10:00:00,60\n",
    )
    dry = bill(until=MAY_1, at=MAY_1, dry_run=True).as_dict()
    assert ended.invoices.count() == 1
    assert not RatedCall.objects.filter(billed_invoice_id__isnull=False, cdr_id="l1").exists()
    real = bill(until=MAY_1, at=MAY_1).as_dict()
    assert dry == {**real, "dry_run": True}
    assert real["invoices_created"] == 1

    closing = ended.invoices.get(reason=Invoice.Reason.CLOSING)
    assert usage(closing) == [
        ("Calls from earlier periods: Moscow local, 2025-03-31: 1 call", D("10.00"), D("9.00")),
        ("Calls from earlier periods: Russia mobile, 2025-03-20: 1 call", D("5.00"), D("9.50")),
    ]
    assert (closing.total, closing.vat_amount, closing.included_minutes) == (
        D("18.50"),
        D("3.08"),
        0,
    )
    assert (closing.period_start, closing.period_end) == (MAY_1 - timedelta(days=1), MAY_1)
    assert closing.issued_at == MAY_1
    assert closing.due_at == MAY_1 + timedelta(days=10)
    assert closing.number == "INV-000002"
    assert money(closing.posting.entries.aggregate(s=Sum("amount"))["s"]) == 0
    billed = dict(
        RatedCall.objects.filter(customer=ended.customer).values_list("cdr_id", "billed_invoice_id")
    )
    assert billed["l1"] == billed["l2"] == closing.pk
    assert billed["l3"] is None  # after the end

    # Running the same day again creates nothing.
    assert bill(until=MAY_1, at=MAY_1 + timedelta(hours=2)).invoices_created == 0


def test_calls_arriving_even_later_get_another_closing_invoice_on_a_later_run(ended, tmp_path):
    import_calls(tmp_path, "a", "l1,acc-romashka,74951110000,89161234567,2025-03-20T10:00:00,300\n")
    bill(until=MAY_1, at=MAY_1)
    import_calls(tmp_path, "b", "l2,acc-romashka,74951110000,89161234567,2025-03-25T10:00:00,60\n")
    # The same day's run already has its closing invoice: the call waits for the next day.
    assert bill(until=MAY_1, at=MAY_1 + timedelta(hours=1)).invoices_created == 0
    assert RatedCall.objects.get(cdr_id="l2").billed_invoice_id is None
    report = bill(until=MAY_2, at=MAY_2)
    assert report.invoices_created == 1
    first, second = ended.invoices.filter(reason="closing").order_by("period_start")
    assert usage(second) == [
        ("Calls from earlier periods: Russia mobile, 2025-03-25: 1 call", D("1.00"), D("1.90"))
    ]
    assert second.period_start == MAY_1
    assert RatedCall.objects.get(cdr_id="l2").billed_invoice_id == second.pk
    assert RatedCall.objects.get(cdr_id="l1").billed_invoice_id == first.pk
    assert bill(until=MAY_2, at=MAY_2).invoices_created == 0


def test_the_closing_invoice_document_says_what_it_bills(ended, tmp_path, admin_client):
    import_calls(tmp_path, "a", "l1,acc-romashka,74951110000,89161234567,2025-03-20T10:00:00,300\n")
    bill(until=MAY_1, at=MAY_1)
    closing = ended.invoices.get(reason="closing")
    page = admin_client.get(reverse("admin:billing_invoice_document", args=[closing.pk]))
    html = page.content.decode()
    assert "Calls made before the subscription ended on 1 Apr 2025" in html
    assert "Service period" not in html


def test_nothing_late_makes_no_closing_invoice(ended):
    assert bill(until=MAY_1, at=MAY_1).invoices_created == 0


def test_late_usage_rows_are_closed_too_and_a_second_subscription_does_not_take_the_calls(
    ended, subscribe, tmp_path
):
    """A usage row of 30 March (2.504999) arrives after March's invoice; so does a call of
    20 March. The customer has a second, live subscription: the calls stay the first
    subscription's to bill, so they land on its closing invoice, not on the second's."""
    second = subscribe(APRIL_1, plan="virtual-number", employees=1)
    UsageCharge.objects.create(
        subscription=ended,
        at=APRIL_1 - timedelta(days=1),
        destination="Moscow mobile",
        seconds=90,
        amount=D("2.504999"),
        currency="RUB",
        source_key="late-row",
    )
    import_calls(tmp_path, "a", "l1,acc-romashka,74951110000,89161234567,2025-03-20T10:00:00,300\n")
    bill(until=MAY_1, at=MAY_1)
    closing = ended.invoices.get(reason="closing")
    assert usage(closing) == [
        ("Calls to Moscow mobile: 1 call", D("1.50"), D("2.50")),
        ("Calls from earlier periods: Russia mobile, 2025-03-20: 1 call", D("5.00"), D("9.50")),
    ]
    assert UsageCharge.objects.get().invoice == closing
    assert usage(second.invoices.get()) == []


def test_an_immediately_cancelled_subscription_closes_calls_before_its_end_only(
    subscribe, customer, tmp_path
):
    """Cancelled immediately on 21 March: March's invoice is issued then. Late calls
    arrive: one of 20 March (in its paid window, 1 March to the end on 21 March) goes on
    the closing invoice, 1 min × 1.90; one of 25 March, after the end, is in no paid
    window and no later subscription follows, so nobody bills it."""
    customer.account = "acc-romashka"
    customer.save()
    subscription = subscribe()
    cancel_subscription(subscription, at=MARCH_21, immediately=True)
    bill(until=MARCH_21 + timedelta(days=1), at=MARCH_21 + timedelta(days=1))
    import_calls(
        tmp_path,
        "a",
        "l1,acc-romashka,74951110000,89161234567,2025-03-20T10:00:00,60\n"
        "l2,acc-romashka,74951110000,89161234567,2025-03-25T10:00:00,60\n",
    )
    bill(until=APRIL_1, at=APRIL_1)
    closing = subscription.invoices.get(reason="closing")
    assert closing.total == D("1.90")
    assert (closing.period_start, closing.period_end) == (APRIL_1 - timedelta(days=1), APRIL_1)
    billed = dict(RatedCall.objects.values_list("cdr_id", "billed_invoice_id"))
    assert (billed["l1"], billed["l2"]) == (closing.pk, None)


def test_a_trial_that_ended_unpaid_has_nothing_to_close(subscribe, customer, tmp_path):
    customer.account = "acc-romashka"
    customer.save()
    subscription = subscribe(trial=True)
    cancel_subscription(subscription, at=MARCH_1 + timedelta(days=3))
    import_calls(tmp_path, "a", "l1,acc-romashka,74951110000,89161234567,2025-03-02T10:00:00,60\n")
    assert bill(until=MAY_1, at=MAY_1).invoices_created == 0


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_close_each_subscription_once(catalog, tmp_path):
    """Two threads on two connections, one start signal, two different cut-off days: the
    late calls are billed once, on one closing invoice."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite's shared in-memory test database cannot queue")
    rows = []
    for n in range(8):
        customer = Customer.objects.create(
            name=f"Firm {n}",
            email=f"f{n}@example.com",
            tier="smb",
            registered_at=MARCH_1,
            account=f"acc-{n}",
        )
        subscription = start_subscription(
            customer, StartRequest(plan="office-pbx", employees=3, trial=False), at=MARCH_1
        )
        cancel_subscription(subscription, at=MARCH_21)
        rows.append(f"c{n},acc-{n},74951110000,89161234567,2025-03-2{n}T10:00:00,60\n")
    bill(until=APRIL_1, at=APRIL_1)
    import_calls(tmp_path, "late", "".join(rows))
    start = threading.Barrier(2)
    reports, errors = [], []

    def run(until):
        try:
            start.wait()
            reports.append(bill(until=until, at=MAY_2, chunk=3).as_dict())
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(until,)) for until in (MAY_1, MAY_2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(report["invoices_created"] for report in reports) == 8
    closing = Invoice.objects.filter(reason="closing")
    assert closing.count() == 8
    assert len(set(closing.values_list("subscription_id", flat=True))) == 8
    assert str(closing.aggregate(s=Sum("total"))["s"]) == str(D("1.90") * 8)
    assert not RatedCall.objects.filter(billed_invoice_id__isnull=True).exists()


class TestUsageOfAnEndedSubscriptionIsBilledOnce(TestCase):
    """Usage rows at any instants, a cancellation at any instant (at the period's end or
    immediately), bill runs at any days: every row that started in the paid time before the
    end of the last period is billed exactly once, the invoices' usage lines add up to the
    rows' amounts (each line rounded once), and nothing after that end is ever billed."""

    @classmethod
    def setUpTestData(cls):
        load_catalog()
        cls.customer = Customer.objects.create(
            name="Closing", email="closing@example.com", tier="smb", registered_at=MARCH_1
        )

    @hypothesis_settings(
        max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(
        rows=st.lists(
            st.tuples(st.integers(0, 100 * 86_400), st.integers(1, 999_999)),
            min_size=1,
            max_size=10,
        ),
        cancel_after=st.integers(3_600, 60 * 86_400),
        immediately=st.booleans(),
        runs=st.lists(st.integers(1, 110), min_size=1, max_size=4),
        arrivals=st.lists(st.integers(0, 4), min_size=10, max_size=10),
    )
    def test_each_row_is_billed_once(self, rows, cancel_after, immediately, runs, arrivals):
        subscription = start_subscription(
            self.customer, StartRequest(plan="office-pbx", employees=3, trial=False), at=MARCH_1
        )
        outcome = cancel_subscription(
            subscription, at=MARCH_1 + timedelta(seconds=cancel_after), immediately=immediately
        )
        pending = list(enumerate(rows))
        days = [*sorted(set(runs)), 120]
        for run, day in enumerate(days):
            # Rows arrive before the run numbered ``arrivals[n]`` (or the last one).
            for n, (offset, micro) in list(pending):
                if min(arrivals[n], len(days) - 1) <= run:
                    UsageCharge.objects.create(
                        subscription=subscription,
                        at=MARCH_1 + timedelta(seconds=offset),
                        destination=f"Zone {n % 2}",
                        seconds=60,
                        amount=D(micro) / 1_000_000,
                        currency="RUB",
                        source_key=f"r{subscription.pk}-{n}",
                    )
                    pending.remove((n, (offset, micro)))
            until = MARCH_1 + timedelta(days=day)
            bill(until=until, at=until)
        last_period = subscription.invoices.filter(reason="period").order_by("-period_end").first()
        limit = last_period.period_end if last_period else MARCH_1
        assert limit >= outcome.ended_at
        charges = UsageCharge.objects.filter(subscription=subscription)
        for charge in charges:
            assert (charge.invoice_id is not None) == (charge.at < limit)
        lines = InvoiceLine.objects.filter(invoice__subscription=subscription, kind="usage")
        exact = sum((c.amount for c in charges if c.invoice_id), D(0))
        # Each line rounds once: at most half a kopeck off per line.
        assert abs(sum((line.amount for line in lines), D(0)) - exact) <= D("0.005") * len(lines)
        keys = list(subscription.invoices.values_list("period_start", "reason"))
        assert len(keys) == len(set(keys))
