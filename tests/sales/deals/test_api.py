"""The deals API: create, list, move (won starts the subscription), 422 on bad input."""

import pytest

from ringup.billing.models import Subscription
from ringup.sales.deals.services.deals import set_offer

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, admin_user, catalog):
    client.force_login(admin_user)
    return client


def test_create_list_and_move_a_deal(api):
    created = api.post(
        "/api/v1/deals/",
        {"company": "Atlas Dental", "sites": 3, "lines": 6, "employees": 18},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    deal = created.json()
    assert (deal["stage"], deal["sites"], deal["monthly_saving"]) == ("lead", 3, None)
    assert [d["company"] for d in api.get("/api/v1/deals/", {"stage": "lead"}).json()] == [
        "Atlas Dental"
    ]

    bad = api.post(
        f"/api/v1/deals/{deal['id']}/stage", {"stage": "trial"}, content_type="application/json"
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "stage"]

    from ringup.sales.deals.models import Deal

    set_offer(Deal.objects.get(pk=deal["id"]), plan="office-pbx", employees=18)
    for stage in ("qualified", "proposal", "won"):
        moved = api.post(
            f"/api/v1/deals/{deal['id']}/stage", {"stage": stage}, content_type="application/json"
        )
        assert moved.status_code == 200, moved.content
    assert moved.json()["subscription_id"] == Subscription.objects.get().pk
    assert api.get("/api/v1/deals/999").status_code == 404


def test_bad_new_deal_is_422(api):
    response = api.post(
        "/api/v1/deals/", {"company": "X", "tier": "giant"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "tier"]


def test_needs_staff(client, catalog):
    assert client.get("/api/v1/deals/").status_code == 401
