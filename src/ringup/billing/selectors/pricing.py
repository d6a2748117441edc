"""Prices for billing, from the catalog's one pricing function."""

from ringup.catalog import services as catalog_services
from ringup.catalog.services import QuoteRequest
from ringup.engine import pricing
from ringup.engine.invoicing import Config
from ringup.engine.periods import Interval


def quote_request(config: Config, interval: Interval) -> QuoteRequest:
    """The calculator's request for ``config``: an invoice line and a quote line are the
    same computation."""
    return QuoteRequest(
        plan=config.plan,
        employees=config.employees,
        numbers=config.numbers,
        options=config.options,
        traffic_package=config.traffic_package,
        period=interval.value,
        discount_percent=config.discount_percent,
    )


class CatalogPricer:
    """An :class:`ringup.engine.invoicing.Pricer` over the catalog in force.

    Does what ``catalog.services.price`` does, but reads each plan's price list once and
    prices each distinct configuration once: a bill run prices a hundred thousand
    subscriptions that share a few thousand configurations.
    """

    def __init__(self):
        self._plans: dict[str, tuple] = {}
        self._quotes: dict[tuple[Config, Interval], pricing.Quote] = {}

    def _plan(self, code: str):
        if code not in self._plans:
            self._plans[code] = catalog_services.price_list(code)
        return self._plans[code]

    def quote(self, config: Config, interval: Interval) -> pricing.Quote:
        key = (config, interval)
        quote = self._quotes.get(key)
        if quote is None:
            _, price_list = self._plan(config.plan)
            selection = quote_request(config, interval).as_selection()
            quote = self._quotes[key] = pricing.price_quote(price_list, selection)
        return quote

    def plan_name(self, code: str) -> str:
        return self._plan(code)[0].name

    def plan(self, code: str):
        """The catalog plan (a copy) and its engine price list."""
        return self._plan(code)
