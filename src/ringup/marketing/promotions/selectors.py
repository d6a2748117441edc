"""Reads of promotions: whether a promotion's conditions hold for a purchase, what it
would take off a quote, which promotions stack, the control group and its lift report,
and usage counts."""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, QuerySet

from ringup.billing.models import Invoice, Subscription
from ringup.customers.models import Customer
from ringup.engine.invoicing import DiscountKind, PeriodDiscount, discount_lines
from ringup.engine.money import ZERO
from ringup.engine.pricing import Period, Quote
from ringup.marketing import outcomes
from ringup.marketing.segments.conditions import zone
from ringup.marketing.segments.selectors import members

from .models import Assignment, PromoCode, Promotion, Redemption

#: The refusal of a customer in the promotion's control group.
HELD_OUT = ("customer", "not offered to this customer (control group)")


@dataclass(frozen=True)
class Purchase:
    """What a promotion is checked against: the selection, and the customer when known
    (a visitor before sign-up is not: customer conditions are then left to redemption)."""

    plan: str
    period: str = Period.MONTHLY.value
    options: tuple[str, ...] = ()
    customer: Customer | None = None
    subscription_id: int | None = None
    # Whether the control group applies. Not to a code typed at sign-up: the visitor was
    # shown the discounted price before having an account, and that promise is kept.
    holdout: bool = True


def purchase_of(subscription: Subscription) -> Purchase:
    """The purchase a subscription makes as it is now."""
    options = tuple(
        subscription.items.filter(removed_at__isnull=True).values_list("option__code", flat=True)
    )
    return Purchase(
        plan=subscription.plan.code,
        period=subscription.period,
        options=options,
        customer=subscription.customer,
        subscription_id=subscription.pk,
    )


def find_code(code: str) -> PromoCode | None:
    return (
        PromoCode.objects.select_related("promotion", "promotion__segment")
        .filter(code=code.strip().upper())
        .first()
    )


def has_paid_before(customer: Customer, *, other_than: int | None) -> bool:
    """Whether ``customer`` bought before: an invoice, or another subscription that is (or
    was) paid for."""
    if Invoice.objects.filter(customer=customer).exists():
        return True
    others = Subscription.objects.filter(customer=customer, trial_converts=True)
    if other_than is not None:
        others = others.exclude(pk=other_than)
    return others.exists()


def refusal(promotion: Promotion, purchase: Purchase, *, at: datetime) -> tuple[str, str] | None:
    """Why ``promotion`` does not apply to ``purchase`` at ``at`` — ``(field, message)`` —
    or ``None`` when every condition but the redemption limits holds."""
    for check in (_state, _window, _range, _period, _customer):
        found = check(promotion, purchase, at)
        if found:
            return found
    return None


def _state(promotion: Promotion, purchase: Purchase, at: datetime):
    if not promotion.active:
        return ("code", "this promotion has ended")
    limit = promotion.max_redemptions
    if limit is not None and promotion.redeemed >= limit:
        return ("code", "this promotion has been used up")
    return None


def _window(promotion: Promotion, purchase: Purchase, at: datetime):
    if promotion.starts_at and at < promotion.starts_at:
        return ("code", f"valid from {_day(promotion.starts_at)}")
    if promotion.ends_at and at >= promotion.ends_at:
        return ("code", f"expired on {_day(promotion.ends_at)}")
    return None


def _day(instant: datetime) -> str:
    """The operator's local date of ``instant``."""
    return f"{instant.astimezone(zone()):%Y-%m-%d}"


def _range(promotion: Promotion, purchase: Purchase, at: datetime):
    plans = {plan.code for plan in promotion.plans.all()}
    if plans and purchase.plan not in plans:
        return ("plan", f"valid only on {', '.join(sorted(plans))}")
    options = {option.code for option in promotion.options.all()}
    if options and not options & set(purchase.options):
        return ("options", f"needs one of the options {', '.join(sorted(options))}")
    return None


def _period(promotion: Promotion, purchase: Purchase, at: datetime):
    if promotion.annual_only and purchase.period != Period.ANNUAL:
        return ("period", "valid only with annual billing")
    return None


def _customer(promotion: Promotion, purchase: Purchase, at: datetime):
    customer = purchase.customer
    if customer is None:
        if promotion.segment_id is not None:
            return ("customer", "valid only for selected customers: sign in to use it")
        return None
    if promotion.first_purchase_only and has_paid_before(
        customer, other_than=purchase.subscription_id
    ):
        return ("customer", "valid only on a first purchase")
    if promotion.segment_id is not None and not (
        members(promotion.segment, at=at).filter(pk=customer.pk).exists()
    ):
        return ("customer", "not offered to this customer")
    if customer_redemptions(promotion, customer) >= promotion.per_customer_limit:
        return ("customer", "already used by this customer")
    # Last, so that this refusal means every other condition holds (the customer is then
    # in the experiment: services record the assignment).
    if purchase.holdout and group_of(promotion, customer.pk) == Assignment.Group.HELD_OUT:
        return HELD_OUT
    return None


