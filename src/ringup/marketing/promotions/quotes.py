"""A promo code on a quote: the calculator, buy links and the quote API price through
``catalog.services.price``, which calls :func:`promo_quote` for a request with a code."""

from django.utils import timezone

from ringup.catalog import services as catalog
from ringup.engine import pricing

from .selectors import Purchase
from .services import PromotionRefused, check_code


def promo_quote(request: catalog.QuoteRequest, quote: pricing.Quote) -> pricing.Quote:
    """``quote`` with the first period's discount of ``request.promo_code`` as a line
    (``promo:CODE``); unchanged when the code does not apply to this selection."""
    purchase = Purchase(plan=request.plan, period=request.period, options=tuple(request.options))
    try:
        checked = check_code(request.promo_code, purchase, at=timezone.now(), quote=quote)
    except PromotionRefused:
        return quote
    names = ", ".join(p.name for p in checked.applied)
    return pricing.with_promotion(
        quote,
        f"promo:{checked.code.code}",
        f"Promo code {checked.code.code} ({names}), first period",
        checked.first_period_discount or 0,
    )


def register() -> None:
    catalog.set_promo_pricer(promo_quote)
