"""Billing's domain events: each service writes its events in the transaction of the
change (a rollback leaves none), with the customer and subscription snapshot; events that
happen once per subscription or invoice are written once however often a step runs."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from django.db import transaction

from ringup.billing.models import Invoice
from ringup.billing.services.dunning import run_dunning
from ringup.billing.services.invoicing import bill, finalise_invoice, issue_credit_note
from ringup.billing.services.payments import PaymentRefused, collect_payment, record_payment
from ringup.billing.services.subscriptions import (
    ChangeRequest,
    advance_subscriptions,
    cancel_subscription,
    change_subscription,
    convert_trial,
)
from ringup.events.models import Event

from .conftest import APRIL_1, MARCH_1, MAY_1, installation_draft
from .test_ledger import FakeGateway

pytestmark = pytest.mark.django_db

MARCH_21 = datetime(2025, 3, 20, 21, tzinfo=UTC)
STARTED = datetime(2025, 3, 3, 11, 20, tzinfo=UTC)
TRIAL_END = STARTED + timedelta(days=14)


def events(kind: str | None = None) -> list[Event]:
    found = Event.objects.order_by("id")
    return list(found.filter(kind=kind) if kind else found)


def kinds() -> list[str]:
    return [event.kind for event in events()]


class Rollback(Exception):
    pass


def test_a_started_subscription_carries_the_snapshot(subscribe, customer):
    subscription = subscribe(options=("crm-integration",), traffic_package="min-1000")
    (event,) = events("subscription.started")
    assert (event.customer_id, event.subscription_id, event.at) == (
        customer.pk,
        subscription.pk,
        MARCH_1,
    )
    assert event.key == f"subscription.started:{subscription.pk}"
    assert event.payload["customer"] == {
        "id": customer.pk,
        "name": "ООО «Ромашка»",
        "email": "office@romashka.example",
        "phone": "+74951234567",
        "account": customer.account,
        "language": "ru",
        "country": "RU",
    }
    assert event.payload["subscription"] == {
        "id": subscription.pk,
        "plan": "office-pbx",
        "status": "active",
        "period": "monthly",
        "employees": 10,
        "numbers": 2,
        "options": ["crm-integration"],
        "traffic_package": "min-1000",
        "trial_ends_at": None,
        "trial_converts": True,
        "started_at": "2025-02-28T21:00:00Z",
        "ended_at": None,
    }


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda subscribe, sub: subscribe(trial=True), id="start"),
        pytest.param(
            lambda subscribe, sub: change_subscription(
                sub, ChangeRequest(employees=12), at=MARCH_21
            ),
            id="change",
        ),
        pytest.param(
            lambda subscribe, sub: cancel_subscription(sub, at=MARCH_21, immediately=True),
            id="cancel",
        ),
        pytest.param(lambda subscribe, sub: bill(until=APRIL_1, at=APRIL_1), id="bill"),
        pytest.param(
            lambda subscribe, sub: advance_subscriptions(at=MARCH_1 + timedelta(days=12)),
            id="advance",
        ),
    ],
)
def test_a_rolled_back_change_leaves_no_event(subscribe, write):
    subscription = subscribe()
    trial = subscribe(MARCH_1, trial=True)  # ends 15 March: trial.ending on the 12th
    assert trial.pk
    before = Event.objects.count()
    with pytest.raises(Rollback), transaction.atomic():
        write(subscribe, subscription)
        assert Event.objects.count() > before  # written, in the same transaction
        raise Rollback
    assert Event.objects.count() == before


def test_a_rolled_back_payment_leaves_no_event(subscribe, customer):
    subscribe()
    bill(until=APRIL_1, at=APRIL_1)
    before = Event.objects.count()
    with pytest.raises(Rollback), transaction.atomic():
        record_payment(customer, amount=D("1640"), currency="RUB", reference="PP-1", at=APRIL_1)
        assert events("invoice.paid")
        raise Rollback
    assert Event.objects.count() == before


def test_changes_name_what_changed_and_options_come_and_go(subscribe):
    subscription = subscribe(options=("crm-integration",))
    change_subscription(
        subscription,
        ChangeRequest(
            plan="contact-centre", employees=20, options=("wallboard",), traffic_package="min-3000"
        ),
        at=MARCH_21,
    )
    (changed,) = events("subscription.changed")
    assert changed.payload["changes"] == ["plan_up", "employees", "options", "traffic_package"]
    assert changed.payload["previous"]["plan"] == "office-pbx"
    assert changed.payload["subscription"]["plan"] == "contact-centre"
    assert [e.payload["option"] for e in events("option.added")] == ["wallboard"]
    assert [e.payload["option"] for e in events("option.removed")] == ["crm-integration"]
    change_subscription(
        subscription,
        ChangeRequest(plan="office-pbx", employees=10, traffic_package=None),
        at=MARCH_21 + timedelta(days=1),
    )
    down = events("subscription.changed")[-1]
    assert down.payload["changes"][:2] == ["plan_down", "employees"]
    change_subscription(
        subscription, ChangeRequest(period="annual"), at=MARCH_21 + timedelta(days=2)
    )
    assert events("subscription.changed")[-1].payload["changes"] == ["period"]
    assert events("subscription.changed")[-1].payload["period_switch"]["to"] == "annual"


def test_cancelled_when_asked_and_ended_when_it_ends_once(subscribe):
    subscription = subscribe()
    cancel_subscription(subscription, at=MARCH_21)
    (cancelled,) = events("subscription.cancelled")
    assert cancelled.at == MARCH_21
    assert cancelled.payload["ends_at"] == APRIL_1.isoformat().replace("+00:00", "Z")
    assert not events("subscription.ended")
    advance_subscriptions(at=APRIL_1)
    advance_subscriptions(at=APRIL_1 + timedelta(hours=1))
    (ended,) = events("subscription.ended")
    assert (ended.at, ended.subscription_id) == (APRIL_1, subscription.pk)


def test_an_immediate_cancellation_ends_at_once(subscribe):
    cancel_subscription(subscribe(), at=MARCH_21, immediately=True)
    assert kinds()[-2:] == ["subscription.cancelled", "subscription.ended"]


def test_a_trial_starts_is_announced_three_days_before_its_end_and_converts(subscribe):
    subscription = subscribe(STARTED, trial=True)
    assert kinds() == ["trial.started"]
    advance_subscriptions(at=TRIAL_END - timedelta(days=4))
    assert not events("trial.ending")
    advance_subscriptions(at=TRIAL_END - timedelta(days=2))
    advance_subscriptions(at=TRIAL_END - timedelta(days=1))
    (ending,) = events("trial.ending")
    assert ending.key == f"trial.ending:{subscription.pk}"
    assert ending.at == TRIAL_END - timedelta(days=3)
    advance_subscriptions(at=TRIAL_END)
    (started,) = events("subscription.started")
    assert (started.at, started.payload["subscription"]["status"]) == (TRIAL_END, "active")


def test_an_undecided_trial_expires_is_suspended_then_ends(subscribe):
    subscribe(STARTED, trial=True, trial_converts=False)
    advance_subscriptions(at=TRIAL_END)
    assert kinds()[-2:] == ["trial.expired", "subscription.suspended"]
    assert events("subscription.suspended")[0].payload["reason"] == "trial_expired"
    advance_subscriptions(at=TRIAL_END + timedelta(days=7))
    (ended,) = events("subscription.ended")
    assert ended.at == TRIAL_END + timedelta(days=7)


def test_converting_an_expired_trial_starts_and_resumes_it(subscribe):
    subscription = subscribe(STARTED, trial=True, trial_converts=False)
    advance_subscriptions(at=TRIAL_END)
    convert_trial(subscription, at=TRIAL_END + timedelta(days=1))
    assert kinds()[-2:] == ["subscription.started", "subscription.resumed"]


def test_dunning_suspends_and_resumes(subscribe, customer):
    subscribe()
    bill(until=APRIL_1, at=APRIL_1)
    run_dunning(at=APRIL_1 + timedelta(days=30))
    (suspended,) = events("subscription.suspended")
    assert suspended.payload["reason"] == "unpaid"
    assert suspended.payload["subscription"]["status"] == "suspended"
    record_payment(
        customer,
        amount=D("1640"),
        currency="RUB",
        reference="PP-1",
        at=APRIL_1 + timedelta(days=31),
    )
    (resumed,) = events("subscription.resumed")
    assert resumed.payload["subscription"]["status"] == "active"


def test_each_invoice_is_issued_once_and_a_dry_run_emits_nothing(subscribe):
    subscription = subscribe()
    bill(until=MAY_1, at=MAY_1, dry_run=True)
    assert not events()[1:]
    bill(until=MAY_1, at=MAY_1)
    bill(until=MAY_1, at=MAY_1)
    issued = events("invoice.issued")
    numbers = [event.payload["invoice"]["number"] for event in issued]
    assert numbers == ["INV-000001", "INV-000002"]
    assert [event.payload["invoice"]["id"] for event in issued] == list(
        subscription.invoices.order_by("number").values_list("pk", flat=True)
    )
    assert issued[0].payload["invoice"]["total"] == "1640.00"
    assert issued[0].at == APRIL_1


def test_invoices_are_paid_when_a_payment_settles_them(subscribe, customer):
    """March and April are 1,640.00 each; 2,000 settles March (the oldest) only; 1,280
    more settles April."""
    subscribe()
    bill(until=MAY_1, at=MAY_1)
    record_payment(customer, amount=D("2000"), currency="RUB", reference="PP-1", at=MAY_1)
    (march,) = events("invoice.paid")
    assert march.payload["invoice"]["number"] == "INV-000001"
    record_payment(customer, amount=D("1280"), currency="RUB", reference="PP-2", at=MAY_1)
    assert [e.payload["invoice"]["number"] for e in events("invoice.paid")] == [
        "INV-000001",
        "INV-000002",
    ]


def paid_numbers() -> list[str]:
    return [event.payload["invoice"]["number"] for event in events("invoice.paid")]


def test_invoices_settled_at_issue_by_a_prepaid_balance_are_paid_once(subscribe, customer):
    """2,000.00 paid ahead on 15 March (balance −2,000). March's invoice (1,640.00) is
    covered at issue: paid, dated its issue (1 April). April's (1,640.00) finds 360.00 of
    credit left and is owed 1,280.00: not paid until a payment of 1,280.00 settles it.
    Both are written in one chunk of the same run; running again repeats nothing."""
    subscribe()
    record_payment(
        customer, amount=D("2000"), currency="RUB", reference="PP-0", at=MARCH_1 + timedelta(14)
    )
    bill(until=MAY_1, at=MAY_1, dry_run=True)
    assert paid_numbers() == []
    bill(until=MAY_1, at=MAY_1)
    (march,) = events("invoice.paid")
    assert march.payload["invoice"]["number"] == "INV-000001"
    assert (march.at, march.key) == (APRIL_1, f"invoice.paid:{march.payload['invoice']['id']}")
    bill(until=MAY_1, at=MAY_1)
    record_payment(customer, amount=D("1280"), currency="RUB", reference="PP-1", at=MAY_1)
    assert paid_numbers() == ["INV-000001", "INV-000002"]


def test_an_invoice_settled_by_credit_notes_is_paid_once(subscribe, customer):
    """March's 1,640.00: a credit note of 640.00 leaves 1,000.00 owed (not paid); one of
    the remaining 1,000.00 settles it. A payment afterwards (an overpayment) announces
    nothing again."""
    subscribe()
    bill(until=APRIL_1, at=APRIL_1)
    march = Invoice.objects.get()
    issue_credit_note(march, reason="goodwill", amount=D("640"), at=APRIL_1)
    assert paid_numbers() == []
    issue_credit_note(march, reason="service outage", at=APRIL_1 + timedelta(1))
    (paid,) = events("invoice.paid")
    assert (paid.payload["invoice"]["number"], paid.at) == ("INV-000001", APRIL_1 + timedelta(1))
    record_payment(customer, amount=D("100"), currency="RUB", reference="PP-1", at=MAY_1)
    assert paid_numbers() == ["INV-000001"]


def test_a_draft_finalised_for_a_customer_in_credit_is_paid_at_issue(subscribe, customer):
    """6,000.00 paid ahead; a manual invoice of 6,000.00 is covered on finalising; a second
    one of 6,000.00 finds no credit left."""
    subscribe()
    record_payment(customer, amount=D("6000"), currency="RUB", reference="PP-0", at=MARCH_1)

    def manual() -> Invoice:
        draft = installation_draft(customer, MARCH_1, MARCH_1 + timedelta(1))
        return finalise_invoice(draft, at=MARCH_1 + timedelta(1))

    first = manual()
    manual()
    (paid,) = events("invoice.paid")
    assert (paid.payload["invoice"]["id"], paid.at) == (first.pk, MARCH_1 + timedelta(1))


def test_a_failed_collection_is_an_event(customer):
    with pytest.raises(PaymentRefused):
        collect_payment(
            FakeGateway(limit=D("100")),
            customer,
            amount=D("1500"),
            currency="RUB",
            reference="o-1",
            at=MARCH_1,
        )
    (failed,) = events("payment.failed")
    assert failed.payload["payment"]["message"] == "insufficient funds"
    assert D(failed.payload["payment"]["amount"]) == D("1500")
    assert failed.customer_id == customer.pk
