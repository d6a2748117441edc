"""Celery wrapper of the nightly risk flags job, for beat (``CELERY_BEAT_SCHEDULE``)."""

from celery import shared_task
from django.utils import timezone

from .risk import compute_flags


@shared_task(name="ringup.margins.risk_flags")
def risk_flags_task() -> dict:
    """Recompute every customer's risk flags (replaces the stored ones)."""
    computed = compute_flags(at=timezone.now())
    return {"customers": computed.customers, "flags": computed.flags}


__all__ = ["risk_flags_task"]
