"""The demo promotions load, load again without change, and work."""

import pytest

from ringup.demo.promotions import load_promotions
from ringup.marketing.promotions.models import PromoCode, Promotion
from ringup.marketing.promotions.selectors import Purchase
from ringup.marketing.promotions.services import PromotionRefused, check_code

from .conftest import MARCH_1

pytestmark = pytest.mark.django_db


def test_the_demo_promotions_load_once_and_apply(catalog):
    load_promotions(at=MARCH_1)
    load_promotions(at=MARCH_1)
    assert Promotion.objects.count() == 3
    assert set(PromoCode.objects.values_list("code", flat=True)) == {"START", "UPGRADE"}
    assert check_code("START", Purchase("virtual-number"), at=MARCH_1).applied
    with pytest.raises(PromotionRefused) as error:
        check_code("UPGRADE", Purchase("virtual-number"), at=MARCH_1)
    assert "plan" in error.value.errors
