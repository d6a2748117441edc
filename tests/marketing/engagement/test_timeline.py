"""The customer timeline: events, mails, invoices, payments and tasks, newest first."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import transaction

from ringup.billing.services.invoicing import bill
from ringup.billing.services.payments import record_payment
from ringup.events.services import emit
from ringup.marketing.engagement.selectors import timeline
from ringup.marketing.engagement.services.tasks import complete_task, create_task

FEB_11_LOCAL = datetime(2025, 2, 10, 21, tzinfo=UTC)


def at(day, hour=9):
    return datetime(2025, 2, day, hour, tzinfo=UTC)


@pytest.fixture
def history(customer, make_customer):
    """Subscribed 10 January 09:00 UTC (paid from 11 January); the first period, to
    11 February local midnight, is invoiced; a newsletter on 14 February, a payment on
    the 15th, a task made on the 12th and done on the 20th; another customer's mail."""
    bill(until=FEB_11_LOCAL, at=at(11, 6))
    task = create_task(
        customer.pk, title="Offer CRM integration", due_on=date(2025, 2, 13), at=at(12)
    )
    other = make_customer("Somebody else")
    with transaction.atomic():
        for who in (customer, other):
            emit(
                "mailing.sent",
                at=at(14),
                customer_id=who.pk,
                payload={"mailing": {"id": 7, "name": "Newsletter", "subject": "February news"}},
            )
    record_payment(
        customer, amount=Decimal("1000.00"), currency="RUB", reference="PO-17", at=at(15)
    )
    complete_task(task, at=at(20))
    return customer


def test_entries_are_merged_newest_first(history):
    entries = timeline(history.pk)
    assert [(e.at, e.source, e.title) for e in entries] == [
        (at(20), "task_done", "Task done: Offer CRM integration"),
        (at(15), "payment", "Payment received"),
        (at(14), "mail", "Mail sent"),
        (at(12), "task", "Task: Offer CRM integration"),
        (FEB_11_LOCAL, "invoice", f"Invoice {history.invoices.get().number} issued"),
        (datetime(2025, 1, 10, 9, tzinfo=UTC), "event", "Subscription started"),
    ]
    assert entries[1].detail == "1000.00 RUB (manual PO-17)"
    assert entries[2].detail == "February news"
    assert entries[3].detail.startswith("Entered by a manager; due 2025-02-13; unassigned")


def test_paging_with_before_and_limit(history):
    first = timeline(history.pk, limit=2)
    assert [e.source for e in first] == ["task_done", "payment"]
    rest = timeline(history.pk, before=first[-1].at, limit=10)
    assert [e.source for e in rest] == ["mail", "task", "invoice", "event"]


def test_entries_at_the_same_instant_keep_a_fixed_order(customer):
    same = at(3)
    with transaction.atomic():
        emit("customer.email_verified", at=same, customer_id=customer.pk, payload={})
    create_task(customer.pk, title="Call", due_on=date(2025, 2, 4), at=same)
    record_payment(customer, amount=Decimal("5.00"), currency="RUB", reference="x", at=same)
    sources = [e.source for e in timeline(customer.pk) if e.at == same]
    assert sources == ["task", "payment", "event"]
    assert [e.source for e in timeline(customer.pk) if e.at == same] == sources
