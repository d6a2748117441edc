"""Fixtures for promotions: the demo catalog, customers, subscriptions at fixed instants,
promotions and codes."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ringup.billing.services.subscriptions import StartRequest, start_subscription
from ringup.customers.models import Customer
from ringup.marketing.promotions.models import PromoCode, Promotion

# Moscow is UTC+3 all year: local midnight of 1 March 2025 is 28 Feb 21:00 UTC.
FEB_20 = datetime(2025, 2, 20, 9, tzinfo=UTC)
MARCH_1 = datetime(2025, 2, 28, 21, tzinfo=UTC)
APRIL_1 = datetime(2025, 3, 31, 21, tzinfo=UTC)
MAY_1 = datetime(2025, 4, 30, 21, tzinfo=UTC)
JUNE_1 = datetime(2025, 5, 31, 21, tzinfo=UTC)
JULY_1 = datetime(2025, 6, 30, 21, tzinfo=UTC)
D = Decimal


@pytest.fixture
def make_customer(db):
    made = []

    def make(name=None, **fields):
        index = len(made) + 1
        fields.setdefault("email", f"customer{index}@example.com")
        fields.setdefault("phone", f"+7495123{index:04d}")
        customer = Customer.objects.create(
            name=name or f"Customer {index}",
            tier=fields.pop("tier", "smb"),
            employees=10,
            registered_at=datetime(2025, 1, 10, 9, tzinfo=UTC),
            **fields,
        )
        made.append(customer)
        return customer

    return make


@pytest.fixture
def customer(make_customer):
    return make_customer("ООО «Ромашка»")


@pytest.fixture
def subscribe(catalog, customer):
    """Start a subscription with no trial (paid from the next local midnight): by default
    Office PBX, 10 employees, 1,640.00 a month (890 + 10 × 75), VAT 20% included."""

    def start(at=MARCH_1, *, who=None, trial=False, **choices):
        choices.setdefault("plan", "office-pbx")
        choices.setdefault("employees", 10)
        return start_subscription(who or customer, StartRequest(trial=trial, **choices), at=at)

    return start


@pytest.fixture
def promotion(db):
    def make(code: str | None = None, *, max_uses: int | None = None, **fields):
        fields.setdefault("name", "Spring")
        fields.setdefault("benefit", Promotion.Benefit.PERCENT)
        fields.setdefault("value", D("20"))
        fields.setdefault("created_at", FEB_20)
        # The discount itself; the control group has its own tests (test_control_group).
        fields.setdefault("holdout_percent", 0)
        promo = Promotion.objects.create(**fields)
        if code:
            PromoCode.objects.create(
                code=code, promotion=promo, max_uses=max_uses, created_at=FEB_20
            )
        return promo

    return make


def lines(invoice, kind=None) -> list[tuple]:
    rows = invoice.lines.order_by("position")
    if kind:
        rows = rows.filter(kind=kind)
    return list(rows.values_list("kind", "description", "quantity", "amount"))


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_user("promo", "promo@example.com", "pw-12345!")
    user.is_staff = True
    user.save()
    client.force_login(user)
    return client
