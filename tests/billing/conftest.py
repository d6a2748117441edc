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


def installation_draft(customer, start: datetime, end: datetime):
    """A manual draft invoice for ``[start, end)``: one on-site installation line of
    6,000.00, VAT 20 % included (6,000 × 20 / 120 = 1,000.00); its totals are filled in
    when it is finalised."""
    from ringup.billing.models import Invoice, InvoiceLine

    draft = Invoice.objects.create(
        customer=customer,
        period_start=start,
        period_end=end,
        currency="RUB",
        issued_at=end,
        due_at=end,
        net_amount=0,
        vat_amount=0,
        total=0,
        vat_rate=20,
        vat_included=True,
        buyer={"name": customer.name},
        created_at=end,
    )
    InvoiceLine.objects.create(
        invoice=draft,
        position=1,
        kind="one_time",
        code="install",
        description="On-site installation",
        quantity=1,
        amount=6000,
        vat_amount=1000,
        total=6000,
    )
    return draft
