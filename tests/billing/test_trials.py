"""Self-service trials: they turn paid only on the customer's decision (a plan picked, a
payment); undecided at their end they are suspended, and end after the grace days. Staff
and demo trials keep converting by themselves. Times are Moscow's (UTC+3)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from django.conf import settings
from django.test import override_settings

from ringup.billing.models import Invoice, Subscription
from ringup.billing.services.dunning import run_dunning
from ringup.billing.services.invoicing import bill
from ringup.billing.services.payments import record_payment
from ringup.billing.services.subscriptions import (
    ChangeRefused,
    advance_subscriptions,
    cancel_subscription,
    convert_trial,
)

pytestmark = pytest.mark.django_db

STARTED = datetime(2025, 3, 3, 11, 20, tzinfo=UTC)  # 3 March 14:20 in Moscow
TRIAL_END = STARTED + timedelta(days=14)  # 17 March 14:20
MARCH_18 = datetime(2025, 3, 17, 21, tzinfo=UTC)  # the first midnight after it
APRIL_18 = datetime(2025, 4, 17, 21, tzinfo=UTC)
Status = Subscription.Status


@pytest.fixture
def self_service(subscribe):
    """A 14-day Office PBX trial (10 employees) that waits for the customer's decision."""
    return subscribe(STARTED, trial=True, trial_converts=False)


def kinds(subscription) -> list[str]:
    return list(subscription.changes.order_by("at", "pk").values_list("kind", flat=True))


def test_a_staff_trial_still_converts_by_itself(subscribe):
    subscription = subscribe(STARTED, trial=True)
    assert subscription.trial_converts
    advance_subscriptions(at=TRIAL_END)
    subscription.refresh_from_db()
    assert subscription.status == Status.ACTIVE


def test_an_undecided_trial_is_suspended_at_its_end_and_ends_after_the_grace_days(
    self_service,
):
    assert advance_subscriptions(at=TRIAL_END - timedelta(seconds=1))["trial_expired"] == 0
    counts = advance_subscriptions(at=TRIAL_END)
    assert (counts["converted"], counts["trial_expired"]) == (0, 1)
    self_service.refresh_from_db()
    assert self_service.status == Status.SUSPENDED
    assert self_service.changes.get(kind="trial_expired").at == TRIAL_END
    # Never billed, and dunning leaves it alone.
    assert bill(until=APRIL_18, at=APRIL_18).invoices_created == 0
    assert run_dunning(at=APRIL_18 - timedelta(days=20))["reactivated"] == 0
    assert advance_subscriptions(at=TRIAL_END + timedelta(days=1))["trial_expired"] == 0

    assert advance_subscriptions(at=TRIAL_END + timedelta(days=7, seconds=-1))["trial_lapsed"] == 0
    assert advance_subscriptions(at=TRIAL_END + timedelta(days=8))["trial_lapsed"] == 1
    self_service.refresh_from_db()
    assert self_service.status == Status.CANCELLED
    assert self_service.ended_at == TRIAL_END + timedelta(days=7)
    assert kinds(self_service) == ["started", "trial_expired", "cancelled"]
    assert advance_subscriptions(at=TRIAL_END + timedelta(days=9))["trial_lapsed"] == 0
    assert (
        bill(until=APRIL_18 + timedelta(days=60), at=APRIL_18 + timedelta(days=60)).invoices_created
        == 0
    )


@override_settings(BILLING={**settings.BILLING, "TRIAL_GRACE_DAYS": 2})
def test_the_grace_days_are_the_operators(self_service):
    """Run late, after the grace too: one run suspends and ends it."""
    counts = advance_subscriptions(at=TRIAL_END + timedelta(days=2))
    assert (counts["trial_expired"], counts["trial_lapsed"]) == (1, 1)
    self_service.refresh_from_db()
    assert self_service.ended_at == TRIAL_END + timedelta(days=2)


def test_a_decision_during_the_trial_converts_it_at_its_end(self_service):
    """Decided on 10 March: the trial still runs to 17 March 14:20, the first paid period
    is 18 March – 17 April (1,640.00 for Office PBX with 10 employees)."""
    convert_trial(self_service, at=STARTED + timedelta(days=7))
    assert self_service.status == Status.TRIALING and self_service.trial_converts
    advance_subscriptions(at=TRIAL_END)
    self_service.refresh_from_db()
    assert self_service.status == Status.ACTIVE
    assert self_service.changes.get(kind="converted").at == TRIAL_END
    bill(until=APRIL_18, at=APRIL_18)
    invoice = self_service.invoices.get()
    assert (invoice.period_start, invoice.period_end, invoice.total) == (
        MARCH_18,
        APRIL_18,
        D("1640.00"),
    )


