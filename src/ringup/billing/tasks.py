"""Celery wrappers of the billing services run by beat (``CELERY_BEAT_SCHEDULE``)."""

from celery import shared_task
from django.utils import timezone

from ringup.engine.periods import local_midnight

from .conf import billing_settings
from .services.dunning import run_dunning
from .services.invoicing import bill
from .services.subscriptions import advance_subscriptions


@shared_task(name="ringup.billing.bill")
def bill_task() -> dict:
    """Invoice every period that ended by the start of today (the operator's day)."""
    now = timezone.now()
    today = timezone.localtime(now, billing_settings().zone).date()
    until = local_midnight(today, billing_settings().zone)
    report = bill(until=until, at=now).as_dict()
    return {key: report[key] for key in ("invoices_created", "first_number", "last_number")}


@shared_task(name="ringup.billing.advance_subscriptions")
def advance_subscriptions_task() -> dict:
    return advance_subscriptions(at=timezone.now())


@shared_task(name="ringup.billing.dunning")
def dunning_task() -> dict:
    return run_dunning(at=timezone.now())


__all__ = ["advance_subscriptions_task", "bill_task", "dunning_task"]
