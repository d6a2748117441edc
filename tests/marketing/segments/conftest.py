"""Hand-made customers with subscriptions, options, invoices, payments and calls."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ringup.billing.models import Invoice, Payment, Subscription, SubscriptionOption
from ringup.catalog.models import Option, Plan
from ringup.customers.models import Customer
from ringup.usage.models import CdrFile, RatedCall

# The instant every example is evaluated at: 1 June 2025, 12:00 UTC (15:00 in Moscow).
AT = datetime(2025, 6, 1, 12, tzinfo=UTC)


@pytest.fixture
def at():
    return AT


class Shop:
    """Writes the rows a segment reads, each dated relative to ``AT``."""

    def __init__(self):
        self._seq = 0

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def customer(self, name, *, tier="smb", registered_days_ago=100, **fields):
        fields.setdefault("email", f"{name.lower()}@example.com")
        return Customer.objects.create(
            name=name,
            tier=tier,
            registered_at=AT - timedelta(days=registered_days_ago),
            **fields,
        )

    def subscribe(self, customer, plan="office-pbx", *, status="active", days_ago=60, **fields):
        return Subscription.objects.create(
            customer=customer,
            plan=Plan.objects.get(code=plan),
            status=status,
            started_at=AT - timedelta(days=days_ago),
            billing_starts_on=(AT - timedelta(days=days_ago)).date(),
            **fields,
        )

    def option(self, subscription, code, *, days_ago=30, removed_days_ago=None):
        return SubscriptionOption.objects.create(
            subscription=subscription,
            option=Option.objects.get(code=code),
            added_at=AT - timedelta(days=days_ago),
            removed_at=None if removed_days_ago is None else AT - timedelta(days=removed_days_ago),
        )

    def invoice(self, customer, total, *, issued_at, status=Invoice.Status.FINALISED):
        total = Decimal(total)
        n = self._next()
        return Invoice.objects.create(
            customer=customer,
            period_start=issued_at - timedelta(days=30),
            period_end=issued_at,
            status=status,
            number=f"T-{n:06d}" if status == Invoice.Status.FINALISED else None,
            currency="RUB",
            issued_at=issued_at,
            due_at=issued_at + timedelta(days=10),
            net_amount=total,
            vat_amount=Decimal(0),
            total=total,
            vat_rate=Decimal(0),
            vat_included=True,
            buyer={"name": customer.name},
            created_at=issued_at,
        )

    def payment(self, customer, *, days_ago, amount="100.00"):
        at = AT - timedelta(days=days_ago)
        return Payment.objects.create(
            customer=customer,
            amount=Decimal(amount),
            currency="RUB",
            received_at=at,
            provider="manual",
            reference=f"ref-{self._next()}",
            created_at=at,
        )

    def call(self, customer, *, start, seconds):
        n = self._next()
        cdr_file, _ = CdrFile.objects.get_or_create(
            source="test",
            sha256="0" * 64,
            defaults={"path": "/dev/null", "token": "t", "claimed_at": AT},
        )
        return RatedCall.objects.create(
            source="test",
            cdr_id=f"call-{n}",
            cdr_file=cdr_file,
            customer=customer,
            start=start,
            duration=seconds,
            billed_seconds=seconds,
        )


@pytest.fixture
def shop(catalog):
    return Shop()


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_user("marketing", "mk@example.com", "pw-12345!")
    user.is_staff = True
    user.is_superuser = True
    user.save()
    client.force_login(user)
    return client


@pytest.fixture
def live_catalog(transactional_db):
    """The demo catalog committed, where the live server's thread sees it."""
    from ringup.demo.catalog import load_catalog

    return load_catalog()
