"""/api/v1/tasks…, /api/v1/customers/{id}/timeline and …/related, /api/v1/banners."""

from datetime import UTC, date, datetime

import pytest
from django.test import Client

from ringup.apikeys import services as apikeys
from ringup.apikeys.models import ApiKey
from ringup.marketing.engagement.models import Banner, FollowUpTask
from ringup.marketing.engagement.services.tasks import create_task
from ringup.marketing.segments.models import Segment

from .conftest import NOW


@pytest.fixture
def manager(staff):
    return staff("manager")


@pytest.fixture
def api(manager):
    """A client authenticated by the manager's API key (no cookies, no CSRF)."""
    token = apikeys.issue(ApiKey(name="CRM", owner=manager), at=NOW)
    return Client(headers={"Authorization": f"Bearer {token}"})


def post(client, url, body):
    return client.post(url, body, content_type="application/json")


def errors(response) -> dict:
    return {e["loc"][-1]: e["msg"] for e in response.json()["detail"]}


def test_without_credentials_401(db):
    assert Client().get("/api/v1/tasks").status_code == 401
    assert Client().get("/api/v1/customers/1/timeline").status_code == 401


def test_create_list_and_filter(api, customer, manager, staff, frozen):
    other = staff("other")
    made = post(
        api,
        "/api/v1/tasks",
        {
            "customer": customer.pk,
            "title": "Offer CRM",
            "due_on": "2025-05-30",
            "assignee": manager.pk,
        },
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["status"], body["assignee"], body["overdue"], body["reason"]) == (
        "open",
        manager.pk,
        True,
        "manual",
    )
    create_task(customer.pk, title="Theirs", due_on=date(2025, 6, 3), at=NOW, assignee_id=other.pk)
    create_task(customer.pk, title="Nobody's", due_on=date(2025, 6, 2), at=NOW)

    def listed(query):
        return [t["title"] for t in api.get(f"/api/v1/tasks{query}").json()]

    assert listed("") == ["Offer CRM", "Nobody's", "Theirs"]
    assert listed("?mine=true") == ["Offer CRM"]
    assert listed(f"?assignee={other.pk}") == ["Theirs"]
    assert listed("?unassigned=true") == ["Nobody's"]
    assert listed("?status=done") == []
    assert listed(f"?customer={customer.pk}&limit=1&offset=1") == ["Nobody's"]
    assert api.get("/api/v1/tasks?status=closed").status_code == 422


def test_create_refuses_bad_fields_with_422(api, customer, django_user_model):
    outsider = django_user_model.objects.create_user("outsider", "o@example.com", "pw-12345!")
    bad = post(api, "/api/v1/tasks", {"customer": 999_999, "title": "x", "due_on": "2025-06-01"})
    assert bad.status_code == 422 and "customer" in errors(bad)
    bad = post(
        api,
        "/api/v1/tasks",
        {"customer": customer.pk, "title": "x", "due_on": "2025-06-01", "assignee": outsider.pk},
    )
    assert bad.status_code == 422 and "assignee" in errors(bad)
    bad = post(api, "/api/v1/tasks", {"customer": customer.pk, "title": "", "due_on": "soon"})
    assert bad.status_code == 422 and {"title", "due_on"} <= set(errors(bad))


def test_done_not_now_snooze_and_assign(api, customer, manager, frozen):
    task = create_task(customer.pk, title="Offer CRM", due_on=date(2025, 6, 1), at=NOW)
    url = f"/api/v1/tasks/{task.pk}"

    assigned = post(api, f"{url}/assign", {"assignee": manager.pk})
    assert assigned.status_code == 200 and assigned.json()["assignee"] == manager.pk

    too_early = post(api, f"{url}/snooze", {"until": "2025-06-01"})
    assert too_early.status_code == 422 and "until" in errors(too_early)
    snoozed = post(api, f"{url}/snooze", {"until": "2025-06-08"})
    assert (snoozed.json()["status"], snoozed.json()["snoozed_until"]) == ("snoozed", "2025-06-08")

    done = post(api, f"{url}/done", {"outcome": "not_now", "note": "Budget frozen till autumn"})
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["outcome"]) == ("done", "not_now")
    assert "Budget frozen" in done.json()["note"]
    again = FollowUpTask.objects.filter(reason="said_no").order_by("due_on")
    assert [(t.due_on, t.assignee_id) for t in again] == [
        (date(2025, 9, 1), manager.pk),
        (date(2025, 12, 1), manager.pk),
    ]

    assert post(api, f"{url}/snooze", {"until": "2025-07-01"}).status_code == 422
    assert post(api, f"{url}/done", {"outcome": "maybe"}).status_code == 422
    assert post(api, "/api/v1/tasks/999999/done", {}).status_code == 404
    assert api.get(url).json()["status"] == "done"


