"""Writes of promotions: checking and redeeming promo codes, automatic promotions,
generating codes.

Redemption is race-safe without check-then-write: a code's and a promotion's counters
grow by a conditional ``UPDATE … SET used = used + 1 WHERE used < max_uses`` (the row
lock makes a concurrent redemption wait and then see the new count), and a customer's
redemptions of a promotion are numbered under ``UNIQUE (promotion, customer, ordinal)``
and ``UNIQUE (promotion, subscription)``. Whatever fails rolls the whole redemption back.

Control group: a customer for whom every condition holds enters the promotion's
experiment (an :class:`Assignment`, written before the redemption's transaction so that a
held-out refusal keeps it); held-out customers are refused the code and not granted the
automatic discount.
"""

import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum

from ringup.billing.models import Invoice, Subscription
from ringup.billing.services.discounts import NewDiscount, add_discount
from ringup.events.services import emit
from ringup.marketing.segments.conditions import months_before, zone

from . import selectors
from .models import Assignment, PromoCode, Promotion, Redemption
from .selectors import Purchase

#: Letters and digits that cannot be misread for one another (no 0/O, 1/I/L).
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


class PromotionRefused(Exception):
    """The code or promotion does not apply; ``errors`` maps the field to the reason."""

    def __init__(self, field: str, message: str):
        self.errors = {field: message}
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class CodeCheck:
    """A valid code on a purchase: its promotion, the promotions applied with it (stacking
    with the automatic ones at purchase) and what they take off the first period."""

    code: PromoCode
    applied: list[Promotion]
    first_period_discount: Decimal | None


def _usable(code: PromoCode | None) -> PromoCode:
    if code is None or not code.active:
        raise PromotionRefused("code", "unknown promo code")
    if code.max_uses is not None and code.used >= code.max_uses:
        raise PromotionRefused("code", "this promo code has been used up")
    return code


def check_code(code: str, purchase: Purchase, *, at: datetime, quote=None) -> CodeCheck:
    """Whether ``code`` applies to ``purchase`` at ``at``, and with which promotions
    (stacking rule: :func:`selectors.stack`); raises :class:`PromotionRefused` with the
    reason. With ``quote`` (the purchase priced), the first period's discount."""
    found = _usable(selectors.find_code(code))
    promotion = found.promotion
    reason = selectors.refusal(promotion, purchase, at=at)
    if reason:
        raise PromotionRefused(*reason)
    candidates = [promotion, *_automatic_at_purchase(purchase, at, exclude=promotion.pk)]
    applied = selectors.stack(candidates)
    if promotion not in applied:
        other = applied[0].name
        raise PromotionRefused("code", f"cannot be combined with the promotion {other}")
    amount = selectors.first_period_discount(applied, quote) if quote is not None else None
    return CodeCheck(found, applied, amount)


def _automatic_at_purchase(purchase: Purchase, at: datetime, exclude=None) -> list[Promotion]:
    found = selectors.automatic(Promotion.Automatic.AT_PURCHASE, at=at).exclude(pk=exclude)
    return [p for p in found if selectors.refusal(p, purchase, at=at) is None]


def redeem_code(
    code: str, subscription: Subscription, *, at: datetime, holdout: bool = True
) -> Redemption:
    """Redeem ``code`` for ``subscription`` at ``at``: the discount starts with the
    periods that begin from then on. Raises :class:`PromotionRefused` with the reason;
    a single-use code succeeds once however many redeem it at the same instant.
    ``holdout=False`` exempts the redemption from the control group (a code typed at
    sign-up, whose discount the visitor was shown)."""
    found = _usable(selectors.find_code(code))
    purchase = replace(selectors.purchase_of(subscription), holdout=holdout)
    enter_experiment(found.promotion, purchase, at=at)
    with transaction.atomic():
        taken = PromoCode.objects.filter(pk=found.pk, active=True).filter(
            Q(max_uses__isnull=True) | Q(used__lt=F("max_uses"))
        )
        if not taken.update(used=F("used") + 1):
            raise PromotionRefused("code", "this promo code has been used up")
        return _redeem(found.promotion, subscription, at=at, code=found, holdout=holdout)


def enter_experiment(promotion: Promotion, purchase: Purchase, *, at: datetime) -> None:
    """Record the customer of ``purchase`` in ``promotion``'s experiment at ``at`` when
    every condition but the control group holds: once (``UNIQUE (promotion, customer)``,
    insert-or-nothing, so a racing attempt adds nothing), with the group of
    :func:`selectors.group_of`. Nothing when the promotion holds no one out."""
    customer = purchase.customer
    if customer is None or not purchase.holdout or promotion.holdout_percent == 0:
        return
    if selectors.refusal(promotion, purchase, at=at) not in (None, selectors.HELD_OUT):
        return
    group = selectors.group_of(promotion, customer.pk)
    Assignment.objects.bulk_create(
        [Assignment(promotion=promotion, customer=customer, group=group, at=at)],
        ignore_conflicts=True,
    )