def test_starting_to_pay_now_ends_the_trial_and_bills_from_the_next_midnight(self_service):
    """Decided on 5 March at 13:00 Moscow: paid periods from 6 March."""
    at = datetime(2025, 3, 5, 10, tzinfo=UTC)
    convert_trial(self_service, at=at, start_now=True)
    assert self_service.status == Status.ACTIVE
    assert self_service.trial_ends_at == at
    assert str(self_service.billing_starts_on) == "2025-03-06"
    assert self_service.changes.get(kind="converted").at == at
    march_6 = datetime(2025, 3, 5, 21, tzinfo=UTC)
    bill(until=march_6 + timedelta(days=31), at=march_6 + timedelta(days=31))
    assert self_service.invoices.get().period_start == march_6
    # Nothing is left for the trial's end to do.
    counts = advance_subscriptions(at=TRIAL_END)
    assert (counts["converted"], counts["trial_expired"]) == (0, 0)


def test_the_plan_and_period_picked_apply_before_billing_starts(self_service):
    convert_trial(
        self_service, at=STARTED + timedelta(days=2), plan="contact-centre", period="annual"
    )
    assert (self_service.plan.code, self_service.period) == ("contact-centre", "annual")
    assert kinds(self_service) == ["started", "upgrade", "period_changed"]
    advance_subscriptions(at=TRIAL_END)
    end = MARCH_18 + timedelta(days=365)
    bill(until=end, at=end)
    invoice = self_service.invoices.get()
    assert (invoice.period_start, invoice.period_end) == (MARCH_18, end)
    assert not invoice.lines.filter(kind="proration").exists()


def test_an_expired_trial_converted_in_its_grace_bills_from_the_decision(self_service):
    """Suspended on 17 March, decided on 20 March at 15:00 Moscow: active again, paid
    periods from 21 March (the suspended days are not billed)."""
    advance_subscriptions(at=TRIAL_END)
    at = datetime(2025, 3, 20, 12, tzinfo=UTC)
    convert_trial(self_service, at=at)
    assert self_service.status == Status.ACTIVE
    assert self_service.trial_ends_at == TRIAL_END
    assert str(self_service.billing_starts_on) == "2025-03-21"
    assert kinds(self_service) == ["started", "trial_expired", "converted"]
    assert advance_subscriptions(at=TRIAL_END + timedelta(days=30))["trial_lapsed"] == 0
    march_21 = datetime(2025, 3, 20, 21, tzinfo=UTC)
    bill(until=march_21 + timedelta(days=31), at=march_21 + timedelta(days=31))
    assert Invoice.objects.get().period_start == march_21


def test_a_payment_converts_a_waiting_trial(self_service, customer):
    record_payment(customer, amount=D("1640"), currency="RUB", reference="PP-1", at=STARTED)
    self_service.refresh_from_db()
    assert self_service.trial_converts
    assert self_service.status == Status.TRIALING  # it keeps its free days
    advance_subscriptions(at=TRIAL_END)
    self_service.refresh_from_db()
    assert self_service.status == Status.ACTIVE


def test_a_payment_after_the_trial_expired_brings_it_back(self_service, customer):
    advance_subscriptions(at=TRIAL_END)
    at = TRIAL_END + timedelta(days=2)
    record_payment(customer, amount=D("1640"), currency="RUB", reference="PP-2", at=at)
    self_service.refresh_from_db()
    assert self_service.status == Status.ACTIVE
    assert self_service.billing_starts_on > TRIAL_END.date()


def test_only_a_trial_converts(subscribe, self_service):
    with pytest.raises(ChangeRefused) as refused:
        convert_trial(subscribe(), at=STARTED)
    assert "subscription" in refused.value.errors
    cancel_subscription(self_service, at=STARTED + timedelta(days=1))
    with pytest.raises(ChangeRefused):
        convert_trial(self_service, at=STARTED + timedelta(days=2))


def test_cancelling_an_expired_trial_ends_it_at_once_with_nothing_to_pay(self_service):
    advance_subscriptions(at=TRIAL_END)
    outcome = cancel_subscription(self_service, at=TRIAL_END + timedelta(days=1))
    assert outcome.ended_at == TRIAL_END + timedelta(days=1)
    assert outcome.lines == ()
    assert bill(until=APRIL_18, at=APRIL_18).invoices_created == 0


def test_a_waiting_trial_does_not_take_the_customers_calls_from_a_later_subscription(
    self_service, subscribe, customer, tmp_path
):
    """The customer lets the trial lapse and subscribes again from 18 April: the new
    subscription bills their calls (a 2-minute call to a Russian mobile: 2 × 1.90)."""
    from ringup.engine.rating import Numbering
    from ringup.usage.services import import_cdr_file

    customer.account = "acc-romashka"
    customer.save()
    advance_subscriptions(at=TRIAL_END + timedelta(days=8))
    later = subscribe(APRIL_18)
    path = tmp_path / "calls.csv"
    path.write_text(
        "id,account,src,dst,start,duration\n"
        "c1,acc-romashka,74951110000,89161234567,2025-04-20T10:00:00,120\n"
    )
    import_cdr_file(path, source="pbx1", numbering=Numbering(country="RU"))
    may_18 = datetime(2025, 5, 17, 21, tzinfo=UTC)
    bill(until=may_18, at=may_18)
    usage = later.invoices.get().lines.get(kind="usage")
    assert (usage.description, usage.amount) == ("Calls to Russia mobile: 1 call", D("3.80"))
