"""The sales desk's back-office pages in Russian: a manager whose browser asks for Russian
reads the pipeline, the new-deal form and the deal page (bill analysis, TCO, deployment
advice, risk flags, proposal links) in Russian, with Russian dates, numbers and money."""

import re
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.urls import reverse

from ringup.catalog.models import Option, Plan, TrafficPackage
from ringup.sales.deals import selectors
from ringup.sales.deals.services import bills, proposals
from ringup.sales.deals.services.deals import lose_deal, move_deal, set_offer
from ringup.sales.deals.services.tco import (
    save_deployment,
    save_tco_inputs,
    tco_form_initial,
)

from ...wording import RU, english_wording
from .conftest import NOW, analysed_bill

pytestmark = pytest.mark.django_db

DEPLOYMENT = {
    "control": "low",
    "budget": "opex",
    "growth": "high",
    "remote_staff": "medium",
    "sites": 2,
    "it_capacity": "low",
    "integrations": "cloud_apps",
    "recurring_revenue": "medium",
}

# What the English pages say: none of it may be left on the Russian ones.
ENGLISH = (
    "Deal pipeline",
    "New deal",
    "Create the deal",
    "No deals",
    "no owner",
    "anyone",
    "Stage and next step",
    "Move to",
    "Reason if lost",
    "The deal is closed",
    "Save offer",
    "No offer yet",
    "a month",
    "employees",
    "site",
    "line",
    "Bill analysis",
    "Their bill against ours",
    "Upload call records",
    "Analyse",
    "Only invoices?",
    "Add a month",
    "Risk flags",
    "No risk flags",
    "On-premise PBX against hosted",
    "Inputs",
    "Compute",
    "Defaults are typical",
    "Deployment advice",
    "Cloud PBX",
    "score",
    "Advise",
    "Open the proposal",
    "the customer's language",
    "Make a share link",
    "Valid until",
    "History",
    "Customer timeline",
    "Edit the deal's fields",
    "Home",
    "Owner",
    "Next step",
    "Contacts",
    "Subscription #",
)


class _Text(HTMLParser):
    """The text a reader sees (scripts and styles left out), and the page's main part."""

    def __init__(self):
        super().__init__()
        self.skip = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        for name, value in attrs:  # placeholders, titles and image descriptions are read too
            if name in ("placeholder", "title", "alt") and value and not self.skip:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def desk_part(html: str) -> str:
    """The page's title, breadcrumbs and main part: the admin's header and the side menu
    of every other app are theirs, not the desk's."""
    title = re.search(r"<title>.*?</title>", html, re.S).group(0)
    crumbs = re.search(r'<div class="breadcrumbs">.*?</div>', html, re.S).group(0)
    main = re.search(r"<main\b.*?</main>", html, re.S).group(0)
    return title + crumbs + main


def own_text(html: str, names: set[str]) -> str:
    """The desk's text without the names in it."""
    text = visible_text(desk_part(html))
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, " ")
    return text


def english_left(html: str, names: set[str]) -> list[str]:
    """English words anywhere in the desk's text once names are taken out (acronyms such
    as PDF, CSV, TCO and MRR read the same in both languages)."""
    return sorted(set(re.findall(r"\b(?=[A-Za-z]*[a-z])[A-Za-z]{3,}\b", own_text(html, names))))


@pytest.fixture
def manager(staff):
    """A sales manager (staff, may change deals) whose browser asks for Russian."""
    from django.contrib.auth.models import Permission

    user = staff("manager")
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="deals", codename__endswith="_deal")
    )
    return user


@pytest.fixture
def desk_deal(make_deal, manager):
    """Mercury Insurance at the qualified stage: an offer, its call records analysed, the
    TCO computed, deployment advice, a next step and a share link."""
    deal = make_deal(
        language="ru",
        sites=2,
        owner=manager,
        current_provider="Rostelecom",
        next_step="Call the CFO",
        next_step_on=date(2025, 6, 5),
        expected_mrr=Decimal("12500"),
    )
    at = NOW + timedelta(hours=1)
    move_deal(deal, "qualified", at=at, by=manager, note="Budget confirmed")
    set_offer(deal, plan="office-pbx", employees=10, options=("crm-integration",))
    analysed_bill(deal, at=at)
    deal.refresh_from_db()
    save_tco_inputs(deal, tco_form_initial(deal))
    save_deployment(deal, DEPLOYMENT)
    proposals.share(deal, days=30, at=at, by=manager)
    return deal


