"""Celery wrappers: the scheduler (beat, every minute) and the sender."""

import time

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import services


@shared_task(name="ringup.mailings.schedule")
def schedule_task() -> dict[str, int]:
    """Create due runs, then send what is due (``services.schedule`` + ``send_task``)."""
    counts = services.schedule(at=timezone.now())
    send_task.delay()
    return counts


@shared_task(name="ringup.mailings.send")
def send_task() -> dict[str, int]:
    """Send due recipients for up to ``RINGUP_MAILINGS_SEND_SECONDS``, then hand over to a
    new task, so one long campaign never holds a worker past the broker's timeout."""
    deadline = time.monotonic() + settings.RINGUP_MAILINGS_SEND_SECONDS
    totals = {"sent": 0, "failed": 0, "retried": 0}
    while time.monotonic() < deadline:
        counts = services.send_due(at=timezone.now(), limit=settings.RINGUP_MAILINGS_BATCH)
        for name, value in counts.items():
            totals[name] += value
        if not sum(counts.values()):
            return totals
    send_task.delay()
    return totals


@shared_task(name="ringup.mailings.unsubscribe_mailbox")
def unsubscribe_mailbox_task() -> dict[str, int]:
    """Read the mailto's Maildir (``RINGUP_MAILINGS_UNSUBSCRIBE_MAILDIR``), if one is set."""
    folder = settings.RINGUP_MAILINGS_UNSUBSCRIBE_MAILDIR
    if not folder:
        return {"unsubscribed": 0, "ignored": 0}
    return services.read_unsubscribe_mailbox(folder, at=timezone.now())
