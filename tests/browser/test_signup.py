"""A visitor's whole way in, in a real Chromium: calculator → "Try free" → sign-up → SMS
code → verification e-mail through a real SMTP server → the portal, with a trial running."""

import re

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from ringup.billing.models import Subscription
from ringup.customers.models import Customer
from ringup.notifications import mailfolder
from ringup.notifications.conf import email_settings
from tests.notifications.smtp import smtp_server

pytestmark = pytest.mark.browser

PASSWORD = "Tariff-Calculator-2026"


@pytest.fixture
def smtp(settings, tmp_path):
    """Mail through a real SMTP server on 127.0.0.1; SMS codes into this test's folder."""
    cache.clear()  # rate limits from earlier runs live in the file cache
    settings.RINGUP_MAIL_DIR = tmp_path / "mail"
    with smtp_server() as (inbox, port):
        for name, value in email_settings(f"smtp://127.0.0.1:{port}").items():
            setattr(settings, name, value)
        yield inbox
    cache.clear()


def sms_code(phone: str) -> str:
    [sms] = [m for m in mailfolder.messages() if m.is_sms and m.to == phone]
    return re.search(r"\b(\d{6})\b", sms.text).group(1)


def test_try_free_signs_up_verifies_and_lands_in_the_portal(
    live_server, live_catalog, page, smtp, artifacts
):
    page.goto(f"{live_server.url}/pricing/?plan=office-pbx")
    page.get_by_label("Employees").fill("12")
    page.get_by_text("CRM integration", exact=True).click()
    expect(page.get_by_test_id("monthly-total")).to_have_text("₽2,280.00")  # 890 + 900 + 490

    page.locator("#breakdown").get_by_role("link", name="Try free").click()
    page.wait_for_url(re.compile(r"/signup/\?"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Try Office PBX free")
    offer = page.locator(".signup-offer")
    expect(offer).to_contain_text("CRM integration")
    expect(offer).to_contain_text("14 days, free")
    page.screenshot(path=artifacts / "signup-desktop.png", full_page=True)

    page.get_by_label("Work e-mail").fill("anna@example.com")
    page.get_by_label("Mobile phone").fill("+7 916 123-45-67")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Start free trial").click()

    page.wait_for_url(re.compile(r"/accounts/phone/verify/$"))
    page.get_by_label("Code").fill(sms_code("+79161234567"))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(re.compile(r"/accounts/confirm-email/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    page.screenshot(path=artifacts / "signup-check-inbox.png")

    [mail] = smtp.wait_for(1)
    assert mail["To"] == "anna@example.com"
    assert mail["Subject"] == "Ringup Telecom: Confirm your e-mail address to start your free trial"
    text = mail.get_body(("plain",)).get_content()
    link = re.search(r"http://\S+/accounts/confirm-email/\S+/", text).group(0)
    assert link in mail.get_body(("html",)).get_content()

    page.goto(link)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(re.compile(r"/portal/$"))

    customer = Customer.objects.get(email="anna@example.com")
    assert customer.source == "calculator" and customer.phone == "+79161234567"
    subscription = Subscription.objects.get(customer=customer)
    assert subscription.status == Subscription.Status.TRIALING
    assert subscription.plan.code == "office-pbx" and subscription.employees == 12
    page.screenshot(path=artifacts / "signup-portal.png")


def test_the_signup_page_on_a_phone(live_server, live_catalog, mobile_page, artifacts):
    cache.clear()
    mobile_page.goto(
        f"{live_server.url}/signup/?plan=office-pbx&employees=12&options=crm-integration"
        "&period=annual&origin=calculator"
    )
    expect(mobile_page.get_by_role("button", name="Start free trial")).to_be_visible()
    width = mobile_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px screen"
    mobile_page.screenshot(path=artifacts / "signup-mobile.png", full_page=True)


def test_errors_are_shown_at_their_fields(live_server, live_catalog, page, artifacts):
    cache.clear()
    page.goto(f"{live_server.url}/signup/?plan=virtual-number")
    page.get_by_label("Work e-mail").fill("anna@example.com")
    page.get_by_label("Mobile phone").fill("+7 495 123-45-67")
    page.get_by_label("Password").fill("12345678")
    page.get_by_role("button", name="Start free trial").click()
    expect(page.locator("#error-phone")).to_contain_text("please enter a mobile number")
    expect(page.locator("#error-password1")).to_be_visible()
    page.screenshot(path=artifacts / "signup-errors.png", full_page=True)
