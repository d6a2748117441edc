"""The usage consumer of trial events: a customer's calls are restricted while on trial."""

from decimal import Decimal

from django.conf import settings

from ringup.customers.models import Customer
from ringup.events.registry import consumer

from .models import CallRestriction

RESTRICT = "trial.started"
LIFT = {"subscription.started", "subscription.ended"}


@consumer("usage-trial-limits", kinds=[RESTRICT, *sorted(LIFT)])
def on_trial_event(event) -> None:
    """A trial start restricts the customer's calls with the configured limits (as
    provisioned); its conversion to a paid subscription, or its end, lifts them."""
    if event.subscription_id is None or event.customer_id is None:
        raise ValueError(f"{event.kind} #{event.id} names no customer or subscription")
    if not Customer.objects.filter(pk=event.customer_id).exists():
        return  # no such customer: none of their calls can be attached, nothing to restrict
    if event.kind == RESTRICT:
        CallRestriction.objects.bulk_create(
            [
                CallRestriction(
                    customer_id=event.customer_id,
                    subscription_id=event.subscription_id,
                    credit_cap=Decimal(settings.RINGUP_TRIAL_CREDIT_CAP),
                    allowed_prefixes=list(settings.RINGUP_TRIAL_ALLOWED_PREFIXES),
                    blocked_prefixes=list(settings.RINGUP_TRIAL_BLOCKED_PREFIXES),
                    since=event.at,
                )
            ],
            ignore_conflicts=True,  # insert-or-nothing: a lift may have come first
        )
        return
    restriction, created = CallRestriction.objects.get_or_create(
        subscription_id=event.subscription_id,
        defaults={
            "customer_id": event.customer_id,
            "credit_cap": Decimal(0),
            "since": event.at,
            "lifted_at": event.at,
        },
    )
    if not created and restriction.lifted_at is None:
        restriction.lifted_at = event.at
        restriction.save(update_fields=["lifted_at"])
