"""Dunning: unpaid invoices make subscriptions past due after 3 days, suspended after 14;
paying reactivates them. Trials and ended subscriptions are left alone."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.conf import settings
from django.test import override_settings

from ringup.billing import tasks
from ringup.billing.models import BillingAccount
from ringup.billing.services.dunning import run_dunning
from ringup.billing.services.invoicing import bill
from ringup.billing.services.payments import record_payment
from ringup.billing.services.subscriptions import cancel_subscription

from .conftest import APRIL_1, MARCH_1

pytestmark = pytest.mark.django_db
DUE = APRIL_1 + timedelta(days=10)  # postpaid: ten days to pay


def status(subscription) -> str:
    subscription.refresh_from_db()
    return subscription.status


def history(subscription) -> list[str]:
    return list(subscription.changes.order_by("at", "pk").values_list("kind", flat=True))


def test_unpaid_past_due_then_suspended_then_reactivated_by_payment(subscribe, customer):
    subscription = subscribe()
    bill(until=APRIL_1, at=APRIL_1)

    assert run_dunning(at=DUE + timedelta(days=2))["past_due"] == 0
    assert status(subscription) == "active"
    assert run_dunning(at=DUE + timedelta(days=3))["past_due"] == 1
    assert status(subscription) == "past_due"
    assert run_dunning(at=DUE + timedelta(days=13))["suspended"] == 0
    assert run_dunning(at=DUE + timedelta(days=14))["suspended"] == 1
    assert status(subscription) == "suspended"

    record_payment(
        customer, amount=D("1000"), currency="RUB", reference="part", at=DUE + timedelta(days=15)
    )
    assert status(subscription) == "suspended"  # still owes 640
    record_payment(
        customer, amount=D("640"), currency="RUB", reference="rest", at=DUE + timedelta(days=16)
    )
    assert status(subscription) == "active"
    assert history(subscription)[-3:] == ["past_due", "suspended", "reactivated"]
    assert run_dunning(at=DUE + timedelta(days=20)) == {
        "suspended": 0,
        "past_due": 0,
        "reactivated": 0,
    }


def test_a_prepaid_customer_is_due_on_issue(subscribe, customer):
    BillingAccount.objects.create(customer=customer, kind=BillingAccount.Kind.PREPAID)
    subscription = subscribe()
    bill(until=APRIL_1, at=APRIL_1)
    run_dunning(at=APRIL_1 + timedelta(days=3))
    assert status(subscription) == "past_due"


def test_a_customer_in_credit_is_never_dunned(subscribe, customer):
    record_payment(customer, amount=D("5000"), currency="RUB", reference="ahead", at=MARCH_1)
    subscription = subscribe()
    bill(until=APRIL_1, at=APRIL_1)
    run_dunning(at=DUE + timedelta(days=30))
    assert status(subscription) == "active"


def test_trials_and_ended_subscriptions_are_left_alone(subscribe):
    ended = subscribe()
    trial = subscribe(trial=True)
    cancel_subscription(ended, at=MARCH_1 + timedelta(days=20), immediately=True)
    bill(until=APRIL_1, at=APRIL_1)
    run_dunning(at=DUE + timedelta(days=20))
    assert status(trial) == "trialing"
    assert status(ended) == "cancelled"


@override_settings(
    BILLING={**settings.BILLING, "DUNNING_PAST_DUE_DAYS": 1, "DUNNING_SUSPEND_DAYS": 2}
)
def test_the_thresholds_come_from_settings(subscribe):
    subscription = subscribe()
    bill(until=APRIL_1, at=APRIL_1)
    run_dunning(at=DUE + timedelta(days=2))
    assert status(subscription) == "suspended"


def test_the_celery_tasks_wrap_the_services(subscribe, customer, time_machine):
    subscription = subscribe()
    time_machine.move_to(DUE + timedelta(days=4, hours=6))
    assert tasks.bill_task.run()["invoices_created"] >= 1
    assert tasks.dunning_task.run()["past_due"] == 1
    assert status(subscription) == "past_due"
    assert tasks.advance_subscriptions_task.run()["converted"] == 0


def test_beat_runs_billing_and_dunning_every_day():
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"ringup.billing.bill", "ringup.billing.dunning"} <= schedule
    from ringup.config.celery import app

    app.loader.import_default_modules()
    assert {"ringup.billing.bill", "ringup.billing.dunning"} <= set(app.tasks)
