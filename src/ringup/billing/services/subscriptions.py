"""Subscription lifecycle: start, change (previewed or applied), cancel, and the passage of
time (trials converting, cancellations and interval switches taking effect).

Every write records ``SubscriptionChange`` rows: invoices are computed from that history,
so a change previewed, applied and later invoiced is priced by the same code.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from ringup.catalog.models import Option
from ringup.customers.models import Customer
from ringup.engine.invoicing import Config, Line, Totals, change_lines, taxed, totals
from ringup.engine.periods import BillingPeriod, Interval, first_midnight_at_or_after
from ringup.engine.pricing import SelectionError

from ..conf import billing_settings
from ..models import Invoice, Subscription, SubscriptionChange, SubscriptionOption
from ..selectors.pricing import CatalogPricer
from ..selectors.subscriptions import BillingView, billing_view

Kind = SubscriptionChange.Kind
INTERVALS = {interval.value for interval in Interval}


class ChangeRefused(SelectionError):
    """The subscription cannot take this change now; ``errors`` names the field."""


@dataclass(frozen=True)
class StartRequest:
    plan: str
    employees: int | None = None
    numbers: int | None = None
    options: tuple[str, ...] = ()
    traffic_package: str | None = None
    period: str = Interval.MONTHLY.value
    discount_percent: Decimal = Decimal(0)
    trial: bool = True


@dataclass(frozen=True)
class ChangeRequest:
    """Any subset of plan, employees, options (the full set wanted) and period."""

    plan: str | None = None
    employees: int | None = None
    options: tuple[str, ...] | None = None
    period: str | None = None


@dataclass(frozen=True)
class ChangeOutcome:
    """What a change does: the configuration before and after, and the lines it adds to
    the current period's invoice (none during a trial)."""

    subscription_id: int
    at: datetime
    before: Config
    after: Config
    period: BillingPeriod | None
    lines: tuple[Line, ...]
    totals: Totals
    currency: str
    kinds: tuple[str, ...]
    monthly_before: Decimal
    monthly_after: Decimal
    period_switch: tuple[Interval, datetime] | None = None


def _interval(value: str) -> Interval:
    if value not in INTERVALS:
        raise SelectionError({"period": "must be monthly or annual"})
    return Interval(value)


def start_subscription(customer: Customer, request: StartRequest, *, at: datetime) -> Subscription:
    """Start ``customer`` on a plan at ``at``: a trial of the plan's length (paid periods
    start at the first local midnight after it), or paid from the next local midnight."""
    settings = billing_settings()
    pricer = CatalogPricer()
    plan, _ = pricer.plan(request.plan)
    config = Config(
        plan=plan.code,
        employees=request.employees if request.employees is not None else plan.min_employees,
        numbers=request.numbers if request.numbers is not None else plan.included_numbers,
        options=tuple(sorted(set(request.options))),
        traffic_package=request.traffic_package or None,
        discount_percent=request.discount_percent,
    )
    pricer.quote(config, _interval(request.period))  # refuses what cannot be priced
    trial_ends = at + timedelta(days=plan.trial_days) if request.trial else None
    with transaction.atomic():
        subscription = Subscription.objects.create(
            customer=customer,
            plan=plan,
            status=Subscription.Status.TRIALING if request.trial else Subscription.Status.ACTIVE,
            period=request.period,
            employees=config.employees,
            numbers=config.numbers,
            traffic_package=(
                plan.traffic_packages.get(code=config.traffic_package)
                if config.traffic_package
                else None
            ),
            discount_percent=config.discount_percent,
            started_at=at,
            trial_ends_at=trial_ends,
            billing_starts_on=first_midnight_at_or_after(trial_ends or at, settings.zone),
        )
        options = dict(plan.options.filter(code__in=config.options).values_list("code", "pk"))
        SubscriptionOption.objects.bulk_create(
            SubscriptionOption(subscription=subscription, option_id=options[code], added_at=at)
            for code in config.options
        )
        SubscriptionChange.objects.bulk_create(
            [
                SubscriptionChange(
                    subscription=subscription,
                    kind=Kind.STARTED,
                    at=at,
                    to_plan=plan,
                    to_employees=config.employees,
                ),
                *(
                    SubscriptionChange(
                        subscription=subscription,
                        kind=Kind.OPTION_ADDED,
                        at=at,
                        option_id=options[code],
                    )
                    for code in config.options
                ),
            ]
        )
    return subscription


