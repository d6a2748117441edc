"""The demo operator's promotions: one working example per kind a marketing manager
reaches for first.

* ``START`` — the "reach" circle: a short code for ads and business cards. 20% off the
  first 3 months of a first purchase, any plan, unlimited uses, once per customer.
* ``UPGRADE`` — the upsell for micro-tier customers on the cheapest plan: 25% off 3
  months of Office PBX or Contact Centre. The trigger mailing "cheapest plan for 2
  months → upgrade offer" sends it to the segment of that name; the promotion itself
  checks the micro tier (still true after the upgrade) and the range of plans.
* "Loyalty: 12,000 a year" — automatic, no code: 5% off every period for a customer
  invoiced at least 12,000.00 over the last 12 months; stackable, so it combines with a
  code (the daily job ``ringup.promotions.apply_automatic`` grants it).
"""

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from ringup.catalog.models import Plan
from ringup.marketing.promotions.models import PromoCode, Promotion
from ringup.marketing.segments.models import Segment

MICRO_TIER = "Micro tier"
CHEAPEST_PLAN = "On the cheapest plan for 2 months"


def _segment(name: str, description: str, conditions: dict) -> Segment:
    segment, _ = Segment.objects.get_or_create(
        name=name, defaults={"description": description, "conditions": conditions}
    )
    return segment


def _promotion(name: str, at: datetime, **fields) -> Promotion:
    promotion, _ = Promotion.objects.update_or_create(
        name=name, defaults={**fields, "created_at": at}
    )
    return promotion


def _code(promotion: Promotion, code: str, at: datetime) -> None:
    PromoCode.objects.get_or_create(
        code=code, defaults={"promotion": promotion, "max_uses": None, "created_at": at}
    )


def load_promotions(*, at: datetime | None = None) -> list[Promotion]:
    """Create (or bring up to date) the demo promotions, their codes and segments; running
    it again changes nothing."""
    at = at or timezone.now()
    with transaction.atomic():
        start = _promotion(
            "Start: 20% off the first 3 months",
            at,
            description="For new customers from ads, events and business cards.",
            benefit=Promotion.Benefit.PERCENT,
            value=Decimal(20),
            duration=Promotion.Duration.REPEATING,
            periods=3,
            first_purchase_only=True,
            per_customer_limit=1,
            exclusive=True,
            priority=10,
        )
        _code(start, "START", at)

        micro = _segment(
            MICRO_TIER,
            "Customers of the micro tier (small offices, sole traders).",
            {"all": [{"field": "tier", "op": "in", "value": ["micro"]}]},
        )
        _segment(
            CHEAPEST_PLAN,
            "Micro customers on Virtual Number for at least 60 days: the upgrade offer's audience.",
            {
                "all": [
                    {"field": "tier", "op": "in", "value": ["micro"]},
                    {"field": "on_cheapest_plan_days", "op": "gte", "value": 60},
                ]
            },
        )
        upgrade = _promotion(
            "Upgrade: 25% off 3 months of a bigger plan",
            at,
            description="Sent to micro customers on the cheapest plan for two months.",
            benefit=Promotion.Benefit.PERCENT,
            value=Decimal(25),
            duration=Promotion.Duration.REPEATING,
            periods=3,
            segment=micro,
            per_customer_limit=1,
            exclusive=True,
            priority=5,
            # The lift report counts upgrades, not payments.
            conversion_kind="subscription.changed",
            conversion_changes=["plan_up"],
        )
        upgrade.plans.set(Plan.objects.filter(code__in=["office-pbx", "contact-centre"]))
        _code(upgrade, "UPGRADE", at)

        loyalty = _promotion(
            "Loyalty: 5% from 12,000 a year",
            at,
            description="Automatic for customers invoiced 12,000.00 or more in 12 months.",
            benefit=Promotion.Benefit.PERCENT,
            value=Decimal(5),
            duration=Promotion.Duration.FOREVER,
            automatic=Promotion.Automatic.TURNOVER,
            min_revenue=Decimal("12000.00"),
            revenue_months=12,
            exclusive=False,
            priority=0,
        )
    return [start, upgrade, loyalty]
