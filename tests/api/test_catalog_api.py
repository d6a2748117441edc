"""The public v1 contract: catalog, quotes and advice, with worked examples."""

from decimal import Decimal as D

import pytest

from ringup.catalog.models import Quote

pytestmark = pytest.mark.django_db


def test_catalog_lists_the_three_segment_plans(client, catalog):
    body = client.get("/api/v1/catalog").json()
    plans = {plan["code"]: plan for plan in body["plans"]}
    assert [p["segment"] for p in body["plans"]] == ["micro", "smb", "enterprise"]
    office = plans["office-pbx"]
    assert office["currency"] == "RUB"
    assert office["monthly_fee"] == "890.00"
    assert office["per_employee"] == "75.00"
    crm = next(o for o in office["options"] if o["code"] == "crm-integration")
    assert crm == {
        "code": "crm-integration",
        "name": "CRM integration",
        "description": crm["description"],
        "monthly_fee": "490.00",
        "setup_fee": "1990.00",
        "per_employee": False,
    }
    for plan in body["plans"]:
        assert 2 <= len(plan["options"]) <= 5


def test_quote_worked_example_and_round_trip(client, catalog):
    """Office PBX, 12 employees, 3 local numbers (2 included), CRM integration:
    890 + 12 × 75 + 1 × 290 + 490 = 2,570.00 a month; CRM setup 1,990.00 once."""
    response = client.post(
        "/api/v1/quotes",
        {"plan": "office-pbx", "employees": 12, "numbers": 3, "options": ["crm-integration"]},
        content_type="application/json",
    )
    assert response.status_code == 201
    quote = response.json()
    assert quote["monthly_total"] == "2570.00"
    assert quote["one_time_total"] == "1990.00"
    assert quote["period_total"] == "4560.00"
    assert [(line["kind"], line["amount"]) for line in quote["lines"]] == [
        ("recurring", "890.00"),
        ("recurring", "900.00"),
        ("recurring", "290.00"),
        ("recurring", "490.00"),
        ("one_time", "1990.00"),
    ]
    again = client.get(f"/api/v1/quotes/{quote['token']}").json()
    assert again == quote
    assert Quote.objects.get(token=quote["token"]).source == Quote.Source.API


def test_annual_quote_is_twelve_months_with_the_discount(client, catalog):
    """Virtual Number 490 a month; annual 15 % off: 490 − 73.50 = 416.50,
    × 12 = 4,998.00 for the year."""
    quote = client.post(
        "/api/v1/quotes",
        {"plan": "virtual-number", "period": "annual"},
        content_type="application/json",
    ).json()
    assert quote["monthly_total"] == "416.50"
    assert quote["period_total"] == "4998.00"
    assert D(quote["period_total"]) == 12 * D("490") - 12 * D("73.50")


def test_promo_code_is_accepted(client, catalog):
    response = client.post(
        "/api/v1/quotes",
        {"plan": "virtual-number", "promo_code": "HELLO"},
        content_type="application/json",
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"plan": "nope"}, "plan"),
        ({"plan": "office-pbx", "options": ["speech-analytics"]}, "options"),
        ({"plan": "office-pbx", "employees": -1}, "employees"),
        ({"plan": "office-pbx", "employees": 10_000_000}, "employees"),
        ({"plan": "office-pbx", "employees": 201}, "employees"),
        ({"plan": "office-pbx", "traffic_package": "min-10000"}, "traffic_package"),
        ({"plan": "office-pbx", "period": "weekly"}, "period"),
        ({"plan": "virtual-number", "numbers": 100_000}, "numbers"),
        ({}, "plan"),
    ],
)
def test_bad_quote_is_422_naming_the_field(client, catalog, body, field):
    response = client.post("/api/v1/quotes", body, content_type="application/json")
    assert response.status_code == 422
    locations = [error["loc"] for error in response.json()["detail"]]
    assert any(field in loc for loc in locations), locations


def test_unknown_quote_is_404(client, catalog):
    assert client.get("/api/v1/quotes/nothing-here").status_code == 404


def test_advice_worked_example(client, catalog):
    """12 employees, 2 sales people, 40 calls a day, needs CRM: Office PBX with the CRM
    option; 40 × 3 min × 22 days = 2,640 minutes → the 3,000-minute bundle.
    890 + 12 × 75 + 490 + 2,900 = 5,180.00 a month."""
    response = client.post(
        "/api/v1/advice",
        {
            "employees": 12,
            "agents": 2,
            "calls_per_day": 40,
            "missed_call_cost": "medium",
            "needs": ["crm_integration", "ivr"],
        },
        content_type="application/json",
    )
    assert response.status_code == 200
    advice = response.json()
    assert advice["segment"] == "smb"
    assert advice["plan"] == "office-pbx"
    assert advice["options"] == ["crm-integration"]
    assert advice["traffic_package"] == "min-3000"
    assert advice["monthly_total"] == "5180.00"
    assert any("2,640 minutes" in reason for reason in advice["reasons"])


@pytest.mark.parametrize(
    "body",
    [
        {"employees": 0},
        {"employees": 5, "needs": ["teleport"]},
        {"employees": 5, "missed_call_cost": "huge"},
        {"employees": 50_000, "agents": 10},
    ],
)
def test_bad_advice_is_422(client, catalog, body):
    response = client.post("/api/v1/advice", body, content_type="application/json")
    assert response.status_code == 422


def test_openapi_document_is_served(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/catalog", "/api/v1/quotes", "/api/v1/quotes/{token}", "/api/v1/advice"} <= set(
        spec["paths"]
    )
