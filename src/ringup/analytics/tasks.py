"""Celery wrappers for beat (``CELERY_BEAT_SCHEDULE``): the nightly recompute and the
monthly report on the 1st."""

from celery import shared_task
from django.utils import timezone

from .report import send_monthly_report
from .services.recompute import recompute


@shared_task(name="ringup.analytics.recompute")
def recompute_task() -> dict:
    """Recompute the aggregates of the history before today (the operator's zone)."""
    run = recompute(at=timezone.now())
    return {"until": run.until.isoformat(), "customers": run.customers}


@shared_task(name="ringup.analytics.send_monthly_report")
def send_monthly_report_task() -> dict:
    """E-mail last month's report, once per month."""
    sent = send_monthly_report(at=timezone.now())
    return {"sent": sent is not None, "month": sent.month.isoformat() if sent else None}


__all__ = ["recompute_task", "send_monthly_report_task"]
