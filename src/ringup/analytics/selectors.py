"""Reads of the stored aggregates: the run to show, the filters, and each figure of the
dashboard, the API and the report, from stored rows only."""

import re
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from ringup.catalog.models import Segment

from .models import (
    CampaignLift,
    CohortCell,
    FunnelStage,
    MonthlyFigure,
    ProductFigure,
    RecomputeRun,
    RetentionFit,
    TrialMonth,
)

TIERS = tuple(Segment.values)
TIER_LABELS = dict(Segment.choices)
STAGE_LABELS = {
    "reach": _("Reach"),
    "capture": _("Capture"),
    "warm": _("Warm-up"),
    "sell": _("Sale"),
    "upsell": _("Upsell"),
    "loyalty": _("Loyalty"),
    "recommendation": _("Recommendation"),
}
KIND_LABELS = {
    "plan": _("Plan"),
    "option": _("Option"),
    "package": _("Minute package"),
    "mailing": _("Mailing"),
    "promotion": _("Promotion"),
}
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
#: Products shown at each end of the ranking.
RANKED = 5


class FilterError(ValueError):
    """A filter that cannot be applied; ``field`` names it (the API answers 422)."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class Filters:
    """What the dashboard shows: a slice (tier, plan), a currency and a range of months
    (``None``: from the first or to the last month of the run)."""

    tier: str = ""
    plan: str = ""
    currency: str = ""
    since: date | None = None
    until: date | None = None

    def as_query(self) -> dict[str, str]:
        """The filters as query parameters (``from``/``to`` as YYYY-MM), empty ones left out."""
        values = {
            "tier": self.tier,
            "plan": self.plan,
            "currency": self.currency,
            "from": f"{self.since:%Y-%m}" if self.since else "",
            "to": f"{self.until:%Y-%m}" if self.until else "",
        }
        return {key: value for key, value in values.items() if value}

    def key(self) -> str:
        return "|".join(f"{k}={v}" for k, v in sorted(asdict(self).items()))


def latest_run() -> RecomputeRun | None:
    return RecomputeRun.objects.filter(status=RecomputeRun.Status.DONE).order_by("-until").first()


def runs() -> list[RecomputeRun]:
    return list(RecomputeRun.objects.order_by("-until")[:50])


def parse_month(field: str, value: str | None) -> date | None:
    """``YYYY-MM`` as the month's first day (``None`` for nothing); :class:`FilterError`
    naming ``field`` otherwise."""
    if not value:
        return None
    found = MONTH.match(value.strip())
    if not found or not 1 <= int(found[2]) <= 12 or int(found[1]) < 1:
        raise FilterError(field, f"{field} must be a month YYYY-MM, not {value!r}")
    return date(int(found[1]), int(found[2]), 1)


def parse_filters(run: RecomputeRun | None, params) -> Filters:
    """The filters in ``params`` (a mapping of query parameters), checked against what the
    run holds; raises :class:`FilterError` naming the first bad one."""
    tier = (params.get("tier") or "").strip()
    if tier and tier not in TIERS:
        raise FilterError("tier", f"tier must be one of {', '.join(TIERS)}, not {tier!r}")
    plan = (params.get("plan") or "").strip()
    if plan and plan not in plans(run):
        raise FilterError("plan", f"no figures for plan {plan!r}")
    since = parse_month("from", params.get("from"))
    until = parse_month("to", params.get("to"))
    if since and until and since > until:
        raise FilterError("from", "from must not be after to")
    held = currencies(run)
    currency = (params.get("currency") or "").strip().upper()
    if currency and currency not in held:
        raise FilterError(
            "currency", f"no figures in {currency!r}; there are: {', '.join(held) or 'none'}"
        )
    return Filters(tier, plan, currency or (held[0] if held else ""), since, until)


def plans(run: RecomputeRun | None) -> list[str]:
    if run is None:
        return []
    return sorted(
        MonthlyFigure.objects.filter(run=run, tier="")
        .exclude(plan="")
        .order_by("plan")  # the model's ordering would make each month distinct
        .values_list("plan", flat=True)
        .distinct()
    )


def currencies(run: RecomputeRun | None) -> list[str]:
    """Currencies of the run, the one with most customers first."""
    if run is None:
        return []
    rows = (
        MonthlyFigure.objects.filter(run=run, tier="", plan="")
        .values("currency")
        .annotate(n=Count("pk", filter=Q(active__gt=0)))
        .order_by("-n", "currency")
    )
    return [row["currency"] for row in rows]


def _slice(run: RecomputeRun, filters: Filters) -> Q:
    return Q(run=run, tier=filters.tier, plan=filters.plan)


def _months(filters: Filters, field: str = "month") -> Q:
    q = Q()
    if filters.since:
        q &= Q(**{f"{field}__gte": filters.since})
    if filters.until:
        q &= Q(**{f"{field}__lte": filters.until})
    return q


def monthly(run: RecomputeRun, filters: Filters) -> list[MonthlyFigure]:
    """The slice's months in the range, oldest first."""
    return list(
        MonthlyFigure.objects.filter(
            _slice(run, filters), _months(filters), currency=filters.currency
        ).order_by("month")
    )


