"""Self-service sign-up: register the lead, and on verification create the customer and
start the trial of the offer it carried.

The order a visitor goes through (docs/signup.md): the sign-up form → an SMS code
confirms the phone → a link e-mailed confirms the address. When the address is
confirmed the customer is created; when both are confirmed the trial starts, which the
events outbox hands to provisioning at once. A sign-up through a deal proposal's
"Try free" link completes the deal's prospect instead of creating a customer, and moves
the deal to the trial stage (ringup.sales.deals.services.trials).
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from smtplib import SMTPException

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from allauth.core import ratelimit
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from ringup.billing.services.subscriptions import StartRequest, start_subscription
from ringup.customers.models import Customer
from ringup.customers.services import NewCustomer, complete_prospect, create_verified_customer
from ringup.events.services import emit
from ringup.sales.deals.models import Deal
from ringup.sales.deals.services import trials

from . import offer as offers
from . import phones
from .models import Signup, phone_prefix

log = logging.getLogger(__name__)

EMAIL_TAKEN = _("This e-mail address has already been used for a trial.")
PHONE_TAKEN = _("This phone number has already been used for a trial.")


class SignupError(Exception):
    """The sign-up cannot be accepted; ``errors`` maps a field to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


class SignupRateLimited(Exception):
    """Too many sign-ups from this address or for numbers of this prefix."""


@dataclass(frozen=True)
class Registration:
    """What the sign-up form or the API collected, checked."""

    email: str
    phone: str
    language: str
    ip: str | None
    priced: offers.PricedOffer
    #: The deal of the proposal's "Try free" link the visitor came with, if valid.
    deal: Deal | None = None


#: The API's names of the offer's link parameters.
API_FIELDS = {"promo": "promo_code", "ref": "referral_code"}


def consume_prefix_limit(request, phone: str) -> bool:
    """Count one sign-up for numbers sharing ``phone``'s first 7 digits
    (``ACCOUNT_RATE_LIMITS["signup_phone_prefix"]``, in the shared cache): bulk-bought
    SIM cards come in runs of neighbouring numbers. ``False`` when exhausted."""
    return ratelimit.consume(request, action="signup_phone_prefix", key=phone_prefix(phone))


def register(user, registration: Registration, *, at: datetime) -> Signup:
    """Write the sign-up of ``user`` and emit ``customer.registered``. Raises
    ``IntegrityError`` when the e-mail address or phone already had a trial."""
    priced = registration.priced
    offer = priced.offer
    with transaction.atomic():
        signup = Signup.objects.create(
            user=user,
            email=registration.email,
            phone=registration.phone,
            language=registration.language,
            source=Customer.Source.SALES if registration.deal else offer.source,
            plan=priced.plan,
            period=offer.period,
            employees=offer.employees,
            extra_numbers=offer.extra_numbers,
            options=list(offer.options),
            traffic_package=offer.traffic_package,
            promo_code=offer.promo_code,
            referral_code=offer.referral_code,
            quote=offer.quote,
            ip=registration.ip,
            created_at=at,
        )
        if registration.deal is not None:
            trials.record_signup(registration.deal, user, at=at)
        emit(
            "customer.registered",
            at=at,
            payload={
                "signup": {
                    "id": signup.pk,
                    "email": signup.email,
                    "phone": signup.phone,
                    "language": signup.language,
                    "source": signup.source,
                    "plan": priced.plan.code,
                    "period": signup.period,
                    "options": signup.options,
                    "promo_code": signup.promo_code,
                    "referral_code": signup.referral_code,
                }
            },
            key=f"customer.registered:signup:{signup.pk}",
        )
    return signup


def register_by_api(request, fields: dict, *, at: datetime) -> Signup:
    """Sign up from the API: the same checks as the form, then the verification e-mail.

    ``fields``: email, phone, password, plan, and optionally options, employees, period,
    promo_code, referral_code. Raises :class:`SignupError` naming the field, or
    :class:`SignupRateLimited`.
    """
    if not ratelimit.consume(request, action="signup"):  # every attempt counts, per IP
        raise SignupRateLimited
    email = fields["email"].strip().lower()
    errors: dict[str, str] = {}
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = _("Enter a valid e-mail address.")
    try:
        phone = phones.normalise(fields["phone"])
    except ValidationError as error:
        errors["phone"] = error.messages[0]
        phone = ""
    User = get_user_model()
    try:
        validate_password(fields["password"], User(email=email))
    except ValidationError as error:
        errors["password"] = " ".join(error.messages)
    try:
        priced = offers.parse(
            {
                "plan": fields["plan"],
                "options": ",".join(fields.get("options") or ()),
                "employees": fields.get("employees"),
                "period": fields.get("period") or "monthly",
                "promo": fields.get("promo_code") or "",
                "ref": fields.get("referral_code") or "",
            },
            default_plan=fields["plan"],
        )
    except offers.OfferError as error:
        errors.update({API_FIELDS.get(k, k): v for k, v in error.errors.items()})
        priced = None
    if EmailAddress.objects.filter(email__iexact=email).exists() or taken(email=email):
        errors["email"] = EMAIL_TAKEN
    if phone and taken(phone=phone):
        errors["phone"] = PHONE_TAKEN
    if errors:
        raise SignupError(errors)
    if not consume_prefix_limit(request, phone):
        raise SignupRateLimited
    registration = Registration(email, phone, request.LANGUAGE_CODE, _ip(request), priced)
    try:
        with transaction.atomic():
            adapter = get_adapter(request)
            user = adapter.new_user(request)
            user.email = email
            user.set_password(fields["password"])
            adapter.populate_username(request, user)
            user.save()
            address = EmailAddress.objects.create(
                user=user, email=email, primary=True, verified=False
            )
            signup = register(user, registration, at=at)
    except IntegrityError as error:  # a racing sign-up took the address or number first
        raise SignupError(_taken_field(email, phone)) from error
    try:
        address.send_confirmation(request, signup=True)
    except (SMTPException, OSError):
        # The account stands; logging in sends the link again (allauth's login stage).
        log.exception("verification e-mail to %s not sent", email)
    return signup


