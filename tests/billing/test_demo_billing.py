"""``ringup demo-data`` bills its history: invoices for every ended period, most paid,
some overdue, and subscription statuses that follow from what is owed."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum

from ringup.billing.models import Entry, Invoice, InvoiceLine, Payment, Subscription
from ringup.billing.selectors.invoices import open_invoices
from ringup.billing.services.dunning import run_dunning
from ringup.billing.services.invoicing import bill
from ringup.events.models import Event

from .conftest import money

pytestmark = pytest.mark.django_db
END = datetime(2025, 2, 28, 21, tzinfo=UTC)  # 1 March 2025, Moscow midnight


def test_the_demo_history_is_invoiced_and_mostly_paid():
    out = StringIO()
    call_command("demo_data", customers=300, months=12, seed=5, until="2025-03-01", stdout=out)
    assert "Billed the history" in out.getvalue()
    invoices = Invoice.objects.count()
    assert invoices > 500
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"INV-{n:06d}" for n in range(1, invoices + 1)]
    assert Invoice.objects.filter(issued_at__gt=END).count() == 0
    assert money(Entry.objects.aggregate(s=Sum("amount"))["s"]) == 0

    overdue = open_invoices()
    assert 0 < len(overdue) < invoices * 0.1
    assert Payment.objects.count() > invoices * 0.85
    assert Subscription.objects.filter(status__in=["past_due", "suspended"]).exists()
    for subscription in Subscription.objects.filter(status="cancelled"):
        last = subscription.invoices.filter(reason="period").order_by("-period_end").first()
        if last is not None:
            assert last.issued_at <= subscription.ended_at

    # The history's invoices and payments are the past: no e-mail is to go out for them.
    assert not Event.objects.filter(kind__in=["invoice.issued", "invoice.paid"]).exists()

    # Nothing is left to bill for the history, and the statuses are dunning's.
    assert bill(until=END, at=END, dry_run=True).invoices_created == 0
    assert set(run_dunning(at=END - timedelta(seconds=1)).values()) == {0}

    # A few large firms have a minimum call commitment from the month of the demo's calls
    # (February) on: only invoices ending in it can fall short, and at least one does.
    committed = Subscription.objects.filter(minimum_usage__isnull=False)
    assert 1 <= committed.count() <= 5
    assert all(sub.customer.is_company for sub in committed)
    shortfalls = InvoiceLine.objects.filter(kind=InvoiceLine.Kind.COMMITMENT)
    assert shortfalls.exists()
    assert not shortfalls.filter(invoice__period_end__lte=END - timedelta(days=28)).exists()
    assert set(shortfalls.values_list("invoice__subscription_id", flat=True)) <= set(
        committed.values_list("pk", flat=True)
    )