def _redeem(
    promotion: Promotion,
    subscription: Subscription,
    *,
    at: datetime,
    code: PromoCode | None,
    holdout: bool = True,
) -> Redemption:
    """Apply ``promotion`` to ``subscription`` inside the caller's transaction."""
    # One redemption at a time per subscription, so the stacking check below holds.
    list(Subscription.objects.select_for_update().filter(pk=subscription.pk).values_list("pk"))
    purchase = replace(selectors.purchase_of(subscription), holdout=holdout)
    reason = selectors.refusal(promotion, purchase, at=at)
    if reason:
        raise PromotionRefused(*reason)
    _refuse_if_not_stackable(promotion, subscription)
    within = Promotion.objects.filter(pk=promotion.pk).filter(
        Q(max_redemptions__isnull=True) | Q(redeemed__lt=F("max_redemptions"))
    )
    if not within.update(redeemed=F("redeemed") + 1):
        raise PromotionRefused("code", "this promotion has been used up")
    ordinal = selectors.customer_redemptions(promotion, subscription.customer) + 1
    if ordinal > promotion.per_customer_limit:
        raise PromotionRefused("customer", "already used by this customer")
    try:
        with transaction.atomic():
            redemption = Redemption.objects.create(
                promotion=promotion,
                code=code,
                customer=subscription.customer,
                subscription=subscription,
                ordinal=ordinal,
                at=at,
            )
    except IntegrityError as error:
        # A concurrent redemption took this number, or this subscription has it already.
        raise PromotionRefused("customer", "already used by this customer") from error
    label = f"promo:{code.code}" if code else ""
    benefit = selectors.period_discount(promotion, code=label)
    redemption.discount = add_discount(
        subscription,
        NewDiscount(
            kind=str(benefit.kind),
            value=promotion.value,
            description=benefit.description,
            source=f"promotions:redemption:{redemption.pk}",
            periods=benefit.left,
        ),
        at=at,
    )
    redemption.save(update_fields=["discount"])
    emit(
        "promo.redeemed",
        at=at,
        customer_id=subscription.customer_id,
        subscription_id=subscription.pk,
        key=f"promo.redeemed:{redemption.pk}",
        payload={
            "redemption": redemption.pk,
            "promotion": {"id": promotion.pk, "name": promotion.name},
            "code": code.code if code else None,
            "discount": benefit.description,
        },
    )
    return redemption


def _refuse_if_not_stackable(promotion: Promotion, subscription: Subscription) -> None:
    """A subscription holds one exclusive promotion alone, or any number of stackable
    ones: what it holds already is kept."""
    held = Promotion.objects.filter(
        redemptions__subscription=subscription, redemptions__discount__isnull=False
    ).exclude(pk=promotion.pk)
    clash = held.first() if promotion.exclusive else held.filter(exclusive=True).first()
    if clash is not None:
        raise PromotionRefused("code", f"cannot be combined with the promotion {clash.name}")


def redeem_at_purchase(
    subscription: Subscription, *, at: datetime, code: str = ""
) -> tuple[list[Redemption], str]:
    """Apply to a subscription that starts being paid for the promotions of the
    purchase: ``code``'s, and the automatic ones at purchase, by the stacking rule.
    Returns the redemptions and, when the code was refused, why."""
    purchase = selectors.purchase_of(subscription)
    for promotion in selectors.automatic(Promotion.Automatic.AT_PURCHASE, at=at):
        enter_experiment(promotion, purchase, at=at)
    candidates = _automatic_at_purchase(purchase, at)
    typed, refused = None, ""
    if code:
        try:
            typed = _usable(selectors.find_code(code))
            # The sign-up's code is kept as shown: outside the control group.
            reason = selectors.refusal(typed.promotion, replace(purchase, holdout=False), at=at)
            if reason:
                raise PromotionRefused(*reason)
            candidates.append(typed.promotion)
        except PromotionRefused as error:
            typed, refused = None, _reason(error)
    chosen = selectors.stack(candidates)
    if typed is not None and typed.promotion not in chosen:
        refused = f"code: cannot be combined with the promotion {chosen[0].name}"
    redemptions = []
    for promotion in chosen:
        try:
            if typed is not None and promotion == typed.promotion:
                redemptions.append(redeem_code(typed.code, subscription, at=at, holdout=False))
            else:
                with transaction.atomic():
                    redemptions.append(_redeem(promotion, subscription, at=at, code=None))
        except PromotionRefused as error:
            if typed is not None and promotion == typed.promotion:
                refused = _reason(error)
    return redemptions, refused