def deal_of(data, *, at: datetime) -> tuple[Deal | None, str]:
    """The deal named by the ``deal`` token of a "Try free" link in ``data``, and the
    notice for the visitor when the token cannot be used (the sign-up then goes on as a
    normal one): ``(None, "")`` without a token."""
    token = data.get("deal") or ""
    if not token:
        return None, ""
    try:
        return trials.deal_of_token(token, at=at), ""
    except trials.TrialLinkRefused as error:
        return None, str(error)


def taken(*, email: str = "", phone: str = "") -> bool:
    """Whether a trial was already asked for with this address or number."""
    if email:
        return Signup.objects.filter(email__iexact=email).exists()
    return Signup.objects.filter(phone=phone).exists()


def _taken_field(email: str, phone: str) -> dict[str, str]:
    if taken(phone=phone):
        return {"phone": PHONE_TAKEN}
    return {"email": EMAIL_TAKEN}


def _ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _locked(user) -> Signup | None:
    return Signup.objects.select_for_update().select_related("plan").filter(user=user).first()


def email_verified(user, *, at: datetime) -> Signup | None:
    """The user's e-mail address was verified at ``at``: create their customer, and start
    the trial when the phone is confirmed too. Users who did not sign up for a trial
    (staff, customers invited by sales) are left alone (``None``)."""
    with transaction.atomic():
        signup = _locked(user)
        if signup is None or signup.customer_id is not None:
            return signup
        signup.email_verified_at = at
        signup.customer = _customer_of(
            user,
            NewCustomer(
                email=signup.email,
                phone=signup.phone,
                language=signup.language,
                source=signup.source,
                tier=signup.plan.segment,
                employees=signup.employees or signup.plan.min_employees,
            ),
            at=at,
        )
        signup.save(update_fields=["email_verified_at", "customer"])
        _start_trial_if_ready(signup, at)
    return signup


def _customer_of(user, new: NewCustomer, *, at: datetime) -> Customer:
    # A sign-up through a deal's trial link completes the deal's prospect while it is
    # still free; otherwise (or when a racing sign-up completed it first) it gets its own.
    prospect = trials.prospect_of(user)
    if prospect is not None:
        try:
            return complete_prospect(prospect, new, user=user, at=at)
        except IntegrityError:
            pass
    return create_verified_customer(new, user=user, at=at)


def phone_verified(user, *, at: datetime) -> Signup | None:
    """The user's phone was confirmed by its SMS code at ``at``; the trial starts if the
    e-mail address is verified already."""
    with transaction.atomic():
        signup = _locked(user)
        if signup is None or signup.phone_verified_at is not None:
            return signup
        signup.phone_verified_at = at
        signup.save(update_fields=["phone_verified_at"])
        _start_trial_if_ready(signup, at)
    return signup


def _start_trial_if_ready(signup: Signup, at: datetime) -> None:
    # Called with the sign-up row locked, so the trial starts once.
    if signup.customer is None or signup.phone_verified_at is None or signup.subscription_id:
        return
    plan = signup.plan
    signup.subscription = start_subscription(
        signup.customer,
        StartRequest(
            plan=plan.code,
            employees=signup.employees,
            numbers=plan.included_numbers + signup.extra_numbers if signup.extra_numbers else None,
            options=tuple(signup.options),
            traffic_package=signup.traffic_package or None,
            period=signup.period,
            trial=True,
            # A self-service trial ends by itself; paying is the customer's own step.
            trial_converts=False,
        ),
        at=at,
    )
    signup.save(update_fields=["subscription"])
    trials.trial_started(signup.user, signup.customer, at=at)


def phone_of(user) -> tuple[str, bool] | None:
    """``(phone, confirmed)`` of the user's sign-up; ``None`` without one."""
    signup = Signup.objects.filter(user=user).only("phone", "phone_verified_at").first()
    if signup is None:
        return None
    return signup.phone, signup.phone_verified_at is not None


def user_by_phone(phone: str):
    signup = Signup.objects.select_related("user").filter(phone=phone).first()
    return signup.user if signup else None
