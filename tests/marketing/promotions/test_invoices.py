"""Promotions on invoices: the discount appears on exactly the promised periods."""

from datetime import timedelta
from decimal import Decimal

import pytest

from ringup.billing.models import Invoice, SubscriptionDiscount
from ringup.billing.services.discounts import DiscountRefused, NewDiscount, add_discount
from ringup.billing.services.invoicing import bill
from ringup.events.models import Event
from ringup.marketing.promotions.models import Promotion
from ringup.marketing.promotions.services import redeem_code

from .conftest import JULY_1, MARCH_1, MAY_1, lines

pytestmark = pytest.mark.django_db
D = Decimal


def discounts(subscription):
    return [
        lines(invoice, "discount")
        for invoice in Invoice.objects.filter(subscription=subscription).order_by("period_start")
    ]


def test_a_percentage_for_three_periods_then_stops(subscribe, promotion):
    """Office PBX, 10 employees: 890 + 10 × 75 = 1,640.00 a month. START gives 20% for
    3 periods: −328.00 on the March, April and May invoices (1,312.00 each), nothing in
    June (1,640.00)."""
    promotion(
        "START", name="Start", duration=Promotion.Duration.REPEATING, periods=3, max_uses=None
    )
    subscription = subscribe()
    redeem_code("start", subscription, at=MARCH_1)
    bill(until=JULY_1, at=JULY_1)
    described = "Promotion START: 20% off, 3 periods"
    assert discounts(subscription) == [
        [("discount", described, D(1), D("-328.00"))],
        [("discount", described, D(1), D("-328.00"))],
        [("discount", described, D(1), D("-328.00"))],
        [],
    ]
    totals = list(
        Invoice.objects.filter(subscription=subscription)
        .order_by("period_start")
        .values_list("total", flat=True)
    )
    assert totals == [D("1312.00"), D("1312.00"), D("1312.00"), D("1640.00")]
    assert Event.objects.filter(kind="promo.redeemed", subscription_id=subscription.pk).count() == 1


def test_the_discount_follows_the_plan_discounts_and_is_taxed_per_line(subscribe, promotion):
    """Annual Office PBX: 1,640 − 15% (246) = 1,394 a month, 16,728.00 a year. A 10%
    promotion once: −1,672.80, of which VAT 20% included 278.80 (1,672.80 × 20 / 120)."""
    promotion("ANNUAL10", value=D(10))
    subscription = subscribe(period="annual")
    redeem_code("ANNUAL10", subscription, at=MARCH_1)
    bill(until=MARCH_1.replace(year=2026), at=MARCH_1.replace(year=2026))
    invoice = Invoice.objects.get(subscription=subscription)
    kinds = list(invoice.lines.order_by("position").values_list("kind", "code", "amount"))
    assert kinds[:4] == [
        ("recurring", "office-pbx", D("10680.00")),
        ("recurring", "employees", D("9000.00")),
        ("discount", "annual_discount", D("-2952.00")),
        ("discount", f"discount:{subscription.discounts.get().pk}", D("-1672.80")),
    ]
    promo = invoice.lines.get(code__startswith="discount:")
    assert promo.vat_amount == D("-278.80")
    assert invoice.total == D("15055.20")
    assert invoice.total == sum(line.total for line in invoice.lines.all())


def test_free_months(subscribe, promotion):
    """Two free months on a monthly plan: March and April cost 0.00 for the recurring
    fees, May is billed in full (1,640.00)."""
    promotion("TWOFREE", benefit=Promotion.Benefit.FREE_MONTHS, value=D(2))
    subscription = subscribe()
    redeem_code("TWOFREE", subscription, at=MARCH_1)
    bill(until=JULY_1, at=JULY_1)
    totals = list(
        Invoice.objects.filter(subscription=subscription)
        .order_by("period_start")
        .values_list("total", flat=True)
    )
    assert totals == [D("0.00"), D("0.00"), D("1640.00"), D("1640.00")]


def test_a_fixed_amount_once(subscribe, promotion):
    """500.00 off the first period: March 1,140.00, April 1,640.00."""
    promotion("MINUS500", benefit=Promotion.Benefit.AMOUNT, value=D(500))
    subscription = subscribe()
    redeem_code("MINUS500", subscription, at=MARCH_1)
    bill(until=MAY_1, at=MAY_1)
    totals = list(
        Invoice.objects.filter(subscription=subscription)
        .order_by("period_start")
        .values_list("total", flat=True)
    )
    assert totals == [D("1140.00"), D("1640.00")]


def test_a_discount_granted_mid_period_starts_with_the_next_period(subscribe):
    """Granted on 10 March: the March invoice is unchanged, April's has it."""
    subscription = subscribe()
    add_discount(
        subscription,
        NewDiscount("percent", D(50), "Goodwill 50%", source="test:goodwill", periods=1),
        at=MARCH_1 + timedelta(days=9),
    )
    bill(until=MAY_1, at=MAY_1)
    assert [len(d) for d in discounts(subscription)] == [0, 1]


def test_granting_twice_from_one_source_adds_nothing_and_bad_input_names_the_field(subscribe):
    subscription = subscribe()
    grant = NewDiscount("percent", D(10), "10%", source="test:once", periods=2)
    first = add_discount(subscription, grant, at=MARCH_1)
    assert add_discount(subscription, grant, at=MARCH_1) == first
    assert SubscriptionDiscount.objects.count() == 1
    with pytest.raises(DiscountRefused) as refused:
        add_discount(subscription, NewDiscount("percent", D(120), "x", source="b"), at=MARCH_1)
    assert refused.value.errors == {"value": "a percentage is at most 100"}


def test_a_dry_run_shows_the_same_discounts(subscribe, promotion):
    promotion("DRY", duration=Promotion.Duration.REPEATING, periods=2)
    subscription = subscribe()
    redeem_code("DRY", subscription, at=MARCH_1)
    dry = bill(until=JULY_1, at=JULY_1, dry_run=True).as_dict()
    real = bill(until=JULY_1, at=JULY_1).as_dict()
    assert dry["digest"] == real["digest"]
    assert [len(d) for d in discounts(subscription)] == [1, 1, 0, 0]