def holdout_bucket(promotion_id: int, customer_id: int) -> int:
    """The customer's bucket 0–99 for this promotion, from a keyed hash of both ids, so
    that the control groups of two promotions (or of a promotion and a mailing) are
    independent draws, not the same customers every time."""
    digest = hashlib.blake2b(
        f"{promotion_id}:{customer_id}".encode(), digest_size=8, person=b"ringup.promo"
    ).digest()
    return int.from_bytes(digest, "big") % 100


def group_of(promotion: Promotion, customer_id: int) -> str:
    """The customer's group: the stored assignment when there is one (a later change of
    ``holdout_percent`` does not move anyone), else the bucket against the percentage."""
    stored = (
        Assignment.objects.filter(promotion=promotion, customer_id=customer_id)
        .values_list("group", flat=True)
        .first()
    )
    if stored:
        return stored
    if holdout_bucket(promotion.pk, customer_id) < promotion.holdout_percent:
        return Assignment.Group.HELD_OUT
    return Assignment.Group.TREATED


def lift_report(promotion: Promotion) -> dict:
    """Conversion (``promotion.conversion_kind``) and revenue per customer within
    ``conversion_window_days`` of each customer's assignment, treated against held out,
    with 95 % intervals (:func:`ringup.marketing.outcomes.lift_report`). Groups are
    compared as assigned (intention to treat): a treated customer counts whether or not
    the discount ended up on an invoice."""
    groups = {
        group: list(
            Assignment.objects.filter(promotion=promotion, group=group).values_list(
                "customer_id", "at"
            )
        )
        for group in Assignment.Group.values
    }
    report = outcomes.lift_report(
        groups[Assignment.Group.TREATED],
        groups[Assignment.Group.HELD_OUT],
        conversion_kind=promotion.conversion_kind,
        conversion_changes=promotion.conversion_changes,
        window_days=promotion.conversion_window_days,
    )
    report["holdout_percent"] = promotion.holdout_percent
    return report


def customer_redemptions(promotion: Promotion, customer: Customer) -> int:
    return Redemption.objects.filter(promotion=promotion, customer=customer).count()


def period_discount(promotion: Promotion, *, code: str) -> PeriodDiscount:
    """The promotion's benefit as the engine applies it to a period."""
    periods = {
        Promotion.Duration.ONCE: 1,
        Promotion.Duration.REPEATING: promotion.periods,
        Promotion.Duration.FOREVER: None,
    }[promotion.duration]
    if promotion.benefit == Promotion.Benefit.FREE_MONTHS:
        periods = int(promotion.value)
    return PeriodDiscount(
        code=code,
        kind=DiscountKind(promotion.benefit),
        value=promotion.value,
        description=describe(promotion, code=code),
        left=periods,
    )


def describe(promotion: Promotion, *, code: str = "") -> str:
    """The discount line's text: "Promotion START: 20% off, 3 periods"."""
    value = promotion.value.normalize()
    what = {
        Promotion.Benefit.PERCENT: f"{value:f}% off",
        Promotion.Benefit.AMOUNT: f"{promotion.value} off",
        Promotion.Benefit.FREE_MONTHS: f"{value:f} free month" + ("s" if value != 1 else ""),
    }[promotion.benefit]
    if promotion.benefit != Promotion.Benefit.FREE_MONTHS:
        what += {
            Promotion.Duration.ONCE: ", first period",
            Promotion.Duration.REPEATING: f", {promotion.periods} periods",
            Promotion.Duration.FOREVER: "",
        }[promotion.duration]
    label = code.removeprefix("promo:") if code.startswith("promo:") else promotion.name
    return f"Promotion {label}: {what}"


def first_period_discount(promotions: list[Promotion], quote: Quote) -> Decimal:
    """What ``promotions`` (in stacking order) take off the first period of ``quote``:
    its recurring fees × months (after the plan's discounts), never below zero."""
    base = quote.monthly_total * quote.months
    discounts = [period_discount(p, code=f"promotion:{p.pk}") for p in promotions]
    lines, _ = discount_lines(discounts, base, quote.months, quote.currency)
    return -sum((line.amount for line in lines), ZERO)


def stack(candidates: list[Promotion]) -> list[Promotion]:
    """The promotions that apply together, from ``candidates`` that each apply: by
    priority (higher first, then the older). If the first is exclusive it applies alone;
    otherwise every stackable candidate applies, exclusive ones are left out."""
    ordered = sorted(candidates, key=lambda p: (-p.priority, p.pk))
    if not ordered:
        return []
    if ordered[0].exclusive:
        return ordered[:1]
    return [p for p in ordered if not p.exclusive]


def automatic(kind: str, *, at: datetime) -> QuerySet[Promotion]:
    """Active automatic promotions of ``kind`` within their date window at ``at``."""
    return Promotion.objects.filter(active=True, automatic=kind).filter(
        Q(starts_at__isnull=True) | Q(starts_at__lte=at),
        Q(ends_at__isnull=True) | Q(ends_at__gt=at),
    )


def promotions_with_counts() -> QuerySet[Promotion]:
    return Promotion.objects.annotate(
        code_count=Count("codes", distinct=True),
        redemption_count=Count("redemptions", distinct=True),
    )
