"""Changing the phone numbers and the traffic package mid-period: prorated by the second
like every other change, recorded in the history, and the invoice's included minutes
follow the package actually held. Demo catalog (RUB, VAT 20% included): Office PBX is
890/month + 75 per employee, 2 local numbers included, each extra one 290; the 1,000-minute
package costs 1,100 and the 3,000-minute one 2,900."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from ringup.billing.models import Invoice, SubscriptionChange
from ringup.billing.services.invoicing import bill
from ringup.billing.services.subscriptions import (
    KEEP,
    ChangeRequest,
    StartRequest,
    change_subscription,
    preview_change,
    start_subscription,
)
from ringup.customers.models import Customer
from ringup.demo.catalog import load_catalog
from ringup.engine.money import quantize
from ringup.engine.pricing import SelectionError

from .conftest import APRIL_1, MARCH_1

pytestmark = pytest.mark.django_db

MARCH_21 = datetime(2025, 3, 20, 21, tzinfo=UTC)  # local midnight, 11 of 31 days left


def prorations(outcome) -> list[D]:
    return [line.amount for line in outcome.lines if line.kind == "proration"]


def test_worked_example_of_a_bigger_traffic_package_mid_period(subscribe):
    """1,000 → 3,000 minutes at midnight of 21 March, 11 of March's 31 days left:
    old 1,640 + 1,100 = 2,740.00, new 1,640 + 2,900 = 4,540.00 a month;
    charge 4,540 × 11/31 = 1,610.967… → 1,610.97; net 1,800 × 11/31 = 638.709… → 638.71;
    credit 638.71 − 1,610.97 = −972.26. March includes (1,000 × 20 + 3,000 × 11) / 31 =
    1,709.67… → 1,709 minutes (whole minutes, rounded down)."""
    subscription = subscribe(traffic_package="min-1000")
    request = ChangeRequest(traffic_package="min-3000")
    preview = preview_change(subscription, request, at=MARCH_21)
    assert prorations(preview) == [D("-972.26"), D("1610.97")]
    assert preview.totals.total == D("638.71")
    assert preview.kinds == ("traffic_package",)
    assert (preview.monthly_before, preview.monthly_after) == (D("2740.00"), D("4540.00"))
    assert change_subscription(subscription, request, at=MARCH_21) == preview

    subscription.refresh_from_db()
    assert subscription.traffic_package.code == "min-3000"
    change = subscription.changes.get(kind="traffic_package")
    assert (change.from_package.code, change.to_package.code, change.at) == (
        "min-1000",
        "min-3000",
        MARCH_21,
    )
    bill(until=APRIL_1 + timedelta(days=31), at=APRIL_1 + timedelta(days=31))
    march = subscription.invoices.get(period_start=MARCH_1)
    assert march.included_minutes == 1709
    assert march.total == D("2740.00") + D("638.71")
    assert [line.description for line in march.lines.filter(kind="proration")] == [
        line.description for line in preview.lines
    ]
    assert "1,000 minutes to Russian numbers" in march.lines.filter(kind="proration")[0].description
    # April holds the new package all month.
    april = subscription.invoices.get(period_start=APRIL_1)
    assert april.included_minutes == 3000
    assert april.total == D("4540.00")


def test_removing_the_package_credits_it_and_prorates_its_minutes(subscribe):
    """Package removed at midnight of 21 March: new price 1,640.00;
    charge 1,640 × 11/31 = 581.935… → 581.94; net −1,100 × 11/31 = −390.322… → −390.32;
    credit −390.32 − 581.94 = −972.26. Minutes: 1,000 × 20/31 = 645.16… → 645."""
    subscription = subscribe(traffic_package="min-1000")
    outcome = change_subscription(subscription, ChangeRequest(traffic_package=None), at=MARCH_21)
    assert prorations(outcome) == [D("-972.26"), D("581.94")]
    assert outcome.totals.total == D("-390.32")
    subscription.refresh_from_db()
    assert subscription.traffic_package is None
    bill(until=APRIL_1, at=APRIL_1)
    march = subscription.invoices.get()
    assert (march.included_minutes, march.total) == (645, D("2740.00") - D("390.32"))


def test_taking_a_package_mid_period_includes_its_share_of_minutes(subscribe):
    """No package, then 1,000 minutes from midnight of 21 March: 1,000 × 11/31 = 354.8…
    → 354 minutes; charge 2,740 × 11/31 = 972.258… → 972.26, net 1,100 × 11/31 =
    390.322… → 390.32, credit −581.94."""
    subscription = subscribe()
    outcome = change_subscription(
        subscription, ChangeRequest(traffic_package="min-1000"), at=MARCH_21
    )
    assert prorations(outcome) == [D("-581.94"), D("972.26")]
    bill(until=APRIL_1, at=APRIL_1)
    assert subscription.invoices.get().included_minutes == 354


def test_worked_example_of_two_more_numbers_mid_period(subscribe):
    """2 → 4 numbers at midnight of 21 March: 2 extra × 290 = 580 more a month, new price
    2,220.00; charge 2,220 × 11/31 = 787.741… → 787.74; net 580 × 11/31 = 205.806… →
    205.81; credit 205.81 − 787.74 = −581.93. Extra local numbers have no connection fee."""
    subscription = subscribe()
    assert subscription.numbers == 2
    outcome = change_subscription(subscription, ChangeRequest(numbers=4), at=MARCH_21)
    assert [(line.kind, line.amount) for line in outcome.lines] == [
        ("proration", D("-581.93")),
        ("proration", D("787.74")),
    ]
    assert outcome.kinds == ("numbers",)
    assert "4 numbers" in outcome.lines[1].description
    subscription.refresh_from_db()
    assert subscription.numbers == 4
    change = subscription.changes.get(kind="numbers")
    assert (change.from_numbers, change.to_numbers) == (2, 4)
    bill(until=APRIL_1 + timedelta(days=31), at=APRIL_1 + timedelta(days=31))
    assert subscription.invoices.get(period_start=MARCH_1).total == D("1640.00") + D("205.81")
    april = subscription.invoices.get(period_start=APRIL_1)
    assert april.lines.get(code="number:local").amount == D("580.00")


def test_numbers_and_package_in_one_change_with_employees(subscribe):
    subscription = subscribe(traffic_package="min-1000")
    outcome = change_subscription(
        subscription,
        ChangeRequest(employees=12, numbers=3, traffic_package="min-3000"),
        at=MARCH_21,
    )
    assert outcome.kinds == ("employees", "numbers", "traffic_package")
    assert list(
        subscription.changes.filter(at=MARCH_21).order_by("pk").values_list("kind", flat=True)
    ) == ["employees", "numbers", "traffic_package"]
    # One credit and one charge for the whole change: 2,740 → 1,790 + 290 + 2,900 = 4,980.
    assert prorations(outcome) == [
        quantize(D(2240) * 11 / 31, "RUB") - quantize(D(4980) * 11 / 31, "RUB"),
        quantize(D(4980) * 11 / 31, "RUB"),
    ]


def test_a_plan_change_keeps_the_package_the_new_plan_offers_and_drops_the_rest(subscribe):
    on_virtual = subscribe(plan="virtual-number", employees=1, traffic_package="min-1000")
    kept = preview_change(on_virtual, ChangeRequest(plan="office-pbx", employees=3), at=MARCH_21)
    assert kept.after.traffic_package == "min-1000"
    assert "traffic_package" not in kept.kinds

    on_office = subscribe(traffic_package="min-1000")
    moved = preview_change(on_office, ChangeRequest(plan="contact-centre"), at=MARCH_21)
    assert moved.after.traffic_package is None  # Contact Centre sells 3,000 and 10,000
    assert moved.kinds[:2] == ("upgrade", "traffic_package")
    chosen = preview_change(
        on_office,
        ChangeRequest(plan="contact-centre", traffic_package="min-10000"),
        at=MARCH_21,
    )
    assert chosen.after.traffic_package == "min-10000"


def test_the_history_knows_the_numbers_and_package_at_every_instant(subscribe):
    from ringup.billing.conf import billing_settings
    from ringup.billing.selectors.subscriptions import billing_view

    subscription = subscribe(traffic_package="min-1000")
    change_subscription(subscription, ChangeRequest(numbers=5), at=MARCH_21)
    change_subscription(
        subscription, ChangeRequest(traffic_package=None), at=MARCH_21 + timedelta(days=2)
    )
    history = billing_view(subscription, since=MARCH_1, zone=billing_settings().zone).history
    before, between, after = (
        history.at(MARCH_21 - timedelta(seconds=1)),
        history.at(MARCH_21 + timedelta(days=1)),
        history.at(MARCH_21 + timedelta(days=2)),
    )
    assert (before.numbers, before.traffic_package) == (2, "min-1000")
    assert (between.numbers, between.traffic_package) == (5, "min-1000")
    assert (after.numbers, after.traffic_package) == (5, None)


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (ChangeRequest(numbers=1), "numbers"),  # Office PBX includes 2
        (ChangeRequest(numbers=20_000), "numbers"),
        (ChangeRequest(traffic_package="min-300"), "traffic_package"),  # Virtual Number's
        (ChangeRequest(traffic_package="no-such-package"), "traffic_package"),
        (ChangeRequest(numbers=2, traffic_package=KEEP), "change"),
        (ChangeRequest(traffic_package=None), "change"),  # it has none
    ],
)
def test_bad_number_and_package_changes_are_refused_naming_the_field(subscribe, request_, field):
    subscription = subscribe()
    with pytest.raises(SelectionError) as refused:
        preview_change(subscription, request_, at=MARCH_21)
    assert field in refused.value.errors
    assert not SubscriptionChange.objects.exclude(kind="started").exists()


class TestProrationOfNumbersAndPackages(TestCase):
    """Any instant of March, any numbers and package: the change's lines add up to the
    price difference for the time left, rounded once; the invoice is the old price plus
    that; the included minutes are the package minutes weighted by time held, rounded
    down."""

    @classmethod
    def setUpTestData(cls):
        load_catalog()
        cls.customer = Customer.objects.create(
            name="Prop", email="prop@example.com", tier="smb", registered_at=MARCH_1
        )

    @hypothesis_settings(
        max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(
        offset=st.integers(1, 31 * 86_400 - 1),
        numbers=st.integers(2, 40),
        package=st.sampled_from([None, "min-1000", "min-3000"]),
        first_package=st.sampled_from([None, "min-1000", "min-3000"]),
    )
    def test_the_change_and_the_invoice_agree(self, offset, numbers, package, first_package):
        subscription = start_subscription(
            self.customer,
            StartRequest(
                plan="office-pbx", employees=4, traffic_package=first_package, trial=False
            ),
            at=MARCH_1,
        )
        at = MARCH_1 + timedelta(seconds=offset)
        request = ChangeRequest(numbers=numbers, traffic_package=package)
        if numbers == 2 and package == first_package:
            with self.assertRaises(SelectionError):
                change_subscription(subscription, request, at=at)
            return
        outcome = change_subscription(subscription, request, at=at)
        total = APRIL_1 - MARCH_1
        remaining = (APRIL_1 - at).total_seconds()
        difference = (
            (outcome.monthly_after - outcome.monthly_before)
            * D(remaining)
            / D(total.total_seconds())
        )
        assert outcome.totals.total == quantize(difference, "RUB")
        bill(until=APRIL_1, at=APRIL_1)
        invoice = Invoice.objects.get(subscription=subscription)
        assert invoice.total == outcome.monthly_before + outcome.totals.total
        assert invoice.total == sum(line.total for line in invoice.lines.all())
        minutes = {None: 0, "min-1000": 1000, "min-3000": 3000}
        held = minutes[first_package] * (offset) + minutes[package] * int(remaining)
        assert invoice.included_minutes == held // int(total.total_seconds())
