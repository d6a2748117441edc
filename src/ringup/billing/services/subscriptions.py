"""Subscription lifecycle: start, change (previewed or applied), cancel, and the passage of
time (trials converting, cancellations and interval switches taking effect).

A change may touch the plan, employees, phone numbers, options, the traffic package and
the billing period; each is prorated by the second within the current paid period.

Every write records ``SubscriptionChange`` rows: invoices are computed from that history,
so a change previewed, applied and later invoiced is priced by the same code.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum

from django.db import transaction
from django.db.models import Q

from ringup.catalog.models import Option, TrafficPackage
from ringup.customers.models import Customer
from ringup.engine.invoicing import Config, Line, Totals, change_lines, taxed, totals
from ringup.engine.periods import BillingPeriod, Interval, first_midnight_at_or_after
from ringup.engine.pricing import MAX_NUMBERS, SelectionError

from ..conf import billing_settings
from ..models import Invoice, Subscription, SubscriptionChange, SubscriptionOption
from ..selectors.pricing import CatalogPricer
from ..selectors.subscriptions import BillingView, billing_view
from .events import emit_subscription, publish, subscription_events

Kind = SubscriptionChange.Kind
INTERVALS = {interval.value for interval in Interval}
# trial.ending is announced this long before a trial ends.
TRIAL_ENDING_NOTICE = timedelta(days=3)


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
    # False for a self-service trial: it turns paid only once the customer decides
    # (convert_trial, or a payment); without that it is suspended at its end.
    trial_converts: bool = True


class Unchanged(Enum):
    """Marks a request field left out, where ``None`` has a meaning of its own."""

    KEEP = "keep"


KEEP = Unchanged.KEEP


@dataclass(frozen=True)
class ChangeRequest:
    """Any subset of plan, employees, phone numbers, options (the full set wanted), the
    traffic package (a code, or ``None`` to remove it) and period."""

    plan: str | None = None
    employees: int | None = None
    numbers: int | None = None
    options: tuple[str, ...] | None = None
    traffic_package: str | Unchanged | None = KEEP
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
            trial_converts=request.trial_converts or not request.trial,
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
        kind = "trial.started" if request.trial else "subscription.started"
        emit_subscription(kind, subscription.pk, at=at)
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


def _carried_package(
    pricer: CatalogPricer, before: Config, plan: str, wanted: str | Unchanged | None
) -> str | None:
    """The traffic package after the change: the one asked for (``None``: none), else
    the current one if the plan (a new one, on a plan change) offers it."""
    if wanted is not KEEP:
        return wanted or None
    offered = pricer.plan(plan)[1].traffic_packages
    return before.traffic_package if before.traffic_package in offered else None


def _numbers(pricer: CatalogPricer, before: Config, plan: str, wanted: int | None) -> int:
    """The phone numbers after the change: at least those the plan includes, at most
    ``MAX_NUMBERS``, and extra ones only where the plan sells them."""
    if wanted is None:
        return before.numbers
    catalog_plan, price_list = pricer.plan(plan)
    included = catalog_plan.included_numbers
    if not included <= wanted <= MAX_NUMBERS:
        raise SelectionError(
            {"numbers": f"must be between {included} and {MAX_NUMBERS} on plan {plan}"}
        )
    if wanted > included and "local" not in price_list.numbers:
        raise SelectionError({"numbers": f"plan {plan} includes {included}, and sells no more"})
    return wanted


def _kinds(pricer: CatalogPricer, before: Config, after: Config) -> list[str]:
    kinds = []
    if after.plan != before.plan:
        old, new = pricer.plan(before.plan)[0], pricer.plan(after.plan)[0]
        rising = (new.sort_order, new.monthly_fee) > (old.sort_order, old.monthly_fee)
        kinds.append(Kind.UPGRADE if rising else Kind.DOWNGRADE)
    elif after.employees != before.employees:
        kinds.append(Kind.EMPLOYEES)
    if after.numbers != before.numbers:
        kinds.append(Kind.NUMBERS)
    if after.traffic_package != before.traffic_package:
        kinds.append(Kind.TRAFFIC_PACKAGE)
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


def _paid_period(
    subscription: Subscription, view: BillingView, at: datetime
) -> tuple[BillingPeriod, Interval] | None:
    """The paid period containing ``at``; ``None`` during a trial, and for a trial waiting
    for the customer's decision (it is never billed until converted)."""
    if not subscription.trial_converts:
        return None
    return view.period_at(at)


