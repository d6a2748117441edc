"""The customer portal in a real Chromium: a customer adds an option, sees the proration,
confirms and sees the next invoice change; the pages fit a 390 px phone."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from ringup.billing.services.invoicing import bill
from ringup.billing.services.subscriptions import StartRequest, start_subscription
from ringup.customers.models import Customer
from ringup.engine.periods import local_midnight
from ringup.engine.rating import Numbering
from ringup.portal.models import HelpArticle
from ringup.usage.services import import_cdr_file

pytestmark = pytest.mark.browser


@pytest.fixture
def customer(live_catalog, tmp_path):
    """A customer 45 days into Office PBX: one period invoiced and unpaid, calls made."""
    now = timezone.now()
    user = get_user_model().objects.create_user("anna@vector.example", "anna@vector.example")
    customer = Customer.objects.create(
        name="Vector Logistics LLC",
        email="anna@vector.example",
        tier="smb",
        employees=8,
        language="en",
        account="acc-vector",
        registered_at=now - timedelta(days=45),
        user=user,
    )
    start_subscription(
        customer,
        StartRequest(plan="office-pbx", employees=8, trial=False),
        at=now - timedelta(days=45),
    )
    zone = timezone.get_default_timezone()
    rows = ["id,account,src,dst,start,duration"]
    for day in range(1, 30):
        start = (now - timedelta(days=day, hours=day % 7)).astimezone(zone)
        number = "89161234567" if day % 3 else "84951234567"
        rows.append(
            f"c{day},acc-vector,74950000000,{number},{start:%Y-%m-%dT%H:%M:%S},{40 + day * 23}"
        )
    path = tmp_path / "vector.csv"
    path.write_text("\n".join(rows) + "\n")
    assert import_cdr_file(path, source="pbx", numbering=Numbering(country="RU")).imported == 29
    bill(until=local_midnight(timezone.localdate(), zone), at=now)
    HelpArticle.objects.create(
        title="Set up a softphone", slug="softphone", body="Open the app.\n\nAdd an account."
    )
    return customer


def logged_in(page, live_server, customer):
    client = Client()
    client.force_login(customer.user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return page


def test_the_customer_adds_an_option_and_sees_the_next_invoice_change(
    live_server, customer, page, artifacts
):
    logged_in(page, live_server, customer)
    page.goto(f"{live_server.url}/portal/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Vector Logistics LLC")
    expect(page.get_by_test_id("monthly-price")).to_have_text("₽1,490.00")  # 890 + 8 × 75
    before = page.get_by_test_id("next-invoice-total").inner_text()
    page.screenshot(path=artifacts / "portal-dashboard.png", full_page=True)

    page.get_by_role("link", name="Add CRM integration").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the change")
    proration = page.get_by_test_id("proration")
    expect(proration).to_contain_text("Unused time: Office PBX, 8 employees")
    expect(proration).to_contain_text("Remaining time: Office PBX, 8 employees")
    expect(proration).to_contain_text("CRM integration: setup")
    expect(page.get_by_test_id("monthly-after")).to_have_text("₽1,980.00")  # + 490
    due = page.get_by_test_id("amount-due-now").inner_text()
    after = page.get_by_test_id("next-after").inner_text()
    assert money(after) == money(before) + money(due)
    page.screenshot(path=artifacts / "portal-change-preview.png", full_page=True)

    page.get_by_role("button", name="Confirm the change").click()
    expect(page.get_by_text("Done: your subscription is updated.")).to_be_visible()
    expect(page.get_by_test_id("options")).to_contain_text("CRM integration")
    expect(page.get_by_test_id("monthly-price")).to_have_text("₽1,980.00")
    expect(page.get_by_test_id("next-invoice-total")).to_have_text(after)

    page.get_by_role("link", name="Invoices").first.click()
    expect(page.get_by_test_id("invoices")).to_contain_text("INV-")
    page.screenshot(path=artifacts / "portal-invoices.png", full_page=True)
    page.get_by_test_id("invoices").get_by_role("link", name="Pay").first.click()
    expect(page.get_by_test_id("reference")).to_contain_text("Invoice INV-")
    page.screenshot(path=artifacts / "portal-invoice-pay.png", full_page=True)

    page.get_by_role("link", name="Calls").first.click()
    page.get_by_label("Month").select_option(index=1)
    expect(page.get_by_test_id("destinations")).to_contain_text("Russia mobile")
    page.screenshot(path=artifacts / "portal-usage.png", full_page=True)


def money(text: str):
    from decimal import Decimal

    return Decimal(text.replace("₽", "").replace(",", "").replace("−", "-"))


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')]"
        ".filter(e => e.getBoundingClientRect().right > 391)"
        ".map(e => e.tagName + '.' + e.className).slice(0, 5)"
    )
    assert width <= 390, f"{page.url} is {width} px wide: {wide}"


def test_the_portal_fits_a_phone(live_server, customer, mobile_page, artifacts):
    page = logged_in(mobile_page, live_server, customer)
    page.goto(f"{live_server.url}/portal/")
    expect(page.get_by_test_id("next-invoice-total")).to_be_visible()
    no_sideways_scroll(page)
    page.screenshot(path=artifacts / "portal-mobile.png", full_page=True)
    page.get_by_role("link", name="Add CRM integration").click()
    expect(page.get_by_test_id("amount-due-now")).to_be_visible()
    no_sideways_scroll(page)
    page.screenshot(path=artifacts / "portal-mobile-preview.png", full_page=True)
    for path in ("invoices/", "usage/", "profile/", "help/", "help/softphone/"):
        page.goto(f"{live_server.url}/portal/{path}")
        no_sideways_scroll(page)
    page.goto(f"{live_server.url}/portal/profile/")
    page.screenshot(path=artifacts / "portal-mobile-profile.png", full_page=True)
    page.goto(f"{live_server.url}/portal/")
    page.get_by_role("link", name="Change plan or options").click()
    # The click starts a navigation: measuring before the new page is there reads
    # a document that has no root element yet.
    expect(page.get_by_role("button", name="See the price").first).to_be_visible()
    no_sideways_scroll(page)
    page.screenshot(path=artifacts / "portal-mobile-change.png", full_page=True)
    page.goto(f"{live_server.url}/portal/invoices/")
    page.screenshot(path=artifacts / "portal-mobile-invoices.png", full_page=True)
