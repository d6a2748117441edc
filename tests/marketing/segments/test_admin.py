"""The back office: the change page shows the rule in words, the live count, a sample of
members and the CSV download; the form refuses bad conditions naming the path."""

import json

import pytest

from ringup.marketing.segments.models import Segment

pytestmark = pytest.mark.django_db

SMB = {"all": [{"field": "tier", "op": "in", "value": ["smb"]}]}


def test_change_page_shows_count_sample_and_export(staff_client, shop):
    """Three smb customers and one micro registered before now: the page counts 3."""
    for name in ("Alfa", "Beta", "Gamma"):
        shop.customer(name)
    shop.customer("Micro", tier="micro")
    segment = Segment.objects.create(name="SMB", conditions=SMB)
    page = staff_client.get(f"/admin/segments/segment/{segment.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="segment-count">3<' in html
    assert "Segment tier is one of smb" in html
    assert "Beta" in html and "Micro" not in html.split('id="segment-sample"')[1]
    assert "segment-builder-spec" in html and "segments/builder.js" in html
    export = staff_client.get(f"/admin/segments/segment/{segment.pk}/export.csv")
    assert export.status_code == 200 and export.streaming
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert len(lines) == 4  # header + 3 members


def test_form_refuses_bad_conditions_with_the_path(staff_client):
    bad = {
        "all": [
            {"field": "tier", "op": "in", "value": ["smb"]},
            {"field": "revenue", "op": "gte", "value": {"months": 12}},
        ]
    }
    response = staff_client.post(
        "/admin/segments/segment/add/",
        {"name": "Bad", "description": "", "conditions": json.dumps(bad)},
    )
    assert response.status_code == 200
    assert "conditions.all.1.value.amount: missing" in response.content.decode()
    assert not Segment.objects.exists()


def test_form_saves_good_conditions(staff_client):
    response = staff_client.post(
        "/admin/segments/segment/add/",
        {"name": "SMB", "description": "", "conditions": json.dumps(SMB)},
    )
    assert response.status_code == 302
    assert Segment.objects.get().conditions == SMB


def test_download_action_streams_one_segment(staff_client, shop):
    shop.customer("Alfa")
    segment = Segment.objects.create(name="SMB", conditions=SMB)
    response = staff_client.post(
        "/admin/segments/segment/",
        {"action": "download_csv", "_selected_action": [segment.pk]},
    )
    assert response.status_code == 200
    assert b"Alfa" in b"".join(response.streaming_content)
