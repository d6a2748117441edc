"""One worked example per condition field, evaluated at AT = 1 June 2025 12:00 UTC."""

from datetime import UTC, datetime, timedelta

import pytest

from ringup.billing.models import Subscription, SubscriptionChange
from ringup.catalog.models import Plan
from ringup.marketing.segments.selectors import count, members, sample

from .conftest import AT

pytestmark = pytest.mark.django_db


def names(conditions, at=AT):
    return sorted(members(conditions, at=at).values_list("name", flat=True))


def leaf(field, op, value):
    return {"field": field, "op": op, "value": value}


def test_tier(shop):
    """Micro, smb and enterprise customers; tier in (smb, enterprise) → the latter two."""
    shop.customer("Micro", tier="micro")
    shop.customer("Smb", tier="smb")
    shop.customer("Big", tier="enterprise")
    assert names(leaf("tier", "in", ["smb", "enterprise"])) == ["Big", "Smb"]


def test_plan_counts_live_subscriptions_only(shop):
    """Office PBX: Live (active), Ended (ended 1 day before AT), Cancelled-later (cancel
    takes effect 5 days after AT, so still live) → Live and Cancelled-later."""
    shop.subscribe(shop.customer("Live"))
    shop.subscribe(shop.customer("Ended"), ended_at=AT - timedelta(days=1))
    shop.subscribe(shop.customer("Later"), ended_at=AT + timedelta(days=5))
    shop.subscribe(shop.customer("Micro", tier="micro"), plan="virtual-number")
    assert names(leaf("plan", "in", ["office-pbx"])) == ["Later", "Live"]


def test_has_and_lacks_option(shop):
    """Recording added 30 days ago (Rec), added then removed 10 days ago (Removed), added
    tomorrow (Future), none (Plain). has: Rec. lacks: Removed, Future, Plain — and the
    customer with no service at all (Nobody) lacks it too."""
    shop.option(shop.subscribe(shop.customer("Rec")), "call-recording-pro")
    shop.option(shop.subscribe(shop.customer("Removed")), "call-recording-pro", removed_days_ago=10)
    shop.option(shop.subscribe(shop.customer("Future")), "call-recording-pro", days_ago=-1)
    shop.subscribe(shop.customer("Plain"))
    shop.customer("Nobody")
    assert names(leaf("has_option", "eq", "call-recording-pro")) == ["Rec"]
    assert names(leaf("lacks_option", "in", ["call-recording-pro"])) == [
        "Future",
        "Nobody",
        "Plain",
        "Removed",
    ]


def test_status(shop):
    """Trialing (Try), past due (Late), cancelled (Gone) → status in (trialing, past_due)
    gives Try and Late."""
    shop.subscribe(shop.customer("Try"), status="trialing")
    shop.subscribe(shop.customer("Late"), status="past_due")
    shop.subscribe(shop.customer("Gone"), status="cancelled", ended_at=AT - timedelta(days=3))
    assert names(leaf("status", "in", ["trialing", "past_due"])) == ["Late", "Try"]
    assert names(leaf("status", "in", ["cancelled"])) == ["Gone"]


def test_registered_days_ago(shop):
    """Registered 5, 30 and 31 days before AT. gt 30 → Old (31); lte 30 → Mid and New;
    gte 30 → Mid (exactly 30 days) and Old; lt 30 → New."""
    shop.customer("New", registered_days_ago=5)
    shop.customer("Mid", registered_days_ago=30)
    shop.customer("Old", registered_days_ago=31)
    assert names(leaf("registered_days_ago", "gt", 30)) == ["Old"]
    assert names(leaf("registered_days_ago", "lte", 30)) == ["Mid", "New"]
    assert names(leaf("registered_days_ago", "gte", 30)) == ["Mid", "Old"]
    assert names(leaf("registered_days_ago", "lt", 30)) == ["New"]


def test_email_verified(shop):
    """Verified yesterday (Yes), verified after AT (Later: not yet verified at AT), never
    (No)."""
    shop.customer("Yes", email_verified_at=AT - timedelta(days=1))
    shop.customer("Later", email_verified_at=AT + timedelta(days=1))
    shop.customer("No")
    assert names(leaf("email_verified", "is", True)) == ["Yes"]
    assert names(leaf("email_verified", "is", False)) == ["Later", "No"]


