"""Writes of the customer portal: the profile, e-mail choices, and the signed change a
customer previewed and then confirms."""

from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from django.db import transaction

from ringup.billing.services.subscriptions import KEEP, ChangeRequest
from ringup.customers.models import Customer
from ringup.marketing.mailings.services import set_consent

from .models import NotificationSettings

CHANGE_SALT = "ringup.portal.change"
# A preview stays valid this long: confirming later asks for a fresh preview, so nobody
# confirms a price computed long ago.
CHANGE_MAX_AGE = 15 * 60


def update_profile(customer: Customer, *, name: str, phone: str, language: str) -> Customer:
    """Save the customer's name, phone (E.164) and language."""
    customer.name = name
    customer.phone = phone
    customer.language = language
    customer.save(update_fields=["name", "phone", "language"])
    return customer


def save_notification_settings(
    customer: Customer, *, invoices: bool, trial_reminders: bool, product_news: bool, at: datetime
) -> NotificationSettings:
    """Store which e-mails the customer wants (one row per customer)."""
    with transaction.atomic():
        found, _ = NotificationSettings.objects.update_or_create(
            customer=customer,
            defaults={
                "invoices": invoices,
                "trial_reminders": trial_reminders,
                "product_news": product_news,
                "updated_at": at,
            },
        )
        # Marketing mailings honour the same choice.
        set_consent(customer, product_news=product_news, at=at)
    return found


class ChangeExpired(Exception):
    """The confirmed preview is too old, altered, or of another subscription."""


@dataclass(frozen=True)
class PreviewedChange:
    """A change exactly as the customer saw it previewed: applied at the preview's
    instant, it costs what the preview said."""

    subscription_id: int
    at: datetime
    request: ChangeRequest


def sign_change(subscription_id: int, request: ChangeRequest, at: datetime) -> str:
    data = {
        "subscription": subscription_id,
        "at": at.isoformat(),
        "plan": request.plan,
        "employees": request.employees,
        "numbers": request.numbers,
        "options": list(request.options) if request.options is not None else None,
        "period": request.period,
    }
    if request.traffic_package is not KEEP:  # absent: keep; null: remove the bundle
        data["package"] = request.traffic_package
    return signing.dumps(data, salt=CHANGE_SALT, compress=True)


def read_change(token: str, subscription_id: int) -> PreviewedChange:
    """The change signed by :func:`sign_change` for ``subscription_id``; raises
    :class:`ChangeExpired` for a token that is old, tampered with or for another one."""
    try:
        data = signing.loads(token, salt=CHANGE_SALT, max_age=CHANGE_MAX_AGE)
    except signing.BadSignature:
        raise ChangeExpired from None
    if data.get("subscription") != subscription_id:
        raise ChangeExpired
    options = data.get("options")
    return PreviewedChange(
        subscription_id=subscription_id,
        at=datetime.fromisoformat(data["at"]),
        request=ChangeRequest(
            plan=data.get("plan"),
            employees=data.get("employees"),
            numbers=data.get("numbers"),
            options=tuple(options) if options is not None else None,
            traffic_package=data.get("package", KEEP),
            period=data.get("period"),
        ),
    )
