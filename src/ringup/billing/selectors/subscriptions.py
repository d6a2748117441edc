"""Reads of subscriptions as billing sees them: configuration through time and the chain
of billing periods, loaded a chunk of subscriptions at a time."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Q

from ringup.catalog.models import Option, Plan, TrafficPackage
from ringup.engine.invoicing import Config, History, OptionSpan, PlanChange
from ringup.engine.periods import (
    BillingPeriod,
    Cycle,
    Interval,
    local_midnight,
    schedule_period_at,
)

from ..models import Subscription, SubscriptionChange, SubscriptionOption

FIELDS = (
    "id",
    "customer_id",
    "plan_id",
    "status",
    "period",
    "employees",
    "numbers",
    "traffic_package_id",
    "discount_percent",
    "billing_starts_on",
    "ended_at",
    "minimum_usage",
)


@dataclass(frozen=True)
class BillingView:
    """One subscription as billing needs it. ``minimum_usage`` is the monthly call
    commitment as it stands now (it has no history: a period is held to the commitment in
    force when it is invoiced)."""

    id: int
    customer_id: int
    status: str
    history: History
    cycles: tuple[Cycle, ...]
    zone: ZoneInfo
    minimum_usage: Decimal | None = None

    @property
    def billing_start(self) -> datetime:
        return local_midnight(self.cycles[0].first, self.zone)

    def interval_at(self, at: datetime) -> Interval:
        interval = self.cycles[0].interval
        for cycle in self.cycles[1:]:
            if local_midnight(cycle.first, self.zone) <= at:
                interval = cycle.interval
        return interval

    def period_at(self, at: datetime) -> tuple[BillingPeriod, Interval] | None:
        """The paid period containing ``at`` and its interval; ``None`` during the trial."""
        if at < self.billing_start:
            return None
        return schedule_period_at(self.cycles, self.zone, at), self.interval_at(at)


@dataclass(frozen=True)
class _Codes:
    plans: dict[int, str]
    options: dict[int, str]
    packages: dict[int, str]


def _codes() -> _Codes:
    return _Codes(
        plans=dict(Plan.objects.values_list("id", "code")),
        options=dict(Option.objects.values_list("id", "code")),
        packages=dict(TrafficPackage.objects.values_list("id", "code")),
    )


@dataclass(frozen=True)
class Schedule:
    """When a subscription is billed: its cycles, from the first paid period on."""

    id: int
    cycles: tuple[Cycle, ...]
    ended_at: datetime | None
    zone: ZoneInfo

    @property
    def billing_start(self) -> datetime:
        return local_midnight(self.cycles[0].first, self.zone)


def _cycles(first, period: str, switches: list[tuple], zone: ZoneInfo) -> tuple[Cycle, ...]:
    """The first cycle from ``billing_starts_on``, one more for each switch of interval
    that takes effect after billing started (``switches``: ``(at, from, to)``)."""
    start = local_midnight(first, zone)
    effective = sorted(s for s in switches if s[0] > start)
    interval = Interval(effective[0][1] if effective else period)
    cycles = [Cycle(first, first.day, interval)]
    for at, _, to_period in effective:
        cycles.append(Cycle(at.astimezone(zone).date(), first.day, Interval(to_period)))
    return tuple(cycles)


def _switches(within: Q) -> dict[int, list[tuple]]:
    found: dict[int, list[tuple]] = defaultdict(list)
    for sub, at, from_period, to_period in SubscriptionChange.objects.filter(
        within, kind=SubscriptionChange.Kind.PERIOD_CHANGED
    ).values_list("subscription_id", "at", "from_period", "to_period"):
        found[sub].append((at, from_period, to_period))
    return found


def schedules(first: int, final: int, *, zone: ZoneInfo) -> list[Schedule]:
    """The billing schedules of the subscriptions with ids ``first`` to ``final``, except
    trials still waiting for the customer's decision (never billed): two queries, no
    history."""
    switches = _switches(Q(subscription_id__gte=first, subscription_id__lte=final))
    rows = (
        Subscription.objects.filter(pk__gte=first, pk__lte=final, trial_converts=True)
        .order_by("pk")
        .values_list("pk", "billing_starts_on", "period", "ended_at")
    )
    return [
        Schedule(pk, _cycles(day, period, switches.get(pk, []), zone), ended, zone)
        for pk, day, period, ended in rows
    ]


def billing_views(scope: Q, *, since: datetime, zone: ZoneInfo) -> dict[int, BillingView]:
    """Subscriptions matching ``scope`` (a filter on ``Subscription``), with their history
    from ``since`` on: enough to know their configuration at any instant after it.

    Five queries, whatever the number of subscriptions.
    """
    codes = _codes()
    rows = list(Subscription.objects.filter(scope).order_by("id").values(*FIELDS))
    if not rows:
        return {}
    ids = [row["id"] for row in rows]
    within = Q(subscription_id__gte=ids[0], subscription_id__lte=ids[-1])
    wanted = set(ids)

    spans: dict[int, list[OptionSpan]] = defaultdict(list)
    for sub, option, added, removed in (
        SubscriptionOption.objects.filter(within)
        .filter(Q(removed_at__isnull=True) | Q(removed_at__gt=since))
        .values_list("subscription_id", "option_id", "added_at", "removed_at")
    ):
        if sub in wanted:
            spans[sub].append(OptionSpan(codes.options[option], added, removed))

    plan_changes: dict[int, list[PlanChange]] = defaultdict(list)
    package_kind = SubscriptionChange.Kind.TRAFFIC_PACKAGE
    changes = SubscriptionChange.objects.filter(within, at__gt=since).filter(
        Q(from_plan__isnull=False)
        | Q(from_employees__isnull=False)
        | Q(from_numbers__isnull=False)
        | Q(kind=package_kind)
    )
    for sub, at, kind, from_plan, from_employees, from_numbers, from_package in changes.values_list(
        "subscription_id",
        "at",
        "kind",
        "from_plan_id",
        "from_employees",
        "from_numbers",
        "from_package_id",
    ):
        if sub in wanted:
            plan_changes[sub].append(
                PlanChange(
                    at,
                    codes.plans.get(from_plan) if from_plan else None,
                    from_employees,
                    from_numbers,
                    codes.packages.get(from_package) if from_package else None,
                    package_changed=kind == package_kind,
                )
            )
    switches = _switches(within)

    views = {}
    for row in rows:
        sub = row["id"]
        current = Config(
            plan=codes.plans[row["plan_id"]],
            employees=row["employees"],
            numbers=row["numbers"],
            options=tuple(sorted(s.code for s in spans[sub] if s.removed_at is None)),
            traffic_package=codes.packages.get(row["traffic_package_id"]),
            discount_percent=row["discount_percent"],
        )
        views[sub] = BillingView(
            id=sub,
            customer_id=row["customer_id"],
            status=row["status"],
            history=History(
                current=current,
                plan_changes=tuple(plan_changes[sub]),
                option_spans=tuple(spans[sub]),
                ended_at=row["ended_at"],
            ),
            cycles=_cycles(row["billing_starts_on"], row["period"], switches.get(sub, []), zone),
            zone=zone,
            minimum_usage=row["minimum_usage"],
        )
    return views


def billing_view(subscription: Subscription, *, since: datetime, zone: ZoneInfo) -> BillingView:
    return billing_views(Q(pk=subscription.pk), since=since, zone=zone)[subscription.pk]


def get_subscription(pk: int) -> Subscription | None:
    return Subscription.objects.select_related("plan", "traffic_package").filter(pk=pk).first()


def current_options(subscription: Subscription) -> list[str]:
    return sorted(
        SubscriptionOption.objects.filter(
            subscription=subscription, removed_at__isnull=True
        ).values_list("option__code", flat=True)
    )


def current_period(subscription: Subscription, at: datetime, zone: ZoneInfo):
    """The paid period containing ``at`` and its interval, or ``None`` (trial, ended)."""
    if subscription.ended_at is not None and subscription.ended_at <= at:
        return None
    return billing_view(subscription, since=at, zone=zone).period_at(at)
