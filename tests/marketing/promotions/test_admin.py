"""The back office: promotions with usage counts, bulk generation of unique codes,
read-only redemptions."""

import pytest
from django.contrib.auth import get_user_model

from ringup.marketing.promotions.models import PromoCode

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-12345!")
    client.force_login(user)
    return client


def test_pages_render_and_codes_are_generated_in_bulk(admin_client, catalog, promotion):
    promo = promotion("START")
    for url in (
        "/admin/promotions/promotion/",
        f"/admin/promotions/promotion/{promo.pk}/change/",
        "/admin/promotions/promocode/",
        "/admin/promotions/redemption/",
        "/admin/promotions/pendingcode/",
    ):
        assert admin_client.get(url).status_code == 200, url
    action = {"action": "generate_codes_action", "_selected_action": [promo.pk]}
    form = admin_client.post("/admin/promotions/promotion/", action)
    assert b"Generate promo codes" in form.content
    admin_client.post(
        "/admin/promotions/promotion/",
        {**action, "apply": "1", "count": "25", "prefix": "fair", "length": "6", "max_uses": "1"},
    )
    generated = PromoCode.objects.filter(code__startswith="FAIR")
    assert generated.count() == 25
    assert all(code.max_uses == 1 for code in generated)
    assert admin_client.get("/admin/promotions/redemption/add/").status_code == 403
