"""Money and quantities as printed on invoices."""

from decimal import Decimal

from babel.numbers import format_decimal
from django import template

register = template.Library()


@register.filter
def money(value) -> str:
    """``34075`` → ``34,075.00``; empty for no amount."""
    if value is None or value == "":
        return ""
    return format_decimal(Decimal(value), format="#,##0.00", locale="en")


@register.filter
def quantity(value) -> str:
    """Whole quantities without decimals, minutes with two."""
    value = Decimal(value)
    if value == value.to_integral_value():
        return format_decimal(value, format="#,##0", locale="en")
    return format_decimal(value, format="#,##0.00", locale="en")
