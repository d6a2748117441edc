"""Risk flags on hand-made customers, one rule at a time, judged by engine.risk."""

from datetime import timedelta

import polars as pl
import pytest
from django.urls import reverse

from ringup.billing.models import SubscriptionChange
from ringup.sales.margins.models import RiskFlag
from ringup.sales.margins.risk import compute_flags, peak_concurrency

from .conftest import NOW


def flags_of(customer) -> dict[str, str]:
    return dict(RiskFlag.objects.filter(customer=customer).values_list("code", "severity"))


@pytest.fixture
def dialer(make_customer, calls):
    """120 calls of 5 s, one every 30 s, all within one clock hour ten days ago.

    ACD 5 s (≤ 20), 120 of 120 under 10 s (100 % ≥ 60 %), peak 1 channel over 1 active
    hour: 120 calls per channel-hour (≥ 60). Retail 0.16 and carrier 0.07 each.
    """
    customer = make_customer("Robo Dial")
    hour = (NOW - timedelta(days=10)).replace(minute=0, second=0)
    calls(
        customer,
        *[
            ("+79161234567", hour + timedelta(seconds=30 * n), 5, "0.16", "0.07")
            for n in range(120)
        ],
    )
    return customer


def test_an_auto_dialer_raises_the_three_dialer_flags_as_critical(dialer):
    compute_flags(at=NOW)
    assert flags_of(dialer) == {
        "dialer_short_acd": "critical",
        "dialer_short_calls": "critical",
        "dialer_call_rate": "critical",
    }
    rate = RiskFlag.objects.get(customer=dialer, code="dialer_call_rate")
    assert rate.figures["rate"] == "120.0" and rate.figures["hours"] == 1
    assert "120.0 calls per channel-hour" in rate.explanation


def test_thresholds_come_from_the_settings(dialer, settings):
    settings.RINGUP_RISK_THRESHOLDS = {"min_calls": 500}
    compute_flags(at=NOW)
    assert flags_of(dialer) == {}