@pytest.fixture
def names(desk_deal, manager) -> set[str]:
    """What is not the desk's wording: what the operator and the sales manager write in
    their own words (the catalog, the prospect's and the contact's names, the manager's
    notes, the uploaded file's name), the rate deck's area names, the platforms' and the
    languages' own names and the share link."""
    reverse("admin:index")  # the URLconf names the admin site
    view = selectors.bill_view(selectors.latest_bill(desk_deal), charts_wanted=False)
    link = desk_deal.links.get()
    return {
        view.profile["home_area"],
        f"http://testserver{reverse('deals:proposal', args=[link.token])}",
        "Asterisk",
        "FreeSWITCH",
        "English",
        "E-mail",
        *Plan.objects.values_list("name", flat=True),
        *Option.objects.values_list("name", flat=True),
        *Option.objects.values_list("description", flat=True),
        *TrafficPackage.objects.values_list("name", flat=True),
        settings.OPERATOR_NAME,
        str(admin.site.site_title),
        desk_deal.customer.name,
        desk_deal.customer.email,
        "Irina Volkova",
        "cfo@mercury.example",
        "CFO",
        "Rostelecom",
        "Call the CFO",
        "Budget confirmed",
        "Severny Logistics",
        "in.csv",
        manager.get_username(),
    } - {""}


@pytest.fixture
def ru_client(client, manager):
    client.force_login(manager)
    return client


def _get(client, url) -> str:
    response = client.get(url, **RU)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="ru"' in html
    return html


def _assert_russian(html: str, names: set[str]) -> None:
    assert english_wording(desk_part(html), names) == []
    assert english_left(html, names) == []
    text = own_text(html, names)
    left = [phrase for phrase in ENGLISH if re.search(rf"\b{re.escape(phrase)}\b", text)]
    assert left == []


def test_the_pipeline_in_russian(ru_client, desk_deal, make_deal, names):
    lost = make_deal("Severny Logistics", lines=1, sites=1)
    lose_deal(lost, reason="competitor", at=NOW + timedelta(hours=2))
    html = _get(ru_client, reverse("admin:deals_pipeline"))
    for text in (
        "Воронка сделок",
        "Новая сделка",
        "Ответственный",
        "Этап",
        "Лид",
        "Квалификация",
        "Коммерческое предложение",
        "Пробный период",
        "Выиграна",
        "Проиграна",
        "Выбрали конкурента",
        "4 линии",
        "2 офиса",
        "1 линия",
        "1 офис",
        "12\xa0500,00\xa0₽",
        "5 июня",
        "Сделок нет.",
        "без ответственного",
    ):
        assert text in html, text
    _assert_russian(html, names)


def test_the_new_deal_form_in_russian(ru_client, names, catalog):
    html = _get(ru_client, reverse("admin:deals_new"))
    for text in (
        "Новая сделка",
        "Компания",
        "Название сделки",
        "Сотрудники",
        "Текущий оператор",
        "Ожидаемый MRR",
        "Создать сделку",
    ):
        assert text in html, text
    _assert_russian(html, names)

    refused = ru_client.post(reverse("admin:deals_new"), {"company": "", "lines": 0}, **RU)
    assert refused.status_code == 422
    html = refused.content.decode()
    assert "Обязательное поле." in html
    _assert_russian(html, names)

    created = ru_client.post(
        reverse("admin:deals_new"),
        {"company": "Atlas Dental", "tier": "smb", "employees": 5, "sites": 1, "lines": 2}
        | {"country": "RU", "language": "ru"},
        follow=True,
        **RU,
    )
    assert "Сделка «Atlas Dental» создана." in created.content.decode()


