"""The promotions API: staff only; promotions and codes; check a code on a selection
(the discount, or 422 naming the reason); redeem it."""

from datetime import timedelta
from decimal import Decimal

import pytest

from ringup.marketing.promotions.models import PromoCode, Redemption

from .conftest import MARCH_1

pytestmark = pytest.mark.django_db
D = Decimal


def post(client, url, body):
    return client.post(url, body, content_type="application/json")


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(MARCH_1 + timedelta(hours=1), tick=False)


def test_anonymous_users_are_turned_away(client, catalog):
    assert client.get("/api/v1/promotions").status_code == 401
    assert post(client, "/api/v1/promo-codes/X/check", {"plan": "office-pbx"}).status_code == 401


def test_create_a_promotion_with_codes_and_list_it(staff_client, catalog):
    created = post(
        staff_client,
        "/api/v1/promotions",
        {"name": "Spring", "benefit": "percent", "value": "20", "plans": ["office-pbx"]},
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    one = post(staff_client, f"/api/v1/promotions/{pk}/codes", {"code": "spring", "max_uses": None})
    assert one.status_code == 201
    assert one.json()[0]["code"] == "SPRING"
    bulk = post(staff_client, f"/api/v1/promotions/{pk}/codes", {"count": 20, "prefix": "SP"})
    assert len({row["code"] for row in bulk.json()}) == 20
    listed = staff_client.get("/api/v1/promotions").json()
    assert [(p["name"], p["codes"], p["in_words"]) for p in listed] == [
        ("Spring", 21, "Promotion Spring: 20% off, first period")
    ]


def test_bad_promotions_are_422_naming_the_field(staff_client, catalog):
    response = post(
        staff_client,
        "/api/v1/promotions",
        {"name": "Too much", "benefit": "percent", "value": "120", "plans": ["nope"]},
    )
    assert response.status_code == 422
    assert {tuple(e["loc"]) for e in response.json()["detail"]} == {
        ("body", "value"),
        ("body", "plans"),
    }


def test_check_gives_the_discount_or_the_reason(staff_client, catalog, promotion):
    """Office PBX, 10 employees, monthly: 1,640.00; START 20% → 328.00 off, 1,312.00."""
    promotion("START", annual_only=False)
    body = {"plan": "office-pbx", "employees": 10}
    ok = post(staff_client, "/api/v1/promo-codes/start/check", body)
    assert ok.status_code == 200, ok.content
    assert ok.json() == {
        "code": "START",
        "promotions": ["Spring"],
        "discount": "328.00",
        "currency": "RUB",
        "period_total": "1312.00",
    }
    promotion("YEARLY", name="Yearly", annual_only=True)
    refused = post(staff_client, "/api/v1/promo-codes/YEARLY/check", body)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "period"]
    assert refused.json()["detail"][0]["msg"] == "valid only with annual billing"
    unknown = post(staff_client, "/api/v1/promo-codes/NOPE/check", body)
    assert unknown.json()["detail"][0]["msg"] == "unknown promo code"
    bad_plan = post(staff_client, "/api/v1/promo-codes/START/check", {"plan": "nope"})
    assert bad_plan.status_code == 422


def test_redeem_once(staff_client, subscribe, make_customer, promotion):
    promotion("SOLO", max_uses=1)
    first = subscribe()
    done = post(staff_client, "/api/v1/promo-codes/SOLO/redeem", {"subscription": first.pk})
    assert done.status_code == 201, done.content
    assert done.json()["discount"] == "Promotion SOLO: 20% off, first period"
    again = post(
        staff_client,
        "/api/v1/promo-codes/SOLO/redeem",
        {"subscription": subscribe(who=make_customer()).pk},
    )
    assert again.status_code == 422
    assert again.json()["detail"][0]["msg"] == "this promo code has been used up"
    missing = post(staff_client, "/api/v1/promo-codes/SOLO/redeem", {"subscription": 999999})
    assert missing.json()["detail"][0]["loc"] == ["body", "subscription"]
    assert Redemption.objects.count() == 1
    assert PromoCode.objects.get(code="SOLO").used == 1
    promotion_id = Redemption.objects.get().promotion_id
    listed = staff_client.get(f"/api/v1/promotions/{promotion_id}/redemptions").json()
    assert [(r["code"], r["subscription"]) for r in listed] == [("SOLO", first.pk)]
