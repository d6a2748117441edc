"""Reads of minimum call commitments and the call spend measured against them."""

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from django.db.models import Q, Sum

from ringup.engine.invoicing import LATE_USAGE
from ringup.engine.money import ZERO

from ..conf import billing_settings
from ..models import Invoice, InvoiceLine, Subscription

# Line amounts have two decimal places; sums are brought back to them (SQLite adds up
# decimals in floating point).
CENT = Decimal("0.01")


def commitment_spend(
    since: datetime, until: datetime
) -> dict[int, tuple[Decimal, dict[str, Decimal]]]:
    """Per customer holding a live subscription with a minimum commitment at ``until``
    (started before it, not ended by it, ``Subscription.minimum_usage`` set): the monthly
    commitment (summed over such subscriptions) and, per month, their call spend.

    The spend is read from the finalised period invoices of those subscriptions whose
    period ended in ``[since, until)``: the sum of each invoice's usage lines, its own
    calls only (not the shortfall line, not the "Calls from earlier periods" lines of late
    calls; usage rows of an earlier period that arrived late share their destination's
    line, so they count here), as the lines are priced, before VAT is added — the footing
    the commitment is compared on when invoicing, so net of VAT where prices exclude it.
    An invoice without calls spends 0.00. Months are ``"YYYY-MM"`` of the invoice's period
    start in the operator's time zone; two invoices starting in one month add up. An
    annual invoice carries its year's calls under its first month, and a last period cut
    short its part-month's.

    A commitment has no start date, so a month counts only when its invoice was held to
    it: it carries the shortfall line, or its calls reached the subscription's
    commitment (an earlier invoice below it without the line predates the commitment).
    A customer with a commitment but no such invoice has an empty dict. Two queries.
    """
    live = Subscription.objects.filter(minimum_usage__isnull=False, started_at__lt=until).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=until)
    )
    found: dict[int, list] = {}
    for customer, commitment in live.values_list("customer_id", "minimum_usage"):
        entry = found.setdefault(customer, [ZERO, defaultdict(lambda: ZERO)])
        entry[0] += commitment
    if not found:
        return {}
    own_calls = Q(lines__kind=InvoiceLine.Kind.USAGE) & ~Q(
        lines__description__startswith=LATE_USAGE
    )
    invoices = (
        Invoice.objects.filter(
            status=Invoice.Status.FINALISED,
            reason=Invoice.Reason.PERIOD,
            period_end__gte=since,
            period_end__lt=until,
            subscription__in=live.values("pk"),
        )
        .annotate(
            calls=Sum("lines__amount", filter=own_calls),
            shortfall=Sum("lines__amount", filter=Q(lines__kind=InvoiceLine.Kind.COMMITMENT)),
        )
        .values_list(
            "customer_id", "period_start", "calls", "shortfall", "subscription__minimum_usage"
        )
    )
    zone = billing_settings().zone
    for customer, start, calls, shortfall, commitment in invoices:
        calls = (calls or ZERO).quantize(CENT)
        if shortfall is None and calls < commitment:
            continue  # billed before the commitment was signed
        month = start.astimezone(zone).strftime("%Y-%m")
        found[customer][1][month] += calls
    return {customer: (commitment, dict(spend)) for customer, (commitment, spend) in found.items()}
