"""Acquaintances a customer names: the thank-you, and the bonus at ``invitations_needed``."""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from ringup.customers.models import Customer
from ringup.engine.pricing import SelectionError
from ringup.events.services import emit

from ..models import Invitation, ReferralProgram, Reward
from .codes import normalise_email, normalise_phone, same_phone
from .rewards import grant


class InvitationError(SelectionError):
    """Invitations that cannot be recorded; ``errors`` names the field."""


@dataclass(frozen=True)
class Acquaintance:
    """Someone a customer names: a name and an e-mail address or a phone number."""

    name: str
    email: str = ""
    phone: str = ""


def submit_invitations(
    customer: Customer, people: list[Acquaintance], *, at: datetime
) -> list[Invitation]:
    """Record the acquaintances ``customer`` names (one already named is skipped) and
    thank them; once they have named ``invitations_needed`` people they earn the
    invitation bonus, once. Raises :class:`InvitationError` naming
    ``invitations.<i>.<field>``; nothing is written then. Returns the new invitations."""
    rows, errors = [], {}
    own_email = normalise_email(customer.email)
    for index, person in enumerate(people):
        row, found = _invitation_row(customer, person, own_email, at)
        errors.update({f"invitations.{index}.{key}": msg for key, msg in found.items()})
        rows.append(row)
    if not people:
        errors["invitations"] = "name at least one acquaintance"
    if errors:
        raise InvitationError(errors)
    created = []
    with transaction.atomic():
        for row in rows:
            try:
                with transaction.atomic():
                    row.save()
                    created.append(row)
            except IntegrityError:
                continue  # named already
        if created:
            emit(
                "referral.invited",
                at=at,
                payload={
                    "referrer": {
                        "id": customer.pk,
                        "name": customer.name,
                        "email": customer.email,
                        "language": customer.language,
                    },
                    "invited": [row.name for row in created],
                },
                customer_id=customer.pk,
            )
        program = ReferralProgram.current()
        named = Invitation.objects.filter(referrer=customer).count()
        if program.is_active and named >= program.invitations_needed:
            grant(
                customer,
                kind=Reward.Kind.INVITATIONS,
                source_key=f"invitations:customer:{customer.pk}",
                amount=program.invitation_bonus,
                description=f"Referral bonus: {named} acquaintances named",
                at=at,
            )
    return created


def _invitation_row(
    customer: Customer, person: Acquaintance, own_email: str, at: datetime
) -> tuple[Invitation, dict[str, str]]:
    errors = {}
    name = person.name.strip()
    if not name:
        errors["name"] = "give the acquaintance's name"
    email = normalise_email(person.email) if person.email.strip() else ""
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = "not a valid e-mail address"
        if email == own_email:
            errors["email"] = "that is your own address"
    phone = ""
    if person.phone.strip():
        try:
            phone = normalise_phone(person.phone, customer.country)
        except ValueError:
            errors["phone"] = "not a valid phone number"
        if phone and same_phone(phone, customer.phone):
            errors["phone"] = "that is your own number"
    if not email and not phone and "email" not in errors and "phone" not in errors:
        errors["email"] = "give an e-mail address or a phone number"
    row = Invitation(referrer=customer, name=name[:200], email=email, phone=phone, created_at=at)
    return row, errors
