"""The public site in a real Chromium: the live calculator, sharing, the advisor, mobile."""

import re

import pytest
from playwright.sync_api import expect

from ringup.catalog.models import Quote

pytestmark = pytest.mark.browser


def total(page, test_id="monthly-total"):
    return page.get_by_test_id(test_id)


def test_calculator_updates_live_saves_and_shares(live_server, live_catalog, page, artifacts):
    page.goto(f"{live_server.url}/pricing/?plan=office-pbx")
    expect(total(page)).to_have_text("₽1,040.00")  # 890 + 2 × 75

    page.get_by_label("Employees").fill("12")
    expect(total(page)).to_have_text("₽1,790.00")  # 890 + 12 × 75

    page.get_by_text("CRM integration", exact=True).click()
    expect(total(page)).to_have_text("₽2,280.00")  # + 490
    expect(total(page, "one-time-total")).to_have_text("₽1,990.00")  # CRM setup

    page.get_by_text("Call recording for every employee").click()
    expect(total(page)).to_have_text("₽2,868.00")  # + 12 × 49
    expect(total(page, "per-employee-total")).to_have_text("₽1,488.00")  # 900 + 588

    page.locator(".segmented label", has_text="Annual").click()
    # 15 % off 2,868.00 is 430.20; 12 × 2,437.80 + 1,990.00 one-time.
    expect(total(page)).to_have_text("₽2,437.80")
    expect(total(page, "period-total")).to_have_text("₽31,243.60")
    expect(page.get_by_test_id("annual-saving")).to_contain_text("₽5,162.40")
    page.evaluate("window.scrollTo(0, 0)")  # the breakdown is sticky: show it at rest
    page.screenshot(path=artifacts / "pricing-desktop.png", full_page=True)

    page.get_by_role("button", name="Save & share").click()
    page.wait_for_url(re.compile(r"/q/[\w-]+/$"))
    quote = Quote.objects.get()
    assert quote.period == "annual" and quote.employees == 12

    shared = page.context.new_page()
    shared.goto(page.url)
    expect(shared.get_by_role("heading", level=1)).to_have_text("Office PBX")
    lines = shared.locator("table.lines tbody")
    for text in ("Employees (users)", "CRM integration", "Annual prepayment discount 15%"):
        expect(lines).to_contain_text(text)
    expect(total(shared, "period-total")).to_have_text("₽31,243.60")
    expect(shared.get_by_role("link", name="Download PDF")).to_have_attribute(
        "href", f"/q/{quote.token}/pdf/"
    )
    shared.screenshot(path=artifacts / "quote-desktop.png", full_page=True)


def test_a_bad_number_shows_its_message_until_corrected(live_server, live_catalog, page, artifacts):
    page.goto(f"{live_server.url}/pricing/?plan=office-pbx")
    employees = page.get_by_label("Employees")
    employees.fill("500")
    error = page.locator("#error-employees")
    expect(error).to_have_text("Must be between 2 and 200 on Office PBX")
    expect(page.locator("#breakdown")).to_contain_text("Please correct the highlighted field")
    page.locator("#calculator").screenshot(path=artifacts / "pricing-error.png")
    employees.fill("20")
    expect(error).to_be_empty()
    expect(total(page)).to_have_text("₽2,390.00")  # 890 + 20 × 75


def test_related_product_adds_its_option(live_server, live_catalog, page):
    page.goto(f"{live_server.url}/pricing/?plan=office-pbx")
    related = page.locator("#related")
    expect(related).to_contain_text("Often taken with Office PBX")
    related.get_by_text("Add to my quote").first.click()
    expect(related.get_by_text("In your quote")).to_have_count(1)
    expect(total(page)).not_to_have_text("₽1,040.00")


