"""Win-backs in the demo history: some customers who cancelled come back months later on
the plan they left, through billing's own service, so the dashboard's MRR movements show
reactivations (MRR from a customer who paid before is a reactivation, not new MRR;
docs/metrics.md). Deterministic for a seed; a generator of its own leaves the rest of
the history as it was."""

from datetime import date, timedelta

import numpy as np
from django.utils import timezone

from ringup.billing.models import Subscription
from ringup.billing.services.subscriptions import StartRequest, start_subscription
from ringup.engine.periods import local_midnight

# Of the customers who cancelled at least EARLIEST days before the history's end, this
# share comes back between 45 and 120 days after leaving, a month or more before the end.
SHARE = 0.25
EARLIEST = timedelta(days=90)
GAP_DAYS = (45, 120)
LAST = timedelta(days=31)


def load_win_backs(*, until: date, seed: int) -> int:
    """Start the returning customers' new subscriptions; returns how many came back."""
    end = local_midnight(until, timezone.get_default_timezone())
    left = list(
        Subscription.objects.filter(
            status=Subscription.Status.CANCELLED, ended_at__lt=end - EARLIEST
        )
        .select_related("customer", "plan")
        .order_by("pk")
    )
    rng = np.random.default_rng([seed, 20251])
    back = rng.random(len(left)) < SHARE
    gaps = rng.integers(*GAP_DAYS, size=len(left), endpoint=True)
    count = 0
    for subscription, returns, gap in zip(left, back.tolist(), gaps.tolist(), strict=True):
        at = subscription.ended_at + timedelta(days=gap)
        if not returns or at >= end - LAST:
            continue
        request = StartRequest(
            plan=subscription.plan.code, employees=subscription.employees, trial=False
        )
        start_subscription(subscription.customer, request, at=at)
        count += 1
    return count
