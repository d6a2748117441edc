"""Back-office pages with a staff login: import, margin impact, CSV, risk board."""

import csv
import io

import pytest
from django.urls import reverse

from ringup.sales.margins.models import CarrierDeckVersion, MarginImpact
from ringup.sales.margins.services import compute_impact
from ringup.usage.services import configured_decks

from .conftest import DECK_V1, NOW


@pytest.fixture
def client_in(client, staff):
    client.force_login(staff())
    return client


def test_import_page_stores_the_version_and_shows_its_impact(client_in, traffic):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client_in.post(
        reverse("admin:margins_import"),
        {
            "carrier": "Transit",
            "effective_from": "2025-01-01",
            "days": "30",
            "deck": SimpleUploadedFile("transit.csv", DECK_V1, "text/csv"),
        },
    )
    version = CarrierDeckVersion.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"/{version.pk}/impact/?days=30")
    assert MarginImpact.objects.filter(version=version, window_days=30).exists()
    page = client_in.get(response["Location"])
    assert page.status_code == 200
    assert "Margin impact" in page.content.decode()


def test_a_bad_file_is_answered_on_the_form(client_in, db):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client_in.post(
        reverse("admin:margins_import"),
        {
            "carrier": "Transit",
            "effective_from": "2025-01-01",
            "days": "30",
            "deck": SimpleUploadedFile(
                "bad.csv", b"prefix,rate,connect_fee,first_increment,increment\n7,x,0,1,1\n"
            ),
        },
    )
    assert response.status_code == 200
    assert "line 2: rate &#x27;x&#x27;" in response.content.decode()
    assert not CarrierDeckVersion.objects.exists()


def test_impact_page_and_csv(client_in, versions, traffic):
    _, v2 = versions
    compute_impact(v2, days=30, at=NOW, retail=configured_decks().retail)
    page = client_in.get(reverse("admin:margins_impact", args=[v2.pk]) + "?days=30")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Russia mobile" in text and "2.29" in text and "Beta Calls" in text
    missing = client_in.get(reverse("admin:margins_impact", args=[v2.pk]) + "?days=90")
    assert "Not computed" in missing.content.decode()
    response = client_in.get(reverse("admin:margins_impact_csv", args=[v2.pk]) + "?days=30")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["section"], r["prefix"] or r["plan"] or r["customer_id"]) for r in rows] == [
        ("destinations", "79"),
        ("plans", "contact-centre"),
        ("customers", str(traffic[1].pk)),
    ]
    assert rows[0]["restoring_rate"] == "2.29"


def test_recompute_from_the_page(client_in, versions, traffic):
    _, v2 = versions
    url = reverse("admin:margins_impact", args=[v2.pk])
    response = client_in.post(url, {"days": "90"})
    assert response.status_code == 302
    assert MarginImpact.objects.filter(version=v2, window_days=90).exists()


def test_pages_need_staff(client, versions):
    _, v2 = versions
    response = client.get(reverse("admin:margins_impact", args=[v2.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_api_serves_versions_impact_and_flags(client_in, versions, traffic):
    _, v2 = versions
    compute_impact(v2, days=30, at=NOW, retail=configured_decks().retail)
    listed = client_in.get("/api/v1/margins/versions?carrier=Transit").json()
    assert [row["effective_from"] for row in listed] == ["2025-06-01", "2025-01-01"]
    body = client_in.get(f"/api/v1/margins/versions/{v2.pk}/impact?days=30").json()
    assert body["findings"]["destinations"][0]["restoring_rate"] == "2.29"
    assert client_in.get(f"/api/v1/margins/versions/{v2.pk}/impact?days=90").status_code == 404
    assert client_in.get(f"/api/v1/margins/versions/{v2.pk}/impact?days=7").status_code == 422
    assert client_in.get("/api/v1/margins/risk-flags").json() == []
