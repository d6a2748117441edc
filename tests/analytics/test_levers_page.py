"""The ARPU levers back-office page: staff only, the lists with their figures, the three
actions, bad thresholds → 422; and a screenshot in a real browser."""

import os
import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from ringup.customers.models import CustomerScore
from ringup.marketing.engagement.models import FollowUpTask
from ringup.marketing.mailings.models import Mailing
from ringup.marketing.segments.models import Segment
from tests.marketing.segments.conftest import AT, Shop

from .test_levers import calls, on_office_pbx

PAGE = reverse("admin:analytics_levers")  # /admin/analytics/dashboard/levers/
SHOTS = Path(os.environ.get("RINGUP_LEVERS_SHOTS", Path(tempfile.gettempdir()) / "levers-shots"))

pytestmark = pytest.mark.django_db


def fill(shop):
    """A heavy caller (step-up), a firm without its peers' CRM integration (attach gap)
    and a high-value customer at risk."""
    calls(shop, on_office_pbx(shop, "Volga Logistics"), minutes_a_month=1900, price="2.00")
    for name in ["Amber Dental", "Baltic Print", "Cedar Law", "Delta Motors"]:
        sub = shop.subscribe(shop.customer(name), "office-pbx", employees=6)
        if name != "Delta Motors":
            shop.option(sub, "crm-integration")
    risky = shop.customer("Ural Steel", tier="enterprise")
    shop.subscribe(risky, "contact-centre")
    CustomerScore.objects.create(
        customer=risky,
        churn_risk=Decimal("0.3400"),
        clv=Decimal("148200.00"),
        currency="RUB",
        basis="sBG of enterprise",
        computed_at=AT,
    )


@pytest.fixture
def shop(catalog):
    return Shop()


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_user("cfo", "cfo@example.com", "pw-12345!")
    user.is_staff = user.is_superuser = True
    user.save()
    client.force_login(user)
    return client


@pytest.fixture
def at_AT():
    with time_machine.travel(AT, tick=False):
        yield


def test_page_shows_the_three_lists_with_their_figures(staff, shop, at_AT):
    fill(shop)
    page = staff.get(PAGE, {"risk": "30", "clv": "40000"}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    for words in [
        "Outgrown the cheapest plan",
        "Volga Logistics",
        "talks 1,900 min a month, 1,000 included",
        "Missing what their peers buy",
        "3 of 5 Small &amp; medium business peers have CRM integration",
        "Delta Motors",
        "High value at risk",
        "churn risk 34 %, CLV ₽148,200.00: ₽50,388.00 at stake",
        "Make a segment",
    ]:
        assert words in html, words


def test_default_thresholds_fill_the_form(staff, shop, at_AT):
    """One score (34 %, 148,200 ₽): its own quartiles, 34 % and 148,000 ₽ → listed."""
    fill(shop)
    html = staff.get(PAGE).content.decode()
    assert 'name="risk" type="text" inputmode="decimal" size="6" value="34"' in html
    assert 'value="148000"' in html
    assert "Ural Steel" in html


def test_bad_threshold_is_422_naming_the_field(staff, shop, at_AT):
    page = staff.get(PAGE, {"risk": "140"})
    assert page.status_code == 422
    assert page.context["error"].field == "risk"


def test_actions_make_a_segment_a_draft_mailing_and_tasks(staff, shop, at_AT):
    fill(shop)
    made = staff.post(f"{PAGE}attach-gap/segment/")
    segment = Segment.objects.get()
    assert made.status_code == 302
    assert made.url == f"/admin/segments/segment/{segment.pk}/change/"
    drafted = staff.post(f"{PAGE}attach-gap/mailing/")
    mailing = Mailing.objects.get()
    assert drafted.url == f"/admin/mailings/mailing/{mailing.pk}/change/"
    assert staff.post(f"{PAGE}at-risk/tasks/", {"risk": "30", "clv": "40000"}).url == PAGE
    task = FollowUpTask.objects.get()
    assert (task.customer.name, task.assignee.username) == ("Ural Steel", "cfo")
    staff.post(f"{PAGE}at-risk/tasks/", {"risk": "30", "clv": "40000"})
    assert FollowUpTask.objects.count() == 1


def test_actions_are_post_only_and_for_staff(client, staff, shop):
    assert staff.get(f"{PAGE}step-up/segment/").status_code == 405
    assert staff.post(f"{PAGE}nope/segment/").status_code == 404
    client.logout()
    assert client.get(PAGE).status_code == 302  # to the admin login


@pytest.fixture
def live_shop(transactional_db):
    """The demo catalog committed, where the live server's thread sees it."""
    from ringup.demo.catalog import load_catalog

    load_catalog()
    return Shop()


@pytest.mark.browser
def test_screenshot_in_browser(live_server, page, live_shop, django_user_model):
    """The page in Chromium, filled, at 1280 px: /tmp/levers-shots/levers.png."""
    fill(live_shop)
    for n in range(12):
        sub = live_shop.subscribe(live_shop.customer(f"Firm {n:02d}"), "office-pbx")
        if n < 9:
            live_shop.option(sub, "crm-integration")
    django_user_model.objects.create_superuser("cfo", "cfo@example.com", "pw-12345!")
    with time_machine.travel(AT + timedelta(hours=1), tick=False):
        page.goto(f"{live_server.url}/admin/login/?next={PAGE}")
        page.fill("#id_username", "cfo")
        page.fill("#id_password", "pw-12345!")
        page.click("input[type=submit]")
        page.goto(f"{live_server.url}{PAGE}?risk=30&clv=40000")
        assert page.locator("section.lever").count() == 3
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "levers.png"), full_page=True)
        page.context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "ru", "url": live_server.url}]
        )
        page.goto(f"{live_server.url}{PAGE}?risk=30&clv=40000")
        page.screenshot(path=str(SHOTS / "levers-ru.png"), full_page=True)
