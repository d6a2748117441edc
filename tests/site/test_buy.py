"""Direct buy links and the calculator's way into sign-up."""

import re
from decimal import Decimal
from html import unescape

import pytest
from django.contrib.auth import get_user_model

from ringup.catalog import services

pytestmark = pytest.mark.django_db


def rub(amount) -> str:
    return f"₽{Decimal(amount):,.2f}"


def figure(html: str, test_id: str) -> str:
    return re.search(rf'data-testid="{test_id}">([^<]*)<', html).group(1)


def links(html: str, text: str) -> list[str]:
    return [unescape(href) for href in re.findall(rf'href="([^"]+)"[^>]*>{re.escape(text)}<', html)]


def test_a_buy_link_opens_exactly_its_offer_priced_as_the_calculator(client, catalog):
    query = {"period": "annual", "options": "crm-integration", "employees": "12", "promo": "SPRING"}
    html = client.get("/buy/office-pbx/", query).content.decode()
    # (890 + 12 × 75 + 490) × 0.85 = 1,896.50 a month, paid for the year
    monthly = Decimal(890 + 900 + 490) * Decimal("0.85")
    assert "Buy Office PBX" in html and "Annual, paid in advance" in html
    assert "<dd>CRM integration</dd>" in html and 'data-testid="promo-code">SPRING<' in html
    assert figure(html, "monthly-total") == rub(monthly)
    _, priced = services.price(
        services.QuoteRequest(
            plan="office-pbx", employees=12, options=("crm-integration",), period="annual"
        )
    )
    assert figure(html, "monthly-total") == rub(priced.monthly_total)
    [buy] = links(html, "Buy")
    assert buy.startswith("/signup/?") and "buy=1" in buy
    for part in (
        "plan=office-pbx",
        "employees=12",
        "options=crm-integration",
        "period=annual",
        "promo=SPRING",
    ):
        assert part in buy
    [trial] = links(html, "Try free for 14 days")
    assert trial == buy.replace("&buy=1", "")


def test_buy_goes_into_signup_saying_so(client, catalog):
    html = client.get(
        "/signup/", {"plan": "office-pbx", "period": "annual", "buy": "1"}
    ).content.decode()
    assert "Buy Office PBX" in html and 'name="buy" value="1"' in html
    assert "Create account and continue" in html


@pytest.mark.parametrize(
    "plan, query, message",
    [
        ("virtual-number", {"options": "wallboard"}, "Not available on Virtual Number: wallboard"),
        ("office-pbx", {"period": "weekly"}, "Select a valid choice"),
        ("office-pbx", {"employees": "-3"}, "greater than or equal to"),
        ("office-pbx", {"employees": "x"}, "whole number"),
        ("office-pbx", {"promo": "<script>"}, "Not a valid code"),
        ("office-pbx", {"options": "a" * 60}, "Not a valid code"),
    ],
)
def test_bad_buy_link_parameters_are_clear_errors(client, catalog, plan, query, message):
    response = client.get(f"/buy/{plan}/", query)
    html = response.content.decode()
    assert response.status_code == 200
    assert "This link selects something we cannot offer" in html and message in html
    assert not links(html, "Buy")


def test_an_unknown_plan_is_not_found(client, catalog):
    response = client.get("/buy/no-such-plan/")
    assert (
        response.status_code == 404 and "We could not find this page" in response.content.decode()
    )


def test_the_calculator_offers_try_free_and_buy_with_the_selection(client, catalog):
    html = client.post(
        "/pricing/breakdown/",
        {
            "plan": "office-pbx",
            "employees": "12",
            "options": ["crm-integration"],
            "period": "annual",
        },
    ).content.decode()
    [trial] = links(html, "Try free")
    assert trial == (
        "/signup/?plan=office-pbx&employees=12&options=crm-integration&period=annual"
        "&origin=calculator"
    )
    [buy] = links(html, "Buy")
    assert (
        buy
        == "/buy/office-pbx/?employees=12&options=crm-integration&period=annual&origin=calculator"
    )
    assert client.get(buy).status_code == 200
    assert "Try Office PBX free" in client.get(trial).content.decode()


def test_the_advisor_origin_travels_with_try_free(client, catalog):
    html = client.get("/pricing/", {"plan": "office-pbx", "origin": "advisor"}).content.decode()
    [trial] = [link for link in links(html, "Try free") if "?" in link]  # not the footer's
    assert trial.endswith("origin=advisor")


def test_no_try_free_while_the_selection_has_an_error(client, catalog):
    html = client.post("/pricing/breakdown/", {"plan": "office-pbx", "employees": "900"})
    assert not links(html.content.decode(), "Try free")


def test_the_plan_admin_page_shows_its_buy_links(client, catalog, settings):
    admin = get_user_model().objects.create_superuser("boss", "boss@example.com", "x")
    client.force_login(admin)
    plan = catalog["office-pbx"]
    html = client.get(f"/admin/catalog/plan/{plan.pk}/change/").content.decode()
    assert "Direct buy links" in html
    assert f'value="{settings.PUBLIC_URL}/buy/office-pbx/?period=monthly"' in html
    assert f'value="{settings.PUBLIC_URL}/buy/office-pbx/?period=annual"' in html
    assert "Calculator snippet" in html


def test_the_advisor_offers_a_trial_of_its_recommendation(client, catalog):
    answers = {
        "employees": "12",
        "agents": "2",
        "calls_per_day": "80",
        "missed_call_cost": "medium",
    }
    html = client.get("/advisor/", answers).content.decode()
    [trial] = [link for link in links(html, "Try Office PBX free")]
    assert trial.startswith("/signup/?plan=office-pbx&employees=12") and "origin=advisor" in trial
    page = client.get(trial).content.decode()
    assert 'name="origin" value="advisor"' in page and "Try Office PBX free" in page
