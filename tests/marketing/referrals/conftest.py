"""Fixtures for the referral program: a referrer entered by sales, the mail folder, and
running the program's consumers the way the worker does."""

from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.utils import timezone

from ringup.customers.models import Customer
from ringup.events.services import dispatch
from ringup.marketing.referrals.models import ReferralProgram

REGISTERED = datetime(2025, 1, 10, 9, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Sign-up rate limits live in the shared file cache: each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def mail_folder(settings, tmp_path):
    settings.RINGUP_MAIL_DIR = tmp_path / "mail"
    settings.EMAIL_BACKEND = "ringup.notifications.backends.MailFolderBackend"
    return settings.RINGUP_MAIL_DIR


@pytest.fixture
def program(db):
    """Percentage program: 7.5% of each payment for 12 months; 3 acquaintances earn 300,
    a named acquaintance who buys earns 500 more."""
    program = ReferralProgram.current()
    program.percentage = "7.50"
    program.save()
    return program


@pytest.fixture
def referrer(db, catalog):
    return Customer.objects.create(
        name="Ирина Соколова",
        email="Irina.Sokolova@example.com",
        phone="+79031112233",
        language="ru",
        tier="smb",
        registered_at=REGISTERED,
    )


CONSUMERS = ("referrals", "referrals-mail")


def deliver(*consumers: str) -> dict:
    """Run every due delivery to the program's consumers (or ``consumers``) now, as the
    worker would."""
    total = {"done": 0, "retried": 0, "dead": 0}
    while True:
        counts = dispatch(at=timezone.now(), consumers=consumers or CONSUMERS)
        for key, value in counts.items():
            total[key] += value
        if not any(counts.values()):
            return total
