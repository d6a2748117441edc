"""The back-office pages (pipeline, new deal, deal page and its forms), the proposal as
HTML and PDF in the customer's language, and its share link's expiry."""

import shutil
import subprocess
import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from ringup.billing.models import Subscription
from ringup.sales.deals.models import BillAnalysis, Deal, ProposalLink
from ringup.sales.deals.services import proposals
from ringup.sales.deals.services.deals import move_deal, set_offer
from ringup.sales.deals.services.tco import on_premise_defaults

from .conftest import GENERIC, analysed_bill

pytestmark = pytest.mark.django_db
# Screenshots and rendered PDFs, to look at.
SHOTS = Path(tempfile.gettempdir()) / "deals-shots"


@pytest.fixture
def manager(admin_user):
    return admin_user


@pytest.fixture
def desk(client, manager):
    client.force_login(manager)

    def post(deal, action, data, **extra):
        return client.post(
            reverse("admin:deals_desk_action", args=[deal.pk, action]), data, **extra
        )

    return post


def test_new_deal_page_creates_the_prospect_and_opens_the_deal(client, manager, catalog):
    client.force_login(manager)
    form = {
        "company": "Atlas Dental",
        "tier": "smb",
        "employees": 18,
        "sites": 3,
        "lines": 6,
        "country": "ru",
        "language": "ru",
        "contact_name": "Anna",
        "contact_email": "anna@atlas.example",
        "owner": manager.pk,
    }
    response = client.post(reverse("admin:deals_new"), form)
    deal = Deal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:deals_desk", args=[deal.pk])
    assert (deal.customer.country, deal.customer.email, deal.sites) == (
        "RU",
        "anna@atlas.example",
        3,
    )

    bad = client.post(reverse("admin:deals_new"), {**form, "lines": 0, "company": ""})
    assert bad.status_code == 422
    assert Deal.objects.count() == 1


def test_pipeline_shows_columns_and_filters_by_owner(client, manager, make_deal, staff):
    other = staff("other")
    make_deal("Severny Logistics", owner=manager)
    make_deal("Orion Print", owner=other)
    client.force_login(manager)
    page = client.get(reverse("admin:deals_pipeline")).content.decode()
    assert "Severny Logistics" in page and "Orion Print" in page
    for stage in ("Lead", "Qualified", "Proposal", "Trial", "Won", "Lost"):
        assert f"<h3>{stage} " in page
    mine = client.get(reverse("admin:deals_pipeline"), {"owner": manager.pk}).content.decode()
    assert "Severny Logistics" in mine and "Orion Print" not in mine
    assert client.get(reverse("admin:deals_pipeline"), {"stage": "bogus"}).status_code == 200


def test_an_invalid_move_is_a_422_with_the_reason(desk, make_deal):
    deal = make_deal()
    response = desk(deal, "stage", {"stage": "trial"})
    assert response.status_code == 422
    assert "a lead deal cannot move to trial" in response.content.decode()
    assert desk(deal, "stage", {"stage": "lost"}).status_code == 422  # no reason given
    assert desk(deal, "stage", {"stage": "lost", "reason": "price"}).status_code == 302
    deal.refresh_from_db()
    assert (deal.stage, deal.lost_reason) == ("lost", "price")


def test_the_deal_page_walks_from_offer_to_won(desk, make_deal, client):
    deal = make_deal()
    assert (
        desk(
            deal,
            "offer",
            {"plan": "office-pbx", "employees": 10, "numbers": 2, "options": ["crm-integration"]},
        ).status_code
        == 302
    )
    bad_offer = desk(
        deal, "offer", {"plan": "office-pbx", "employees": 10, "options": ["speech-analytics"]}
    )
    assert bad_offer.status_code == 422
    for stage in ("qualified", "proposal", "won"):
        assert desk(deal, "stage", {"stage": stage}).status_code == 302
    deal.refresh_from_db()
    assert deal.stage == "won"
    assert Subscription.objects.filter(customer=deal.customer).count() == 1
    page = client.get(reverse("admin:deals_desk", args=[deal.pk])).content.decode()
    assert f"Subscription #{deal.subscription_id}" in page


