"""Attribution of sign-ups to referrers, from the site's events: ``customer.registered``
(the sign-up and its ``referral_code``) records a :class:`Referral`;
``customer.email_verified`` links the new customer to it, whichever arrives first. Self-
referrals (same e-mail or phone) and rings are rejected with their reason."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q

from ringup.customers.models import Customer
from ringup.events.services import emit

from ..models import Invitation, Referral, ReferralCode, ReferralProgram
from .codes import code_for, normalise_email, same_phone


def record_signup(signup: dict, *, at: datetime) -> Referral | None:
    """Record the referral a sign-up (``customer.registered``'s ``payload.signup``)
    brought: by its referral code, or else by an acquaintance a customer named with the
    same e-mail or phone. ``None`` when it brought none. Recorded once per sign-up."""
    email = normalise_email(signup.get("email") or "")
    phone = signup.get("phone") or ""
    code = (signup.get("referral_code") or "").strip().upper()
    owner = ReferralCode.objects.filter(code=code).select_related("customer").first()
    invitation = _invitation_for(email, phone, owner.customer if owner else None)
    if owner is None and invitation is None:
        return None
    referrer = owner.customer if owner else invitation.referrer
    if owner is None:
        code = code_for(referrer, at=at).code
    with transaction.atomic():
        try:
            with transaction.atomic():
                referral = Referral.objects.create(
                    referrer=referrer,
                    signup_id=signup["id"],
                    code=code,
                    invitation=invitation,
                    email=email,
                    phone=phone,
                    at=at,
                )
        except IntegrityError:
            return Referral.objects.get(signup_id=signup["id"])
        if not ReferralProgram.current().is_active:
            return reject(referral, Referral.Reason.INACTIVE)
        reason = _self_referral(referral, referrer) or _ring(referral)
        if reason:
            return reject(referral, reason)
        # The e-mail may have been verified before this event arrived: the customer created
        # then, not an older one with the same address.
        customer = (
            Customer.objects.filter(email__iexact=signup.get("email") or "", registered_at__gte=at)
            .order_by("registered_at", "pk")
            .first()
        )
        if customer is not None and customer.pk != referrer.pk:
            return _join(referral, customer, at=customer.email_verified_at or at)
    return referral


def record_join(customer_id: int, *, at: datetime) -> Referral | None:
    """The customer's e-mail address was verified: link them to the referral their
    sign-up recorded and tell the referrer. ``None`` when they were not referred."""
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        return None
    with transaction.atomic():
        referral = (
            Referral.objects.select_for_update()
            .filter(
                email=normalise_email(customer.email),
                referred__isnull=True,
                status=Referral.Status.SIGNED_UP,
            )
            .order_by("at", "id")
            .first()
        )
        if referral is None:
            return None
        return _join(referral, customer, at=at)


def _join(referral: Referral, customer: Customer, *, at: datetime) -> Referral:
    referral.referred = customer
    referral.phone = referral.phone or customer.phone
    reason = _self_referral(referral, referral.referrer) or _ring(referral)
    if reason:
        return reject(referral, reason)
    referral.status, referral.joined_at = Referral.Status.JOINED, at
    referral.save(update_fields=["referred", "phone", "status", "joined_at"])
    # On the customer too, where the segments (a layer below) count referrals.
    Customer.objects.filter(pk=customer.pk).update(referrer=referral.referrer_id)
    emit(
        "referral.joined",
        at=at,
        payload=referral_payload(referral),
        customer_id=referral.referrer_id,
        key=f"referral.joined:{referral.pk}",
    )
    return referral


def _self_referral(referral: Referral, referrer: Customer) -> str:
    if normalise_email(referrer.email) == referral.email:
        return Referral.Reason.SAME_EMAIL
    if same_phone(referrer.phone, referral.phone):
        return Referral.Reason.SAME_PHONE
    return ""


def _ring(referral: Referral) -> str:
    """The customer who referred the referrer is the one referred now (A → B → A), by
    customer, e-mail address or phone: a second account of A counts as A."""
    upstream = (
        Referral.objects.filter(referred=referral.referrer_id)
        .exclude(status=Referral.Status.REJECTED)
        .select_related("referrer")
        .first()
    )
    if upstream is None:
        return ""
    origin = upstream.referrer
    if (
        origin.pk == referral.referred_id
        or normalise_email(origin.email) == referral.email
        or same_phone(origin.phone, referral.phone)
    ):
        return Referral.Reason.RING
    return ""


def reject(referral: Referral, reason: str) -> Referral:
    """Mark ``referral`` rejected for ``reason``: it earns nothing from then on, and the
    referred customer no longer counts as the referrer's."""
    referral.status, referral.reason = Referral.Status.REJECTED, reason
    referral.save(update_fields=["referred", "phone", "status", "reason"])
    if referral.referred_id is not None:
        Customer.objects.filter(pk=referral.referred_id, referrer=referral.referrer_id).update(
            referrer=None
        )
    return referral


def _invitation_for(email: str, phone: str, referrer: Customer | None) -> Invitation | None:
    """The oldest invitation naming this address or number (the given referrer's only,
    when the sign-up carried a code)."""
    match = Q(email=email) if email else Q(pk__in=[])
    if phone:
        match |= Q(phone=phone)
    found = Invitation.objects.filter(match)
    if referrer is not None:
        found = found.filter(referrer=referrer)
    return found.order_by("created_at", "id").first()


def referral_payload(referral: Referral, **extra) -> dict:
    referrer = referral.referrer
    return {
        "referral": {
            "id": referral.pk,
            "code": referral.code,
            "status": referral.status,
            "referred_id": referral.referred_id,
            "email": referral.email,
            "invited": referral.invitation_id is not None,
        },
        "referrer": {
            "id": referrer.pk,
            "name": referrer.name,
            "email": referrer.email,
            "language": referrer.language,
        },
        **extra,
    }