def test_a_staff_session_works_too(client, customer, manager):
    client.force_login(manager)
    assert client.get("/api/v1/tasks").status_code == 200


def test_timeline_and_related(api, customer):
    timeline = api.get(f"/api/v1/customers/{customer.pk}/timeline")
    assert timeline.status_code == 200
    assert [e["title"] for e in timeline.json()] == ["Subscription started"]
    assert api.get("/api/v1/customers/999999/timeline").status_code == 404
    assert api.get(f"/api/v1/customers/{customer.pk}/timeline?limit=0").status_code == 422

    related = api.get(f"/api/v1/customers/{customer.pk}/related?limit=5")
    assert related.status_code == 200
    assert {item["code"] for item in related.json()} == {
        "crm-integration",
        "callback-widget",
        "contact-centre",
    }
    assert api.get("/api/v1/customers/999999/related").status_code == 404


def test_banners_create_and_list_with_counts(api, customer):
    segment = Segment.objects.create(name="Everyone on a plan", conditions={"all": []})
    made = post(
        api,
        "/api/v1/banners",
        {
            "title": "Record calls",
            "text": "Settle disputes",
            "link": "option",
            "target": "call-recording",
            "segment": segment.pk,
            "weight": 3,
            "starts_at": "2025-06-01T00:00:00Z",
        },
    )
    assert made.status_code == 201, made.content
    assert (made.json()["segment"], made.json()["impressions"]) == (segment.pk, 0)

    foreign = post(
        api,
        "/api/v1/banners",
        {"title": "x", "text": "y", "link": "page", "target": "//evil.example/"},
    )
    assert foreign.status_code == 422 and "target" in errors(foreign)
    no_segment = post(
        api,
        "/api/v1/banners",
        {"title": "x", "text": "y", "link": "help", "target": "ivr", "segment": 999_999},
    )
    assert no_segment.status_code == 422 and "segment" in errors(no_segment)
    # A valid ISO 8601 instant with no UTC equivalent (past year 9999 once converted).
    beyond = post(
        api,
        "/api/v1/banners",
        {
            "title": "x",
            "text": "y",
            "link": "help",
            "target": "ivr",
            "ends_at": "9999-12-31T23:00:00-05:00",
        },
    )
    assert beyond.status_code == 422 and "ends_at" in errors(beyond)
    # PostgreSQL cannot store NUL in text: refused by field, on every database.
    nul = post(
        api, "/api/v1/banners", {"title": "x\x00y", "text": "y", "link": "help", "target": "ivr"}
    )
    assert nul.status_code == 422 and "title" in errors(nul)
    backwards = post(
        api,
        "/api/v1/banners",
        {
            "title": "x",
            "text": "y",
            "link": "help",
            "target": "ivr",
            "starts_at": "2025-06-02T00:00:00Z",
            "ends_at": "2025-06-01T00:00:00Z",
        },
    )
    assert backwards.status_code == 422 and "ends_at" in errors(backwards)

    from ringup.marketing.engagement.services.banners import show_banners

    show_banners(customer, at=datetime(2025, 6, 2, tzinfo=UTC))
    listed = api.get("/api/v1/banners").json()
    assert [(b["title"], b["impressions"], b["clicks"]) for b in listed] == [("Record calls", 1, 0)]
    assert Banner.objects.count() == 1
