"""What billing's domain events carry: the customer and the subscription as they stand."""

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import datetime

from django.db.models import Q

from ringup.customers.models import Customer

from ..models import Subscription, SubscriptionOption

FIELDS = {
    "id": "id",
    "plan__code": "plan",
    "status": "status",
    "period": "period",
    "employees": "employees",
    "numbers": "numbers",
    "traffic_package__code": "traffic_package",
    "trial_ends_at": "trial_ends_at",
    "trial_converts": "trial_converts",
    "started_at": "started_at",
    "ended_at": "ended_at",
}
CUSTOMER_FIELDS = ("id", "name", "email", "phone", "account", "language", "country")


def snapshots(items: Iterable[tuple[int, datetime]]) -> dict[int, dict]:
    """For ``(subscription id, instant)`` pairs, the payload every subscription event
    carries: ``{"customer": {…}, "subscription": {…, "options": [codes]}}`` with the
    options held at that instant (for a subscription that has ended by then, those it
    held when it ended). Two queries, whatever the number of subscriptions."""
    wanted = dict(items)
    if not wanted:
        return {}
    rows = Subscription.objects.filter(_among("pk", wanted)).values(
        *FIELDS, *(f"customer__{name}" for name in CUSTOMER_FIELDS)
    )
    held: dict[int, list[tuple]] = defaultdict(list)
    for sub, code, added, removed in SubscriptionOption.objects.filter(
        _among("subscription_id", wanted)
    ).values_list("subscription_id", "option__code", "added_at", "removed_at"):
        held[sub].append((code, added, removed))
    found = {}
    for row in rows:
        if row["id"] not in wanted:
            continue
        key, at, ended = row["id"], wanted[row["id"]], row["ended_at"]
        options = sorted(
            code
            for code, added, removed in held[key]
            if added <= at and (removed is None or removed > at or removed == ended)
        )
        found[key] = {
            "customer": {name: row[f"customer__{name}"] for name in CUSTOMER_FIELDS},
            "subscription": {
                **{name: row[field] for field, name in FIELDS.items()},
                "options": options,
            },
        }
    return found


def _among(field: str, ids: Collection[int]) -> Q:
    """A filter on ``field`` matching at least ``ids``: their range when they are dense (a
    bill run's chunk of consecutive subscriptions), which spares binding thousands of
    parameters; callers drop the rows in the range they did not ask for."""
    low, high = min(ids), max(ids)
    if high - low < 2 * len(ids):
        return Q(**{f"{field}__gte": low, f"{field}__lte": high})
    return Q(**{f"{field}__in": list(ids)})


def customer_snapshots(customer_ids: Iterable[int]) -> dict[int, dict]:
    """``{"customer": {…}}`` for events about a customer rather than a subscription (a
    failed payment, an invoice without a subscription); one query."""
    return {
        row["id"]: {"customer": row}
        for row in Customer.objects.filter(pk__in=list(set(customer_ids))).values(*CUSTOMER_FIELDS)
    }
