"""The demo operator's PBX accounts: its live subscriptions provisioned through the outbox.

The generated history is written in bulk, without events; this emits, for each live
subscription, the event that would have created its account (``trial.started`` or
``subscription.started``, then ``subscription.suspended`` for a suspended one), keyed so
that running it again emits nothing. With the built-in demo PBX
(``RINGUP_PROVISIONING=demo``) the events are dispatched and the accounts created at once,
so the back office shows them right after ``ringup demo-data``; with a webhook the worker
delivers them.
"""

from dataclasses import dataclass, replace
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from ringup.billing.models import Subscription
from ringup.billing.services.events import publish, subscription_events
from ringup.events.services import dispatch
from ringup.provisioning.adapters import DemoAdapter
from ringup.provisioning.models import DemoPbxAccount
from ringup.provisioning.services import deliver_due

BATCH = 500
# Up to this many events the demo PBX's accounts are built before the command returns, so
# the back office shows them at once; a larger demo (a benchmark's 100,000 customers)
# leaves its events to the worker that ``ringup run`` starts.
DELIVER_NOW_UP_TO = 5_000
# The consumers that build the accounts; the rest (mail …) are the worker's to run.
CONSUMERS = ["provisioning", "usage-trial-limits"]


@dataclass(frozen=True)
class DemoProvisioning:
    events: int
    accounts: int
    queued: bool = False

    @property
    def message(self) -> str:
        if self.queued:
            return f"Provisioning: {self.events:,} events queued for the worker."
        return f"Provisioning: {self.events:,} events, {self.accounts:,} accounts on the demo PBX."


def provision_demo_accounts(*, at: datetime) -> DemoProvisioning:
    """Emit the account-creating events of every subscription live at ``at`` (once) and,
    with the demo PBX, deliver them now (up to ``DELIVER_NOW_UP_TO`` events)."""
    live = Subscription.objects.filter(started_at__lte=at).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=at)
    )
    rows = list(live.order_by("pk").values_list("pk", "status"))
    emitted = 0
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        trials = [(pk, at, {}) for pk, status in batch if status == Subscription.Status.TRIALING]
        paid = [(pk, at, {}) for pk, status in batch if status != Subscription.Status.TRIALING]
        suspended = [
            (pk, at, {}) for pk, status in batch if status == Subscription.Status.SUSPENDED
        ]
        with transaction.atomic():
            emitted += publish(
                subscription_events("trial.started", trials),
                subscription_events("subscription.started", paid),
                [
                    # A suspension may happen many times: this demo load's is keyed.
                    replace(emission, key=f"demo.subscription.suspended:{emission.subscription_id}")
                    for emission in subscription_events("subscription.suspended", suspended)
                ],
            )
    if emitted > DELIVER_NOW_UP_TO:
        return DemoProvisioning(events=emitted, accounts=0, queued=True)
    if settings.RINGUP_PROVISIONING.strip() == "demo":
        while dispatch(at=at, limit=BATCH, consumers=CONSUMERS)["done"]:
            pass
        while deliver_due(at=at, adapter=DemoAdapter(), limit=BATCH)["delivered"]:
            pass
    return DemoProvisioning(events=emitted, accounts=DemoPbxAccount.objects.count())