def test_a_normal_caller_is_not_a_dialer(make_customer, calls):
    office = make_customer("Calm Office")
    day = NOW - timedelta(days=5)
    # 100 calls of 3 minutes, two at a time (peak 2), over 50 hours: 1 call/channel-hour.
    calls(
        office,
        *[("+74951234567", day + timedelta(hours=n // 2), 180, "2.70", "0.75") for n in range(100)],
    )
    compute_flags(at=NOW)
    assert flags_of(office) == {}


def test_peak_concurrency_does_not_count_a_call_ending_as_another_starts():
    start = NOW
    frame = pl.DataFrame(
        {
            "customer_id": [1, 1, 1, 2],
            "start": [start, start + timedelta(seconds=30), start + timedelta(seconds=60), start],
            "duration": [60, 30, 10, 0],
        }
    )
    # 1: [0, 60) and [30, 60) overlap (2); [60, 70) starts as both end: still 2, not 3.
    # 2: an unanswered call occupies no channel.
    assert dict(peak_concurrency(frame).iter_rows()) == {1: 2}


def test_frequent_plan_changes_are_price_shopping(make_customer, subscribe):
    shopper = make_customer("Price Shopper")
    subscription = subscribe(shopper)
    for days_ago, kind in ((150, "upgrade"), (90, "downgrade"), (30, "upgrade")):
        SubscriptionChange.objects.create(
            subscription=subscription, kind=kind, at=NOW - timedelta(days=days_ago)
        )
    compute_flags(at=NOW)
    assert flags_of(shopper) == {"price_shopping": "warning"}
    flag = RiskFlag.objects.get(customer=shopper)
    assert flag.figures["changes"] == 3


def test_revenue_below_the_cost_to_serve(make_customer, subscribe, calls, settings):
    from ringup.billing.models import Invoice

    settings.RINGUP_SUPPORT_COST_MONTHLY = "150.00"
    thin = make_customer("Thin Margin")
    subscription = subscribe(thin)
    # A finalised 30-day invoice of net 100.00: revenue 100.00 a month against carrier
    # 20.00 + support 150.00 = 170.00: margin −70.00, −70.0 % → critical.
    Invoice.objects.create(
        customer=thin,
        subscription=subscription,
        period_start=NOW - timedelta(days=40),
        period_end=NOW - timedelta(days=10),
        status="finalised",
        number="INV-T-1",
        currency="RUB",
        issued_at=NOW - timedelta(days=10),
        due_at=NOW,
        net_amount="100.00",
        vat_amount="20.00",
        total="120.00",
        vat_rate="20",
        vat_included=False,
        buyer={},
        created_at=NOW - timedelta(days=10),
    )
    calls(thin, ("+79161234567", NOW - timedelta(days=3), 600, "19.00", "20.00"))
    compute_flags(at=NOW)
    assert flags_of(thin) == {"below_cost_to_serve": "critical"}
    flag = RiskFlag.objects.get(customer=thin)
    assert (flag.figures["revenue"], flag.figures["cost"], flag.figures["percent"]) == (
        "100.00",
        "170.00",
        "-70.0",
    )


def inbound(customer, number, seconds, *, at):
    """One inbound call to ``customer``'s ``number``, as the CDR import stores it."""
    from ringup.usage.models import CdrFile, RatedCall

    cdr_file, _ = CdrFile.objects.get_or_create(
        source="trunk", sha256="1" * 64, defaults={"path": "in.csv", "token": "t", "claimed_at": at}
    )
    RatedCall.objects.create(
        source="trunk",
        cdr_id=f"in-{RatedCall.objects.count()}",
        cdr_file=cdr_file,
        customer=customer,
        dst=number,
        did=number,
        start=at,
        duration=seconds,
        reason="inbound",
    )


def hold(customer, count, *, first=74951110000):
    from ringup.usage.numbers import assign_number

    numbers = [str(first + n) for n in range(count)]
    for number in numbers:
        assign_number(customer, number, at=NOW - timedelta(days=60))
    return numbers


def test_many_numbers_with_little_inbound_traffic(make_customer):
    farm = make_customer("Number Farm")
    desk = make_customer("Busy Desk")
    farm_numbers = hold(farm, 12)
    desk_numbers = hold(desk, 10, first=74951120000)
    # Farm: one number gets 30 minutes in the 30-day window, 11 get none: 11 of 12 under
    # 10 minutes a month = 91.7 % ≥ 80 % → flagged. Desk: every number 15 minutes.
    inbound(farm, farm_numbers[0], 1800, at=NOW - timedelta(days=5))
    for number in desk_numbers:
        inbound(desk, number, 900, at=NOW - timedelta(days=5))
    compute_flags(at=NOW)
    assert flags_of(farm) == {"idle_dids": "warning"}
    assert flags_of(desk) == {}
    flag = RiskFlag.objects.get(customer=farm)
    assert (flag.figures["quiet"], flag.figures["dids"], flag.figures["percent"]) == (
        11,
        12,
        "91.7",
    )
    assert "11 of 12 numbers receive under 10 inbound minutes a month" in flag.explanation


def test_numbers_traffic_is_unknown_when_no_inbound_call_was_imported(make_customer):
    farm = make_customer("Number Farm")
    hold(farm, 12)
    compute_flags(at=NOW)
    assert flags_of(farm) == {}


def test_inbound_calls_do_not_make_a_dialer(make_customer):
    """120 inbound calls of 5 s in one hour would be a dialer's pattern if dialled."""
    shop = make_customer("Hotline")
    (number,) = hold(shop, 1)
    hour = (NOW - timedelta(days=10)).replace(minute=0, second=0)
    for n in range(120):
        inbound(shop, number, 5, at=hour + timedelta(seconds=30 * n))
    compute_flags(at=NOW)
    assert flags_of(shop) == {}


def test_flags_are_replaced_on_every_run(dialer):
    compute_flags(at=NOW)
    compute_flags(at=NOW)
    assert RiskFlag.objects.filter(customer=dialer).count() == 3
    # A month later the calls are out of the window: the flags go.
    compute_flags(at=NOW + timedelta(days=30))
    assert flags_of(dialer) == {}


def test_risk_board_lists_customers_with_their_flags(client, staff, dialer):
    compute_flags(at=NOW)
    client.force_login(staff())
    page = client.get(reverse("admin:margins_risk"))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Robo Dial" in text and "calls per channel-hour" in text
    filtered = client.get(reverse("admin:margins_risk") + "?flag=price_shopping")
    assert "Robo Dial" not in filtered.content.decode()
    assert client.get(reverse("admin:margins_riskflag_changelist")).status_code == 200
