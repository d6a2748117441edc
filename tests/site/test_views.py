"""The public site through Django's test client: pages, the htmx partial, quotes, PDF."""

import re
import shutil
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ringup.catalog import services
from ringup.catalog.models import Quote

pytestmark = pytest.mark.django_db

# Office PBX, the worked example used throughout: 12 employees, one extra local number,
# per-employee call recording, CRM integration and the 1,000-minute bundle.
WORKED = {
    "plan": "office-pbx",
    "employees": "12",
    "extra_numbers": "1",
    "options": ["call-recording-pro", "crm-integration"],
    "traffic_package": "min-1000",
    "period": "monthly",
}
MONTHLY = 890 + 12 * 75 + 1 * 290 + 12 * 49 + 490 + 1100  # = 4,258
ONE_TIME = 1990  # CRM integration setup
PER_EMPLOYEE = 12 * 75 + 12 * 49  # = 1,488
ANNUAL_DISCOUNT = Decimal(MONTHLY) * Decimal("0.15")  # 15 % on Office PBX = 638.70


def rub(amount) -> str:
    return f"₽{Decimal(amount):,.2f}"


def figure(html: str, test_id: str) -> str:
    match = re.search(rf'data-testid="{test_id}">([^<]*)<', html)
    assert match, f"{test_id} is not on the page"
    return match.group(1)


def error_of(html: str, field: str) -> str:
    match = re.search(rf'id="error-{field}"[^>]*>([^<]*)<', html)
    assert match, f"no error slot for {field}"
    return match.group(1)


def test_home_shows_the_three_plans_and_the_ways_in(client, catalog):
    html = client.get("/").content.decode()
    for name in ("Virtual Number", "Office PBX", "Contact Centre"):
        assert name in html
    assert 'href="/pricing/"' in html and 'href="/advisor/"' in html


def test_pricing_page_shows_plan_cards_and_the_smb_calculator_by_default(client, catalog):
    response = client.get("/pricing/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Configure Office PBX" in html
    # "from" is the smallest selection each plan can be bought with, priced by the engine.
    assert rub(490) in html  # Virtual Number, 1 employee
    assert rub(890 + 2 * 75) in html  # Office PBX, at least 2 employees
    assert rub(2490 + 5 * 95) in html  # Contact Centre, at least 5 employees
    assert figure(html, "monthly-total") == rub(890 + 2 * 75)
    assert "Often taken with Office PBX" in html
    assert 'src="/static/site/vendor/htmx.min.js"' in html
    assert re.search(r"hx-headers='\{\"X-CSRFToken\": \"\w+\"\}'", html)


def test_breakdown_partial_prices_the_worked_example(client, catalog):
    response = client.post("/pricing/breakdown/", WORKED)
    html = response.content.decode()
    assert response.status_code == 200
    assert MONTHLY == 4258
    assert figure(html, "monthly-total") == rub(MONTHLY)
    assert figure(html, "per-employee-total") == rub(PER_EMPLOYEE)
    assert figure(html, "one-time-total") == rub(ONE_TIME)
    assert figure(html, "period-total") == rub(MONTHLY + ONE_TIME)
    assert "12 × ₽75.00" in html and rub(900) in html
    assert "Call recording for every employee" in html and rub(12 * 49) in html
    assert f"Pay annually and save {rub(ANNUAL_DISCOUNT * 12)} a year" in html
    # Error slots come back out of band, empty, so a fixed field's message disappears.
    assert re.search(r'<p class="field-error" id="error-employees" hx-swap-oob="true"></p>', html)


def test_annual_period_takes_the_prepayment_discount(client, catalog):
    html = client.post("/pricing/breakdown/", {**WORKED, "period": "annual"}).content.decode()
    monthly = Decimal(MONTHLY) - ANNUAL_DISCOUNT
    assert monthly == Decimal("3619.30")
    assert "Annual prepayment discount 15%" in html and f"-{rub(ANNUAL_DISCOUNT)}" in html
    assert figure(html, "monthly-total") == rub(monthly)
    assert figure(html, "period-total") == rub(monthly * 12 + ONE_TIME)
    assert f"Paying annually saves you {rub(ANNUAL_DISCOUNT * 12)} a year" in html


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("employees", "500", "Must be between 2 and 200 on Office PBX"),
        ("employees", "many", "Enter a whole number."),
        ("options", "wallboard", "Not available on Office PBX: wallboard"),
        ("traffic_package", "min-300", "Min-300 is not offered on Office PBX"),
        ("extra_numbers", "-1", "Ensure this value is greater than or equal to 0."),
    ],
)
def test_invalid_input_is_an_inline_message_not_an_error_page(
    client, catalog, field, value, message
):
    response = client.post("/pricing/breakdown/", {**WORKED, field: value})
    html = response.content.decode()
    assert response.status_code == 200
    assert error_of(html, field) == message
    assert "Please correct the highlighted field" in html
    assert 'data-testid="monthly-total"' not in html