def test_bill_upload_and_summary_through_the_page(desk, make_deal, client, tmp_path):
    deal = make_deal()
    path = tmp_path / "cdrs.csv"
    path.write_text(GENERIC)
    with path.open("rb") as handle:
        response = desk(
            deal,
            "cdrs",
            {
                "file": handle,
                "format": "generic",
                "country": "RU",
                "home_area": "7495",
                "cost_column": "cost",
            },
        )
    assert response.status_code == 302
    page = client.get(reverse("admin:deals_desk", args=[deal.pk])).content.decode()
    # The request only kept the file: the desk says so and reloads until it is analysed.
    assert "Analysing cdrs.csv" in page and 'http-equiv="refresh"' in page
    assert "162 s" not in page
    from ringup.sales.deals.services import bills

    assert bills.analyse_pending(at=timezone.now()) == 1  # the worker's part
    page = client.get(reverse("admin:deals_desk", args=[deal.pk])).content.decode()
    assert "Analysing" not in page and 'http-equiv="refresh"' not in page
    assert "162 s" in page and "75%" in page  # ACD and ASR
    assert "data:image/svg+xml;base64," in page  # the chart

    with path.open("rb") as handle:
        bad = desk(deal, "cdrs", {"file": handle, "format": "asterisk", "country": "RU"})
    assert bad.status_code == 422

    summary = {
        "month-TOTAL_FORMS": 2,
        "month-INITIAL_FORMS": 0,
        "month-MIN_NUM_FORMS": 1,
        "month-MAX_NUM_FORMS": 24,
        "month-0-month": "2025-03",
        "month-0-local": 1000,
        "month-0-long_distance": 0,
        "month-0-mobile": 200,
        "month-0-international": 0,
        "month-0-toll_free": 0,
        "month-0-usage_charges": 2900,
        "month-0-line_rental": 4000,
        "month-1-month": "2025-4",
        "month-1-local": 800,
        "month-1-long_distance": 0,
        "month-1-mobile": 100,
        "month-1-international": 0,
        "month-1-toll_free": 0,
        "month-1-usage_charges": 2200,
    }
    assert desk(deal, "summary", summary).status_code == 422  # "2025-4" is no month
    summary["month-1-month"] = "2025-04"
    assert desk(deal, "summary", summary).status_code == 302
    assert (
        BillAnalysis.objects.filter(deal=deal, kind="summary").get().months[1]["month"] == "2025-04"
    )


def test_tco_form_defaults_from_the_deal_and_results_traceable(desk, make_deal, client):
    """10 employees, 4 lines: purchase 120 000 + 10 × 1 500 = 135 000, licences
    10 × 2 500 = 25 000, SIP trunk 4 × 1 200 = 4 800 a month, IT 4 + 1 = 5 hours."""
    deal = make_deal()
    defaults = on_premise_defaults(deal)
    assert (
        defaults["purchase"],
        defaults["licences"],
        defaults["line_rental_monthly"],
        defaults["it_hours_monthly"],
    ) == (
        Decimal(135_000),
        Decimal(25_000),
        Decimal(4_800),
        Decimal(5),
    )
    set_offer(deal, plan="office-pbx", employees=10)
    form = {**{k: str(v) for k, v in defaults.items()}, "years": 3, "discount_rate": "12"}
    assert desk(deal, "tco", form).status_code == 302
    deal.refresh_from_db()
    assert deal.tco_inputs["discount_rate"] == "12"
    page = client.get(reverse("admin:deals_desk", args=[deal.pk])).content.decode()
    assert "NPV at 12% a year" in page
    assert "IP-PBX purchase" in page or "PBX purchase" in page  # the input lines are shown
    assert desk(deal, "tco", {**form, "years": 9}).status_code == 422


