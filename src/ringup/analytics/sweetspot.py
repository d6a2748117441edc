"""The sweet-spot report's data: each paying customer's revenue, termination cost and
call volume over a window, with what the sales team knows of them (lines, sites,
minimum spend, vertical), grouped by ``ringup.engine.sweetspot`` (docs/analytics.md).

- revenue: their finalised invoices issued in the window, without VAT;
- carrier: the termination cost of their rated calls started in the window, and the
  billed seconds of those calls;
- lines and sites: those of the won deal they came through, else the live subscription's
  employees (extensions) and one site;
- minimum spend: the monthly fee of the live subscription's traffic package (a
  guaranteed traffic payment), 0 without one;
- vertical: the customer's, "" when not known.

One currency at a time: customers whose invoices are in another are left out.
"""

from datetime import datetime, timedelta

import polars as pl
from django.db.models import Q, Sum

from ringup.billing.models import Invoice, Subscription
from ringup.customers.models import Customer
from ringup.engine import sweetspot
from ringup.sales.deals.models import Deal, Stage
from ringup.usage.models import RatedCall

from .services.extract import minor_units

WINDOWS = (30, 90, 180, 365)
PAYING = (Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE)


def customers(*, at: datetime, days: int, currency: str) -> pl.DataFrame:
    """One row per customer paying at ``at`` (the columns of ``engine.sweetspot``)."""
    since = at - timedelta(days=days)
    live = Subscription.objects.filter(
        status__in=PAYING, started_at__lte=at, plan__currency=currency
    ).filter(Q(ended_at__isnull=True) | Q(ended_at__gt=at))
    subscription = {}
    for customer_id, employees, package_fee in live.order_by(
        "customer_id", "-started_at"
    ).values_list("customer_id", "employees", "traffic_package__monthly_fee"):
        subscription.setdefault(customer_id, (employees, minor_units(package_fee, currency)))
    # The paying customers as a subquery, not a list of ids: an operator with many
    # customers would pass the database more parameters than it takes.
    paying = live.values("customer_id")
    revenue = dict(
        Invoice.objects.filter(
            customer_id__in=paying,
            status=Invoice.Status.FINALISED,
            currency=currency,
            issued_at__gte=since,
            issued_at__lt=at,
        )
        .values_list("customer_id")
        .annotate(total=Sum("net_amount"))
    )
    calls = {
        customer_id: (carrier, seconds)
        for customer_id, carrier, seconds in RatedCall.objects.filter(
            customer_id__in=paying, reason="", start__gte=since, start__lt=at
        )
        .values_list("customer_id")
        .annotate(Sum("carrier_cost"), Sum("billed_seconds"))
    }
    won = {
        customer_id: (lines, sites)
        for customer_id, lines, sites in Deal.objects.filter(
            customer_id__in=paying, stage=Stage.WON
        )
        .order_by("customer_id", "pk")
        .values_list("customer_id", "lines", "sites")
    }
    verticals = dict(Customer.objects.filter(pk__in=paying).values_list("pk", "vertical"))
    rows = []
    for customer_id, (employees, min_spend) in subscription.items():
        carrier, seconds = calls.get(customer_id, (None, None))
        lines, sites = won.get(customer_id, (employees, 1))
        rows.append(
            (
                customer_id,
                minor_units(revenue.get(customer_id), currency),
                minor_units(carrier, currency),
                int(seconds or 0),
                lines,
                sites,
                min_spend,
                verticals.get(customer_id, ""),
            )
        )
    return pl.DataFrame(
        rows,
        schema={
            "customer_id": pl.Int64,
            "revenue": pl.Int64,
            "carrier": pl.Int64,
            "seconds": pl.Int64,
            "lines": pl.Int64,
            "sites": pl.Int64,
            "min_spend": pl.Int64,
            "vertical": pl.Utf8,
        },
        orient="row",
    )


def report(*, at: datetime, days: int, currency: str) -> dict[str, list[sweetspot.Band]]:
    """Every dimension's bands for the customers paying at ``at``."""
    frame = customers(at=at, days=days, currency=currency)
    months = max(1, round(days / 30))
    return {dim: sweetspot.sweet_spot(frame, dim, months=months) for dim in sweetspot.DIMENSIONS}
