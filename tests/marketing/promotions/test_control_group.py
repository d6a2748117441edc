"""A promotion's control group: a random share of the customers who qualify is held out
(no discount), assigned once under a unique row, and the lift report compares them with
the treated over a window."""

from datetime import timedelta
from decimal import Decimal

import pytest

from ringup.billing.services.invoicing import bill
from ringup.engine import lift
from ringup.events.models import Event
from ringup.marketing.promotions import selectors
from ringup.marketing.promotions.models import Assignment, PromoCode, Promotion, Redemption
from ringup.marketing.promotions.services import (
    PromotionRefused,
    apply_automatic,
    redeem_at_purchase,
    redeem_code,
)

from ..invoices import finalised_invoice
from .conftest import MARCH_1

pytestmark = pytest.mark.django_db
D = Decimal
HELD, TREATED = Assignment.Group.HELD_OUT, Assignment.Group.TREATED


def in_group(promotion, group, make_customer):
    """A new customer whose hash puts it in ``group`` of ``promotion`` (the ids a
    database hands out differ between runs, the hash of each id does not)."""
    while True:
        customer = make_customer()
        if selectors.group_of(promotion, customer.pk) == group:
            return customer


def test_the_bucket_is_a_stable_share_independent_between_promotions():
    """The same (promotion, customer) always falls in the same bucket; about 10 % of
    10,000 customers fall below 10; two promotions hold out different customers (the
    overlap of two independent 10 % draws is about 1 %, not 10 %)."""
    first = {c for c in range(1, 10_001) if selectors.holdout_bucket(1, c) < 10}
    second = {c for c in range(1, 10_001) if selectors.holdout_bucket(2, c) < 10}
    assert selectors.holdout_bucket(1, 42) == selectors.holdout_bucket(1, 42)
    assert 900 < len(first) < 1100
    assert 50 < len(first & second) < 200


def test_a_held_out_customer_cannot_redeem_the_code(subscribe, make_customer, promotion):
    """UPGRADE (25 %, 50 % held out): the held-out customer is refused and the code's
    use is given back; the treated customer redeems it. Each is assigned once, however
    often they try."""
    upgrade = promotion("UPGRADE", value=D(25), holdout_percent=50)
    held = in_group(upgrade, HELD, make_customer)
    treated = in_group(upgrade, TREATED, make_customer)
    held_subscription = subscribe(who=held)
    for _ in range(2):
        with pytest.raises(PromotionRefused) as refused:
            redeem_code("UPGRADE", held_subscription, at=MARCH_1)
        assert refused.value.errors == {"customer": "not offered to this customer (control group)"}
    redeem_code("UPGRADE", subscribe(who=treated), at=MARCH_1)
    assert PromoCode.objects.get(code="UPGRADE").used == 1
    assert Redemption.objects.get().customer == treated
    assert set(Assignment.objects.values_list("customer_id", "group", "at")) == {
        (held.pk, HELD, MARCH_1),
        (treated.pk, TREATED, MARCH_1),
    }


def test_a_customer_who_does_not_qualify_is_not_in_the_experiment(
    subscribe, make_customer, promotion
):
    """Annual billing only: a monthly subscription is refused for that reason and never
    enters either group."""
    annual = promotion("ANNUAL", annual_only=True, holdout_percent=50)
    with pytest.raises(PromotionRefused):
        redeem_code("ANNUAL", subscribe(who=in_group(annual, HELD, make_customer)), at=MARCH_1)
    assert not Assignment.objects.exists()


def test_the_stored_group_outlives_a_change_of_the_share(subscribe, make_customer, promotion):
    """Once assigned, a customer stays in its group when the share changes to 0 %."""
    spring = promotion("SPRING", holdout_percent=50)
    held = in_group(spring, HELD, make_customer)
    subscription = subscribe(who=held)
    with pytest.raises(PromotionRefused):
        redeem_code("SPRING", subscription, at=MARCH_1)
    Promotion.objects.filter(pk=spring.pk).update(holdout_percent=0)
    with pytest.raises(PromotionRefused):
        redeem_code("SPRING", subscription, at=MARCH_1)


def test_a_code_typed_at_sign_up_is_kept_as_shown(subscribe, make_customer, promotion):
    """The visitor saw START's discount on the buy page before having an account: at the
    purchase the code is redeemed even for a customer the hash would hold out, and the
    customer is not part of the experiment."""
    start = promotion("START", holdout_percent=50)
    held = in_group(start, HELD, make_customer)
    redemptions, refused = redeem_at_purchase(subscribe(who=held), at=MARCH_1, code="START")
    assert (len(redemptions), refused) == (1, "")
    assert not Assignment.objects.exists()


def test_held_out_customers_get_no_automatic_discount(subscribe, make_customer, promotion):
    """Turnover 10 % from 12,000 a year, half held out: both customers invoiced
    8 × 1,640.00 = 13,120.00 qualify; the treated one is granted the discount, the
    held-out one is assigned and not granted, and the daily job never grants it later."""
    turnover = promotion(
        name="Turnover 10%",
        automatic=Promotion.Automatic.TURNOVER,
        min_revenue=D("12000"),
        duration=Promotion.Duration.FOREVER,
        value=D(10),
        holdout_percent=50,
    )
    held = in_group(turnover, HELD, make_customer)
    treated = in_group(turnover, TREATED, make_customer)
    subscribe(who=held)
    subscribe(who=treated)
    november = MARCH_1 + timedelta(days=245)
    bill(until=november, at=november)
    assert apply_automatic(at=november) == 1
    assert apply_automatic(at=november + timedelta(days=1)) == 0
    assert Redemption.objects.get().customer == treated
    assert dict(Assignment.objects.values_list("customer_id", "group")) == {
        held.pk: HELD,
        treated.pk: TREATED,
    }


