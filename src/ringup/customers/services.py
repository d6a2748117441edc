"""Writes on customers: creating one from a verified self-service sign-up, or completing
a sales prospect from one."""

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction

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


def complete_prospect(prospect: Customer, new: NewCustomer, *, user, at: datetime) -> Customer:
    """Give a prospect entered by the sales team the login of ``user`` and the e-mail
    address and phone their sign-up verified at ``at``, and emit
    ``customer.email_verified``. The prospect keeps its name, segment and source; a
    prospect that got a login meanwhile raises ``IntegrityError`` (``Customer.user`` is
    one-to-one), so a racing second sign-up cannot take it over."""
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=prospect.pk)
        if customer.user_id is not None:
            raise IntegrityError(f"customer {customer.pk} already has a login")
        customer.user = user
        customer.email, customer.phone = new.email, new.phone
        customer.email_verified_at = at
        customer.save(update_fields=["user", "email", "phone", "email_verified_at"])
        emit(
            "customer.email_verified",
            at=at,
            payload={"customer": customer_payload(customer)},
            customer_id=customer.pk,
            key=f"customer.email_verified:{customer.pk}",
        )
    return customer
