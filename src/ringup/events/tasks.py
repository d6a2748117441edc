"""Celery wrapper of the dispatcher: sent after each commit that emits, and swept by beat."""

from celery import shared_task
from django.utils import timezone

from .services import dispatch


@shared_task(name="ringup.events.dispatch")
def dispatch_task(limit: int = 500) -> dict[str, int]:
    """Run the deliveries due now (``services.dispatch``); when ``limit`` were run, more
    may be due, so another task is sent rather than holding the worker."""
    counts = dispatch(at=timezone.now(), limit=limit)
    if sum(counts.values()) >= limit:
        dispatch_task.delay(limit)
    return counts


__all__ = ["dispatch_task"]
