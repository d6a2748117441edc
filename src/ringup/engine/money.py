"""Exact money: amounts are ``Decimal`` quantised to the currency's minor unit."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

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
