"""The billing API: staff only; preview and apply changes; 422 naming the field; 404 for
unknown ids; invoices, PDF, credit notes, payments and balances."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ringup.billing.models import Invoice, Payment, SubscriptionChange
from ringup.billing.services.invoicing import bill

from .conftest import APRIL_1

pytestmark = pytest.mark.django_db


def post(client, url, body):
    return client.post(url, body, content_type="application/json")


@pytest.fixture
def live(subscribe, time_machine):
    """A subscription started a week ago; the clock is mid-period."""
    time_machine.move_to(APRIL_1 + timedelta(days=10, hours=5), tick=False)
    return subscribe(APRIL_1 - timedelta(days=7))


def test_anonymous_and_non_staff_users_are_turned_away(client, django_user_model, live):
    url = f"/api/v1/subscriptions/{live.pk}/preview-change"
    assert post(client, url, {"employees": 12}).status_code == 401
    user = django_user_model.objects.create_user("customer", "c@example.com", "pw-12345!")
    client.force_login(user)
    assert post(client, url, {"employees": 12}).status_code == 401
    assert client.get("/api/v1/invoices").status_code == 401


def test_preview_returns_the_proration_and_writes_nothing(staff_client, live):
    changes = SubscriptionChange.objects.count()
    with CaptureQueriesContext(connection) as queries:
        response = post(
            staff_client,
            f"/api/v1/subscriptions/{live.pk}/preview-change",
            {"employees": 15, "options": ["crm-integration"]},
        )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["applied"] is False
    assert body["changes"] == ["employees", "option_added"]
    assert [line["kind"] for line in body["lines"]] == ["proration", "proration", "one_time"]
    assert D(body["amount_due_now"]) == sum(D(line["total"]) for line in body["lines"])
    assert body["current"]["monthly_total"] == "1640.00"
    assert body["proposed"]["monthly_total"] == "2505.00"
    assert body["period"]["interval"] == "monthly"
    assert SubscriptionChange.objects.count() == changes
    assert not [q for q in queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]


def test_change_applies_what_the_preview_showed(staff_client, live):
    url = f"/api/v1/subscriptions/{live.pk}"
    preview = post(
        staff_client, f"{url}/preview-change", {"plan": "contact-centre", "employees": 20}
    )
    applied = post(staff_client, f"{url}/change", {"plan": "contact-centre", "employees": 20})
    assert applied.status_code == 200
    assert {**preview.json(), "applied": True} == applied.json()
    detail = staff_client.get(url).json()
    assert (detail["plan"], detail["employees"]) == ("contact-centre", 20)
    assert detail["current_period"]["interval"] == "monthly"


def test_a_period_switch_is_scheduled_for_the_end_of_the_period(staff_client, live):
    body = post(
        staff_client, f"/api/v1/subscriptions/{live.pk}/change", {"period": "annual"}
    ).json()
    assert body["lines"] == []
    assert body["period_switch"]["to"] == "annual"
    assert body["period_switch"]["effective_at"] == body["period"]["end"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"plan": "no-such-plan"}, "plan"),
        ({"options": ["wallboard"]}, "options"),
        ({"employees": 900}, "employees"),
        ({"employees": 0}, "employees"),
        ({"employees": "12"}, "employees"),
        ({"period": "weekly"}, "period"),
        ({"numbers": 1}, "numbers"),  # Office PBX includes 2
        ({"numbers": 50_000}, "numbers"),
        ({"numbers": "3"}, "numbers"),
        ({"traffic_package": "min-300"}, "traffic_package"),  # not on Office PBX
        ({"traffic_package": "no-such"}, "traffic_package"),
        ({"traffic_package": None}, "change"),  # it has none to remove
        ({"colour": "red"}, "colour"),
        ({}, "change"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(staff_client, live, body, field):
    response = post(staff_client, f"/api/v1/subscriptions/{live.pk}/preview-change", body)
    assert response.status_code == 422, response.content
    assert [error["loc"][-1] for error in response.json()["detail"]] == [field]


def test_numbers_and_the_traffic_package_change_through_the_api(staff_client, live):
    url = f"/api/v1/subscriptions/{live.pk}"
    body = post(staff_client, f"{url}/change", {"traffic_package": "min-1000", "numbers": 3})
    assert body.status_code == 200, body.content
    body = body.json()
    assert body["changes"] == ["numbers", "traffic_package"]
    assert (body["proposed"]["numbers"], body["proposed"]["traffic_package"]) == (3, "min-1000")
    assert body["proposed"]["monthly_total"] == "3030.00"  # 1,640 + 290 + 1,100
    assert D(body["amount_due_now"]) > 0
    # Left out, the package stays; null removes it.
    kept = post(staff_client, f"{url}/preview-change", {"employees": 12}).json()
    assert kept["proposed"]["traffic_package"] == "min-1000"
    removed = post(staff_client, f"{url}/preview-change", {"traffic_package": None}).json()
    assert removed["proposed"]["traffic_package"] is None
    assert removed["changes"] == ["traffic_package"]
    detail = staff_client.get(url).json()
    assert (detail["numbers"], detail["traffic_package"]) == (3, "min-1000")
    assert detail["trial_converts"] is True


def test_unknown_ids_are_404(staff_client):
    assert staff_client.get("/api/v1/subscriptions/999999").status_code == 404
    assert (
        post(staff_client, "/api/v1/subscriptions/999999/change", {"employees": 3}).status_code
        == 404
    )
    assert staff_client.get("/api/v1/invoices/999999").status_code == 404
    assert staff_client.get("/api/v1/invoices/999999/pdf").status_code == 404
    assert staff_client.get("/api/v1/customers/999999/balance").status_code == 404
    payment = {"customer": 999999, "amount": "10.00", "reference": "x"}
    assert post(staff_client, "/api/v1/payments", payment).status_code == 404


def test_cancel_at_period_end_then_refuse_further_changes(staff_client, live):
    url = f"/api/v1/subscriptions/{live.pk}"
    body = post(staff_client, f"{url}/cancel", {}).json()
    assert body["lines"] == []
    assert post(staff_client, f"{url}/change", {"employees": 3}).status_code == 422


def test_invoices_payments_credit_notes_and_balance(staff_client, subscribe, customer):
    subscribe()
    bill(until=APRIL_1, at=APRIL_1)
    invoice = Invoice.objects.get()

    listed = staff_client.get(f"/api/v1/invoices?customer={customer.pk}").json()
    assert [item["number"] for item in listed] == [invoice.number]
    detail = staff_client.get(f"/api/v1/invoices/{invoice.pk}").json()
    assert (detail["total"], detail["owed"]) == ("1640.00", "1640.00")
    assert len(detail["lines"]) == 2

    pdf = staff_client.get(detail["pdf_url"])
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")

    note = post(
        staff_client,
        f"/api/v1/invoices/{invoice.pk}/credit-notes",
        {"reason": "Outage", "amount": "140.00"},
    )
    assert note.status_code == 201
    assert note.json()["number"] == "CN-000001"
    too_much = post(
        staff_client,
        f"/api/v1/invoices/{invoice.pk}/credit-notes",
        {"reason": "x", "amount": "9999.00"},
    )
    assert too_much.status_code == 422
    assert too_much.json()["detail"][0]["loc"] == ["body", "amount"]

    paid = post(
        staff_client,
        "/api/v1/payments",
        {"customer": customer.pk, "amount": "1000.00", "reference": "PP-42"},
    )
    assert paid.status_code == 201
    assert paid.json()["balance"] == "500.00"
    again = post(
        staff_client,
        "/api/v1/payments",
        {"customer": customer.pk, "amount": "1000.00", "reference": "PP-42"},
    )
    assert again.json()["id"] == paid.json()["id"]
    assert Payment.objects.count() == 1
    bad = post(
        staff_client,
        "/api/v1/payments",
        {"customer": customer.pk, "amount": "-1", "reference": "r"},
    )
    assert bad.status_code == 422

    balance = staff_client.get(f"/api/v1/customers/{customer.pk}/balance").json()
    assert balance["balance"] == "500.00"
    assert [(item["number"], item["owed"]) for item in balance["open_invoices"]] == [
        (invoice.number, "500.00")
    ]


@pytest.fixture
def trial(subscribe, time_machine):
    """A self-service trial started 1 April 09:00 UTC (12:00 Moscow), 14 days; the clock
    is 5 April 10:00 UTC."""
    time_machine.move_to(APRIL_1 + timedelta(days=4, hours=13), tick=False)
    return subscribe(APRIL_1 + timedelta(hours=12), trial=True, trial_converts=False)


def test_a_trial_converts_now_on_another_plan_through_the_api(staff_client, trial):
    """With ``start_now`` on 5 April 13:00 Moscow the trial ends then and paid periods
    start at the next local midnight, 6 April; the plan picked applies from the start."""
    response = post(
        staff_client,
        f"/api/v1/subscriptions/{trial.pk}/convert-trial",
        {"plan": "contact-centre", "start_now": True},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["plan"], body["trial_converts"]) == (
        "active",
        "contact-centre",
        True,
    )
    assert body["billing_starts_on"] == "2025-04-06"
    assert body == staff_client.get(f"/api/v1/subscriptions/{trial.pk}").json()


def test_a_trial_converts_at_its_end_by_default(staff_client, trial):
    """Started 1 April 12:00 Moscow with 14 days: it stays a trial, billed from the first
    local midnight at or after its end (16 April)."""
    body = post(staff_client, f"/api/v1/subscriptions/{trial.pk}/convert-trial", {}).json()
    assert (body["status"], body["trial_converts"], body["billing_starts_on"]) == (
        "trialing",
        True,
        "2025-04-16",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"plan": "no-such-plan"}, "plan"),
        ({"period": "weekly"}, "period"),
        ({"start_now": "yes"}, "start_now"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_trial_conversions_are_a_422_naming_the_field(staff_client, trial, body, field):
    response = post(staff_client, f"/api/v1/subscriptions/{trial.pk}/convert-trial", body)
    assert response.status_code == 422, response.content
    assert [error["loc"][-1] for error in response.json()["detail"]] == [field]


def test_only_a_trial_converts_and_unknown_ids_are_404(staff_client, live):
    url = "/api/v1/subscriptions/{}/convert-trial"
    response = post(staff_client, url.format(live.pk), {})
    assert response.status_code == 422
    assert [error["loc"][-1] for error in response.json()["detail"]] == ["subscription"]
    assert post(staff_client, url.format(live.pk + 1000), {}).status_code == 404
