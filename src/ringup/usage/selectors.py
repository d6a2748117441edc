"""Reads of rated calls for the layers above (billing)."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from .models import UNBILLED, RatedCall

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
            UNBILLED, customer_id__in=list(customer_ids), start__gte=since, start__lt=until
        )
        .order_by("customer_id", "start", "pk")
        .values_list("customer_id", "pk", "start", "description", "billed_seconds", "cost")
    )
    for customer, pk, start, description, seconds, cost in rows:
        calls[customer].append(
            (pk, start, description, seconds, cost, description.startswith(INTERNATIONAL))
        )
    return calls