def _switch(
    subscription: Subscription,
    paid: tuple[BillingPeriod, Interval] | None,
    target: Interval | None,
    at: datetime,
) -> tuple[Interval, datetime] | None:
    """When a requested switch of interval takes effect: now during the trial, else at
    the end of the current period (periods are never cut short)."""
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
        numbers=_numbers(pricer, before, plan, request.numbers),
        options=options,
        traffic_package=_carried_package(pricer, before, plan, request.traffic_package),
    )
    target = _interval(request.period) if request.period is not None else None
    paid = _paid_period(subscription, view, at)
    interval = paid[1] if paid else Interval(subscription.period)
    quote = pricer.quote(after, interval)  # refuses what the new plan cannot price
    switch = _switch(subscription, paid, target, at)
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
    if after.numbers != before.numbers:
        changes.append(
            SubscriptionChange(
                subscription=subscription,
                kind=Kind.NUMBERS,
                at=at,
                from_numbers=before.numbers,
                to_numbers=after.numbers,
            )
        )
    packages = dict(
        TrafficPackage.objects.filter(
            code__in={before.traffic_package, after.traffic_package} - {None}
        ).values_list("code", "pk")
    )
    if after.traffic_package != before.traffic_package:
        changes.append(
            SubscriptionChange(
                subscription=subscription,
                kind=Kind.TRAFFIC_PACKAGE,
                at=at,
                from_package_id=packages.get(before.traffic_package),
                to_package_id=packages.get(after.traffic_package),
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
    subscription.numbers = after.numbers
    subscription.traffic_package_id = packages.get(after.traffic_package)
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
    subscription.save(update_fields=["plan", "employees", "numbers", "traffic_package", "period"])
    SubscriptionChange.objects.bulk_create(changes)
    _emit_changed(subscription, outcome, plans, added, removed)


def _event_changes(outcome: ChangeOutcome, plans: dict) -> list[str]:
    """The event's names of what changed; a plan move is up or down by the plans'
    monthly price (their order in the catalog breaks a tie)."""
    before, after = outcome.before, outcome.after
    changes = []
    if after.plan != before.plan:
        old, new = plans[before.plan], plans[after.plan]
        rising = (new.monthly_fee, new.sort_order) > (old.monthly_fee, old.sort_order)
        changes.append("plan_up" if rising else "plan_down")
    for name in ("employees", "numbers", "options", "traffic_package"):
        if getattr(after, name) != getattr(before, name):
            changes.append(name)
    if outcome.period_switch:
        changes.append("period")
    return changes


def _emit_changed(
    subscription: Subscription,
    outcome: ChangeOutcome,
    plans: dict,
    added: list[str],
    removed: list[str],
) -> None:
    before, at, pk = outcome.before, outcome.at, subscription.pk
    switch = outcome.period_switch
    changed = {
        "changes": _event_changes(outcome, plans),
        "previous": {
            "plan": before.plan,
            "employees": before.employees,
            "numbers": before.numbers,
            "options": list(before.options),
            "traffic_package": before.traffic_package,
        },
        "period_switch": (
            {"to": switch[0].value, "effective_at": switch[1]} if switch is not None else None
        ),
    }
    publish(
        subscription_events("subscription.changed", [(pk, at, changed)]),
        subscription_events("option.added", [(pk, at, {"option": code}) for code in added]),
        subscription_events("option.removed", [(pk, at, {"option": code}) for code in removed]),
    )


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
        paid = _paid_period(sub, view, at)
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
        cancelled = {"ends_at": ended_at, "immediately": ended_at <= at}
        publish(
            subscription_events("subscription.cancelled", [(sub.pk, at, cancelled)]),
            subscription_events(
                "subscription.ended", [(sub.pk, ended_at, {})] if ended_at <= at else []
            ),
        )
    subscription.refresh_from_db()
    return CancelOutcome(sub.pk, ended_at, tuple(lines), totals(lines, currency))


def convert_trial(
    subscription: Subscription,
    *,
    at: datetime,
    plan: str | None = None,
    period: str | None = None,
    start_now: bool = False,
) -> Subscription:
    """The customer decided to pay (picked a plan, or paid): the trial converts at its end,
    on ``plan`` and ``period`` if given (a change during the trial: nothing to prorate).

    With ``start_now`` the trial ends at ``at`` and paid periods start at the first local
    midnight at or after it. A trial that already expired waiting for this decision
    (suspended) converts at once the same way: it was not served while suspended.
    """
    settings = billing_settings()
    with transaction.atomic():
        sub = Subscription.objects.select_for_update().get(pk=subscription.pk)
        _refuse_if_closed(sub, at)
        expired = sub.status == Subscription.Status.SUSPENDED and not sub.trial_converts
        if sub.status != Subscription.Status.TRIALING and not expired:
            raise ChangeRefused({"subscription": "only a trial converts"})
        request = ChangeRequest(
            plan=plan if plan not in (None, sub.plan.code) else None,
            period=period if period not in (None, sub.period) else None,
        )
        if request != ChangeRequest():
            # While the decision is pending (or the trial runs) no paid period has begun.
            _record(sub, _outcome(sub, request, at))
        now = expired or (start_now and at < sub.trial_ends_at)
        sub.trial_converts = True
        if now:
            if not expired:
                sub.trial_ends_at = at
            sub.billing_starts_on = first_midnight_at_or_after(at, settings.zone)
            sub.status = Subscription.Status.ACTIVE
            SubscriptionChange.objects.create(
                subscription=sub, kind=Kind.CONVERTED, at=at, to_plan_id=sub.plan_id
            )
        sub.save(update_fields=["trial_converts", "trial_ends_at", "billing_starts_on", "status"])
        if now:
            publish(
                subscription_events("subscription.started", [(sub.pk, at, {})]),
                subscription_events("subscription.resumed", [(sub.pk, at, {})] if expired else []),
            )
    subscription.refresh_from_db()
    return subscription


MAX_MINIMUM_USAGE = Decimal("9999999999.99")  # what the column holds


def set_minimum_usage(
    subscription: Subscription, amount: Decimal | None, *, at: datetime
) -> Subscription:
    """Set the monthly minimum call spend of ``subscription`` (``None``: no commitment).
    It is a term of the contract, not of the configuration: nothing is prorated, and every
    period invoiced from now on is held to it (docs/billing.md, "Minimum call
    commitments"). Refused, naming the field, below 0, above what the column holds, with
    more than two decimals, or once the subscription has ended."""
    if amount is not None:
        if not amount.is_finite() or amount < 0 or amount > MAX_MINIMUM_USAGE:
            raise ChangeRefused({"minimum_usage": f"must be between 0 and {MAX_MINIMUM_USAGE}"})
        if amount != amount.quantize(Decimal("0.01")):
            raise ChangeRefused({"minimum_usage": "at most two decimal places"})
    with transaction.atomic():
        sub = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if sub.status == Subscription.Status.CANCELLED or (
            sub.ended_at is not None and sub.ended_at <= at
        ):
            raise ChangeRefused({"subscription": "the subscription has ended"})
        sub.minimum_usage = amount
        sub.save(update_fields=["minimum_usage"])
    subscription.refresh_from_db()
    return subscription


def _live(at: datetime) -> Q:
    return Q(ended_at__isnull=True) | Q(ended_at__gt=at)


def _convert_trials(at: datetime) -> int:
    """Trials whose end has come and that convert by themselves become active."""
    trials = Subscription.objects.filter(
        _live(at), status=Subscription.Status.TRIALING, trial_ends_at__lte=at, trial_converts=True
    )
    # Claimed, so that a concurrent run skips them rather than converting them twice.
    converted = list(
        trials.select_for_update(skip_locked=True).values_list("pk", "plan_id", "trial_ends_at")
    )
    SubscriptionChange.objects.bulk_create(
        SubscriptionChange(subscription_id=pk, kind=Kind.CONVERTED, at=ends, to_plan_id=plan)
        for pk, plan, ends in converted
    )
    Subscription.objects.filter(pk__in=[pk for pk, _, _ in converted]).update(
        status=Subscription.Status.ACTIVE
    )
    publish(subscription_events("subscription.started", [(pk, e, {}) for pk, _, e in converted]))
    return len(converted)


def _expire_trials(at: datetime) -> int:
    """Trials whose end has come without the customer's decision are suspended."""
    trials = Subscription.objects.filter(
        _live(at), status=Subscription.Status.TRIALING, trial_ends_at__lte=at, trial_converts=False
    )
    expired = list(trials.select_for_update(skip_locked=True).values_list("pk", "trial_ends_at"))
    SubscriptionChange.objects.bulk_create(
        SubscriptionChange(subscription_id=pk, kind=Kind.TRIAL_EXPIRED, at=ends)
        for pk, ends in expired
    )
    Subscription.objects.filter(pk__in=[pk for pk, _ in expired]).update(
        status=Subscription.Status.SUSPENDED
    )
    publish(
        subscription_events("trial.expired", [(pk, ends, {}) for pk, ends in expired]),
        subscription_events(
            "subscription.suspended",
            [(pk, ends, {"reason": "trial_expired"}) for pk, ends in expired],
        ),
    )
    return len(expired)


def _end_lapsed_trials(at: datetime) -> int:
    """Expired trials still undecided ``RINGUP_TRIAL_GRACE_DAYS`` after their end are
    cancelled, ending at that moment."""
    grace = timedelta(days=billing_settings().trial_grace_days)
    lapsed = list(
        Subscription.objects.filter(
            ended_at__isnull=True,
            status=Subscription.Status.SUSPENDED,
            trial_converts=False,
            trial_ends_at__lte=at - grace,
        )
        .select_for_update(skip_locked=True)
        .values_list("pk", "trial_ends_at", "plan_id", "employees")
    )
    for pk, ends, _, _ in lapsed:
        Subscription.objects.filter(pk=pk).update(
            ended_at=ends + grace, status=Subscription.Status.CANCELLED
        )
        SubscriptionOption.objects.filter(subscription_id=pk, removed_at__isnull=True).update(
            removed_at=ends + grace
        )
    SubscriptionChange.objects.bulk_create(
        SubscriptionChange(
            subscription_id=pk,
            kind=Kind.CANCELLED,
            at=ends + grace,
            from_plan_id=plan,
            from_employees=employees,
        )
        for pk, ends, plan, employees in lapsed
    )
    publish(
        subscription_events(
            "subscription.ended",
            [(pk, ends + grace, {"reason": "trial_lapsed"}) for pk, ends, _, _ in lapsed],
        )
    )
    return len(lapsed)


def _end_cancelled(at: datetime) -> int:
    """Subscriptions whose cancellation date has come are cancelled (ended)."""
    ending = list(
        Subscription.objects.filter(ended_at__lte=at)
        .exclude(status=Subscription.Status.CANCELLED)
        .select_for_update(skip_locked=True)
        .values_list("pk", "ended_at")
    )
    Subscription.objects.filter(pk__in=[pk for pk, _ in ending]).update(
        status=Subscription.Status.CANCELLED
    )
    publish(subscription_events("subscription.ended", [(pk, e, {}) for pk, e in ending]))
    return len(ending)


def _announce_trial_ends(at: datetime) -> int:
    """``trial.ending`` for trials ending within ``TRIAL_ENDING_NOTICE`` of ``at``: once
    each (keyed), dated that long before the end (or at the start of a shorter trial)."""
    trials = Subscription.objects.filter(
        _live(at),
        status=Subscription.Status.TRIALING,
        trial_ends_at__gt=at,
        trial_ends_at__lte=at + TRIAL_ENDING_NOTICE,
    ).values_list("pk", "trial_ends_at", "started_at")
    return publish(
        subscription_events(
            "trial.ending",
            [
                (pk, max(ends - TRIAL_ENDING_NOTICE, started), {"trial_ends_at": ends})
                for pk, ends, started in trials
            ],
        )
    )


def advance_subscriptions(*, at: datetime) -> dict[str, int]:
    """Let time pass up to ``at``: trials whose end has come convert (or, waiting for the
    customer's decision, are suspended, and end after the grace days), cancellations and
    switches of interval whose date has come take effect. Safe to run any number of times."""
    with transaction.atomic():
        converted = _convert_trials(at)
        expired = _expire_trials(at)
        lapsed = _end_lapsed_trials(at)
        ended = _end_cancelled(at)
        ending = _announce_trial_ends(at)
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
    return {
        "converted": converted,
        "trial_expired": expired,
        "trial_lapsed": lapsed,
        "cancelled": ended,
        "period_switched": switched,
        "trial_ending_announced": ending,
    }
