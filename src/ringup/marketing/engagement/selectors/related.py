"""Related products in context: what to offer a customer next, from what they have."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from ringup.billing.models import Subscription, SubscriptionOption
from ringup.catalog.selectors import related_products
from ringup.customers.models import Customer


@dataclass(frozen=True)
class Suggestion:
    """A product to offer: ``kind`` "option" or "plan", its code, name, one-line pitch and
    monthly fee; ``subscription_id`` is the subscription it would join (or replace the
    plan of)."""

    kind: str
    code: str
    name: str
    pitch: str
    monthly_fee: Decimal
    currency: str
    subscription_id: int

    def as_dict(self) -> dict:
        """Plain JSON values (the fee as a string), as mailings and the API carry it."""
        return {
            "kind": self.kind,
            "code": self.code,
            "name": self.name,
            "pitch": self.pitch,
            "monthly_fee": str(self.monthly_fee),
            "currency": self.currency,
            "subscription_id": self.subscription_id,
        }


def live_subscriptions(customer_id: int, at: datetime) -> list[Subscription]:
    """The customer's subscriptions that have not ended at ``at`` and are not cancelled."""
    return list(
        Subscription.objects.filter(customer_id=customer_id)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=at))
        .exclude(status=Subscription.Status.CANCELLED)
        .select_related("plan")
        .order_by("pk")
    )


def related_for(customer: Customer | int, *, at: datetime, limit: int = 3) -> list[Suggestion]:
    """Up to ``limit`` products related to the plans the customer is on at ``at`` that
    they do not own yet (an option already on the subscription, or the plan they are
    already on, is never offered), valid at ``at``.

    The catalog's weighted rotation orders them, seeded by customer and day: a customer
    sees the same suggestions all day, the audience sees every product in proportion to
    its weight.
    """
    customer_id = customer if isinstance(customer, int) else customer.pk
    subscriptions = live_subscriptions(customer_id, at)
    if not subscriptions:
        return []
    owned_options = set(
        SubscriptionOption.objects.filter(subscription__in=subscriptions, added_at__lte=at)
        .filter(Q(removed_at__isnull=True) | Q(removed_at__gt=at))
        .values_list("option__code", flat=True)
    )
    owned_plans = {subscription.plan.code for subscription in subscriptions}
    seed = f"{customer_id}:{timezone.localdate(at).isoformat()}"
    found: list[Suggestion] = []
    seen: set[tuple[str, str]] = set()
    for subscription in subscriptions:
        for item in related_products(subscription.plan, at=at, limit=10_000, seed=seed):
            product = item.product
            kind = "option" if item.option_id else "plan"
            owned = owned_options if kind == "option" else owned_plans
            if product.code in owned or (kind, product.code) in seen:
                continue
            seen.add((kind, product.code))
            found.append(
                Suggestion(
                    kind=kind,
                    code=product.code,
                    name=product.name,
                    pitch=item.pitch,
                    monthly_fee=product.monthly_fee,
                    currency=product.currency,
                    subscription_id=subscription.pk,
                )
            )
    return found[:limit]