def test_calculator_works_without_javascript(client, catalog):
    """The plain form POST re-renders the whole page with the same figures."""
    html = client.post("/pricing/", WORKED).content.decode()
    assert "<h1>Pricing</h1>" in html
    assert figure(html, "monthly-total") == rub(MONTHLY)
    assert (
        'value="12"' in html
        and 'value="crm-integration" id="option-crm-integration" checked' in html
    )


def test_query_parameters_prefill_the_calculator(client, catalog):
    url = "/pricing/?plan=office-pbx&employees=12&extra_numbers=1"
    url += "&options=call-recording-pro,crm-integration&traffic_package=min-1000"
    html = client.get(url).content.decode()
    assert figure(html, "monthly-total") == rub(MONTHLY)


def test_unknown_plan_is_not_found(client, catalog):
    assert client.get("/pricing/?plan=no-such-plan").status_code == 404


def test_save_and_share_creates_a_quote_and_redirects_to_it(client, catalog):
    response = client.post("/pricing/save/", WORKED)
    quote = Quote.objects.get()
    assert response.status_code == 302
    assert response.url == f"/q/{quote.token}/"
    assert quote.source == Quote.Source.CALCULATOR
    assert quote.manager is None
    assert quote.monthly_total == MONTHLY
    assert quote.period_total == MONTHLY + ONE_TIME
    assert quote.selection["options"] == ["call-recording-pro", "crm-integration"]
    assert quote.selection["numbers"] == 3  # two included + one extra


def test_saving_an_invalid_selection_shows_the_error_and_saves_nothing(client, catalog):
    response = client.post("/pricing/save/", {**WORKED, "employees": "0"})
    assert response.status_code == 200
    assert error_of(response.content.decode(), "employees").startswith("Must be between 2")
    assert not Quote.objects.exists()


def test_quote_started_from_the_advisor_records_it(client, catalog):
    client.post("/pricing/save/", {**WORKED, "origin": "advisor"})
    assert Quote.objects.get().source == Quote.Source.ADVISOR


@pytest.fixture
def saved_quote(catalog):
    return services.create_quote(
        services.QuoteRequest(
            plan="office-pbx",
            employees=12,
            numbers=3,
            options=("call-recording-pro", "crm-integration"),
            traffic_package="min-1000",
            customer_name="Romashka LLC",
        ),
        at=timezone.now(),
    )


def test_quote_page_shows_every_line_totals_and_validity(client, saved_quote):
    html = client.get(f"/q/{saved_quote.token}/").content.decode()
    for line in saved_quote.lines:
        assert line["description"] in html
    assert "Romashka LLC" in html
    assert figure(html, "monthly-total") == rub(MONTHLY)
    assert figure(html, "period-total") == rub(MONTHLY + ONE_TIME)
    # The page shows the date in the operator's time zone, a day later than UTC at night.
    assert f"Valid until</dt><dd>{timezone.localtime(saved_quote.valid_until):%-d %B %Y}" in html
    assert f'href="/q/{saved_quote.token}/pdf/"' in html
    assert f'href="/signup/?quote={saved_quote.token}"' in html
    assert (
        'href="/buy/office-pbx/?employees=12&amp;extra_numbers=1'
        "&amp;options=call-recording-pro%2Ccrm-integration&amp;traffic_package=min-1000"
    ) in html
    assert "Expired" not in html


def test_expired_quote_still_shows_but_says_so(client, catalog):
    quote = services.create_quote(
        services.QuoteRequest(plan="office-pbx", employees=5),
        at=timezone.now() - timedelta(days=services.QUOTE_VALID_DAYS + 1),
    )
    html = client.get(f"/q/{quote.token}/").content.decode()
    assert "Expired" in html and "Prices may have changed" in html
    assert figure(html, "monthly-total") == rub(890 + 5 * 75)


def test_unknown_quote_is_a_friendly_404(client, catalog):
    response = client.get("/q/no-such-token/")
    assert response.status_code == 404
    assert "We could not find this page" in response.content.decode()
    assert client.get("/q/no-such-token/pdf/").status_code == 404


def test_server_error_page_renders_without_a_request():
    """Django renders 500.html with an empty context: it must not need the database."""
    from django.template.loader import render_to_string

    assert "Something went wrong on our side" in render_to_string("500.html")


def test_quote_pdf_is_a_commercial_offer(client, saved_quote, artifacts):
    response = client.get(f"/q/{saved_quote.token}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    pdf = artifacts / "quote.pdf"
    pdf.write_bytes(response.content)
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm is missing (apt-get install poppler-utils)")
    for old in artifacts.glob("quote-page*.png"):
        old.unlink()
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", str(pdf), str(artifacts / "quote-page")], check=True
    )
    pages = sorted(artifacts.glob("quote-page*.png"))
    assert pages and pages[0].stat().st_size > 5_000
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Commercial offer" in text and saved_quote.token in text
    assert "Romashka LLC" in text and rub(MONTHLY + ONE_TIME) in text


