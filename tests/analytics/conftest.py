"""Fixtures for the revenue analytics: customers and subscriptions at fixed instants
(Moscow is UTC+3 all year: local midnight of 1 March 2025 is 28 Feb 21:00 UTC)."""

from datetime import UTC, datetime, timedelta

import pytest

from ringup.billing.services.subscriptions import StartRequest, start_subscription
from ringup.customers.models import Customer

MARCH_1 = datetime(2025, 2, 28, 21, tzinfo=UTC)
APRIL_1 = datetime(2025, 3, 31, 21, tzinfo=UTC)
MAY_1 = datetime(2025, 4, 30, 21, tzinfo=UTC)
JUNE_1 = datetime(2025, 5, 31, 21, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def make_customer(db):
    def make(name="ООО «Ромашка»", tier="smb", registered=datetime(2025, 1, 10, 9, tzinfo=UTC)):
        return Customer.objects.create(
            name=name,
            email=f"{abs(hash(name))}@example.com",
            tier=tier,
            employees=12,
            registered_at=registered,
            email_verified_at=registered + timedelta(hours=1),
        )

    return make


@pytest.fixture
def start_sub(catalog):
    """Start a subscription (no trial by default: paid from the next local midnight)."""

    def start(customer, at=MARCH_1, *, trial=False, **choices):
        choices.setdefault("plan", "office-pbx")
        choices.setdefault("employees", 10)
        return start_subscription(customer, StartRequest(trial=trial, **choices), at=at)

    return start


@pytest.fixture
def analytics_staff(client, django_user_model):
    user = django_user_model.objects.create_user("cfo", "cfo@example.com", "pw-12345!")
    user.is_staff = True
    user.is_superuser = True
    user.save()
    client.force_login(user)
    return client
