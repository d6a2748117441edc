"""Triggered mailings: events through the outbox become recipient rows, sent when due."""

from datetime import time, timedelta

from django.db import transaction

from ringup.events.services import dispatch, emit
from ringup.marketing.mailings import services
from ringup.marketing.mailings.models import Recipient
from ringup.marketing.segments.models import Segment

from .conftest import AT, make_customers


def _emit(kind, customer, *, at=AT, **payload):
    with transaction.atomic():
        emit(kind, at=at, payload=payload, customer_id=customer.pk)
    return dispatch(at=at, consumers=["mailings"])


def test_registration_sends_the_lead_magnet_once_per_customer(db, smtp, mailing_of):
    [customer] = make_customers(1)
    mailing = mailing_of(kind="triggered", trigger_kind="customer.registered")
    services.activate(mailing, at=AT)
    assert _emit("customer.registered", customer) == {"done": 1, "retried": 0, "dead": 0}
    _emit("customer.registered", customer, at=AT + timedelta(minutes=1))
    assert Recipient.objects.count() == 1
    assert services.send_due(at=AT + timedelta(minutes=1))["sent"] == 1
    assert smtp.wait_for(1)[0]["To"] == "c0@example.com"


def test_plan_up_to_the_top_plan_only(db, smtp, mailing_of):
    upgraded, downgraded, elsewhere = make_customers(3)
    mailing = mailing_of(
        kind="triggered",
        trigger_kind="subscription.changed",
        trigger_changes=["plan_up"],
        trigger_plans=["contact-centre"],
    )
    services.activate(mailing, at=AT)
    _emit(
        "subscription.changed",
        upgraded,
        changes=["plan_up"],
        subscription={"plan": "contact-centre"},
    )
    _emit(
        "subscription.changed",
        downgraded,
        changes=["plan_down"],
        subscription={"plan": "contact-centre"},
    )
    _emit("subscription.changed", elsewhere, changes=["plan_up"], subscription={"plan": "office"})
    assert list(Recipient.objects.values_list("customer_id", flat=True)) == [upgraded.pk]
    services.send_due(at=AT)
    body = smtp.wait_for(1)[0].get_body(("html",)).get_content()
    assert "your plan is contact-centre" in body  # the event's plan, no live subscription


def test_a_delay_is_a_due_time_not_a_countdown(db, smtp, mailing_of, template):
    variant = template.variants.get(language="en")
    variant.text = "Your trial ends on {{ trial_ends_at }}."
    variant.save()
    [customer] = make_customers(1)
    mailing = mailing_of(kind="triggered", trigger_kind="trial.ending", delay_minutes=60)
    services.activate(mailing, at=AT)
    _emit(
        "trial.ending",
        customer,
        subscription={"plan": "office", "trial_ends_at": "2026-03-05T09:00:00+00:00"},
    )
    assert services.send_due(at=AT + timedelta(minutes=59))["sent"] == 0
    assert services.send_due(at=AT + timedelta(minutes=60))["sent"] == 1
    assert (
        "Your trial ends on March 5, 2026."
        in smtp.wait_for(1)[0].get_body(("plain",)).get_content()
    )


def test_the_segment_filter_applies_to_events(db, smtp, mailing_of):
    russian, german = make_customers(2)
    german.country = "DE"
    german.save()
    segment = Segment.objects.create(
        name="Russia", conditions={"all": [{"field": "country", "op": "in", "value": ["RU"]}]}
    )
    mailing = mailing_of(kind="triggered", trigger_kind="customer.registered", segment=segment)
    services.activate(mailing, at=AT)
    _emit("customer.registered", russian)
    _emit("customer.registered", german)
    assert list(Recipient.objects.values_list("customer_id", flat=True)) == [russian.pk]


def test_segment_entry_is_checked_once_a_day_and_mails_each_customer_once(
    db, smtp, mailing_of, settings
):
    settings.TIME_ZONE = "UTC"
    make_customers(2)
    segment = Segment.objects.create(
        name="Russia", conditions={"all": [{"field": "country", "op": "in", "value": ["RU"]}]}
    )
    mailing = mailing_of(
        kind="triggered", trigger_kind="segment.entered", segment=segment, time_of_day=time(10, 0)
    )
    services.activate(mailing, at=AT)
    assert services.schedule(at=AT)["entered"] == 0  # 09:00: before the daily check
    assert services.schedule(at=AT + timedelta(hours=1))["entered"] == 2
    make_customers(1, start=2)
    assert services.schedule(at=AT + timedelta(hours=2))["entered"] == 0  # checked today
    assert services.schedule(at=AT + timedelta(days=1, hours=1))["entered"] == 1
    services.send_due(at=AT + timedelta(days=1, hours=1))
    assert len(smtp.wait_for(3)) == 3
