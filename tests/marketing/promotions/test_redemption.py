"""Conditions, limits and stacking of promotions, each with a worked example."""

from datetime import timedelta
from decimal import Decimal

import pytest

from ringup.catalog.models import Option, Plan
from ringup.catalog.services import QuoteRequest, price
from ringup.marketing.promotions.models import PromoCode, Promotion, Redemption
from ringup.marketing.promotions.selectors import Purchase
from ringup.marketing.promotions.services import (
    PromotionRefused,
    check_code,
    generate_codes,
    redeem_at_purchase,
    redeem_code,
)
from ringup.marketing.segments.models import Segment

from .conftest import FEB_20, MARCH_1

pytestmark = pytest.mark.django_db
D = Decimal
OFFICE = Purchase(plan="office-pbx")


def refused(code, purchase=OFFICE, at=MARCH_1) -> dict:
    with pytest.raises(PromotionRefused) as error:
        check_code(code, purchase, at=at)
    return error.value.errors


def test_unknown_and_used_up_codes(catalog, promotion):
    promotion("ONCE", max_uses=1)
    assert refused("NOPE") == {"code": "unknown promo code"}
    PromoCode.objects.filter(code="ONCE").update(used=1)
    assert refused("once") == {"code": "this promo code has been used up"}


def test_the_date_window(catalog, promotion):
    """Valid from 1 March to 1 April: on 20 February too early, on 1 April expired."""
    promotion("WINDOW", starts_at=MARCH_1, ends_at=MARCH_1 + timedelta(days=31))
    assert refused("WINDOW", at=FEB_20) == {"code": "valid from 2025-03-01"}
    assert check_code("WINDOW", OFFICE, at=MARCH_1 + timedelta(days=5)).applied
    assert refused("WINDOW", at=MARCH_1 + timedelta(days=31)) == {"code": "expired on 2025-04-01"}


def test_the_range_of_plans_and_options(catalog, promotion):
    promo = promotion("RANGE")
    promo.plans.set(Plan.objects.filter(code="office-pbx"))
    promo.options.set(Option.objects.filter(code="crm-integration"))
    assert refused("RANGE", Purchase(plan="virtual-number")) == {"plan": "valid only on office-pbx"}
    assert refused("RANGE") == {"options": "needs one of the options crm-integration"}
    assert check_code("RANGE", Purchase("office-pbx", options=("crm-integration",)), at=MARCH_1)


def test_annual_billing_only(catalog, promotion):
    promotion("YEAR", annual_only=True)
    assert refused("YEAR") == {"period": "valid only with annual billing"}
    assert check_code("YEAR", Purchase("office-pbx", period="annual"), at=MARCH_1)


def test_first_purchase_only(subscribe, customer, promotion):
    """The customer's first subscription may use it; once they have paid, not again."""
    promotion("HELLO", first_purchase_only=True, per_customer_limit=5)
    first = subscribe()
    redeem_code("HELLO", first, at=MARCH_1)
    second = subscribe(at=MARCH_1 + timedelta(days=3))
    with pytest.raises(PromotionRefused) as error:
        redeem_code("HELLO", second, at=MARCH_1 + timedelta(days=3))
    assert error.value.errors == {"customer": "valid only on a first purchase"}


def test_a_segment(subscribe, make_customer, promotion):
    """For SMB customers only: a micro customer is refused, an SMB one gets it."""
    segment = Segment.objects.create(
        name="SMB", conditions={"all": [{"field": "tier", "op": "in", "value": ["smb"]}]}
    )
    promotion("SMBONLY", segment=segment)
    assert refused("SMBONLY") == {
        "customer": "valid only for selected customers: sign in to use it"
    }
    micro = make_customer(tier="micro")
    with pytest.raises(PromotionRefused) as error:
        redeem_code("SMBONLY", subscribe(who=micro), at=MARCH_1)
    assert error.value.errors == {"customer": "not offered to this customer"}
    assert redeem_code("SMBONLY", subscribe(), at=MARCH_1).pk


def test_the_per_customer_limit(subscribe, promotion):
    """A multi-use code, one redemption per customer: their second subscription is
    refused, and the code's use count stays 1."""
    promotion("MULTI", max_uses=None)
    redeem_code("MULTI", subscribe(), at=MARCH_1)
    with pytest.raises(PromotionRefused) as error:
        redeem_code("MULTI", subscribe(), at=MARCH_1)
    assert error.value.errors == {"customer": "already used by this customer"}
    assert PromoCode.objects.get(code="MULTI").used == 1


