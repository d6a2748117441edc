"""The ``money`` filter: amounts as the visitor's language writes them, via Babel."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

TEMPLATE = Template("{% load money %}{{ amount|money:currency }}")


def render(amount, currency: str, language: str) -> str:
    with translation.override(language):
        return TEMPLATE.render(Context({"amount": amount, "currency": currency}))


@pytest.mark.parametrize(
    ("amount", "currency", "language", "shown"),
    [
        (Decimal("1040"), "RUB", "en", "₽1,040.00"),
        ("-638.7", "RUB", "en", "-₽638.70"),
        (Decimal("1040"), "RUB", "ru", "1\xa0040,00\xa0₽"),
        (Decimal("19.5"), "EUR", "en", "€19.50"),
        (Decimal("19.5"), "EUR", "ru", "19,50\xa0€"),
    ],
)
def test_money_follows_the_language(amount, currency, language, shown):
    assert render(amount, currency, language) == shown


def test_pricing_page_speaks_the_visitors_language(client, catalog):
    html = client.get("/pricing/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "1\xa0040,00\xa0₽" in html


def test_something_that_is_not_an_amount_shows_nothing():
    assert render(None, "RUB", "en") == ""