def _reason(error: PromotionRefused) -> str:
    return "; ".join(f"{field}: {message}" for field, message in error.errors.items())


def apply_automatic(*, at: datetime) -> int:
    """Apply the turnover and loyalty promotions due at ``at`` to the live, paid
    subscriptions of the customers who qualify; returns how many were applied. Run
    daily: a subscription receives each promotion once (``UNIQUE (promotion,
    subscription)``), so running it twice changes nothing."""
    applied = 0
    for promotion in selectors.automatic(Promotion.Automatic.TURNOVER, at=at):
        applied += _apply_to(promotion, _turnover_subscriptions(promotion, at), at)
    for promotion in selectors.automatic(Promotion.Automatic.LOYALTY, at=at):
        applied += _apply_to(promotion, _loyal_subscriptions(promotion, at), at)
    return applied


def _held_out(promotion: Promotion):
    return Assignment.objects.filter(promotion=promotion, group=Assignment.Group.HELD_OUT).values(
        "customer_id"
    )


def _live(at: datetime):
    return (
        Subscription.objects.filter(trial_converts=True, status=Subscription.Status.ACTIVE)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=at))
        .select_related("customer", "plan")
    )


def _turnover_subscriptions(promotion: Promotion, at: datetime):
    since = months_before(at, promotion.revenue_months)
    earners = (
        Invoice.objects.filter(
            # Issued in (at − N months, at]: an invoice dated ``at`` is already issued.
            status=Invoice.Status.FINALISED,
            issued_at__gt=since,
            issued_at__lte=at,
        )
        .values("customer_id")
        .annotate(revenue=Sum("total"))
        .filter(revenue__gte=promotion.min_revenue or 0)
        .values("customer_id")
    )
    return (
        _live(at)
        .filter(customer_id__in=earners)
        .exclude(pk__in=Redemption.objects.filter(promotion=promotion).values("subscription_id"))
        .exclude(customer_id__in=_held_out(promotion))
    )


def _loyal_subscriptions(promotion: Promotion, at: datetime):
    months = promotion.min_months or 0
    first_day = months_before(at, months).astimezone(zone()).date()
    return (
        _live(at)
        .filter(billing_starts_on__lte=first_day)
        .exclude(pk__in=Redemption.objects.filter(promotion=promotion).values("subscription_id"))
        .exclude(customer_id__in=_held_out(promotion))
    )


def _apply_to(promotion: Promotion, subscriptions, at: datetime) -> int:
    applied = 0
    for subscription in subscriptions:
        enter_experiment(promotion, selectors.purchase_of(subscription), at=at)
        try:
            with transaction.atomic():
                _redeem(promotion, subscription, at=at, code=None)
        except PromotionRefused:
            continue
        applied += 1
    return applied


def generate_codes(
    promotion: Promotion,
    count: int,
    *,
    at: datetime,
    prefix: str = "",
    length: int = 8,
    max_uses: int | None = 1,
) -> list[PromoCode]:
    """Create ``count`` new unique random codes (``prefix`` + ``length`` characters of an
    unambiguous alphabet) for ``promotion``. Codes already taken are skipped by the unique
    constraint and drawn again, so the result always has ``count`` new codes."""
    if not 1 <= count <= 100_000:
        raise PromotionRefused("count", "must be between 1 and 100000")
    if not 4 <= length <= 32 or len(prefix) + length > 40:
        raise PromotionRefused("length", "must be 4 to 32 characters, with the prefix at most 40")
    prefix = prefix.upper()
    made: list[str] = []
    with transaction.atomic():
        while len(made) < count:
            wanted = {
                prefix + "".join(secrets.choice(ALPHABET) for _ in range(length))
                for _ in range(count - len(made))
            }
            # Insert-or-nothing: a code drawn twice (here or elsewhere) is drawn again.
            PromoCode.objects.bulk_create(
                [
                    PromoCode(code=c, promotion=promotion, max_uses=max_uses, created_at=at)
                    for c in wanted
                ],
                ignore_conflicts=True,
            )
            made += (
                PromoCode.objects.filter(code__in=wanted, promotion=promotion, created_at=at)
                .exclude(code__in=made)
                .values_list("code", flat=True)
            )
    return list(PromoCode.objects.filter(code__in=made))


def create_code(
    promotion: Promotion, code: str, *, at: datetime, max_uses: int | None = None
) -> PromoCode:
    """A memorable code (``START``) for ``promotion``; ``max_uses`` empty: unlimited."""
    return PromoCode.objects.create(
        code=code.strip().upper(), promotion=promotion, max_uses=max_uses, created_at=at
    )
