"""Customers' referral codes and links, and the normalised e-mail addresses and phone
numbers the abuse checks compare."""

import secrets
from datetime import datetime

import phonenumbers
from django.conf import settings
from django.db import IntegrityError, transaction

from ringup.customers.models import Customer

from ..models import ReferralCode

# No I, L, O, 0 or 1: a code read aloud or copied from paper is typed right.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 7


def normalise_email(email: str) -> str:
    """``email`` lower-cased, without a ``+tag``: ``Anna+promo@Example.com`` and
    ``anna@example.com`` are one person."""
    local, _, domain = email.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}" if local else email.strip().lower()


def normalise_phone(phone: str, region: str | None = None) -> str:
    """``phone`` in E.164; raises ``ValueError`` for something that is not a number."""
    try:
        number = phonenumbers.parse(phone, region or settings.RINGUP_PHONE_REGION)
    except phonenumbers.NumberParseException as error:
        raise ValueError(str(error)) from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def same_phone(first: str, second: str) -> bool:
    try:
        return bool(first and second) and normalise_phone(first) == normalise_phone(second)
    except ValueError:
        return False


def code_for(customer: Customer, *, at: datetime) -> ReferralCode:
    """The customer's code, created on first use (7 characters without look-alikes)."""
    existing = ReferralCode.objects.filter(customer=customer).first()
    if existing is not None:
        return existing
    for _ in range(10):
        code = new_code()
        try:
            with transaction.atomic():
                return ReferralCode.objects.create(customer=customer, code=code, created_at=at)
        except IntegrityError:
            # Either the code was taken (try another) or a concurrent call created the
            # customer's code first (return it).
            existing = ReferralCode.objects.filter(customer=customer).first()
            if existing is not None:
                return existing
    raise RuntimeError("no free referral code after 10 tries")


def new_code() -> str:
    """A random code: 7 of 31 characters, about 2.7 × 10¹⁰ codes."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def link_for(code: ReferralCode) -> str:
    return f"{settings.PUBLIC_URL}/?ref={code.code}"