def test_no_active_service(shop):
    """Active (Served), trialing (Trial), suspended (Stopped), ended (Ended), none
    (Lead) → no active service: Stopped, Ended, Lead."""
    shop.subscribe(shop.customer("Served"))
    shop.subscribe(shop.customer("Trial"), status="trialing")
    shop.subscribe(shop.customer("Stopped"), status="suspended")
    shop.subscribe(shop.customer("Ended"), ended_at=AT - timedelta(days=1))
    shop.customer("Lead")
    assert names(leaf("no_active_service", "is", True)) == ["Ended", "Lead", "Stopped"]
    assert names(leaf("no_active_service", "is", False)) == ["Served", "Trial"]


def test_revenue_over_the_last_months(shop):
    """Window of 3 months before AT: [1 March 2025 15:00 Moscow, AT).

    Rich: 6,000 (2 Mar) + 4,000 (31 May) = 10,000 → ≥ 10,000.
    Edge: 9,000 on 1 Mar 12:00 UTC (= 15:00 Moscow, the window's first instant) +
          1,000 (15 May) = 10,000 → ≥ 10,000.
    Early: 9,000 on 1 Mar 11:59 UTC (outside) + 1,000 = 1,000 in the window.
    Late: 10,000 issued at AT itself (outside: the window is half-open) → 0.
    Draft: a 50,000 draft invoice counts nothing → 0.
    None: no invoices → 0.
    """
    rich, edge, early = shop.customer("Rich"), shop.customer("Edge"), shop.customer("Early")
    late, draft = shop.customer("Late"), shop.customer("Draft")
    shop.customer("None")
    shop.invoice(rich, "6000.00", issued_at=datetime(2025, 3, 2, tzinfo=UTC))
    shop.invoice(rich, "4000.00", issued_at=datetime(2025, 5, 31, tzinfo=UTC))
    shop.invoice(edge, "9000.00", issued_at=datetime(2025, 3, 1, 12, tzinfo=UTC))
    shop.invoice(edge, "1000.00", issued_at=datetime(2025, 5, 15, tzinfo=UTC))
    shop.invoice(early, "9000.00", issued_at=datetime(2025, 3, 1, 11, 59, tzinfo=UTC))
    shop.invoice(early, "1000.00", issued_at=datetime(2025, 5, 15, tzinfo=UTC))
    shop.invoice(late, "10000.00", issued_at=AT)
    shop.invoice(draft, "50000.00", issued_at=datetime(2025, 5, 1, tzinfo=UTC), status="draft")
    at_least = {"months": 3, "amount": "10000.00"}
    assert names(leaf("revenue", "gte", at_least)) == ["Edge", "Rich"]
    assert names(leaf("revenue", "lte", {"months": 3, "amount": "1000"})) == [
        "Draft",
        "Early",
        "Late",
        "None",
    ]
    assert count(leaf("revenue", "gte", {"months": 3, "amount": "0"}), at=AT) == 6


def test_usage_minutes(shop):
    """Last 7 days: [25 May 12:00, AT). Talker: 40 min + 20 min = 60 → ≥ 60.
    Quiet: 59 min 59 s = 3,599 s → not ≥ 60 (3,600 s), not ≤ 59 (3,540 s), but ≤ 60.
    Old: 120 min 8 days ago → 0 in the window. Silent: no calls → 0."""
    talker, quiet, old = shop.customer("Talker"), shop.customer("Quiet"), shop.customer("Old")
    shop.customer("Silent")
    shop.call(talker, start=AT - timedelta(days=1), seconds=40 * 60)
    shop.call(talker, start=AT - timedelta(days=6, hours=23), seconds=20 * 60)
    shop.call(quiet, start=AT - timedelta(hours=2), seconds=3599)
    shop.call(old, start=AT - timedelta(days=8), seconds=120 * 60)
    assert names(leaf("usage_minutes", "gte", {"days": 7, "minutes": 60})) == ["Talker"]
    assert names(leaf("usage_minutes", "lte", {"days": 7, "minutes": 59})) == ["Old", "Silent"]
    assert names(leaf("usage_minutes", "lte", {"days": 7, "minutes": 60})) == [
        "Old",
        "Quiet",
        "Silent",
        "Talker",
    ]