def _lift_fixture(make_customer, promotion):
    """Treated: 5 customers assigned on 1 March, 3 pay within 30 days (a fourth only on
    day 31); invoiced 1,640.00, 1,640.00, 1,312.00 (the discounted month), 0, 0.
    Held out: 4 customers, 1 pays; invoiced 1,640.00, 0, 0, 0 (one more invoice, issued
    the day before the assignment, is outside the window)."""
    upgrade = promotion("UPGRADE", holdout_percent=10)
    customers = [make_customer() for _ in range(9)]
    for index, customer in enumerate(customers):
        Assignment.objects.create(
            promotion=upgrade, customer=customer, group=TREATED if index < 5 else HELD, at=MARCH_1
        )
    for customer, day in [(customers[0], 3), (customers[1], 10), (customers[2], 29)]:
        Event.objects.create(
            kind="invoice.paid",
            at=MARCH_1 + timedelta(days=day),
            customer_id=customer.pk,
            created_at=MARCH_1,
        )
    Event.objects.create(  # day 31: after the window
        kind="invoice.paid",
        at=MARCH_1 + timedelta(days=31),
        customer_id=customers[3].pk,
        created_at=MARCH_1,
    )
    Event.objects.create(
        kind="invoice.paid",
        at=MARCH_1 + timedelta(days=5),
        customer_id=customers[5].pk,
        created_at=MARCH_1,
    )
    finalised_invoice(customers[0], D("1640.00"), MARCH_1 + timedelta(days=2), "I-1")
    finalised_invoice(customers[1], D("1640.00"), MARCH_1 + timedelta(days=9), "I-2")
    finalised_invoice(customers[2], D("1312.00"), MARCH_1 + timedelta(days=28), "I-3")
    finalised_invoice(customers[5], D("1640.00"), MARCH_1 + timedelta(days=4), "I-4")
    finalised_invoice(customers[6], D("1640.00"), MARCH_1 - timedelta(days=1), "I-5")
    return upgrade


def test_lift_report_with_worked_numbers(make_customer, promotion):
    """Conversion 3/5 − 1/4 = 0.60 − 0.25 = +0.35 with Newcombe's interval of
    (3, 5, 1, 4); revenue per customer 4,592.00 / 5 = 918.40 against 1,640.00 / 4 =
    410.00: +508.40 with Welch's interval of the two lists."""
    report = selectors.lift_report(_lift_fixture(make_customer, promotion))
    assert report["treated"] == {"customers": 5, "converted": 3, "revenue": "4592.00"}
    assert report["held_out"] == {"customers": 4, "converted": 1, "revenue": "1640.00"}
    conversion = lift.proportion_difference(3, 5, 1, 4)
    assert report["conversion_lift"] == {
        "estimate": pytest.approx(0.35),
        "low": conversion.low,
        "high": conversion.high,
    }
    # Five and four customers cannot tell +35 points from chance: the interval holds 0.
    assert conversion.low < 0 < conversion.high
    revenue = lift.mean_difference([1640, 1640, 1312, 0, 0], [1640, 0, 0, 0])
    assert report["revenue_lift"] == {
        "estimate": "508.40",
        "low": str(D(repr(revenue.low)).quantize(D("0.01"))),
        "high": str(D(repr(revenue.high)).quantize(D("0.01"))),
    }
    assert (report["window_days"], report["holdout_percent"]) == (30, 10)


def test_lift_api_and_back_office_page(staff_client, admin_client, make_customer, promotion):
    upgrade = _lift_fixture(make_customer, promotion)
    response = staff_client.get(f"/api/v1/promotions/{upgrade.pk}/lift")
    assert response.status_code == 200
    assert response.json()["conversion_lift"]["estimate"] == pytest.approx(0.35)
    assert staff_client.get("/api/v1/promotions/999999/lift").status_code == 404
    page = admin_client.get(f"/admin/promotions/promotion/{upgrade.pk}/lift/")
    assert page.status_code == 200
    text = page.content.decode()
    for shown in ("60.0%", "25.0%", "918.40", "410.00", "+35.0%", "508.40"):
        assert shown in text
    change = admin_client.get(f"/admin/promotions/promotion/{upgrade.pk}/change/")
    assert f"/admin/promotions/promotion/{upgrade.pk}/lift/" in change.content.decode()


def test_a_new_promotion_holds_out_ten_percent_by_default(staff_client, catalog):
    created = staff_client.post(
        "/api/v1/promotions",
        {"name": "Autumn", "benefit": "percent", "value": "10"},
        content_type="application/json",
    )
    assert created.json()["holdout_percent"] == 10
    too_many = staff_client.post(
        "/api/v1/promotions",
        {"name": "Half+", "benefit": "percent", "value": "10", "holdout_percent": 60},
        content_type="application/json",
    )
    assert too_many.status_code == 422
