"""Celery wrappers around the referral services."""

from celery import shared_task
from django.utils import timezone

from . import services


@shared_task(name="ringup.referrals.claw_back_refunds")
def claw_back_refunds_task() -> int:
    """Take back rewards of credited invoices; returns how many clawbacks were written."""
    return len(services.claw_back_refunds(at=timezone.now()))