def _refuse_if_closed(subscription: Subscription, at: datetime) -> None:
    if subscription.status == Subscription.Status.CANCELLED or (
        subscription.ended_at is not None and subscription.ended_at <= at
    ):
        raise ChangeRefused({"subscription": "the subscription has ended"})
    if subscription.ended_at is not None:
        raise ChangeRefused(
            {"subscription": f"the subscription is cancelled from {subscription.ended_at:%Y-%m-%d}"}
        )


def _refuse_if_out_of_order(subscription: Subscription, at: datetime) -> None:
    """History is written in order, and never into a period already invoiced."""
    later = SubscriptionChange.objects.filter(subscription=subscription, at__gt=at).exclude(
        kind=Kind.PERIOD_CHANGED
    )
    if later.exists():
        raise ChangeRefused({"at": "a later change is already recorded"})
    billed = Invoice.objects.filter(subscription=subscription, period_end__gt=at)
    if billed.exists():
        raise ChangeRefused({"at": "falls in a period already invoiced"})


def _carried_options(pricer: CatalogPricer, before: Config, plan: str) -> tuple[str, ...]:
    """Options kept on a plan change when the request names none: those the new plan offers."""
    offered = pricer.plan(plan)[1].options
    return tuple(code for code in before.options if code in offered)


def _kinds(pricer: CatalogPricer, before: Config, after: Config) -> list[str]:
    kinds = []
    if after.plan != before.plan:
        old, new = pricer.plan(before.plan)[0], pricer.plan(after.plan)[0]
        rising = (new.sort_order, new.monthly_fee) > (old.sort_order, old.monthly_fee)
        kinds.append(Kind.UPGRADE if rising else Kind.DOWNGRADE)
    elif after.employees != before.employees:
        kinds.append(Kind.EMPLOYEES)
    kinds += [Kind.OPTION_REMOVED] * len(set(before.options) - set(after.options))
    kinds += [Kind.OPTION_ADDED] * len(set(after.options) - set(before.options))
    return kinds


def _pending_switch(subscription: Subscription, at: datetime) -> SubscriptionChange | None:
    return (
        SubscriptionChange.objects.filter(
            subscription=subscription, kind=Kind.PERIOD_CHANGED, at__gt=at
        )
        .order_by("at")
        .first()
    )


def _switch(
    subscription: Subscription, view: BillingView, target: Interval | None, at: datetime
) -> tuple[Interval, datetime] | None:
    """When a requested switch of interval takes effect: now during the trial, else at
    the end of the current period (periods are never cut short)."""
    paid = view.period_at(at)
    current = paid[1] if paid else Interval(subscription.period)
    pending = _pending_switch(subscription, at)
    if target is None or (target == current and pending is None):
        return None
    if pending is not None:
        if Interval(pending.to_period) == target:
            return None
        scheduled = (
            f"a switch to {pending.to_period} is already scheduled for {pending.at:%Y-%m-%d}"
        )
        raise ChangeRefused({"period": scheduled})
    return (target, paid[0].end if paid else at)


