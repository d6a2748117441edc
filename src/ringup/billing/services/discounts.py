"""Discounts granted on a subscription's recurring fees (promotions, loyalty discounts):
the marketing apps sit above billing and grant them through :func:`add_discount`; the
bill run puts them on invoices (``services.invoicing``, ``docs/billing.md``)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction

from ..models import Subscription, SubscriptionDiscount

Kind = SubscriptionDiscount.Kind


class DiscountRefused(ValueError):
    """The discount cannot be granted; ``errors`` maps each bad field to its message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass(frozen=True)
class NewDiscount:
    """``kind`` percent (``value`` ≤ 100), amount (off each period's recurring fees, in
    the subscription's currency) or free_months (``value`` months, whole); ``periods``
    discounted (``None``: all; ignored for free months); ``source`` identifies the grant."""

    kind: str
    value: Decimal
    description: str
    source: str
    periods: int | None = None


def _check(discount: NewDiscount) -> dict[str, str]:
    errors = {}
    if discount.kind not in Kind.values:
        errors["kind"] = f"must be one of {', '.join(Kind.values)}"
    elif discount.value <= 0:
        errors["value"] = "must be positive"
    elif discount.kind == Kind.PERCENT and discount.value > 100:
        errors["value"] = "a percentage is at most 100"
    elif discount.kind == Kind.FREE_MONTHS and discount.value != int(discount.value):
        errors["value"] = "free months are whole months"
    if discount.periods is not None and discount.periods < 1:
        errors["periods"] = "must be at least 1"
    if not discount.source:
        errors["source"] = "is required"
    return errors


def add_discount(
    subscription: Subscription | int, discount: NewDiscount, *, at: datetime
) -> SubscriptionDiscount:
    """Grant ``discount`` on the subscription's periods starting at or after ``at``.

    Insert-or-nothing on ``source``: granting the same source again returns the discount
    granted the first time. Raises :class:`DiscountRefused` naming a bad field."""
    errors = _check(discount)
    if errors:
        raise DiscountRefused(errors)
    pk = subscription if isinstance(subscription, int) else subscription.pk
    try:
        with transaction.atomic():
            return SubscriptionDiscount.objects.create(
                subscription_id=pk,
                kind=discount.kind,
                value=discount.value,
                periods=None if discount.kind == Kind.FREE_MONTHS else discount.periods,
                description=discount.description[:200],
                starts_at=at,
                source=discount.source,
                created_at=at,
            )
    except IntegrityError:
        existing = SubscriptionDiscount.objects.filter(source=discount.source).first()
        if existing is None:
            raise
        return existing
