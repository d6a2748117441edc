"""Customers on the demo catalog at fixed instants, staff users, and hand-made calls.

Moscow is UTC+3 all year: 1 June 2025 00:00 local is 31 May 21:00 UTC.
"""

from datetime import UTC, datetime, timedelta

import pytest

from ringup.billing.services.subscriptions import StartRequest, start_subscription
from ringup.customers.models import Customer
from ringup.usage.models import CdrFile, RatedCall

STARTED = datetime(2025, 1, 10, 9, tzinfo=UTC)
NOW = datetime(2025, 6, 1, 9, tzinfo=UTC)


@pytest.fixture
def make_customer(db):
    def make(name="ООО «Ромашка»", *, language="ru", email=None, registered_at=STARTED):
        return Customer.objects.create(
            name=name,
            email=email or f"{name.lower().replace(' ', '.')}@example.com",
            phone="+74951234567",
            tier="smb",
            employees=5,
            language=language,
            registered_at=registered_at,
        )

    return make


@pytest.fixture
def subscribe(catalog):
    def start(customer, plan="office-pbx", *, at=STARTED, trial=False, **choices):
        choices.setdefault("employees", 5)
        return start_subscription(customer, StartRequest(plan=plan, trial=trial, **choices), at=at)

    return start


@pytest.fixture
def customer(make_customer, subscribe):
    customer = make_customer("Alpha Trading", language="en")
    customer.subscription = subscribe(customer)
    return customer


@pytest.fixture
def staff(django_user_model):
    def make(username="manager"):
        return django_user_model.objects.create_user(
            username, f"{username}@operator.example", "pw-12345!", is_staff=True
        )

    return make


@pytest.fixture
def calls(db):
    """``calls(customer, (start, seconds), …)``: rated calls as the CDR import stores them."""
    cdr_file = CdrFile.objects.create(
        source="pbx", path="hand-made.csv", sha256="0" * 64, token="t", claimed_at=STARTED
    )
    counter = iter(range(1, 1_000_000))

    def add(customer, *items):
        RatedCall.objects.bulk_create(
            RatedCall(
                source="pbx",
                cdr_id=f"c{next(counter)}",
                cdr_file=cdr_file,
                customer=customer,
                account="",
                start=start,
                duration=seconds,
                billed_seconds=seconds,
            )
            for start, seconds in items
        )

    return add


def days_before(at: datetime, days: float) -> datetime:
    return at - timedelta(days=days)


@pytest.fixture
def frozen(time_machine):
    """The clock of requests (``timezone.now()`` in views) stands at ``NOW``."""
    time_machine.move_to(NOW, tick=False)
    return NOW
