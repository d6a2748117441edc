"""Celery tasks of the sales desk: the background analysis of uploaded call records."""

from celery import shared_task
from django.utils import timezone

from .services.bills import analyse_pending


@shared_task(name="ringup.deals.analyse_bills")
def analyse_bills_task() -> int:
    """Analyse every bill waiting for it (sent after an upload commits, and by beat's
    sweep); returns how many were analysed."""
    return analyse_pending(at=timezone.now())
