"""The condition builder in a real Chromium: a marketing manager builds
"tier smb AND (country KZ OR language en)" with clicks, sees the live count follow each
change and the errors of an unfinished row, and saves it without writing JSON."""

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from ringup.marketing.segments.models import Segment

from .conftest import Shop

pytestmark = pytest.mark.browser


@pytest.fixture
def manager(transactional_db, django_user_model):
    return django_user_model.objects.create_user(
        "manager", "manager@example.com", "pw-12345!", is_staff=True, is_superuser=True
    )


def logged_in(page, live_server, user):
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    return page


def test_build_preview_and_save(live_server, live_catalog, manager, page, artifacts):
    """Customers: smb/RU/ru, smb/KZ/ru, smb/RU/en, micro/KZ/en, enterprise/RU/ru.
    smb → 3; smb AND (country KZ OR language en) → 2 (the second and the third)."""
    shop = Shop()
    shop.customer("Alfa", country="RU", language="ru")
    shop.customer("Beta", country="KZ", language="ru")
    shop.customer("Gamma", country="RU", language="en")
    shop.customer("Delta", tier="micro", country="KZ", language="en")
    shop.customer("Omega", tier="enterprise")
    logged_in(page, live_server, manager)
    page.goto(f"{live_server.url}/admin/segments/segment/add/")
    live = page.locator("#segment-live")
    expect(live).to_have_text("5 customers match now: every customer")

    page.get_by_role("button", name="+ condition").click()
    expect(live).to_contain_text("Not valid yet")
    expect(page.locator("#segment-live-errors")).to_contain_text(
        "conditions.all.0.value: expected a non-empty list"
    )
    builder = page.locator("#segment-builder")
    builder.get_by_label("smb").check()
    expect(live).to_have_text("3 customers match now: Segment tier is one of smb")

    builder.get_by_role("button", name="+ group").first.click()
    group = builder.locator('[data-path="conditions.all.1"]')
    group.locator("select.segment-field").select_option("country")
    group.locator('input[type="text"]').fill("KZ")
    group.locator('input[type="text"]').press("Tab")
    expect(live).to_have_text(
        "1 customer matches now: Segment tier is one of smb AND Country is one of KZ"
    )
    group.get_by_role("button", name="+ condition").click()
    second = builder.locator('[data-path="conditions.all.1.any.1"]')
    second.locator("select.segment-field").select_option("language")
    second.locator('input[type="text"]').fill("en")
    second.locator('input[type="text"]').press("Tab")
    expect(live).to_have_text(
        "2 customers match now: Segment tier is one of smb AND "
        "(Country is one of KZ OR Language is one of en)"
    )
    page.screenshot(path=artifacts / "segment-builder.png", full_page=True)

    page.locator("#id_name").fill("SMB in Kazakhstan or English-speaking")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator("#segment-count")).to_have_text("2")
    saved = Segment.objects.get()
    assert saved.conditions == {
        "all": [
            {"field": "tier", "op": "in", "value": ["smb"]},
            {
                "any": [
                    {"field": "country", "op": "in", "value": ["KZ"]},
                    {"field": "language", "op": "in", "value": ["en"]},
                ]
            },
        ]
    }
    # The saved page draws the same tree back from the stored JSON.
    expect(
        builder.locator('[data-path="conditions.all.1.any.1"] input[type="text"]')
    ).to_have_value("en")