def test_embed_may_be_framed_and_saves_as_embed(client, catalog):
    assert client.get("/pricing/")["X-Frame-Options"] == "DENY"
    response = client.get("/pricing/embed/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "X-Frame-Options" not in response.headers
    assert 'class="site-header"' not in html and 'class="site-footer"' not in html
    assert 'formtarget="_blank"' in html
    saved = client.post("/pricing/embed/save/", WORKED)
    assert saved.status_code == 302
    assert Quote.objects.get().source == Quote.Source.EMBED


def test_embed_partial_needs_no_csrf_cookie(catalog):
    """Inside a third-party iframe the browser withholds our CSRF cookie."""
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/pricing/embed/breakdown/", WORKED).status_code == 200
    assert strict.post("/pricing/breakdown/", WORKED).status_code == 403


def test_manager_fields_are_for_staff_only(client, admin_client, catalog):
    assert "Customer name" not in client.get("/pricing/").content.decode()
    html = admin_client.get("/pricing/").content.decode()
    assert "Customer name" in html and "Up to 15% on Office PBX" in html
    # A visitor adding the manager's fields to the request gets no discount.
    visitor = client.post("/pricing/breakdown/", {**WORKED, "discount_percent": "10"})
    assert figure(visitor.content.decode(), "monthly-total") == rub(MONTHLY)
    # Nor does a staff member inside the embed, which runs without CSRF protection.
    embed = admin_client.post("/pricing/embed/breakdown/", {**WORKED, "discount_percent": "10"})
    assert figure(embed.content.decode(), "monthly-total") == rub(MONTHLY)


def test_manager_discount_is_capped_by_the_plan(admin_client, catalog):
    html = admin_client.post(
        "/pricing/breakdown/", {**WORKED, "discount_percent": "10"}
    ).content.decode()
    assert "Discount 10%" in html and f"-{rub(MONTHLY / 10)}" in html
    assert figure(html, "monthly-total") == rub(Decimal(MONTHLY) * Decimal("0.9"))
    over = admin_client.post("/pricing/breakdown/", {**WORKED, "discount_percent": "20"})
    assert over.status_code == 200
    assert error_of(over.content.decode(), "discount_percent") == (
        "Must be between 0 and 15.00% on Office PBX"
    )


def test_manager_quote_records_the_manager_and_the_customer(admin_client, admin_user, catalog):
    admin_client.post(
        "/pricing/save/", {**WORKED, "discount_percent": "5", "customer_name": "Romashka LLC"}
    )
    quote = Quote.objects.get()
    assert quote.source == Quote.Source.MANAGER
    assert quote.manager == admin_user
    assert quote.customer_name == "Romashka LLC"
    assert quote.discount_percent == 5


# Advisor worked example: 12 employees with 2 sales people make it a small business (Office
# PBX); recording and CRM are paid options there; 40 calls × 3 min × 22 days = 2,640
# minutes a month, which the 3,000-minute bundle covers.
ADVISOR = {
    "employees": "12",
    "agents": "2",
    "calls_per_day": "40",
    "missed_call_cost": "medium",
    "needs": ["call_recording", "crm_integration"],
}
ADVISED_MONTHLY = 890 + 12 * 75 + 12 * 49 + 490 + 2900  # = 5,768


def test_advisor_recommends_prices_and_explains(client, catalog):
    html = client.get("/advisor/", ADVISOR).content.decode()
    assert re.search(r'data-testid="recommended-plan">Office PBX<', html)
    assert "Small &amp; medium business" in html
    assert "2 sales people need simple call distribution" in html
    assert "3,000-minute bundle covers them" in html
    assert figure(html, "monthly-total") == rub(ADVISED_MONTHLY)
    assert figure(html, "one-time-total") == rub(1990)
    link = re.search(r'href="(/pricing/\?[^"#]+)#calculator">Open in calculator', html).group(1)
    assert link == (
        "/pricing/?plan=office-pbx&amp;employees=12"
        "&amp;options=call-recording-pro%2Ccrm-integration"
        "&amp;traffic_package=min-3000&amp;origin=advisor"
    )
    calculator = client.get(link.replace("&amp;", "&")).content.decode()
    assert figure(calculator, "monthly-total") == rub(ADVISED_MONTHLY)


def test_advisor_form_errors_are_shown_not_raised(client, catalog):
    response = client.get("/advisor/", {**ADVISOR, "employees": "0"})
    assert response.status_code == 200
    assert error_of(response.content.decode(), "employees").startswith("Ensure this value")


def test_advisor_says_when_no_plan_fits(client, catalog):
    html = client.get("/advisor/", {**ADVISOR, "employees": "90000"}).content.decode()
    assert "no plan serves 90000 employees" in html
