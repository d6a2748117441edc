"""Fixtures for billing: a customer, subscriptions started at fixed instants, staff."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ringup.billing.services.subscriptions import StartRequest, start_subscription
from ringup.customers.models import Customer

# Moscow is UTC+3 all year: local midnight of 1 March 2025 is 28 Feb 21:00 UTC.
MARCH_1 = datetime(2025, 2, 28, 21, tzinfo=UTC)
APRIL_1 = datetime(2025, 3, 31, 21, tzinfo=UTC)
MAY_1 = datetime(2025, 4, 30, 21, tzinfo=UTC)


@pytest.fixture
def customer(db):
    return Customer.objects.create(
        name="ООО «Ромашка»",
        email="office@romashka.example",
        phone="+74951234567",
        tier="smb",
        employees=12,
        registered_at=datetime(2025, 1, 10, 9, tzinfo=UTC),
    )


@pytest.fixture
def subscribe(catalog, customer):
    """Start a subscription with no trial: paid from the next local midnight."""

    def start(at=MARCH_1, *, who=None, trial=False, **choices):
        choices.setdefault("plan", "office-pbx")
        choices.setdefault("employees", 10)
        return start_subscription(who or customer, StartRequest(trial=trial, **choices), at=at)

    return start


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_user("billing", "billing@example.com", "pw-12345!")
    user.is_staff = True
    user.save()
    client.force_login(user)
    return client


def money(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))