def test_deployment_form_gives_a_score_and_reasons(desk, make_deal, client):
    deal = make_deal()
    answers = {
        "control": "low",
        "budget": "opex",
        "growth": "high",
        "remote_staff": "high",
        "sites": 3,
        "it_capacity": "low",
        "integrations": "cloud_apps",
        "recurring_revenue": "medium",
    }
    assert desk(deal, "deployment", answers).status_code == 302
    page = client.get(reverse("admin:deals_desk", args=[deal.pk])).content.decode()
    assert "Cloud PBX" in page and "score" in page
    assert desk(deal, "deployment", {**answers, "budget": "loan"}).status_code == 422


def _proposal_deal(make_deal, language="ru"):
    deal = make_deal(language=language, sites=2)
    set_offer(deal, plan="office-pbx", employees=10, options=("crm-integration",))
    analysed_bill(deal, at=timezone.now())
    from ringup.sales.deals.services.tco import save_tco_inputs, tco_form_initial

    save_tco_inputs(deal, tco_form_initial(deal))
    return deal


def test_proposal_page_in_the_customers_language(client, manager, make_deal):
    client.force_login(manager)
    ru = _proposal_deal(make_deal, "ru")
    page = client.get(reverse("admin:deals_proposal", args=[ru.pk])).content.decode()
    assert '<html lang="ru">' in page
    assert "Предложение для Mercury Insurance" in page
    assert "/signup/?plan=office-pbx&amp;employees=10&amp;options=crm-integration" in page
    en = _proposal_deal(lambda **kw: make_deal("Kvant", **kw), "en")
    page = client.get(reverse("admin:deals_proposal", args=[en.pk])).content.decode()
    assert "Proposal for Kvant" in page and "Keep every branch" in page


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="poppler-utils missing")
def test_proposal_pdf_renders_pages(client, manager, make_deal):
    client.force_login(manager)
    deal = _proposal_deal(make_deal, "ru")
    response = client.get(reverse("admin:deals_proposal_pdf", args=[deal.pk]))
    assert response["Content-Type"] == "application/pdf"
    pdf = response.content
    assert pdf.startswith(b"%PDF")
    SHOTS.mkdir(exist_ok=True)
    (SHOTS / "proposal-test.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "70", SHOTS / "proposal-test.pdf", SHOTS / "proposal-test"],
        check=True,
    )
    pages = sorted(SHOTS.glob("proposal-test-*.png"))
    assert len(pages) >= 3
    text = subprocess.run(
        ["pdftotext", SHOTS / "proposal-test.pdf", "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Предложение для Mercury Insurance" in text
    assert "Совокупная стоимость владения" in text


def test_share_link_works_without_login_until_it_expires(client, make_deal):
    deal = _proposal_deal(make_deal, "en")
    now = timezone.now()
    link = proposals.share(deal, days=7, at=now)
    url = reverse("deals:proposal", args=[link.token])
    assert not url.startswith("/admin/")
    assert client.get(url).status_code == 200
    assert client.get(reverse("deals:proposal_pdf", args=[link.token])).status_code == 200

    ProposalLink.objects.filter(pk=link.pk).update(expires_at=now - timedelta(seconds=1))
    gone = client.get(url)
    assert gone.status_code == 410
    assert "This link has expired" in gone.content.decode()
    assert client.get(reverse("deals:proposal", args=["no-such-token"])).status_code == 404


def test_share_link_days_are_bounded(desk, make_deal):
    deal = make_deal()
    assert desk(deal, "share", {"days": 0}).status_code == 422
    assert desk(deal, "share", {"days": 14}).status_code == 302
    link = ProposalLink.objects.get()
    assert link.expires_at - link.created_at == timedelta(days=14)
    assert len(link.token) == 43


def test_the_pages_need_staff(client, make_deal):
    deal = make_deal()
    move_deal(deal, "qualified", at=timezone.now())
    assert client.get(reverse("admin:deals_desk", args=[deal.pk])).status_code == 302
    assert client.get(reverse("admin:deals_proposal", args=[deal.pk])).status_code == 302
