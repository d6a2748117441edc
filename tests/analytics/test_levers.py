"""The three ARPU lever lists on hand-made customers (evaluated at AT = 1 June 2025 12:00
UTC) and their actions: one segment, one draft mailing, one task per customer."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import translation

from ringup.analytics import levers
from ringup.billing.models import Subscription, SubscriptionChange
from ringup.catalog.models import TrafficPackage
from ringup.customers.models import CustomerScore
from ringup.marketing.engagement.models import FollowUpTask
from ringup.marketing.mailings.models import Mailing
from ringup.marketing.segments.models import Segment
from ringup.marketing.segments.selectors import members
from ringup.usage.models import RatedCall
from tests.marketing.segments.conftest import AT, Shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(catalog):
    return Shop()


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def calls(shop, customer, *, minutes_a_month, price):
    """One call in each of the last three 30-day months, ``minutes_a_month`` long, rated
    at ``price`` ₽ a minute."""
    for month in range(3):
        call = shop.call(
            customer, start=AT - timedelta(days=15 + 30 * month), seconds=minutes_a_month * 60
        )
        RatedCall.objects.filter(pk=call.pk).update(cost=Decimal(price) * minutes_a_month)


def on_office_pbx(shop, name, *, package="min-1000", days_ago=120, **kw):
    customer = shop.customer(name, registered_days_ago=days_ago + 10)
    shop.subscribe(
        customer,
        "office-pbx",
        days_ago=days_ago,
        traffic_package=TrafficPackage.objects.get(code=package) if package else None,
        **kw,
    )
    return customer


def names(found):
    return [entry.customer for entry in found.entries]


# ---------------------------------------------------------------- step-up


@pytest.fixture
def callers(shop):
    """Office PBX is the smb tier's cheapest (only) plan; its bundles: 1,000 min for
    1,100 ₽ and 3,000 min for 2,900 ₽. Everyone below holds the 1,000-minute bundle.

    * Heavy: 1,900 min a month at 2.00 ₽ → extra 900 min = 1,800 ₽; now 1,100 + 1,800
      = 2,900 ₽; with 3,000 min: 2,900 ₽ ≤ 2,900 × 1.10 → listed, +1,800 ₽ MRR.
    * Pricey: 1,900 min at 1.50 ₽ → now 1,100 + 1,350 = 2,450 ₽; 2,900 > 2,695 → not.
    * Light: 800 min, within the bundle → not.
    * Fresh: Heavy's calls, but subscribed 30 days ago (not 90 days on the plan) → not.
    * Trial: Heavy's calls on a trial → not paying, not.
    """
    for name, minutes, price, extra in [
        ("Heavy", 1900, "2.00", {}),
        ("Pricey", 1900, "1.50", {}),
        ("Light", 800, "2.00", {}),
        ("Fresh", 1900, "2.00", {"days_ago": 30}),
        ("Trial", 1900, "2.00", {"status": "trialing"}),
    ]:
        calls(shop, on_office_pbx(shop, name, **extra), minutes_a_month=minutes, price=price)


def test_step_up_lists_the_heavy_caller_with_both_bills(callers):
    found = levers.step_ups(at=AT)
    assert names(found) == ["Heavy"]
    heavy = found.entries[0]
    assert (heavy.minutes, heavy.included, heavy.step_minutes) == (1900, 1000, 3000)
    assert heavy.extra_minutes_cost == Decimal("1800.00")
    assert (heavy.bill_now, heavy.bill_with_step) == (Decimal("2900.00"), Decimal("2900.00"))
    assert heavy.mrr_gain == Decimal("1800.00")
    assert levers.justify(heavy) == (
        "talks 1,900 min a month, 1,000 included; 3,000 minutes to Russian numbers costs "
        "₽1,800.00 a month more: calls cost ₽2,900.00 a month now, ₽2,900.00 with it"
    )


def test_without_a_bundle_the_smallest_covering_one_is_offered(shop):
    """No bundle, 900 min a month at 2.00 ₽ = 1,800 ₽ now; the 1,000-minute bundle covers
    it for 1,100 ₽ (cheaper) → listed with +1,100 ₽ MRR."""
    calls(shop, on_office_pbx(shop, "Bare", package=None), minutes_a_month=900, price="2.00")
    (entry,) = levers.step_ups(at=AT).entries
    assert (entry.included, entry.step_minutes, entry.mrr_gain) == (0, 1000, Decimal("1100"))
    assert (entry.bill_now, entry.bill_with_step) == (Decimal("1800.00"), Decimal("1100.00"))


def test_a_recent_plan_switch_waits_for_a_full_window(callers):
    """Heavy switched plans 10 days ago: not 90 days on the cheapest plan any more."""
    sub = Subscription.objects.get(customer__name="Heavy")
    SubscriptionChange.objects.create(
        subscription=sub,
        kind=SubscriptionChange.Kind.DOWNGRADE,
        at=AT - timedelta(days=10),
        to_plan=sub.plan,
    )
    assert names(levers.step_ups(at=AT)) == []


def test_step_up_segment_is_the_rule_without_the_price_test(callers):
    """The segment: paying on Office PBX for 90 days and ≥ 3 × 1,900 min in 90 days; it
    holds Heavy and Pricey (same minutes; the price test is the list's, not a condition)."""
    found = levers.step_ups(at=AT)
    in_segment = members(found.conditions, at=AT).values_list("name", flat=True)
    assert sorted(in_segment) == ["Heavy", "Pricey"]


# ---------------------------------------------------------------- attach gaps


@pytest.fixture
def crm_peers(shop):
    """Four paying smb customers on Office PBX; A, B and C have CRM integration (3 of 4
    = 75 %), D does not. E has it too but is on a trial (not a peer). Call-back widget:
    only A (1 holder < 3) → not a favourite."""
    subs = {}
    for name in "ABCD":
        subs[name] = shop.subscribe(shop.customer(name), "office-pbx", employees=6)
    for name in "ABC":
        shop.option(subs[name], "crm-integration")
    shop.option(subs["A"], "callback-widget")
    trial = shop.subscribe(shop.customer("E"), "office-pbx", status="trialing")
    shop.option(trial, "crm-integration")
    return subs


def test_attach_gap_lists_who_lacks_the_peer_favourite(crm_peers):
    found = levers.attach_gaps(at=AT)
    assert names(found) == ["D"]
    (gap,) = found.entries
    assert (gap.option, gap.holders, gap.peers) == ("crm-integration", 3, 4)
    assert gap.attach_rate == Decimal("0.75")
    assert gap.mrr_gain == Decimal("490.00")
    assert levers.justify(gap) == (
        "3 of 4 Small & medium business peers have CRM integration; +₽490.00 a month"
    )


def test_per_employee_addon_gain_counts_the_employees(shop, crm_peers):
    """Call recording per employee (49 ₽ × employees): A, B, C record, D (6 employees)
    does not → D also gets that gap, 6 × 49 = 294 ₽; the holder of the favourite is not
    listed for it."""
    for name in "ABC":
        shop.option(crm_peers[name], "call-recording-pro")
    found = levers.attach_gaps(at=AT)
    gaps = {(e.customer, e.option): e.mrr_gain for e in found.entries}
    assert gaps == {
        ("D", "crm-integration"): Decimal("490.00"),
        ("D", "call-recording-pro"): Decimal("294.00"),
    }


def test_attach_gap_segment_matches_the_list(crm_peers):
    found = levers.attach_gaps(at=AT)
    assert list(members(found.conditions, at=AT).values_list("name", flat=True)) == ["D"]


# ---------------------------------------------------------------- at risk


@pytest.fixture
def scored(shop):
    """Risky (34 %, 48,200 ₽) and Safe (10 %, 90,000 ₽) and Cheap (34 %, 10,000 ₽) pay;
    Gone (50 %, 99,000 ₽) has no service."""
    for name, risk, clv, paying in [
        ("Risky", "0.34", "48200", True),
        ("Safe", "0.10", "90000", True),
        ("Cheap", "0.34", "10000", True),
        ("Gone", "0.50", "99000", False),
    ]:
        customer = shop.customer(name)
        if paying:
            shop.subscribe(customer, "office-pbx")
        CustomerScore.objects.create(
            customer=customer,
            churn_risk=Decimal(risk),
            clv=Decimal(clv),
            currency="RUB",
            basis="test",
            computed_at=AT,
        )


def test_at_risk_lists_high_value_paying_customers(scored):
    """Risk ≥ 30 % and CLV ≥ 40,000 → Risky only; at stake 0.34 × 48,200 = 16,388 ₽."""
    found = levers.at_risk(at=AT, risk=Decimal("0.30"), clv=Decimal(40000))
    assert names(found) == ["Risky"]
    assert found.entries[0].at_stake == Decimal("16388.00")
    assert levers.justify(found.entries[0]) == (
        "churn risk 34 %, CLV ₽48,200.00: ₽16,388.00 at stake"
    )
    assert list(members(found.conditions, at=AT).values_list("name", flat=True)) == ["Risky"]


def test_default_thresholds_are_upper_quartile_risk_and_median_clv(scored):
    """Sorted risks 0.10 · 0.34 · 0.34 · 0.50, upper quartile at index 4 × 3 // 4 = 3 →
    0.500; CLVs 10,000 · 48,200 · 90,000 · 99,000, median at index 2 → 90,000. Only Gone
    reaches both and Gone does not pay. Without Gone: risks at index 2 → 0.340, CLVs at
    index 1 → 48,200, floored to 48,000 → Risky (0.34, 48,200)."""
    found = levers.at_risk(at=AT)
    assert found.thresholds == {"risk": Decimal("0.500"), "clv": Decimal(90000)}
    assert names(found) == []
    CustomerScore.objects.filter(customer__name="Gone").delete()
    found = levers.at_risk(at=AT)
    assert found.thresholds == {"risk": Decimal("0.340"), "clv": Decimal(48000)}
    assert names(found) == ["Risky"]


# ---------------------------------------------------------------- actions


def test_segment_and_mailing_are_made_once(crm_peers):
    found = levers.attach_gaps(at=AT)
    first = levers.make_segment(found)
    again = levers.make_segment(levers.attach_gaps(at=AT))
    assert first.pk == again.pk and Segment.objects.count() == 1
    assert again.name == "ARPU lever: add-on attach gaps"
    mailing = levers.draft_mailing(found)
    assert levers.draft_mailing(found).pk == mailing.pk
    assert Mailing.objects.count() == 1
    assert (mailing.status, mailing.segment_id) == (Mailing.Status.DRAFT, first.pk)
    assert sorted(mailing.template.variants.values_list("language", flat=True)) == ["en", "ru"]


def test_tasks_one_per_customer_per_month(crm_peers, shop):
    """D is listed twice (two gaps) → one task. Pressed again: nothing new."""
    for name in "ABC":
        shop.option(crm_peers[name], "call-recording-pro")
    found = levers.attach_gaps(at=AT)
    assert len(found.entries) == 2
    assert levers.make_tasks(found, at=AT) == (1, 1)
    assert levers.make_tasks(levers.attach_gaps(at=AT), at=AT) == (0, 1)
    task = FollowUpTask.objects.get()
    assert task.customer.name == "D"
    assert task.title == "Offer CRM integration to D"
    assert "3 of 4 Small & medium business peers have CRM integration" in task.note
    # 1 June 2025 15:00 in Moscow + 3 days.
    assert task.due_on.isoformat() == "2025-06-04"