@dataclass(frozen=True)
class Tile:
    label: object  # lazily translated text
    value: object
    kind: str  # "count", "money", "percent"
    change: object = None  # against the month before, same kind (percent: points)
    good_when: str = "up"  # which way a change is good: "up" or "down"


def headline(figures: list[MonthlyFigure]) -> list[Tile]:
    """The last month's tiles with their change against the month before."""
    if not figures:
        return []
    now = figures[-1]
    before = figures[-2] if len(figures) > 1 else None

    def change(name: str):
        if before is None or getattr(now, name) is None or getattr(before, name) is None:
            return None
        return getattr(now, name) - getattr(before, name)

    return [
        Tile(_("Customers"), now.active, "count", change("active")),
        Tile(_("MRR"), now.mrr, "money", change("mrr")),
        Tile(_("ARPU"), now.arpu, "money", change("arpu")),
        Tile(_("Customer churn"), now.customer_churn, "percent", change("customer_churn"), "down"),
        Tile(_("NRR"), now.nrr, "percent", change("nrr")),
    ]


def percent_change(now: Decimal | None, before: Decimal | None) -> float | None:
    if now is None or not before:
        return None
    return float((now - before) / before)


def arpu_by_tier(run: RecomputeRun, filters: Filters) -> list[MonthlyFigure]:
    """ARPU per tier (the chosen one, or all three) and month, for the chosen plan."""
    tiers = [filters.tier] if filters.tier else list(TIERS)
    return list(
        MonthlyFigure.objects.filter(
            _months(filters),
            run=run,
            tier__in=tiers,
            plan=filters.plan,
            currency=filters.currency,
        ).order_by("tier", "month")
    )


def cohorts(run: RecomputeRun, filters: Filters) -> list[CohortCell]:
    return list(
        CohortCell.objects.filter(
            _slice(run, filters), _months(filters, "cohort"), currency=filters.currency
        ).order_by("cohort", "age")
    )


def retention_fit(run: RecomputeRun, filters: Filters) -> RetentionFit | None:
    """The model of the tier (or of everyone): models are fitted per tier, not per plan,
    whose cohorts are too small to fit."""
    return RetentionFit.objects.filter(
        run=run, tier=filters.tier, plan="", currency=filters.currency
    ).first()


def last_month(figures: list[MonthlyFigure]) -> date | None:
    return figures[-1].month if figures else None


def products(run: RecomputeRun, filters: Filters, month: date | None) -> list[ProductFigure]:
    """Products held at the end of ``month``, most held first."""
    if month is None:
        return []
    return list(
        ProductFigure.objects.filter(_slice(run, filters), month=month).order_by("rank", "product")
    )


def ranked(figures: list[ProductFigure]) -> tuple[list[ProductFigure], list[ProductFigure]]:
    """The most and the least held products (each end at most :data:`RANKED`)."""
    top = figures[:RANKED]
    bottom = [f for f in reversed(figures) if f not in top][:RANKED]
    return top, bottom


def funnel(run: RecomputeRun, filters: Filters) -> list[FunnelStage]:
    return list(FunnelStage.objects.filter(_slice(run, filters)).order_by("position"))


def trials(run: RecomputeRun, filters: Filters) -> list[TrialMonth]:
    return list(TrialMonth.objects.filter(_slice(run, filters), _months(filters)).order_by("month"))


def lifts(run: RecomputeRun) -> list[CampaignLift]:
    return list(CampaignLift.objects.filter(run=run).order_by("kind", "name"))
