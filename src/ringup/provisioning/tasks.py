"""Celery wrapper of the delivery: sent after each recorded operation, swept by beat."""

from celery import shared_task
from django.utils import timezone

from .services import deliver_next


@shared_task(name="ringup.provisioning.deliver")
def deliver_task(limit: int = 100) -> dict:
    """Send due operations, each at the time it is sent (``services.deliver_next``)."""
    counts: dict[str, int] = {}
    for _ in range(limit):
        result = deliver_next(at=timezone.now())
        if result is None:
            break
        counts[result] = counts.get(result, 0) + 1
    else:
        deliver_task.delay(limit)  # more may be due: another task, not a longer one
    return counts


__all__ = ["deliver_task"]
