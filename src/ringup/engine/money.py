"""Exact money: amounts are ``Decimal`` quantised to the currency's minor unit."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, get_currency_symbol

#: Minor-unit exponent per supported currency (ISO 4217).
CURRENCY_EXPONENTS: dict[str, int] = {"RUB": 2, "EUR": 2, "USD": 2}

ZERO = Decimal(0)
HUNDRED = Decimal(100)


class MoneyError(ValueError):
    """An amount or currency that cannot be used for money."""


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of ``currency``, e.g. ``Decimal("0.01")`` for RUB."""
    try:
        return Decimal(1).scaleb(-CURRENCY_EXPONENTS[currency])
    except KeyError:
        raise MoneyError(f"unsupported currency {currency!r}") from None


def quantize(amount: Decimal | int | str, currency: str) -> Decimal:
    """Round ``amount`` half-up to the minor unit of ``currency``.

    Rounding happens once per line, here, so that totals are sums of rounded lines.
    """
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError):
        raise MoneyError(f"not an amount: {amount!r}") from None
    if not value.is_finite():
        raise MoneyError(f"not an amount: {amount!r}")
    return value.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def percent_of(amount: Decimal, percent: Decimal, currency: str) -> Decimal:
    """``percent`` % of ``amount``, rounded to the currency's minor unit."""
    return quantize(amount * percent / HUNDRED, currency)


@cache
def _locale_and_pattern(language: str, currency: str) -> tuple[Locale, str]:
    """The language's locale and currency pattern, with a symbol people recognise.

    CLDR's English data writes roubles as "RUB1,040.00"; the sign used at home (₽, taken
    from the currency's own country, whose code starts the ISO 4217 code) reads better on
    a price tag, while grouping and the sign's position stay the reader's.
    """
    try:
        locale = Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        locale = Locale("en")
    pattern = str(locale.currency_formats["standard"].pattern)
    if get_currency_symbol(currency, locale) != currency:
        return locale, pattern
    try:
        home = Locale.parse(f"und_{currency[:2]}")
    except (UnknownLocaleError, ValueError):
        return locale, pattern
    return locale, pattern.replace("¤", f"'{get_currency_symbol(currency, home)}'")


def format_money(amount: Decimal, currency: str, language: str) -> str:
    """``amount`` in ``currency`` as ``language`` writes it: ``1640, "RUB", "en"`` →
    ``₽1,640.00``; ``"ru"`` → ``1 640,00 ₽`` (Babel's CLDR data)."""
    locale, pattern = _locale_and_pattern(language or "en", currency)
    return str(format_currency(amount, currency, pattern, locale=locale))
