"""Figures as the dashboard and the report print them, in the reader's language."""

from decimal import Decimal

from babel.numbers import format_decimal, format_percent
from django import template
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from ringup.engine.money import format_money

from ..selectors import KIND_LABELS, STAGE_LABELS, TIER_LABELS

register = template.Library()


def _language() -> str:
    return (get_language() or "en").split("-")[0]


@register.filter
def amount(value, currency: str = "") -> str:
    """``1698550.9, "RUB"`` → ``₽1,698,551`` (whole units: a dashboard, not an invoice);
    a dash for no figure."""
    if value is None or value == "":
        return "—"
    whole = Decimal(value).quantize(Decimal(1))
    text = format_money(whole, currency, _language()) if currency else str(whole)
    # Babel writes the minor digits; whole units read faster in a table of figures.
    for tail in (".00", ",00"):
        text = text.replace(tail, "")
    return text


@register.filter
def exact(value, currency: str) -> str:
    """The amount to the minor unit (ARPU, where kopecks matter)."""
    if value is None or value == "":
        return "—"
    return format_money(Decimal(value), currency, _language())


@register.filter
def count(value) -> str:
    if value is None or value == "":
        return "—"
    return format_decimal(value, format="#,##0", locale=_language())


@register.filter
def percent(value, digits: int = 1) -> str:
    """``0.0394`` → ``3.9%``; a dash for no figure."""
    if value is None or value == "":
        return "—"
    pattern = "#,##0." + "0" * int(digits) + "%" if int(digits) else "#,##0%"
    return format_percent(value, format=pattern, locale=_language())


@register.filter
def signed(value) -> str:
    """The sign of a change: "+", "−" or ""."""
    if value is None:
        return ""
    if value > 0:
        return "+"
    if value < 0:
        return "−"
    return ""


@register.filter
def magnitude(value):
    """The absolute value, for printing after :func:`signed`."""
    if value is None:
        return None
    return abs(value)


@register.filter
def points(change) -> str:
    """A change of a rate in percentage points: ``-0.0052`` → ``−0.5 pp``."""
    if change is None:
        return ""
    size = format_decimal(abs(change) * 100, format="#,##0.0", locale=_language())
    return signed(change) + _("%(points)s pp") % {"points": size}


@register.filter
def tier_label(code: str) -> str:
    return str(TIER_LABELS.get(code, code))


@register.filter
def stage_label(code: str) -> str:
    return str(STAGE_LABELS.get(code, code))


@register.filter
def kind_label(code: str) -> str:
    return str(KIND_LABELS.get(code, code))
