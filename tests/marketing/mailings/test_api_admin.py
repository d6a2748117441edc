"""The REST API and the back office of mailings."""

import pytest

from ringup.marketing.mailings.models import Mailing, Suppression

from .conftest import make_customers


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_user("marketing", "m@example.com", "pw-12345!")
    user.is_staff = user.is_superuser = True
    user.save()
    client.force_login(user)
    return client


def post(client, url, body=None):
    return client.post(url, body or {}, content_type="application/json")


def test_anonymous_callers_are_turned_away(client, db):
    assert client.get("/api/v1/mailings").status_code == 401


def test_create_pause_resume_and_runs(staff_client, template, smtp):
    make_customers(2)
    answer = post(
        staff_client,
        "/api/v1/mailings",
        {"name": "Hello", "template": template.pk, "activate": True},
    )
    assert answer.status_code == 201, answer.content
    mailing = answer.json()
    assert (mailing["status"], mailing["holdout_percent"]) == ("active", 10)
    assert (
        post(staff_client, f"/api/v1/mailings/{mailing['id']}/pause").json()["status"] == "paused"
    )
    assert (
        post(staff_client, f"/api/v1/mailings/{mailing['id']}/resume").json()["status"] == "active"
    )
    from django.utils import timezone

    from ringup.marketing.mailings import services

    services.schedule(at=timezone.now())
    services.send_due(at=timezone.now())
    [run] = staff_client.get(f"/api/v1/mailings/{mailing['id']}/runs").json()
    counts = run["counts"]
    assert counts["sent"] + counts["held_out"] == 2 and counts["clicks"] == 0
    report = staff_client.get(f"/api/v1/mailings/{mailing['id']}/lift").json()
    assert report["conversion_kind"] == "invoice.paid"
    assert [m["id"] for m in staff_client.get("/api/v1/mailings").json()] == [mailing["id"]]
    assert staff_client.get(f"/api/v1/mailings/{mailing['id']}").json()["name"] == "Hello"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "recurring"}, "day_of_month"),
        ({"kind": "triggered"}, "trigger_kind"),
        ({"kind": "triggered", "trigger_kind": "nope.never"}, "trigger_kind"),
        ({"template": 999999}, "template"),
        ({"segment": 999999}, "segment"),
        ({"holdout_percent": 80}, "holdout_percent"),
    ],
)
def test_bad_mailings_are_a_422_naming_the_field(staff_client, template, body, field):
    answer = post(staff_client, "/api/v1/mailings", {"name": "x", "template": template.pk, **body})
    assert answer.status_code == 422
    assert field in {loc for error in answer.json()["detail"] for loc in error["loc"]}
    assert not Mailing.objects.exists()


def test_a_bounce_recorded_through_the_api_is_suppressed(staff_client, db):
    answer = post(
        staff_client,
        "/api/v1/suppressions",
        {"address": "Gone@Example.com", "kind": "bounced"},
    )
    assert answer.status_code == 201
    assert Suppression.objects.get().address == "gone@example.com"
    assert staff_client.get("/api/v1/suppressions").json()[0]["reason"] == "bounced"
    bad = post(staff_client, "/api/v1/suppressions", {"address": "nobody"})
    assert bad.status_code == 422


def test_preview_and_test_send_in_the_back_office(staff_client, template, smtp):
    [customer] = make_customers(1, language="ru")
    url = f"/admin/mailings/template/{template.pk}/preview/"
    page = staff_client.get(url, {"customer": customer.pk})
    assert page.status_code == 200
    assert "Новости для Customer 0" in page.content.decode()
    answer = staff_client.post(url, {"customer": customer.pk, "send_to": "me@operator.example"})
    assert answer.status_code == 200
    [message] = smtp.wait_for(1)
    assert (
        message["To"] == "me@operator.example"
        and message["Subject"] == "[TEST] Новости для Customer 0"
    )


def test_back_office_pages_open(staff_client, template, mailing_of):
    mailing = mailing_of()
    for url in [
        "/admin/mailings/mailing/",
        f"/admin/mailings/mailing/{mailing.pk}/change/",
        "/admin/mailings/template/",
        "/admin/mailings/recipient/",
        "/admin/mailings/suppression/",
        "/admin/mailings/suppression/add/",
        "/admin/mailings/consent/",
    ]:
        assert staff_client.get(url).status_code == 200, url


def test_a_variant_that_does_not_parse_is_refused_in_the_back_office(staff_client, db):
    answer = staff_client.post(
        "/admin/mailings/template/add/",
        {
            "name": "Broken",
            "default_language": "en",
            "variants-TOTAL_FORMS": "1",
            "variants-INITIAL_FORMS": "0",
            "variants-0-language": "en",
            "variants-0-subject": "Hello {% if %}",
            "variants-0-html": "<p>Hi</p>",
            "variants-0-text": "Hi",
        },
    )
    assert answer.status_code == 200  # the form again, with the error
    assert "subject" in answer.context["inline_admin_formsets"][0].formset.errors[0]
    from ringup.marketing.mailings.models import Template

    assert not Template.objects.exists()
