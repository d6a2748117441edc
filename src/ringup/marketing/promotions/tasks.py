"""Celery wrappers of the promotions services run by beat (``CELERY_BEAT_SCHEDULE``)."""

from celery import shared_task
from django.utils import timezone

from .services import apply_automatic


@shared_task(name="ringup.promotions.apply_automatic")
def apply_automatic_task() -> int:
    """Apply the turnover and loyalty promotions due now (daily, before the bill run)."""
    return apply_automatic(at=timezone.now())


__all__ = ["apply_automatic_task"]
