"""Writes on customers: creating one from a verified self-service sign-up."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from ringup.catalog.models import Segment
from ringup.events.services import emit

from .models import Customer


@dataclass(frozen=True)
class NewCustomer:
    """A customer as a self-service sign-up knows them."""

    email: str
    phone: str
    language: str
    source: str
    tier: str = Segment.SMB
    employees: int = 1
    name: str = ""
    country: str = "RU"


def customer_payload(customer: Customer) -> dict:
    """The customer as events carry it (the events contract's ``customer`` object)."""
    return {
        "id": customer.pk,
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "account": customer.account,
        "language": customer.language,
        "country": customer.country,
    }


def create_verified_customer(new: NewCustomer, *, user, at: datetime) -> Customer:
    """Create the customer of ``user``, whose e-mail address was verified at ``at``, and
    emit ``customer.email_verified``. A user has at most one customer (``Customer.user``
    is one-to-one): a second call for the same user raises ``IntegrityError``."""
    with transaction.atomic():
        customer = Customer.objects.create(
            name=new.name or new.email,
            is_company=False,
            email=new.email,
            phone=new.phone,
            country=new.country,
            language=new.language,
            tier=new.tier,
            employees=new.employees,
            source=new.source,
            registered_at=at,
            email_verified_at=at,
            user=user,
        )
        emit(
            "customer.email_verified",
            at=at,
            payload={"customer": customer_payload(customer)},
            customer_id=customer.pk,
            key=f"customer.email_verified:{customer.pk}",
        )
    return customer
