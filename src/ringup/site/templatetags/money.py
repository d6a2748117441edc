"""``{{ amount|money:currency }}``: an amount as the visitor's language writes it."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils import translation

from ringup.engine.money import format_money

register = template.Library()


@register.filter
def money(amount, currency: str) -> str:
    """Format ``amount`` (a Decimal or its string) in ``currency`` for the active language."""
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    return format_money(value, currency, translation.to_locale(translation.get_language() or "en"))