def test_advisor_recommends_and_opens_the_calculator(live_server, live_catalog, page, artifacts):
    page.goto(f"{live_server.url}/advisor/")
    page.get_by_label("Employees who make or take calls").fill("12")
    page.get_by_label("Of them, dedicated sales or service agents").fill("2")
    page.get_by_label("Calls per day, in and out").fill("40")
    page.get_by_text("Call recording", exact=True).click()
    page.get_by_text("CRM integration", exact=True).click()
    page.get_by_role("button", name="Recommend a plan").click()

    expect(page.get_by_test_id("recommended-plan")).to_have_text("Office PBX")
    expect(page.locator(".reasons").first).to_contain_text("2 sales people need")
    expect(total(page)).to_have_text("₽5,768.00")  # 890 + 900 + 588 + 490 + 2,900
    page.screenshot(path=artifacts / "advisor-desktop.png", full_page=True)

    page.get_by_role("link", name="Open in calculator").click()
    expect(page.get_by_role("heading", name="Configure Office PBX")).to_be_visible()
    expect(page.get_by_label("Employees")).to_have_value("12")
    expect(page.get_by_role("checkbox", name=re.compile("^CRM integration"))).to_be_checked()
    expect(total(page)).to_have_text("₽5,768.00")


def test_embedded_calculator_works_inside_another_sites_iframe(
    live_server, live_catalog, page, artifacts
):
    page.set_content(
        f'<h1>Partner site</h1><iframe src="{live_server.url}/pricing/embed/?plan=office-pbx"'
        ' width="1000" height="1400"></iframe>'
    )
    frame = page.frame_locator("iframe")
    expect(total(frame)).to_have_text("₽1,040.00")
    frame.get_by_text("CRM integration", exact=True).click()
    expect(total(frame)).to_have_text("₽1,530.00")  # 1,040 + 490
    page.screenshot(path=artifacts / "embed-desktop.png", full_page=True)
    with page.context.expect_page() as opened:
        frame.get_by_role("button", name="Save & share").click()
    quote_page = opened.value
    quote_page.wait_for_load_state()
    expect(total(quote_page)).to_have_text("₽1,530.00")
    assert Quote.objects.get().source == Quote.Source.EMBED


def _fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_mobile_pages_fit_a_390px_screen(live_server, live_catalog, mobile_page, artifacts):
    page = mobile_page
    page.goto(f"{live_server.url}/")
    assert _fits_the_screen(page)
    page.screenshot(path=artifacts / "home-mobile.png", full_page=True)

    page.goto(f"{live_server.url}/pricing/?plan=contact-centre")
    page.get_by_text("Speech analytics", exact=True).click()
    expect(total(page)).to_have_text("₽3,565.00")  # 2,490 + 5 × 95 + 5 × 120
    assert _fits_the_screen(page)
    page.screenshot(path=artifacts / "pricing-mobile.png", full_page=True)
    # What a visitor sees while ticking options: the total stays in sight at the bottom.
    page.get_by_text("Speech analytics", exact=True).scroll_into_view_if_needed()
    expect(page.locator("#total-bar")).to_contain_text("₽3,565.00 a month")
    page.screenshot(path=artifacts / "pricing-mobile-viewport.png")

    page.get_by_role("button", name="Save & share").click()
    page.wait_for_url(re.compile(r"/q/[\w-]+/$"))
    assert _fits_the_screen(page)
    page.screenshot(path=artifacts / "quote-mobile.png", full_page=True)

    page.goto(f"{live_server.url}/advisor/?employees=30&agents=6&calls_per_day=300")
    expect(page.get_by_test_id("recommended-plan")).to_have_text("Contact Centre")
    assert _fits_the_screen(page)
    page.screenshot(path=artifacts / "advisor-mobile.png", full_page=True)

    assert page.goto(f"{live_server.url}/q/no-such-quote/").status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("We could not find this page")
    page.screenshot(path=artifacts / "not-found-mobile.png", full_page=True)


def test_home_leads_to_the_calculator(live_server, live_catalog, page, artifacts):
    page.goto(f"{live_server.url}/")
    expect(page.locator(".plan-card")).to_have_count(3)
    page.screenshot(path=artifacts / "home-desktop.png", full_page=True)
    page.get_by_role("link", name="Calculate your price").click()
    expect(page.get_by_role("heading", name="Configure Office PBX")).to_be_visible()


def test_calculator_works_without_javascript(live_server, live_catalog, browser):
    context = browser.new_context(java_script_enabled=False, locale="en-US")
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/pricing/?plan=office-pbx")
        page.get_by_text("CRM integration", exact=True).click()
        page.get_by_role("button", name="Update price").click()
        expect(total(page)).to_have_text("₽1,530.00")  # 890 + 2 × 75 + 490
        page.get_by_role("button", name="Save & share").click()
        expect(total(page)).to_have_text("₽1,530.00")
        assert re.search(r"/q/[\w-]+/$", page.url)
    finally:
        context.close()
