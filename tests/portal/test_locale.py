"""The portal in Russian: a customer whose browser asks for Russian (or who chose it with
the site's language switch) reads every page in Russian, dates and messages included."""

import pytest
from django.conf import settings
from django.urls import reverse

from ringup.catalog.models import Option, Plan, TrafficPackage

from ..wording import RU, english_wording


@pytest.fixture
def names(alice) -> set[str]:
    return {
        *Plan.objects.values_list("name", flat=True),
        *Option.objects.values_list("name", flat=True),
        *Option.objects.values_list("description", flat=True),
        *TrafficPackage.objects.values_list("name", flat=True),
        settings.OPERATOR_NAME,
        alice.name,
    } - {""}


def test_the_dashboard_in_russian(alice_client, names):
    """At 21 March 2025 the Office PBX period under way is 11 March – 10 April; its invoice
    is issued on 11 April, all written with Russian month names."""
    html = alice_client.get(reverse("portal:dashboard"), **RU).content.decode()
    assert '<html lang="ru">' in html
    for text in (
        "Обзор",
        "Счета",
        "Звонки",
        "Ваша услуга",
        "Стоимость сейчас",
        "Следующий счёт",
        "Баланс",
        "Сменить тариф или опции",
        "11 марта – 10 апреля 2025",
        "Выйти",
    ):
        assert text in html, text
    assert english_wording(html, names) == []
    for english in ("Overview", "Your service", "Next invoice", "Balance", "Log out"):
        assert english not in html, english


def test_invoices_usage_and_profile_in_russian(alice_client, alice, names):
    invoices = alice_client.get(reverse("portal:invoices"), **RU).content.decode()
    assert "К оплате" in invoices and "Период" in invoices
    invoice = alice.invoices.order_by("issued_at").last()
    page = alice_client.get(reverse("portal:invoice", args=[invoice.pk]), **RU).content.decode()
    assert f"Счёт {invoice.number}, клиент {alice.pk}" in page  # the transfer reference
    assert "Оплата банковским переводом" in page and "ИНН / КПП" in page
    usage = alice_client.get(reverse("portal:usage") + "?month=2025-03", **RU).content.decode()
    assert "Звонки — Март 2025" in usage and "Длительность" in usage
    profile = alice_client.get(reverse("portal:profile"), **RU).content.decode()
    assert "Контактные данные" in profile and "Язык писем и справки" in profile
    for html in (invoices, page, usage, profile):
        assert english_wording(html, names | {"Moscow local", "Russia mobile"}) == []


def test_messages_follow_the_language_cookie(alice_client):
    alice_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    response = alice_client.post(
        reverse("portal:profile"),
        {"name": "ООО Альфа", "phone": "", "language": "ru", "invoices": "on"},
        follow=True,
    )
    assert "Профиль сохранён." in response.content.decode()


def test_english_stays_the_default(alice_client, names):
    html = alice_client.get(reverse("portal:dashboard")).content.decode()
    assert '<html lang="en">' in html and "Your service" in html
    assert "Price now" in english_wording(html, names)
