"""Reads of the catalog, shaped for the engine and the pages."""

import copy
import hashlib
import time
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Prefetch, Q
from django.db.models.signals import m2m_changed, post_delete, post_save

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


# Pricing a quote needs the plan with its options, numbers and packages: four queries and
# a few dozen model instances per request, most of a quote's cost. Each process keeps the
# engine's view of every plan and checks it before each use against a fingerprint of the
# catalog read in one cheap query, so a price saved in the back office by any process is
# seen by the very next request:
#   * priced rows (plans, options, numbers, packages together): COUNT(*) and
#     MAX(updated_at) – an edit through save() (the back office, list-editable columns)
#     moves updated_at, an insert moves it too and a delete moves the count;
#   * plan links (each M2M table, whose rows are only inserted or deleted): COUNT(*) and
#     MAX(id) – ids only grow, so any other set of links changes one of the two.
# The fingerprint is read before the catalog, so a change committed in between is caught
# by the next request instead of being hidden under a newer key. Chosen over a version row
# bumped on save because it needs no new table and no signal can be missed: it reads what
# every process has committed.
# What it cannot see: a write that bypasses save() and leaves updated_at alone
# (``QuerySet.update()`` without ``updated_at=Now()``, raw SQL), or a second host whose
# clock runs behind. Saves in this process also drop the cache through signals (covers a
# frozen clock in tests), and PRICE_CACHE_MAX_AGE bounds how stale the rest can get.
PRICE_CACHE_MAX_AGE = 30.0
_PRICED = (Plan, Option, NumberOffer, TrafficPackage)
_LINKS = tuple(model.plans.through for model in (Option, NumberOffer, TrafficPackage))


@dataclass(frozen=True)
class _PriceCache:
    fingerprint: tuple
    built_at: float
    plans: dict[str, tuple[Plan, PlanPrice]]


_price_cache: _PriceCache | None = None


def _catalog_fingerprint() -> tuple:
    table = connection.ops.quote_name
    priced = " UNION ALL ".join(
        f"SELECT updated_at FROM {table(model._meta.db_table)}" for model in _PRICED
    )
    links = "".join(
        f" UNION ALL SELECT COUNT(*), NULL, MAX(id) FROM {table(model._meta.db_table)}"
        for model in _LINKS
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*), MAX(updated_at), NULL FROM ({priced}) AS p{links}")
        return tuple(cursor.fetchall())


def priced_plan(code: str) -> tuple[Plan, PlanPrice] | None:
    """The plan called ``code`` (any plan, public or not) and its engine price list, as
    :func:`get_plan` and :func:`plan_price` give them, from the per-process cache.

    Costs one query while the catalog is unchanged. The plan is a copy, free to modify.
    """
    global _price_cache
    fingerprint = _catalog_fingerprint()
    cache = _price_cache
    if (
        cache is None
        or cache.fingerprint != fingerprint
        or time.monotonic() - cache.built_at > PRICE_CACHE_MAX_AGE
    ):
        cache = _PriceCache(
            fingerprint=fingerprint,
            built_at=time.monotonic(),
            plans={plan.code: (plan, plan_price(plan)) for plan in _plans_with_prices()},
        )
        _price_cache = cache
    entry = cache.plans.get(code)
    if entry is None:
        return None
    plan, price = entry
    return copy.copy(plan), price


def _drop_price_cache(sender, **kwargs) -> None:
    global _price_cache
    _price_cache = None


for _model in _PRICED:
    post_save.connect(_drop_price_cache, sender=_model, dispatch_uid="price_cache")
    post_delete.connect(_drop_price_cache, sender=_model, dispatch_uid="price_cache")
for _model in _LINKS:
    m2m_changed.connect(_drop_price_cache, sender=_model, dispatch_uid="price_cache")


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
