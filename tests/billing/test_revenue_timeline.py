"""The revenue timeline PostgreSQL keeps per customer, and the invoiced-over-a-window
filter read from it, against the invoices themselves."""

import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringup.billing.models import Invoice, RevenueTimeline
from ringup.billing.selectors.invoices import invoiced_compared
from ringup.customers.models import Customer
from tests.marketing.segments.conftest import Shop

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the timelines are kept on PostgreSQL"
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)
SECOND = timedelta(seconds=1)
# Numbers invoices uniquely across the module (each test's rows are rolled back anyway).
SHOP = Shop()


def customer(name: str) -> Customer:
    return Customer.objects.create(name=name, email=f"{name}@example.com", registered_at=T0)


def invoice(who: Customer, total: str, issued_at: datetime, *, draft: bool = False) -> Invoice:
    status = Invoice.Status.DRAFT if draft else Invoice.Status.FINALISED
    return SHOP.invoice(who, total, issued_at=issued_at, status=status)


def passing(at_least: bool, amount: str, since: datetime, until: datetime) -> list[str]:
    rule = invoiced_compared(at_least, Decimal(amount), since=since, until=until)
    return sorted(Customer.objects.filter(rule).values_list("name", flat=True))


@postgresql_only
def test_the_timeline_follows_finalised_invoices_in_issue_order():
    """Invoices of 100.00 at T0+2 s, then 40.00 at T0 (arriving later but issued earlier),
    50.00 and 25.00 both at T0+2 s, and a draft of 999.00 at T0+1 s: the timeline is
    T0 → 40.00, T0+2 s → 215.00 (40 + 100 + 50 + 25) for each of the three at T0+2 s;
    the draft is not there until it is finalised, then T0+1 s → 1,039.00 and every later
    running total 999.00 higher."""
    ann = customer("ann")
    invoice(ann, "100.00", T0 + 2 * SECOND)
    invoice(ann, "40.00", T0)
    invoice(ann, "50.00", T0 + 2 * SECOND)
    invoice(ann, "25.00", T0 + 2 * SECOND)
    draft = invoice(ann, "999.00", T0 + SECOND, draft=True)

    timeline = RevenueTimeline.objects.get(customer=ann)
    assert timeline.issued == [T0, *[T0 + 2 * SECOND] * 3]
    assert timeline.running_total == [Decimal("40.00"), *[Decimal("215.00")] * 3]

    Invoice.objects.filter(pk=draft.pk).update(status=Invoice.Status.FINALISED, number="R-D")
    timeline.refresh_from_db()
    assert timeline.issued == [T0, T0 + SECOND, *[T0 + 2 * SECOND] * 3]
    assert timeline.running_total == [
        Decimal("40.00"),
        Decimal("1039.00"),
        *[Decimal("1214.00")] * 3,
    ]


@postgresql_only
def test_windows_are_half_open_to_the_microsecond():
    """Ann: 100.00 at T0 and 250.00 at T0+1 h. [T0, T0+1 h) holds 100.00 only; moving
    the end 1 µs past T0+1 h takes in the 250.00 (350.00); starting 1 µs after T0 drops
    the 100.00 (250.00). Bob has no invoices: 0.00, so "at most" keeps him and "at least
    0.00" too, "at least 0.01" does not."""
    hour = timedelta(hours=1)
    micro = timedelta(microseconds=1)
    ann = customer("ann")
    customer("bob")
    invoice(ann, "100.00", T0)
    invoice(ann, "250.00", T0 + hour)

    assert passing(True, "100.00", T0, T0 + hour) == ["ann"]
    assert passing(True, "100.01", T0, T0 + hour) == []
    assert passing(True, "350.00", T0, T0 + hour + micro) == ["ann"]
    assert passing(False, "250.00", T0 + micro, T0 + 2 * hour) == ["ann", "bob"]
    assert passing(False, "249.99", T0 + micro, T0 + 2 * hour) == ["bob"]
    assert passing(True, "0.00", T0, T0 + hour) == ["ann", "bob"]
    assert passing(True, "0.01", T0 + 2 * hour, T0 + 3 * hour) == []


@postgresql_only
def test_emptying_the_invoices_empties_the_timelines():
    """The test runner's flush truncates the invoices; no timeline may outlive them."""
    invoice(customer("ann"), "10.00", T0)
    with connection.cursor() as cursor:
        # The insert's deferred foreign-key checks first: TRUNCATE refuses while they wait.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE billing_invoice CASCADE")
    assert not RevenueTimeline.objects.exists()


# Instants on a coarse grid so that windows often start or end exactly on an invoice and
# several invoices share an instant.
instant = st.integers(min_value=0, max_value=12).map(lambda k: T0 + k * 10 * SECOND)
invoice_row = st.tuples(
    st.integers(min_value=0, max_value=3),  # whose
    st.decimals(min_value=0, max_value=500, places=2),
    instant,
    st.booleans(),  # still a draft
)


@postgresql_only
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(invoice_row, max_size=14),
    since=instant,
    length=st.integers(min_value=0, max_value=8),
    at_least=st.booleans(),
    amount=st.decimals(min_value=0, max_value=1200, places=2),
)
def test_the_filter_equals_summing_the_invoices(rows, since, length, at_least, amount):
    """For any invoices (finalised or drafts, in any order, sharing instants) and any
    window and threshold, the customers passing are those whose finalised invoices issued
    in [since, until) add up to ≥ / ≤ the amount, customers without any counting 0."""
    until = since + length * 10 * SECOND
    with transaction.atomic():
        people = [customer(f"c{k}") for k in range(4)]
        sums = {person.name: Decimal(0) for person in people}
        for whose, total, issued_at, draft in rows:
            invoice(people[whose], str(total), issued_at, draft=draft)
            if not draft and since <= issued_at < until:
                sums[people[whose].name] += total
        expected = sorted(
            name
            for name, total in sums.items()
            if (total >= amount if at_least else total <= amount)
        )
        assert passing(at_least, str(amount), since, until) == expected
        transaction.set_rollback(True)


def test_django_tools_find_the_table_on_every_database():
    """On SQLite the table exists and stays empty, so dumpdata does not fail on it."""
    invoice(customer("ann"), "10.00", T0)
    out = io.StringIO()
    call_command("dumpdata", "billing.revenuetimeline", stdout=out)
    expected = 1 if connection.vendor == "postgresql" else 0
    assert len(json.loads(out.getvalue())) == expected
