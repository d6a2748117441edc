"""Reads of the catalog, shaped for the engine and the pages."""

import hashlib
from collections.abc import Sequence
from datetime import datetime

from django.db.models import Prefetch, Q

from ringup.engine.advisor import PlanFeatures, SegmentTier
from ringup.engine.pricing import NumberPrice, OptionPrice, PlanPrice, TrafficPackagePrice

from .models import NumberKind, NumberOffer, Option, Plan, RelatedProduct, TrafficPackage


def _plans_with_prices():
    return Plan.objects.prefetch_related(
        Prefetch("options", queryset=Option.objects.order_by("sort_order", "name")),
        Prefetch("number_offers", queryset=NumberOffer.objects.all()),
        Prefetch("traffic_packages", queryset=TrafficPackage.objects.order_by("minutes")),
    )


def public_plans() -> list[Plan]:
    """Plans on the pricing page, cheapest segment first, with their priced parts."""
    return list(_plans_with_prices().filter(is_public=True))


def get_plan(code: str) -> Plan | None:
    return _plans_with_prices().filter(code=code).first()


def plan_price(plan: Plan) -> PlanPrice:
    """The engine's view of ``plan``: only parts priced in the plan's currency count."""
    cur = plan.currency
    numbers = {}
    for offer in plan.number_offers.all():
        if offer.currency == cur and offer.kind not in numbers:
            numbers[offer.kind] = NumberPrice(
                kind=offer.kind,
                name=offer.name,
                monthly_fee=offer.monthly_fee,
                setup_fee=offer.setup_fee,
                included=plan.included_numbers if offer.kind == NumberKind.LOCAL else 0,
            )
    return PlanPrice(
        code=plan.code,
        name=plan.name,
        currency=cur,
        monthly_fee=plan.monthly_fee,
        per_employee=plan.per_employee,
        setup_fee=plan.setup_fee,
        included_employees=plan.included_employees,
        min_employees=plan.min_employees,
        max_employees=plan.max_employees,
        annual_discount_percent=plan.annual_discount_percent,
        max_manager_discount_percent=plan.max_manager_discount_percent,
        options={
            o.code: OptionPrice(o.code, o.name, o.monthly_fee, o.setup_fee, o.per_employee)
            for o in plan.options.all()
            if o.currency == cur
        },
        numbers=numbers,
        traffic_packages={
            t.code: TrafficPackagePrice(t.code, t.name, t.minutes, t.monthly_fee)
            for t in plan.traffic_packages.all()
            if t.currency == cur
        },
    )


def advisor_plans() -> list[PlanFeatures]:
    return [
        PlanFeatures(
            code=plan.code,
            name=plan.name,
            tier=SegmentTier(plan.segment),
            features=frozenset(plan.features or ()),
            option_for_feature={o.feature: o.code for o in plan.options.all() if o.feature},
            max_employees=plan.max_employees,
            traffic_packages=tuple((t.code, t.minutes) for t in plan.traffic_packages.all()),
            number_kinds=frozenset(n.kind for n in plan.number_offers.all()),
            sort_order=plan.sort_order,
        )
        for plan in public_plans()
    ]


def related_products(plan: Plan, at: datetime, limit: int = 3, seed: str = "") -> list:
    """Up to ``limit`` products valid at ``at``, rotated by weight.

    The order is a deterministic weighted shuffle keyed by ``seed`` (e.g. the visitor's
    session or the day), so one visitor sees a stable set while the audience sees all.
    """
    candidates = (
        RelatedProduct.objects.filter(plan=plan)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=at))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=at))
        .select_related("option", "related_plan")
    )

    def draw(item: RelatedProduct) -> float:
        digest = hashlib.sha256(f"{seed}:{item.pk}".encode()).digest()
        uniform = (int.from_bytes(digest[:8], "big") + 1) / 2**64
        # Efraimidis–Spirakis: u ** (1 / w) orders a weighted sample without replacement.
        return uniform ** (1 / max(item.weight, 1))

    return sorted(candidates, key=draw, reverse=True)[:limit]


def plans_by_code(codes: Sequence[str]) -> dict[str, Plan]:
    return {p.code: p for p in Plan.objects.filter(code__in=codes)}
