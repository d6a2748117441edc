"""Reads of rated calls for the layers above (billing)."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from .models import RatedCall

# Destinations a traffic package's included minutes do not cover ("minutes to Russian
# numbers"): the deck's descriptions say which are international.
INTERNATIONAL = "International"


def billable_calls(
    customer_ids: Iterable[int], since: datetime, until: datetime
) -> dict[int, list[tuple]]:
    """Per customer, their rated, answered calls not billed yet that started in
    ``[since, until)``, oldest first:
    ``(id, start, description, billed_seconds, cost, international)``."""
    calls: dict[int, list[tuple]] = defaultdict(list)
    rows = (
        RatedCall.objects.filter(
            customer_id__in=list(customer_ids),
            reason="",
            start__gte=since,
            start__lt=until,
            billed_seconds__gt=0,  # unanswered calls cost nothing and make no line
            billed_invoice_id__isnull=True,
        )
        .order_by("customer_id", "start", "pk")
        .values_list("customer_id", "pk", "start", "description", "billed_seconds", "cost")
    )
    for customer, pk, start, description, seconds, cost in rows:
        calls[customer].append(
            (pk, start, description, seconds, cost, description.startswith(INTERNATIONAL))
        )
    return calls
