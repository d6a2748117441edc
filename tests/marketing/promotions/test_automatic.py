"""Automatic promotions without a code: turnover and loyalty, applied by the daily job."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ringup.billing.models import Invoice
from ringup.billing.services.invoicing import bill
from ringup.marketing.promotions.models import Promotion, Redemption
from ringup.marketing.promotions.services import apply_automatic

from .conftest import MARCH_1

pytestmark = pytest.mark.django_db
D = Decimal
NOV_1 = datetime(2025, 10, 31, 21, tzinfo=UTC)
DEC_1 = datetime(2025, 11, 30, 21, tzinfo=UTC)


def test_turnover_discount_from_12000_a_year(subscribe, make_customer, promotion):
    """8 months of Office PBX at 1,640.00 = 13,120.00 invoiced ≥ 12,000: 10% from the
    next period (December: 1,640 − 164 = 1,476.00). A smaller customer (Virtual number,
    8 × 490 = 3,920.00) gets nothing. Running the job again adds nothing."""
    promotion(
        name="Turnover 10%",
        automatic=Promotion.Automatic.TURNOVER,
        min_revenue=D("12000"),
        duration=Promotion.Duration.FOREVER,
        value=D(10),
    )
    big = subscribe()
    small = subscribe(who=make_customer(), plan="virtual-number", employees=1)
    bill(until=NOV_1, at=NOV_1)
    assert sum(Invoice.objects.filter(subscription=big).values_list("total", flat=True)) == D(
        "13120.00"
    )
    assert apply_automatic(at=NOV_1) == 1
    assert apply_automatic(at=NOV_1) == 0
    assert Redemption.objects.get().subscription_id == big.pk
    bill(until=DEC_1, at=DEC_1)
    november = Invoice.objects.get(subscription=big, period_start=NOV_1)
    assert november.total == D("1476.00")
    assert not Invoice.objects.get(subscription=small, period_start=NOV_1).lines.filter(
        kind="discount"
    )


def test_loyalty_after_six_months(subscribe, promotion):
    """5% after 6 months: not on 31 August (6 months from 1 March is 1 September), yes on
    1 September."""
    promotion(
        name="Loyalty 5%",
        automatic=Promotion.Automatic.LOYALTY,
        min_months=6,
        duration=Promotion.Duration.FOREVER,
        value=D(5),
    )
    subscribe(at=MARCH_1)
    august_31 = datetime(2025, 8, 30, 21, tzinfo=UTC)
    september_1 = datetime(2025, 8, 31, 21, tzinfo=UTC)
    assert apply_automatic(at=august_31) == 0
    assert apply_automatic(at=september_1) == 1
