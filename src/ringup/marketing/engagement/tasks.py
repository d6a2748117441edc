"""Celery wrapper of the daily follow-up job, for beat (``CELERY_BEAT_SCHEDULE``)."""

from celery import shared_task
from django.utils import timezone

from .services.rules import run_daily


@shared_task(name="ringup.engagement.daily")
def daily_task() -> dict:
    """Reopen snoozed tasks, make the calls-dropped tasks, emit ``customer.inactive``."""
    return run_daily(timezone.now())


__all__ = ["daily_task"]
