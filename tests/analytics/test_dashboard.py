"""The back-office dashboard, its CSV downloads and the API read the stored run."""

import csv
import io
from datetime import UTC, date, datetime

import pytest

from ringup.analytics.services.recompute import recompute
from ringup.apikeys.models import ApiKey
from ringup.apikeys.services import issue
from ringup.billing.services.subscriptions import ChangeRequest, change_subscription

from .conftest import APRIL_1, DAY

URL = "/admin/analytics/dashboard/"


@pytest.fixture
def run(make_customer, start_sub):
    office = start_sub(make_customer("Office"))
    change_subscription(office, ChangeRequest(employees=15), at=APRIL_1 + 9 * DAY)
    start_sub(make_customer("Kiosk", tier="micro"), plan="virtual-number", employees=1)
    return recompute(at=datetime(2025, 6, 1, 6, tzinfo=UTC), until=date(2025, 6, 1))


def rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_the_dashboard_shows_tiles_and_charts(run, analytics_staff):
    page = analytics_staff.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    # May: 1,679.17 + 408.33 = 2,087.50 of MRR, two customers.
    assert "₽2,088" in html
    assert html.count("<svg") >= 5
    assert "MRR movements" in html and "Cohort retention" in html


def test_the_dashboard_is_on_the_admin_index(run, analytics_staff):
    assert URL in analytics_staff.get("/admin/").content.decode()


@pytest.mark.parametrize(
    "query", ["tier=smb", "plan=virtual-number", "from=2025-04&to=2025-05", "currency=RUB"]
)
def test_the_filters_narrow_the_figures(run, analytics_staff, query):
    page = analytics_staff.get(f"{URL}?{query}")
    assert page.status_code == 200
    assert "errornote" not in page.content.decode()


def test_a_bad_filter_is_named_and_the_default_view_shown(run, analytics_staff):
    page = analytics_staff.get(f"{URL}?tier=huge")
    assert page.status_code == 200
    assert "tier must be one of" in page.content.decode()


def test_the_csv_of_a_chart_follows_the_filters(run, analytics_staff):
    everything = rows(analytics_staff.get(f"{URL}data/movements.csv"))
    assert [r["month"] for r in everything] == [
        "2025-01",
        "2025-02",
        "2025-03",
        "2025-04",
        "2025-05",
    ]
    april = everything[3]
    assert (april["expansion"], april["closing_mrr"]) == ("312.50", "2087.50")
    smb = rows(analytics_staff.get(f"{URL}data/movements.csv?tier=smb&from=2025-04"))
    assert [(r["month"], r["closing_mrr"]) for r in smb] == [
        ("2025-04", "1679.17"),
        ("2025-05", "1679.17"),
    ]
    for name in ("monthly", "arpu", "cohorts", "retention", "products", "funnel", "trials", "lift"):
        response = analytics_staff.get(f"{URL}data/{name}.csv")
        assert response.status_code == 200, name
        assert response["Content-Type"].startswith("text/csv")


def test_a_csv_with_a_bad_filter_is_refused(run, analytics_staff):
    response = analytics_staff.get(f"{URL}data/movements.csv?from=2025-13")
    assert response.status_code == 400
    assert b"from" in response.content


def test_the_dashboard_needs_staff(run, client):
    assert client.get(URL).status_code == 302


def test_the_api_gives_the_same_figures(run, analytics_staff):
    summary = analytics_staff.get("/api/v1/analytics/summary?tier=smb")
    assert summary.status_code == 200
    body = summary.json()
    assert (body["tier"], body["currency"]) == ("smb", "RUB")
    assert body["rows"][-1]["mrr"] == "1679.17"
    movements = analytics_staff.get("/api/v1/analytics/movements?from=2025-04&to=2025-04")
    assert [r["expansion"] for r in movements.json()["rows"]] == ["312.50"]
    for path in ("arpu", "cohorts", "retention", "products", "funnel", "trials", "lift", "runs"):
        assert analytics_staff.get(f"/api/v1/analytics/{path}").status_code == 200, path


@pytest.mark.parametrize(
    "query, field",
    [
        ("tier=huge", "tier"),
        ("from=2025-1", "from"),
        ("to=May", "to"),
        ("currency=XYZ", "currency"),
        ("plan=nope", "plan"),
    ],
)
def test_the_api_names_a_bad_filter(run, analytics_staff, query, field):
    response = analytics_staff.get(f"/api/v1/analytics/summary?{query}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", field]


def test_the_api_takes_an_api_key(run, client, django_user_model):
    owner = django_user_model.objects.create_user("robot", "robot@example.com", "pw", is_staff=True)
    token = issue(ApiKey(name="reports", owner=owner), at=datetime.now(UTC))
    assert client.get("/api/v1/analytics/summary").status_code == 401
    answer = client.get("/api/v1/analytics/summary", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert answer.status_code == 200


def test_before_the_first_recompute_the_dashboard_says_how_to_fill_it(analytics_staff):
    page = analytics_staff.get(URL)
    assert page.status_code == 200
    assert "ringup analytics-recompute" in page.content.decode()
    assert analytics_staff.get(f"{URL}data/monthly.csv").status_code == 404
    assert analytics_staff.get("/api/v1/analytics/summary").status_code == 404


def test_charts_are_rendered_with_the_pages_number_locale(run, monkeypatch):
    """Russian pages group digits as Russian does (12 000,5), English ones 12,000.5."""
    from django.core.cache import cache
    from django.utils import translation

    from ringup.analytics import charts, selectors

    asked = []

    def render(spec, **options):
        asked.append(options["format_locale"])
        return "<svg/>"

    monkeypatch.setattr(charts.vlc, "vegalite_to_svg", render)
    cache.clear()
    filters = selectors.parse_filters(run, {})
    for language in ("ru", "en"):
        with translation.override(language):
            charts.svg("arpu", run, filters)
    assert asked == ["ru-RU", "en-US"]