def test_the_total_limit(subscribe, make_customer, promotion):
    """At most 2 redemptions of the promotion in all, over any of its codes."""
    promo = promotion("A", max_uses=None, max_redemptions=2)
    PromoCode.objects.create(code="B", promotion=promo, max_uses=None, created_at=FEB_20)
    redeem_code("A", subscribe(who=make_customer()), at=MARCH_1)
    redeem_code("B", subscribe(who=make_customer()), at=MARCH_1)
    with pytest.raises(PromotionRefused) as error:
        redeem_code("A", subscribe(who=make_customer()), at=MARCH_1)
    assert error.value.errors == {"code": "this promotion has been used up"}
    assert Promotion.objects.get(pk=promo.pk).redeemed == 2


def test_stacking_by_priority(subscribe, promotion):
    """An exclusive automatic "annual prepayment" promotion of priority 10 beats a
    stackable code of priority 0: the code cannot be combined with it. Two stackable
    ones combine."""
    promotion(
        name="Annual prepayment",
        automatic=Promotion.Automatic.AT_PURCHASE,
        annual_only=True,
        priority=10,
    )
    promotion("EXTRA", name="Extra", exclusive=False, value=D(5))
    annual = Purchase("office-pbx", period="annual")
    with pytest.raises(PromotionRefused) as error:
        check_code("EXTRA", annual, at=MARCH_1)
    assert error.value.errors == {"code": "cannot be combined with the promotion Annual prepayment"}
    assert [p.name for p in check_code("EXTRA", OFFICE, at=MARCH_1).applied] == ["Extra"]
    Promotion.objects.filter(name="Annual prepayment").update(exclusive=False)
    assert [p.name for p in check_code("EXTRA", annual, at=MARCH_1).applied] == [
        "Annual prepayment",
        "Extra",
    ]


def test_at_purchase_the_code_and_the_stackable_automatic_promotions_apply(subscribe, promotion):
    promotion(name="Annual", automatic="purchase", annual_only=True, exclusive=False, value=5)
    promotion("EXTRA", name="Extra", exclusive=False, value=D(10))
    subscription = subscribe(period="annual")
    redemptions, refusal = redeem_at_purchase(subscription, at=MARCH_1, code="extra")
    assert refusal == ""
    assert sorted(r.promotion.name for r in redemptions) == ["Annual", "Extra"]
    assert subscription.discounts.count() == 2


def test_an_exclusive_promotion_held_refuses_another(subscribe, promotion):
    promotion("FIRST")
    promotion("SECOND", name="Second", exclusive=False)
    subscription = subscribe()
    redeem_code("FIRST", subscription, at=MARCH_1)
    with pytest.raises(PromotionRefused) as error:
        redeem_code("SECOND", subscription, at=MARCH_1)
    assert error.value.errors == {"code": "cannot be combined with the promotion Spring"}


def test_the_quote_shows_the_promo_line(catalog, promotion):
    """Office PBX, 10 employees, annual: 1,394.00 a month, 16,728.00 a year; 20% off the
    first period = 3,345.60, so the first period costs 13,382.40."""
    promotion("START")
    _, quote = price(
        QuoteRequest(plan="office-pbx", employees=10, period="annual", promo_code="START")
    )
    line = quote.lines[-1]
    assert (line.code, line.amount) == ("promo:START", D("-3345.60"))
    assert quote.period_total == D("13382.40")
    assert quote.period_total == quote.monthly_total * 12 + quote.one_time_total
    _, plain = price(QuoteRequest(plan="office-pbx", employees=10, promo_code="NOPE"))
    assert plain.period_total == D("1640.00")


def test_generated_codes_are_unique(catalog, promotion):
    promo = promotion()
    codes = generate_codes(promo, 500, at=MARCH_1, prefix="sp-", length=6)
    assert len({c.code for c in codes}) == 500
    assert all(c.code.startswith("SP-") and len(c.code) == 9 for c in codes)
    assert PromoCode.objects.filter(promotion=promo).count() == 500
    assert not Redemption.objects.exists()
