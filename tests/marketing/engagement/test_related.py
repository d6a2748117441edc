"""Related products in context: the catalog's related products of the customer's plans,
valid now, that they do not own yet, in the catalog's weighted rotation."""

from datetime import UTC, datetime, timedelta

from ringup.billing.services.subscriptions import cancel_subscription
from ringup.catalog.models import Option, Plan, RelatedProduct
from ringup.marketing.engagement.selectors import related_for

from .conftest import NOW


def codes(customer, at=NOW, limit=10):
    return sorted((s.kind, s.code) for s in related_for(customer, at=at, limit=limit))


def test_owned_options_are_left_out(make_customer, subscribe):
    """Office PBX suggests CRM integration (weight 3), the call-back widget (2) and the
    Contact centre plan (1); the customer already has CRM integration."""
    who = make_customer("Has CRM")
    subscribe(who, options=("crm-integration",))
    assert codes(who) == [("option", "callback-widget"), ("plan", "contact-centre")]
    first = related_for(who, at=NOW)[0]
    assert first.subscription_id == who.subscriptions.get().pk
    assert first.as_dict()["monthly_fee"] == str(first.monthly_fee)


def test_the_plan_the_customer_is_on_is_not_offered(make_customer, subscribe):
    who = make_customer("On virtual number")
    subscribe(who, "virtual-number", employees=1)
    RelatedProduct.objects.create(
        plan=Plan.objects.get(code="virtual-number"),
        related_plan=Plan.objects.get(code="virtual-number"),
        pitch="(never shown)",
    )
    assert codes(who) == [
        ("option", "call-recording"),
        ("option", "missed-call-sms"),
        ("plan", "office-pbx"),
    ]


def test_validity_windows_come_from_the_catalog(customer):
    start, end = datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC)
    RelatedProduct.objects.create(
        plan=Plan.objects.get(code="office-pbx"),
        option=Option.objects.get(code="speech-analytics"),
        pitch="June only: speech analytics",
        valid_from=start,
        valid_until=end,
    )
    assert ("option", "speech-analytics") not in codes(customer, at=start - timedelta(seconds=1))
    assert ("option", "speech-analytics") in codes(customer, at=start)
    assert ("option", "speech-analytics") not in codes(customer, at=end)


def test_stable_per_day_limited_and_empty_without_service(customer, make_customer):
    today = [s.code for s in related_for(customer, at=NOW, limit=2)]
    assert len(today) == 2
    assert [s.code for s in related_for(customer, at=NOW + timedelta(hours=3), limit=2)] == today
    assert related_for(make_customer("No service"), at=NOW) == []
    cancel_subscription(customer.subscription, at=NOW - timedelta(days=1), immediately=True)
    assert related_for(customer, at=NOW) == []