def test_the_deal_desk_in_russian(ru_client, desk_deal, names):
    html = _get(ru_client, reverse("admin:deals_desk", args=[desk_deal.pk]))
    for text in (
        "Воронка сделок",
        "10 сотрудников · 2 офиса · 4 линии сейчас",
        "Ответственный",
        "Следующий шаг",
        "на 5 июня 2025",
        "Этап и следующий шаг",
        "Перевести на этап",
        "Причина проигрыша",
        "Сохранить предложение",
        "в месяц",
        "Анализ счёта",
        "средний звонок (ACD)",
        "Загрузить детализацию звонков",
        "Признаки риска",
        "Совокупная стоимость владения (TCO)",
        "окупаемость",
        "Рекомендация по развёртыванию",
        "Облачная АТС",
        "Коммерческое предложение",
        "Создать ссылку для клиента",
        "Действует до",
        "История",
        "1 июня 2025",
        "12\xa0500,00\xa0₽",
    ):
        assert text in html, text
    _assert_russian(html, names)


def test_the_desks_messages_and_errors_in_russian(ru_client, desk_deal, names):
    def post(action, data):
        url = reverse("admin:deals_desk_action", args=[desk_deal.pk, action])
        return ru_client.post(url, data, follow=True, **RU)

    saved = post("next", {"owner": "", "next_step": "Demo", "next_step_on": "2025-06-09"})
    assert "Следующий шаг сохранён." in saved.content.decode()
    moved = post("stage", {"stage": "proposal"})
    assert "Сделка переведена на этап «Коммерческое предложение»." in moved.content.decode()

    refused = post("stage", {"stage": "lost"})
    assert refused.status_code == 422
    html = refused.content.decode()
    assert "Укажите, почему сделка проиграна." in html
    _assert_russian(html, names | {"Demo"})

    bad_month = post(
        "summary",
        {
            "month-TOTAL_FORMS": 1,
            "month-INITIAL_FORMS": 0,
            "month-MIN_NUM_FORMS": 1,
            "month-MAX_NUM_FORMS": 24,
            "month-0-month": "2025-4",
            "month-0-usage_charges": 100,
        },
    )
    assert bad_month.status_code == 422
    assert "Введите месяц в виде ГГГГ-ММ" in bad_month.content.decode()


def test_english_stays_the_default(client, desk_deal, manager):
    client.force_login(manager)
    html = client.get(reverse("admin:deals_desk", args=[desk_deal.pk])).content.decode()
    assert '<html lang="en"' in html
    assert "Stage and next step" in html and "Bill analysis" in html
    assert "Stage and next step" in english_wording(html, set())


def _dialer_calls(calls: int = 150) -> str:
    """An auto-dialer's day: one number every half minute, most calls 3 s long."""
    rows = ["id,account,src,dst,start,duration,cost"]
    for n in range(calls):
        hour, second = divmod(n * 30, 3600)
        rows.append(
            f"d{n},acc,74951230001,7495765{n:04d},2025-03-03T{9 + hour:02d}:"
            f"{second // 60:02d}:{second % 60:02d},{30 if n % 15 == 0 else 3},0.10"
        )
    return "\n".join(rows) + "\n"


def test_risk_flags_in_russian(ru_client, make_deal, manager, names):
    """150 calls, 140 of 3 s and 10 of 30 s: ACD 4.8 s, 93.3% short, 75 calls an hour on
    one channel — all three auto-dialer flags, critical together, figures in Russian."""
    deal = make_deal("Severny Logistics", owner=manager)
    path = Path(bills.bills_dir()) / "dialer.csv"
    path.write_text(_dialer_calls())
    with path.open("rb") as handle:
        bills.upload_cdrs(
            deal, handle, file_name="dialer.csv", format="generic", country="RU", at=NOW
        )
    bills.analyse_pending(at=NOW)
    html = _get(ru_client, reverse("admin:deals_desk", args=[deal.pk]))
    flags = re.findall(r'<div class="flag flag-(\w+)"><strong>(.*?)</strong> (.*?)</div>', html)
    assert [(severity, label) for severity, label, _ in flags] == [("critical", "Критично")] * 3
    texts = " ".join(text for _, _, text in flags)
    for text in ("4,8 с", "(звонков: 150; порог 20 с)", "140 из 150 (93,3%", "75,0"):
        assert text in texts, text
    _assert_russian(html, names | {"dialer.csv"})