def _outcome(subscription: Subscription, request: ChangeRequest, at: datetime) -> ChangeOutcome:
    settings = billing_settings()
    _refuse_if_closed(subscription, at)
    _refuse_if_out_of_order(subscription, at)
    pricer = CatalogPricer()
    view = billing_view(subscription, since=at, zone=settings.zone)
    before = view.history.at(at)
    assert before is not None  # _refuse_if_closed
    plan = request.plan or before.plan
    pricer.plan(plan)  # an unknown plan is a 422 on "plan"
    options = (
        tuple(sorted(set(request.options)))
        if request.options is not None
        else _carried_options(pricer, before, plan)
    )
    after = replace(
        before,
        plan=plan,
        employees=request.employees if request.employees is not None else before.employees,
        options=options,
    )
    target = _interval(request.period) if request.period is not None else None
    paid = view.period_at(at)
    interval = paid[1] if paid else Interval(subscription.period)
    quote = pricer.quote(after, interval)  # refuses what the new plan cannot price
    switch = _switch(subscription, view, target, at)
    kinds = _kinds(pricer, before, after) + ([Kind.PERIOD_CHANGED] if switch else [])
    if not kinds:
        raise ChangeRefused({"change": "nothing would change"})
    lines: list[Line] = []
    if paid and after != before:
        lines = taxed(
            change_lines(pricer, paid[0], interval, at, before, after, settings.zone),
            settings.vat,
            quote.currency,
        )
    return ChangeOutcome(
        subscription_id=subscription.pk,
        at=at,
        before=before,
        after=after,
        period=paid[0] if paid else None,
        lines=tuple(lines),
        totals=totals(lines, quote.currency),
        currency=quote.currency,
        kinds=tuple(str(kind) for kind in kinds),
        monthly_before=pricer.quote(before, interval).monthly_total,
        monthly_after=quote.monthly_total,
        period_switch=switch,
    )


def preview_change(
    subscription: Subscription, request: ChangeRequest, *, at: datetime
) -> ChangeOutcome:
    """What ``request`` would do at ``at``; writes nothing."""
    return _outcome(subscription, request, at)


def change_subscription(
    subscription: Subscription, request: ChangeRequest, *, at: datetime
) -> ChangeOutcome:
    """Apply ``request`` at ``at`` and record it; returns what the preview returned."""
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
        outcome = _outcome(locked, request, at)
        _record(locked, outcome)
    subscription.refresh_from_db()
    return outcome


def _record(subscription: Subscription, outcome: ChangeOutcome) -> None:
    before, after, at = outcome.before, outcome.after, outcome.at
    pricer = CatalogPricer()
    plans = {code: pricer.plan(code)[0] for code in {before.plan, after.plan}}
    option_ids = dict(
        Option.objects.filter(code__in=set(before.options) | set(after.options)).values_list(
            "code", "pk"
        )
    )
    changes = []
    moved = after.plan != before.plan
    if moved or after.employees != before.employees:
        changes.append(
            SubscriptionChange(
                subscription=subscription,
                kind=outcome.kinds[0],
                at=at,
                from_plan_id=plans[before.plan].pk if moved else None,
                to_plan_id=plans[after.plan].pk if moved else None,
                from_employees=before.employees,
                to_employees=after.employees,
            )
        )
    removed = sorted(set(before.options) - set(after.options))
    added = sorted(set(after.options) - set(before.options))
    SubscriptionOption.objects.filter(
        subscription=subscription,
        option_id__in=[option_ids[c] for c in removed],
        removed_at__isnull=True,
    ).update(removed_at=at)
    SubscriptionOption.objects.bulk_create(
        SubscriptionOption(subscription=subscription, option_id=option_ids[c], added_at=at)
        for c in added
    )
    for kind, codes in ((Kind.OPTION_REMOVED, removed), (Kind.OPTION_ADDED, added)):
        changes += [
            SubscriptionChange(subscription=subscription, kind=kind, at=at, option_id=option_ids[c])
            for c in codes
        ]
    subscription.plan_id = plans[after.plan].pk
    subscription.employees = after.employees
    if outcome.period_switch:
        target, effective = outcome.period_switch
        changes.append(
            SubscriptionChange(
                subscription=subscription,
                kind=Kind.PERIOD_CHANGED,
                at=effective,
                from_period=subscription.period,
                to_period=target.value,
            )
        )
        if effective <= at:  # during the trial: no period has started yet
            subscription.period = target.value
    subscription.save(update_fields=["plan", "employees", "period"])
    SubscriptionChange.objects.bulk_create(changes)


