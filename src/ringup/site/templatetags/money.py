"""``{{ amount|money:currency }}``: an amount as the visitor's language writes it."""

from decimal import Decimal, InvalidOperation
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, get_currency_symbol
from django import template
from django.utils import translation

register = template.Library()


@cache
def _locale_and_pattern(language: str, currency: str) -> tuple[Locale, str]:
    """The language's locale and currency pattern, with a symbol people recognise.

    CLDR's English data writes roubles as "RUB1,040.00"; the sign used at home (₽, taken
    from the currency's own country, whose code starts the ISO 4217 code) reads better on
    a price tag, while grouping and the sign's position stay the visitor's.
    """
    try:
        locale = Locale.parse(translation.to_locale(language))
    except (UnknownLocaleError, ValueError):
        locale = Locale("en")
    pattern = locale.currency_formats["standard"].pattern
    if get_currency_symbol(currency, locale) != currency:
        return locale, pattern
    try:
        home = Locale.parse(f"und_{currency[:2]}")
    except (UnknownLocaleError, ValueError):
        return locale, pattern
    return locale, pattern.replace("¤", f"'{get_currency_symbol(currency, home)}'")


@register.filter
def money(amount, currency: str) -> str:
    """Format ``amount`` (a Decimal or its string) in ``currency`` for the active language."""
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    locale, pattern = _locale_and_pattern(translation.get_language() or "en", currency)
    return format_currency(value, currency, pattern, locale=locale)
