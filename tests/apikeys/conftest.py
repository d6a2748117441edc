"""Fixtures for API keys: a staff owner, a key and its token, a customer to bill."""

from datetime import UTC, datetime

import pytest
from django.test import Client

from ringup.apikeys import services
from ringup.apikeys.models import ApiKey
from ringup.customers.models import Customer

CREATED = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user(
        "integrations", "it@operator.example", "pw-12345!", is_staff=True
    )


@pytest.fixture
def issued(owner):
    """``(key, token)``: a key for the CRM made at ``CREATED``, no expiry."""
    key = ApiKey(name="CRM", owner=owner)
    return key, services.issue(key, at=CREATED)


@pytest.fixture
def token(issued) -> str:
    return issued[1]


@pytest.fixture
def strict_client():
    """A client that checks CSRF as a browser-facing deployment does."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def customer(db):
    return Customer.objects.create(
        name="ООО «Ромашка»",
        email="office@romashka.example",
        tier="smb",
        employees=12,
        registered_at=datetime(2025, 1, 10, 9, tzinfo=UTC),
    )


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