def test_last_payment_days(shop):
    """Paid 10 days ago (Recent), 45 days ago (Lapsed), never (Never); a payment after AT
    (Future) is not seen. gt 30 → Lapsed; lt 30 → Recent; null → Never and Future."""
    shop.payment(shop.customer("Recent"), days_ago=10)
    shop.payment(shop.customer("Lapsed"), days_ago=45)
    shop.payment(shop.customer("Future"), days_ago=-2)
    shop.customer("Never")
    assert names(leaf("last_payment_days", "gt", 30)) == ["Lapsed"]
    assert names(leaf("last_payment_days", "lt", 30)) == ["Recent"]
    assert names(leaf("last_payment_days", "gt", None)) == ["Future", "Never"]


def test_last_call_days(shop):
    """Called 2 days ago and 60 days ago (Active: last call 2 days ago), only 60 days ago
    (Quiet), never (Mute). gt 30 → Quiet; lt 30 → Active; null → Mute."""
    active, quiet = shop.customer("Active"), shop.customer("Quiet")
    shop.customer("Mute")
    shop.call(active, start=AT - timedelta(days=2), seconds=60)
    shop.call(active, start=AT - timedelta(days=60), seconds=60)
    shop.call(quiet, start=AT - timedelta(days=60), seconds=60)
    assert names(leaf("last_call_days", "gt", 30)) == ["Quiet"]
    assert names(leaf("last_call_days", "lt", 30)) == ["Active"]
    assert names(leaf("last_call_days", "lt", None)) == ["Mute"]


def test_country_language_source(shop):
    """RU/ru/website (Ivan), KZ/kk/referral (Aigul), DE/en/promo (Hans)."""
    shop.customer("Ivan", country="RU", language="ru", source="website")
    shop.customer("Aigul", country="KZ", language="kk", source="referral")
    shop.customer("Hans", country="DE", language="en", source="promo")
    assert names(leaf("country", "in", ["KZ", "DE"])) == ["Aigul", "Hans"]
    assert names(leaf("language", "in", ["ru"])) == ["Ivan"]
    assert names(leaf("source", "in", ["referral", "promo"])) == ["Aigul", "Hans"]


def test_trial_ends_in_days(shop):
    """Trials ending in 2 days (Soon), 3 days exactly (Edge), 4 days (Later), ended an
    hour ago (Over) and an active subscription (Paid) → lte 3: Edge and Soon."""
    for name, delta in [("Soon", 2), ("Edge", 3), ("Later", 4), ("Over", -1 / 24)]:
        shop.subscribe(
            shop.customer(name), status="trialing", trial_ends_at=AT + timedelta(days=delta)
        )
    shop.subscribe(shop.customer("Paid"), trial_ends_at=AT + timedelta(days=1))
    assert names(leaf("trial_ends_in_days", "lte", 3)) == ["Edge", "Soon"]


def test_on_cheapest_plan_days(shop):
    """SMB has office-pbx (890) and a dearer office-pro (1,990): office-pbx is the
    cheapest. Stayer: on office-pbx for 70 days → ≥ 60. Newcomer: 20 days → no.
    Switcher: subscribed 90 days ago, moved down to office-pbx 10 days ago → no.
    Pro: on office-pro for 90 days → no. Micro: on virtual-number (micro's cheapest) 90
    days → yes."""
    pro = Plan.objects.get(code="office-pbx")
    pro.pk, pro.code, pro.name, pro.monthly_fee = None, "office-pro", "Office Pro", 1990
    pro.save()
    shop.subscribe(shop.customer("Stayer"), days_ago=70)
    shop.subscribe(shop.customer("Newcomer"), days_ago=20)
    switcher = shop.subscribe(shop.customer("Switcher"), days_ago=90)
    SubscriptionChange.objects.create(
        subscription=switcher,
        kind=SubscriptionChange.Kind.DOWNGRADE,
        at=AT - timedelta(days=10),
        from_plan=pro,
        to_plan=switcher.plan,
    )
    shop.subscribe(shop.customer("Pro"), "office-pro", days_ago=90)
    shop.subscribe(shop.customer("Micro", tier="micro"), "virtual-number", days_ago=90)
    assert names(leaf("on_cheapest_plan_days", "gte", 60)) == ["Micro", "Stayer"]


