"""The segments REST API: CRUD, counts, samples, preview, CSV export, 422 paths."""

import csv
import io
from datetime import timedelta

import pytest

from ringup.marketing.segments.models import Segment

from .conftest import AT

pytestmark = pytest.mark.django_db

SMB = {"all": [{"field": "tier", "op": "in", "value": ["smb"]}]}
AT_Q = {"at": AT.isoformat()}


def test_needs_staff(client):
    assert client.get("/api/v1/segments").status_code == 401


def test_create_read_update_delete(staff_client):
    created = staff_client.post(
        "/api/v1/segments",
        {"name": "SMB", "description": "Small firms", "conditions": SMB},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["in_words"] == "Segment tier is one of smb"
    url = f"/api/v1/segments/{body['id']}"
    assert staff_client.get(url).json()["name"] == "SMB"
    changed = staff_client.put(
        url,
        {
            "name": "Big",
            "conditions": {"any": [{"field": "tier", "op": "in", "value": ["enterprise"]}]},
        },
        content_type="application/json",
    )
    assert changed.status_code == 200
    assert Segment.objects.get().name == "Big"
    assert [s["name"] for s in staff_client.get("/api/v1/segments").json()] == ["Big"]
    assert staff_client.delete(url).status_code == 204
    assert staff_client.get(url).status_code == 404


def test_bad_conditions_answer_422_with_the_path(staff_client):
    response = staff_client.post(
        "/api/v1/segments",
        {
            "name": "Bad",
            "conditions": {
                "all": [
                    {"field": "tier", "op": "in", "value": ["smb"]},
                    {"field": "revenue", "op": "gte", "value": {"months": 12, "amount": "ten"}},
                ]
            },
        },
        content_type="application/json",
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "conditions", "all", "1", "value", "amount"]
    assert "decimal string" in error["msg"]
    assert not Segment.objects.exists()


def test_duplicate_name_is_422(staff_client):
    Segment.objects.create(name="SMB", conditions=SMB)
    response = staff_client.post(
        "/api/v1/segments", {"name": "SMB", "conditions": SMB}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "name"]


def test_count_and_sample(staff_client, shop):
    """Two smb customers (A registered 10 days before AT, B 5 days) and one micro."""
    shop.customer("A", registered_days_ago=10)
    shop.customer("B", registered_days_ago=5)
    shop.customer("M", tier="micro")
    segment = Segment.objects.create(name="SMB", conditions=SMB)
    url = f"/api/v1/segments/{segment.pk}"
    assert staff_client.get(f"{url}/count", AT_Q).json()["count"] == 2
    sample = staff_client.get(f"{url}/sample", AT_Q).json()["customers"]
    assert [c["name"] for c in sample] == ["B", "A"]
    # Registered 5 days before AT, so B does not exist yet a week earlier.
    week_before = {"at": (AT - timedelta(days=7)).isoformat()}
    assert staff_client.get(f"{url}/count", week_before).json()["count"] == 1


def test_preview_without_saving(staff_client, shop):
    shop.customer("A")
    response = staff_client.post(
        "/api/v1/segments/preview",
        {"conditions": SMB, "at": AT.isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert response.json()["sample"][0]["name"] == "A"
    assert not Segment.objects.exists()
    bad = staff_client.post(
        "/api/v1/segments/preview",
        {"conditions": {"any": [{"field": "colour", "op": "in", "value": ["red"]}]}},
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "conditions", "any", "0", "field"]


def test_out_of_range_instant_is_422(staff_client):
    segment = Segment.objects.create(name="SMB", conditions=SMB)
    response = staff_client.get(f"/api/v1/segments/{segment.pk}/count", {"at": "0001-01-01T00:00"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "at"]


def test_export_csv_is_streamed(staff_client, shop):
    """Members ordered by id, with the look-alike columns; a formula-like name is
    quoted out so a spreadsheet does not run it."""
    shop.customer("Ромашка", phone="+74951234567", country="RU", language="ru")
    shop.customer("=HYPERLINK(1)", phone="", country="KZ", language="kk")
    shop.customer("Micro", tier="micro")
    segment = Segment.objects.create(name="SMB", conditions=SMB)
    response = staff_client.get(f"/api/v1/segments/{segment.pk}/export.csv", AT_Q)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv"
    assert "segment-" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode()
    assert list(csv.reader(io.StringIO(text))) == [
        ["name", "email", "phone", "country", "language", "tier"],
        ["Ромашка", "ромашка@example.com", "+74951234567", "RU", "ru", "smb"],
        ["'=HYPERLINK(1)", "'=hyperlink(1)@example.com", "", "KZ", "kk", "smb"],
    ]
