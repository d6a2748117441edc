"""The Russian catalogue: the compiled .mo matches its .po and covers every string, and the
public pages, quote and its PDF read in Russian for a Russian visitor."""

import shutil
import subprocess
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.utils import timezone

import ringup
from ringup.catalog import services
from ringup.catalog.models import Option, Plan, TrafficPackage

from ..wording import RU, english_wording

LOCALE = Path(ringup.__file__).parent / "locale" / "ru" / "LC_MESSAGES"


def _strings(catalog) -> dict:
    def plain(value):  # plural ids and strings come as lists from a .mo, tuples from a .po
        return tuple(value) if isinstance(value, list | tuple) else value

    return {plain(message.id): plain(message.string) for message in catalog if message.id}


def test_the_compiled_catalogue_is_the_current_one():
    """`pybabel compile -d src/ringup/locale -D django` after every .po change."""
    with (LOCALE / "django.po").open("rb") as po, (LOCALE / "django.mo").open("rb") as mo:
        source, compiled = read_po(po, locale="ru"), read_mo(mo)
    expected = {key: value for key, value in _strings(source).items() if value and any(value)}
    assert _strings(compiled) == expected


def test_every_sign_up_string_is_translated():
    with (LOCALE / "django.po").open("rb") as po:
        source = read_po(po, locale="ru")
    site_strings = [m for m in source if m.id and not m.string and m.id != "API"]
    # Only back-office validation messages of other apps may stay English.
    assert {m.id for m in site_strings} <= {
        "Must not be below the minimum.",
        "Choose either an option or a plan.",
        "Must be after the start.",
    }


# The public pages in Russian ------------------------------------------------------------


def catalogue_names() -> set[str]:
    """Catalogue data, which the operator writes in its own words: not translated here."""
    return {
        *Plan.objects.values_list("name", flat=True),
        *Plan.objects.values_list("tagline", flat=True),
        *Option.objects.values_list("name", flat=True),
        *Option.objects.values_list("description", flat=True),
        *TrafficPackage.objects.values_list("name", flat=True),
        settings.OPERATOR_NAME,
    } - {""}


@pytest.mark.django_db
def test_the_pricing_page_is_russian_for_a_russian_browser(client, catalog):
    """Office PBX for 12 employees with call recording: 890 + 12 × 75 + 12 × 49 = 2,378 a
    month, written the Russian way (non-breaking space between thousands, comma, ₽ last)."""
    query = "?plan=office-pbx&employees=12&options=call-recording-pro"
    html = client.get("/pricing/" + query, **RU).content.decode()
    assert '<html lang="ru">' in html
    for text in (
        "Тарифы",
        "Настройте тариф Office PBX",
        "Сотрудники",
        "Период оплаты",
        "Итого в месяц",
        "Ваша цена",
        "Сохранить и поделиться",
        "Попробовать бесплатно",
    ):
        assert text in html, text
    assert "2\xa0378,00\xa0₽" in html
    assert english_wording(html, catalogue_names()) == []
    assert "Configure" not in html and "Monthly total" not in html


@pytest.mark.django_db
def test_the_advisor_is_russian_with_the_language_cookie(client, catalog):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    blank = client.get("/advisor/").content.decode()
    assert "Какой тариф подойдёт вашей команде?" in blank
    assert "Здесь появится рекомендация" in blank
    assert "Запись разговоров" in blank  # the needs, labelled by the site
    assert english_wording(blank, catalogue_names()) == []
    answered = client.get(
        "/advisor/",
        {"employees": "12", "agents": "2", "calls_per_day": "40", "needs": ["call_recording"]},
    ).content.decode()
    for text in ("Наша рекомендация", "Почему", "Стоимость", "Открыть в калькуляторе"):
        assert text in answered, text
    # The advisor's reasons, with the figures grouped the Russian way: 40 calls × 3 min ×
    # 22 days = 2,640 minutes, which the 3,000-minute bundle covers.
    for reason in (
        "Сотрудников — 12, это больше, чем удобно обслуживать одним виртуальным номером",
        "Продавцов — 2: нужны простое распределение звонков",
        "Вы выбрали: запись разговоров — добавлено платной опцией",
        "Около 40 звонков в день × 3 мин × 22 рабочих дня ≈ 2\xa0640 мин в месяц: "
        "пакет на 3\xa0000 мин покроет их дешевле",
    ):
        assert reason in answered, reason
    assert "employees are more than" not in answered
    assert english_wording(answered, catalogue_names()) == []


@pytest.mark.django_db
def test_a_shared_quote_and_its_pdf_in_russian(client, catalog, artifacts):
    quote = services.create_quote(
        services.QuoteRequest(plan="office-pbx", employees=12, customer_name="ООО Ромашка"),
        at=timezone.now(),
    )
    html = client.get(f"/q/{quote.token}/", **RU).content.decode()
    assert "Коммерческое предложение" in html and "12 сотрудников" in html
    # The quote's random token is in its title; without a digit it would read as a word.
    assert english_wording(html, catalogue_names() | {quote.token}) == []
    response = client.get(f"/q/{quote.token}/pdf/", **RU)
    assert response.content.startswith(b"%PDF")
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext is missing (apt-get install poppler-utils)")
    pdf = artifacts / "quote-ru.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Коммерческое предложение" in text and "Условия" in text and "Страница 1 из" in text


@pytest.mark.django_db
def test_english_stays_the_default(client, catalog):
    html = client.get("/pricing/").content.decode()
    assert '<html lang="en">' in html and "Configure Office PBX" in html
    assert "Configure Office PBX" in english_wording(html, catalogue_names() - {"Office PBX"})
