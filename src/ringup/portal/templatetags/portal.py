"""Amounts and durations as the portal prints them."""

from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import timezone, translation

from ringup.engine.money import format_money

register = template.Library()


@register.filter
def money(amount, currency: str = "RUB") -> str:
    """``-581.94, "RUB"`` → ``−₽581.94`` in English, ``−581,94 ₽`` in Russian (the active
    language); empty for no amount. The minus is a real minus sign, as on the invoice."""
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    language = translation.to_locale(translation.get_language() or "en")
    return f"{'−' if value < 0 else ''}{format_money(abs(value), currency, language)}"


@register.filter
def duration(seconds) -> str:
    """``125`` → ``2:05``; ``3725`` → ``1:02:05``; empty for none."""
    if seconds is None or seconds == "":
        return ""
    minutes, rest = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{rest:02d}" if hours else f"{minutes}:{rest:02d}"


@register.filter
def last_day(end: datetime | None) -> date | None:
    """The last local day of a period ending (exclusive) at instant ``end``."""
    if end is None:
        return None
    return (timezone.localtime(end) - timedelta(days=1)).date()
