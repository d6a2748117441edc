"""Subscriptions: start, previewed and applied changes with proration, period switches,
cancellation, and the passage of time. Worked examples use the demo catalog (RUB, VAT 20%
included): Office PBX is 890/month + 75 per employee."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ringup.billing.models import Subscription, SubscriptionChange, SubscriptionOption
from ringup.billing.services.invoicing import bill
from ringup.billing.services.subscriptions import (
    ChangeRefused,
    ChangeRequest,
    advance_subscriptions,
    cancel_subscription,
    change_subscription,
    preview_change,
)
from ringup.engine.pricing import SelectionError

from .conftest import APRIL_1, MARCH_1, MAY_1

MARCH_21 = datetime(2025, 3, 20, 21, tzinfo=UTC)  # local midnight, 11 of 31 days left


def kinds(subscription) -> list[str]:
    return list(subscription.changes.order_by("at", "pk").values_list("kind", flat=True))


def test_a_trial_starts_billing_at_the_first_midnight_after_it(subscribe):
    started = datetime(2025, 3, 3, 11, 20, tzinfo=UTC)  # 14:20 in Moscow
    subscription = subscribe(started, trial=True)
    assert subscription.status == Subscription.Status.TRIALING
    assert subscription.trial_ends_at == started + timedelta(days=14)
    assert str(subscription.billing_starts_on) == "2025-03-18"
    assert kinds(subscription) == ["started"]


def test_without_a_trial_billing_starts_the_next_midnight(subscribe):
    subscription = subscribe(datetime(2025, 3, 3, 11, 20, tzinfo=UTC), options=("crm-integration",))
    assert subscription.status == Subscription.Status.ACTIVE
    assert str(subscription.billing_starts_on) == "2025-03-04"
    assert kinds(subscription) == ["started", "option_added"]


def test_worked_example_of_an_upgrade_mid_period(subscribe):
    """10 → 15 employees at midnight of 21 March, 11 of March's 31 days left:
    old 1,640.00, new 2,015.00 a month; charge 2,015 × 11/31 = 715.00, net (2,015 − 1,640)
    × 11/31 = 133.064… → 133.06, so the credit is 133.06 − 715.00 = −581.94."""
    subscription = subscribe()
    outcome = preview_change(subscription, ChangeRequest(employees=15), at=MARCH_21)
    assert [(line.kind, line.amount, line.vat_amount) for line in outcome.lines] == [
        ("proration", D("-581.94"), D("-96.99")),
        ("proration", D("715.00"), D("119.17")),
    ]
    assert outcome.totals.total == D("133.06")
    assert outcome.kinds == ("employees",)
    assert (outcome.monthly_before, outcome.monthly_after) == (D("1640.00"), D("2015.00"))


def test_a_preview_writes_nothing_and_the_change_applies_exactly_it(subscribe):
    subscription = subscribe(options=("crm-integration",))
    request = ChangeRequest(plan="contact-centre", employees=20, options=("wallboard",))
    with CaptureQueriesContext(connection) as queries:
        preview = preview_change(subscription, request, at=MARCH_21)
    writes = [q["sql"] for q in queries if q["sql"].split()[0] in {"INSERT", "UPDATE", "DELETE"}]
    assert writes == []

    applied = change_subscription(subscription, request, at=MARCH_21)
    assert applied == preview
    subscription.refresh_from_db()
    assert (subscription.plan.code, subscription.employees) == ("contact-centre", 20)
    assert kinds(subscription)[-3:] == ["upgrade", "option_removed", "option_added"]
    upgrade = subscription.changes.get(kind="upgrade")
    assert (upgrade.from_plan.code, upgrade.to_plan.code) == ("office-pbx", "contact-centre")
    assert (upgrade.from_employees, upgrade.to_employees) == (10, 20)
    # The new plan's connection fee is charged with the change.
    assert any(line.kind == "one_time" and line.code == "contact-centre" for line in preview.lines)


def test_the_invoice_carries_the_lines_the_preview_showed(subscribe):
    subscription = subscribe()
    preview = preview_change(subscription, ChangeRequest(employees=15), at=MARCH_21)
    change_subscription(subscription, ChangeRequest(employees=15), at=MARCH_21)
    bill(until=APRIL_1, at=APRIL_1)
    invoice = subscription.invoices.get()
    prorations = [
        (line.description, line.amount, line.vat_amount)
        for line in invoice.lines.filter(kind="proration")
    ]
    assert prorations == [
        (line.description, line.amount, line.vat_amount) for line in preview.lines
    ]
    assert invoice.total == D("1640.00") + D("133.06")
    assert invoice.vat_amount == D("148.33") + D("125.00") - D("96.99") + D("119.17")


def test_options_are_carried_to_a_new_plan_when_it_offers_them(subscribe):
    subscription = subscribe(options=("crm-integration", "callback-widget"))
    outcome = preview_change(subscription, ChangeRequest(plan="contact-centre"), at=MARCH_21)
    assert outcome.after.options == ("callback-widget",)
    assert outcome.kinds == ("upgrade", "option_removed")


def test_a_downgrade_credits_more_than_it_charges(subscribe):
    subscription = subscribe(plan="contact-centre", employees=20)
    outcome = preview_change(
        subscription, ChangeRequest(plan="office-pbx", employees=10), at=MARCH_21
    )
    assert outcome.kinds == ("downgrade",)
    assert outcome.totals.total < 0


def test_switching_to_annual_takes_effect_at_the_end_of_the_period(subscribe):
    subscription = subscribe()
    outcome = change_subscription(subscription, ChangeRequest(period="annual"), at=MARCH_21)
    assert outcome.lines == ()
    assert outcome.period_switch[1] == APRIL_1
    switch = subscription.changes.get(kind="period_changed")
    assert (switch.at, switch.from_period, switch.to_period) == (APRIL_1, "monthly", "annual")
    subscription.refresh_from_db()
    assert subscription.period == "monthly"  # until the switch happens

    advance_subscriptions(at=APRIL_1)
    subscription.refresh_from_db()
    assert subscription.period == "annual"
    bill(until=APRIL_1 + timedelta(days=366), at=APRIL_1 + timedelta(days=366))
    periods = list(
        subscription.invoices.order_by("period_start").values_list("period_start", "period_end")
    )
    assert periods == [(MARCH_1, APRIL_1), (APRIL_1, datetime(2026, 3, 31, 21, tzinfo=UTC))]
    annual = subscription.invoices.get(period_start=APRIL_1)
    # Twelve months at 1,640 less the plan's 15% annual prepayment discount.
    assert annual.total == D("1640.00") * 12 - D("246.00") * 12


def test_a_switch_during_the_trial_is_immediate(subscribe):
    subscription = subscribe(trial=True)
    change_subscription(
        subscription, ChangeRequest(period="annual"), at=MARCH_1 + timedelta(days=1)
    )
    subscription.refresh_from_db()
    assert subscription.period == "annual"


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (ChangeRequest(plan="no-such-plan"), "plan"),
        (ChangeRequest(options=("wallboard",)), "options"),
        (ChangeRequest(employees=500), "employees"),
        (ChangeRequest(period="weekly"), "period"),
        (ChangeRequest(employees=10), "change"),
    ],
)
def test_bad_changes_are_refused_naming_the_field(subscribe, request_, field):
    subscription = subscribe()
    with pytest.raises(SelectionError) as refused:
        preview_change(subscription, request_, at=MARCH_21)
    assert field in refused.value.errors


def test_a_change_into_an_invoiced_period_is_refused(subscribe):
    subscription = subscribe()
    bill(until=APRIL_1, at=APRIL_1)
    with pytest.raises(ChangeRefused) as refused:
        change_subscription(subscription, ChangeRequest(employees=12), at=MARCH_21)
    assert "at" in refused.value.errors


def test_cancel_at_the_end_of_the_period(subscribe):
    subscription = subscribe(options=("crm-integration",))
    outcome = cancel_subscription(subscription, at=MARCH_21)
    assert outcome.ended_at == APRIL_1
    assert outcome.lines == ()
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ACTIVE
    assert subscription.changes.get(kind="cancelled").at == APRIL_1
    assert SubscriptionOption.objects.get(subscription=subscription).removed_at == APRIL_1
    with pytest.raises(ChangeRefused):
        change_subscription(subscription, ChangeRequest(employees=12), at=MARCH_21)

    assert advance_subscriptions(at=APRIL_1)["cancelled"] == 1
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CANCELLED
    bill(until=MAY_1, at=MAY_1)
    assert subscription.invoices.count() == 1  # March only


def test_cancel_immediately_credits_the_rest_of_the_period(subscribe):
    subscription = subscribe()
    outcome = cancel_subscription(subscription, at=MARCH_21, immediately=True)
    assert [line.amount for line in outcome.lines] == [D("-581.94")]
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CANCELLED
    # The final invoice is issued as soon as the subscription has ended.
    bill(until=MARCH_21, at=MARCH_21)
    invoice = subscription.invoices.get()
    assert invoice.issued_at == MARCH_21
    assert invoice.total == D("1640.00") - D("581.94")


def test_trials_convert_when_they_end(subscribe):
    subscription = subscribe(trial=True)
    assert advance_subscriptions(at=MARCH_1 + timedelta(days=1))["converted"] == 0
    assert advance_subscriptions(at=MARCH_1 + timedelta(days=15))["converted"] == 1
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ACTIVE
    converted = subscription.changes.get(kind="converted")
    assert converted.at == subscription.trial_ends_at
    assert advance_subscriptions(at=MARCH_1 + timedelta(days=16))["converted"] == 0
    assert SubscriptionChange.objects.filter(kind="converted").count() == 1
