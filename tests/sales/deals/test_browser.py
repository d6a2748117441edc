"""A sales manager in a real Chromium: a new deal, the offer, the prospect's call records,
the TCO and deployment advice, then the proposal, its share link and its PDF.
Screenshots go to /tmp/deals-shots/."""

import re
import tempfile
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from ringup.demo.deals import generate_cdrs
from ringup.sales.deals.models import Deal, ProposalLink
from ringup.sales.deals.services import bills

pytestmark = pytest.mark.browser
# Screenshots and rendered PDFs, to look at.
SHOTS = Path(tempfile.gettempdir()) / "deals-shots"


@pytest.fixture
def manager(transactional_db):
    from ringup.demo.catalog import load_catalog

    load_catalog()
    return get_user_model().objects.create_superuser("irina", "irina@operator.example", "pw-12345!")


def logged_in(page, live_server, user):
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return page


def test_a_deal_from_bill_upload_to_the_pdf(live_server, manager, page, tmp_path):
    SHOTS.mkdir(exist_ok=True)
    cdrs = tmp_path / "mercury-cdrs.csv"
    generate_cdrs(cdrs, until=date(2025, 12, 1), months=4, calls_per_day=60, seed=3)
    logged_in(page, live_server, manager)

    page.goto(f"{live_server.url}/admin/deals/deal/new/")
    page.fill("#id_company", "Mercury Insurance")
    page.fill("#id_employees", "25")
    page.fill("#id_sites", "2")
    page.fill("#id_lines", "10")
    page.fill("#id_current_provider", "Rostelecom")
    page.select_option("#id_language", "en")
    page.fill("#id_contact_name", "Irina Volkova")
    page.fill("#id_contact_role", "CFO")
    page.click("text=Create the deal")
    expect(page.locator("h2.company")).to_contain_text("Mercury Insurance")
    deal = Deal.objects.get()

    page.select_option("#offer select[name=plan]", "office-pbx")
    page.fill("#offer input[name=employees]", "25")
    page.check("#offer input[value=crm-integration]")
    page.click("text=Save offer")
    expect(page.locator("#offer")).to_contain_text("a month")

    page.set_input_files("#id_file", str(cdrs))
    page.fill("#id_home_area", "7495")
    page.fill("#id_cost_column", "cost")
    page.fill("#id_line_rental", "9000")
    page.click("#bill button:has-text('Analyse')")
    # The upload returns at once; the analysis is a background worker's, run here.
    expect(page.locator("#bill .notice.analysing")).to_contain_text("Analysing mercury-cdrs.csv")
    page.locator("#bill").screenshot(path=SHOTS / "desk-bill-analysing.png")
    assert bills.analyse_pending(at=timezone.now()) == 1
    page.reload()
    expect(page.locator("#bill .figures")).to_contain_text("peak concurrent calls")
    expect(page.locator("#bill .comparison tfoot")).to_contain_text("Average a month")
    page.locator("#bill").screenshot(path=SHOTS / "desk-bill.png")

    page.click("#tco button:has-text('Compute')")
    expect(page.locator("#tco")).to_contain_text("payback")
    for name, value in {
        "control": "low",
        "budget": "opex",
        "growth": "high",
        "remote_staff": "medium",
        "it_capacity": "low",
        "integrations": "cloud_apps",
        "recurring_revenue": "medium",
    }.items():
        page.select_option(f"#deployment select[name={name}]", value)
    page.click("#deployment button:has-text('Advise')")
    expect(page.locator("#deployment .verdict")).to_contain_text("Cloud PBX")
    page.screenshot(path=SHOTS / "desk.png", full_page=True)

    for stage in ("qualified", "proposal"):
        page.select_option("#stage select[name=stage]", stage)
        page.click("#stage button:has-text('Move')")
    expect(page.locator(".stage-badge")).to_have_text("Proposal")

    page.click("text=Make a share link")
    link = ProposalLink.objects.get(deal=deal)
    page.goto(f"{live_server.url}/proposal/{link.token}/")
    expect(page.locator("h1")).to_have_text("Proposal for Mercury Insurance")
    # The offer, then the signed token that makes the trial this company's.
    offer = "http://127.0.0.1:8000/signup/?plan=office-pbx&employees=25&options=crm-integration"
    expect(page.locator(".try .cta")).to_have_attribute(
        "href", re.compile(re.escape(offer) + r"&deal=[^&]+$")
    )
    page.screenshot(path=SHOTS / "proposal-page.png", full_page=True)

    response = page.request.get(f"{live_server.url}/proposal/{link.token}/pdf/")
    assert response.headers["content-type"] == "application/pdf"
    (SHOTS / "proposal-browser.pdf").write_bytes(response.body())

    page.goto(f"{live_server.url}/admin/deals/deal/pipeline/")
    expect(page.locator(".column-proposal")).to_contain_text("Mercury Insurance")
    page.screenshot(path=SHOTS / "pipeline.png", full_page=True)
