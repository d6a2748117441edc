"""Promo codes typed at sign-up reach the subscription they were typed for.

``customer.registered`` carries the sign-up's promo code: it waits as a
:class:`~.models.PendingCode` until the customer's subscription starts being paid for
(``subscription.started``: a trial converted, or a purchase without one), and is redeemed
then, together with the automatic promotions at purchase (annual prepayment …)."""

from ringup.billing.models import Subscription
from ringup.events.registry import consumer

from .models import PendingCode
from .services import redeem_at_purchase


@consumer("promotions", kinds=["customer.registered", "subscription.started"])
def on_event(event) -> None:
    if event.kind == "customer.registered":
        _keep_code(event)
        return
    subscription = (
        Subscription.objects.select_related("customer", "plan")
        .filter(pk=event.subscription_id)
        .first()
    )
    if subscription is not None:
        _redeem_pending(subscription, event.at)


def _keep_code(event) -> None:
    signup = event.payload.get("signup") or {}
    code = (signup.get("promo_code") or "").strip().upper()
    if not (code and signup.get("id") and signup.get("email")):
        return
    PendingCode.objects.bulk_create(
        [PendingCode(signup_id=signup["id"], email=signup["email"], code=code, at=event.at)],
        ignore_conflicts=True,  # a re-delivered event adds nothing
    )
    # Deliveries are retried apart: the purchase may have been handled already.
    started = (
        Subscription.objects.select_related("customer", "plan")
        .filter(customer__email__iexact=signup["email"], trial_converts=True)
        .order_by("pk")
        .first()
    )
    if started is not None:
        _redeem_pending(started, event.at)


def _redeem_pending(subscription: Subscription, at) -> None:
    """Redeem the customer's waiting sign-up code (if any) and the automatic promotions
    at purchase for ``subscription``; the code's outcome is recorded either way."""
    pending = (
        PendingCode.objects.select_for_update()
        .filter(email__iexact=subscription.customer.email, redemption__isnull=True, outcome="")
        .order_by("at", "pk")
        .first()
    )
    redemptions, refused = redeem_at_purchase(
        subscription, at=at, code=pending.code if pending else ""
    )
    if pending is not None:
        typed = [r for r in redemptions if r.code_id is not None]
        pending.redemption = typed[0] if typed else None
        pending.outcome = "redeemed" if typed else (refused or "not applied")[:200]
        pending.save(update_fields=["redemption", "outcome"])