@dataclass(frozen=True)
class CancelOutcome:
    subscription_id: int
    ended_at: datetime
    lines: tuple[Line, ...]
    totals: Totals


def cancel_subscription(
    subscription: Subscription, *, at: datetime, immediately: bool = False
) -> CancelOutcome:
    """End the subscription at the end of the current period, or ``immediately`` (the
    final invoice then credits the unused part of the period). A trial ends at once."""
    settings = billing_settings()
    with transaction.atomic():
        sub = Subscription.objects.select_for_update().get(pk=subscription.pk)
        _refuse_if_closed(sub, at)
        _refuse_if_out_of_order(sub, at)
        view = billing_view(sub, since=at, zone=settings.zone)
        before = view.history.at(at)
        paid = view.period_at(at)
        ended_at = at if (immediately or paid is None) else paid[0].end
        lines: list[Line] = []
        currency = "RUB"
        if paid is not None and ended_at == at:
            pricer = CatalogPricer()
            currency = pricer.quote(before, paid[1]).currency
            lines = taxed(
                change_lines(pricer, paid[0], paid[1], at, before, None, settings.zone),
                settings.vat,
                currency,
            )
        sub.ended_at = ended_at
        if ended_at <= at:
            sub.status = Subscription.Status.CANCELLED
        sub.save(update_fields=["ended_at", "status"])
        SubscriptionOption.objects.filter(subscription=sub).filter(
            Q(removed_at__isnull=True) | Q(removed_at__gt=ended_at)
        ).update(removed_at=ended_at)
        SubscriptionChange.objects.create(
            subscription=sub,
            kind=Kind.CANCELLED,
            at=ended_at,
            from_plan_id=sub.plan_id,
            from_employees=sub.employees,
        )
    subscription.refresh_from_db()
    return CancelOutcome(sub.pk, ended_at, tuple(lines), totals(lines, currency))


def advance_subscriptions(*, at: datetime) -> dict[str, int]:
    """Let time pass up to ``at``: trials whose end has come convert, cancellations and
    switches of interval whose date has come take effect. Safe to run any number of times."""
    with transaction.atomic():
        trials = Subscription.objects.filter(
            status=Subscription.Status.TRIALING, trial_ends_at__lte=at
        ).filter(Q(ended_at__isnull=True) | Q(ended_at__gt=at))
        converted = list(trials.values_list("pk", "plan_id", "trial_ends_at"))
        SubscriptionChange.objects.bulk_create(
            SubscriptionChange(subscription_id=pk, kind=Kind.CONVERTED, at=ends, to_plan_id=plan)
            for pk, plan, ends in converted
        )
        Subscription.objects.filter(pk__in=[pk for pk, _, _ in converted]).update(
            status=Subscription.Status.ACTIVE
        )
        ended = (
            Subscription.objects.filter(ended_at__lte=at)
            .exclude(status=Subscription.Status.CANCELLED)
            .update(status=Subscription.Status.CANCELLED)
        )
        switched = 0
        latest: dict[int, str] = {}
        for pk, to_period in (
            SubscriptionChange.objects.filter(kind=Kind.PERIOD_CHANGED, at__lte=at)
            .order_by("at", "pk")
            .values_list("subscription_id", "to_period")
        ):
            latest[pk] = to_period
        for period in INTERVALS:
            switched += (
                Subscription.objects.filter(pk__in=[k for k, v in latest.items() if v == period])
                .exclude(period=period)
                .update(period=period)
            )
    return {"converted": len(converted), "cancelled": ended, "period_switched": switched}