def test_nesting_all_any_not(shop):
    """(tier smb AND (country KZ OR language en)) AND NOT (has an active subscription).

    A: smb/KZ/ru, no service → yes.  B: smb/RU/en, no service → yes.
    C: smb/RU/ru → no (neither KZ nor en).  D: micro/KZ → no (tier).
    E: smb/KZ with an active subscription → no (the NOT).
    """
    shop.customer("A", country="KZ", language="ru")
    shop.customer("B", country="RU", language="en")
    shop.customer("C", country="RU", language="ru")
    shop.customer("D", tier="micro", country="KZ")
    shop.subscribe(shop.customer("E", country="KZ"))
    conditions = {
        "all": [
            leaf("tier", "in", ["smb"]),
            {"any": [leaf("country", "in", ["KZ"]), leaf("language", "in", ["en"])]},
            {"not": leaf("no_active_service", "is", False)},
        ]
    }
    assert names(conditions) == ["A", "B"]
    assert names({"all": []}) == ["A", "B", "C", "D", "E"]
    assert names({"any": []}) == []


def test_every_field_in_one_query(shop, django_assert_num_queries):
    """All fields at once still run as a single SQL statement for count and sample."""
    shop.subscribe(shop.customer("A"))
    conditions = {
        "any": [
            leaf("tier", "in", ["smb"]),
            leaf("plan", "in", ["office-pbx"]),
            leaf("has_option", "eq", "call-recording"),
            leaf("lacks_option", "in", ["call-recording"]),
            leaf("status", "in", ["active"]),
            leaf("registered_days_ago", "gt", 3),
            leaf("email_verified", "is", True),
            leaf("no_active_service", "is", True),
            leaf("revenue", "gte", {"months": 12, "amount": "10000.00"}),
            leaf("revenue", "lte", {"months": 1, "amount": "5"}),
            leaf("usage_minutes", "gte", {"days": 30, "minutes": 100}),
            leaf("last_payment_days", "gt", 30),
            leaf("last_call_days", "lt", None),
            leaf("country", "in", ["RU"]),
            leaf("language", "in", ["ru"]),
            leaf("source", "in", ["website"]),
            leaf("trial_ends_in_days", "lte", 3),
            {"not": leaf("on_cheapest_plan_days", "gte", 60)},
        ]
    }
    with django_assert_num_queries(1):
        assert count(conditions, at=AT) == 1
    with django_assert_num_queries(1):
        assert [c.name for c in sample(conditions, at=AT)] == ["A"]


def test_evaluated_when_used(shop):
    """Members are computed at each use: a customer registered later joins the count."""
    conditions = leaf("tier", "in", ["enterprise"])
    assert count(conditions, at=AT) == 0
    shop.customer("Late", tier="enterprise")
    assert count(conditions, at=AT) == 1


def test_sample_is_twenty_newest(shop):
    """25 customers registered 1..25 days ago: the sample is the 20 newest."""
    for days in range(1, 26):
        shop.customer(f"C{days:02d}", registered_days_ago=days)
    picked = sample({"all": []}, at=AT)
    assert [c.name for c in picked] == [f"C{d:02d}" for d in range(1, 21)]


def test_time_is_a_parameter(shop):
    """An active subscription started 60 days ago: live at AT, not live 61 days earlier."""
    shop.subscribe(shop.customer("A"))
    live = leaf("no_active_service", "is", False)
    assert count(live, at=AT) == 1
    assert count(live, at=AT - timedelta(days=61)) == 0
    assert Subscription.objects.count() == 1
