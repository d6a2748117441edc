"""Invoices: the bill run, finalising a draft, and credit notes.

A bill run invoices every period that ended by ``until`` (billing in arrears, see
``docs/billing.md``). It works a chunk of subscriptions at a time: the invoices are first
computed without writing anything (that is all ``dry_run`` does), then written in one
transaction per chunk: the invoices, their lines, their ledger postings, the usage and
credits they consume, and the numbers they take. A run killed half-way leaves whole
chunks or nothing, and the next run carries on where it stopped.

Each rated call is billed by the customer's subscription whose paid window contains its
start, the lowest id where two overlap; a call in a gap between subscriptions by the next
one to start; a call during a trial by none (:func:`call_stretches`). A subscription that
has ended, whose last period is invoiced, and whose calls (or usage rows) from before its
end arrive later, gets a *closing* invoice of those: reason ``closing``, its period the
run's last day, so that each run has a key of its own and a run repeated for the same day
finds the one it wrote.

Each invoice written emits ``invoice.issued``, and ``invoice.paid`` too when the
customer's prepaid credit settles it at issue.

Idempotency is the database's: ``UNIQUE (subscription, period_start, reason)`` and an
``INSERT … ON CONFLICT DO NOTHING``. The number series row is locked first, so concurrent
runs take turns per chunk and numbers have no gaps.
"""

import hashlib
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q, Sum

from ringup.customers.models import Customer
from ringup.engine import ledger
from ringup.engine.invoicing import (
    Config,
    Credit,
    DiscountKind,
    LateUsage,
    Line,
    LineKind,
    PeriodDiscount,
    RatedUsage,
    Totals,
    UsageGroup,
    commitment_lines,
    credit_lines,
    discount_lines,
    held_months,
    included_minutes,
    late_usage_lines,
    period_lines,
    recurring_charged_twice,
    taxed,
    totals,
    usage_groups,
    usage_lines,
)
from ringup.engine.money import ZERO, quantize
from ringup.engine.periods import (
    BillingPeriod,
    Interval,
    local_midnight,
    schedule_period_at,
    schedule_periods,
)
from ringup.engine.pricing import SelectionError
from ringup.sql import assign_unset, insert_rows
from ringup.usage.selectors import billable_calls
from ringup.usage.services import mark_billed

from ..conf import BillingSettings, billing_settings
from ..models import (
    AccountCredit,
    BillingAccount,
    CreditNote,
    CreditNoteLine,
    Invoice,
    InvoiceLine,
    NumberSeries,
    Posting,
    Subscription,
    SubscriptionDiscount,
    UsageCharge,
)
from ..selectors.invoices import in_credit, invoiced_overlaps, last_billed_ends, open_invoices
from ..selectors.pricing import CatalogPricer
from ..selectors.subscriptions import BillingView, Schedule, billing_views, schedules
from .events import (
    credit_note_events,
    invoice_events,
    paid_events,
    publish,
    subscription_events,
)
from .ledger import NewPosting, post, post_many

CHUNK = 2_000
ATTEMPTS = 3

INVOICE_COLUMNS = [
    "customer_id",
    "subscription_id",
    "reason",
    "period_start",
    "period_end",
    "status",
    "number",
    "currency",
    "issued_at",
    "due_at",
    "net_amount",
    "vat_amount",
    "total",
    "vat_rate",
    "vat_included",
    "included_minutes",
    "buyer",
    "created_at",
]
LINE_COLUMNS = [
    "invoice_id",
    "position",
    "kind",
    "code",
    "description",
    "quantity",
    "unit_amount",
    "amount",
    "vat_amount",
    "total",
]


@dataclass
class Draft:
    """An invoice computed but not yet written."""

    subscription_id: int
    customer_id: int
    period: BillingPeriod
    issued_at: datetime
    due_at: datetime
    currency: str
    lines: list[Line]
    totals: Totals
    included_minutes: int
    buyer: dict
    usage_ids: list[int] = field(default_factory=list)
    call_ids: list[int] = field(default_factory=list)
    credits_used: dict[int, Decimal] = field(default_factory=dict)
    number: str = ""
    reason: str = Invoice.Reason.PERIOD.value


@dataclass(frozen=True)
class Refusal:
    subscription_id: int
    period_start: datetime
    reason: str


@dataclass
class BillReport:
    """What a run created (or, dry, would create); ``digest`` fingerprints every invoice
    and line, so two reports with equal digests describe the same invoices."""

    until: datetime
    dry_run: bool
    invoices_created: int = 0
    lines_created: int = 0
    entries_posted: int = 0
    totals: dict[str, list[Decimal]] = field(default_factory=dict)
    first_number: str | None = None
    last_number: str | None = None
    refused: list[Refusal] = field(default_factory=list)
    _digest: "hashlib._Hash" = field(default_factory=hashlib.sha256)

    def add(self, drafts: Sequence[Draft]) -> None:
        for draft in drafts:
            self.invoices_created += 1
            self.lines_created += len(draft.lines)
            sums = self.totals.setdefault(draft.currency, [ZERO, ZERO, ZERO])
            sums[0] += draft.totals.net
            sums[1] += draft.totals.vat
            sums[2] += draft.totals.total
            self.first_number = self.first_number or draft.number
            self.last_number = draft.number
            self._digest.update(_fingerprint(draft).encode())

    def as_dict(self) -> dict:
        return {
            "until": self.until.isoformat(),
            "dry_run": self.dry_run,
            "invoices_created": self.invoices_created,
            "lines_created": self.lines_created,
            "totals": {
                currency: {"net": str(net), "vat": str(vat), "total": str(total)}
                for currency, (net, vat, total) in sorted(self.totals.items())
            },
            "first_number": self.first_number,
            "last_number": self.last_number,
            "refused": [
                {
                    "subscription": r.subscription_id,
                    "period_start": r.period_start.isoformat(),
                    "reason": r.reason,
                }
                for r in self.refused
            ],
            "digest": self._digest.hexdigest(),
        }


def _fingerprint(draft: Draft) -> str:
    """One invoice as text; decimals with two places, as the database gives them back."""
    lines = ";".join(
        f"{line.kind}|{line.code}|{line.description}|{line.quantity:.2f}|{line.amount:.2f}|"
        f"{line.vat_amount:.2f}|{line.total:.2f}"
        for line in draft.lines
    )
    return (
        f"{draft.number}|{draft.subscription_id}|{draft.period.start.isoformat()}|"
        f"{draft.period.end.isoformat()}|{draft.issued_at.isoformat()}|{draft.totals.total:.2f}|"
        f"{lines}\n"
    )


class _Conflict(Exception):
    """Another writer took what this chunk was about to take: compute it again."""


def bill(
    *,
    until: datetime,
    at: datetime,
    dry_run: bool = False,
    chunk: int = CHUNK,
    announce: bool = True,
) -> BillReport:
    """Invoice every period that ended by ``until`` and is not invoiced yet.

    ``at`` is the time of the run (``created_at``). With ``dry_run`` nothing is written
    and the report is the one a real run would give. Each invoice written emits
    ``invoice.issued`` (and ``invoice.paid`` when a prepaid credit settles it at once),
    unless ``announce`` is off (loading a history: nobody is to be told about invoices of
    the past).
    """
    if until > at:
        raise ValueError("until must not be in the future: periods not yet over are not billed")
    settings = billing_settings()
    context = _Context(
        settings=settings, pricer=CatalogPricer(), until=until, at=at, announce=announce
    )
    report = BillReport(until=until, dry_run=dry_run)
    # What the numbers would be; a real run takes them under the series lock instead.
    series = NumberSeries.objects.filter(code=NumberSeries.Code.INVOICE).first() or NumberSeries(
        code=NumberSeries.Code.INVOICE, prefix=settings.invoice_prefix
    )
    candidates = Subscription.objects.filter(
        billing_starts_on__lte=until.astimezone(settings.zone).date(), trial_converts=True
    )
    ids = list(candidates.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), chunk):
        first, last = ids[start], ids[min(start + chunk, len(ids)) - 1]
        for attempt in range(ATTEMPTS):
            drafts, refused = _drafts(first, last, context)
            if dry_run:
                for offset, draft in enumerate(drafts):
                    draft.number = series.format(series.next_value + offset)
                    for key, amount in draft.credits_used.items():
                        context.credits_used[key] = context.credits_used.get(key, ZERO) + amount
                series.next_value += len(drafts)
                break
            try:
                drafts, refused_now = _commit(drafts, context)
            except _Conflict:
                if attempt == ATTEMPTS - 1:
                    raise
                continue
            refused += refused_now
            break
        report.add(drafts)
        report.refused += refused
    return report


@dataclass
class _Context:
    settings: BillingSettings
    pricer: CatalogPricer
    until: datetime
    at: datetime
    announce: bool = True
    # A dry run writes nothing, so credits its earlier chunks used are remembered here.
    credits_used: dict[int, Decimal] = field(default_factory=dict)
    # The taxed lines of a quiet period, per configuration (see _charges).
    quiet: dict[tuple, tuple[list[Line], Totals]] = field(default_factory=dict)

    def package_minutes(self, config: Config) -> int:
        """The monthly minutes of ``config``'s traffic package (0 without one)."""
        package = config.traffic_package
        if not package:
            return 0
        return self.pricer.plan(config.plan)[1].traffic_packages[package].minutes


def upcoming_invoice(subscription: Subscription, *, at: datetime) -> Draft | None:
    """The invoice ``ringup bill`` would write at the end of the period under way at
    ``at`` if nothing changed before then: the same fees, prorations, calls so far,
    credits and VAT, from the bill run's own draft step. Nothing is written.

    ``None`` when no further invoice is due (the subscription has ended, or it is a trial
    the customer has not decided to keep) or its configuration cannot be priced.
    """
    settings = billing_settings()
    if subscription.ended_at is not None and subscription.ended_at <= at:
        return None
    if not subscription.trial_converts:
        return None
    schedule = schedules(subscription.pk, subscription.pk, zone=settings.zone)[0]
    period = schedule_period_at(schedule.cycles, settings.zone, max(at, schedule.billing_start))
    context = _Context(settings=settings, pricer=CatalogPricer(), until=period.end, at=at)
    try:
        drafts, _ = _drafts(subscription.pk, subscription.pk, context)
    except SelectionError:
        return None
    return next((draft for draft in drafts if draft.period.start == period.start), None)


def _due_periods(schedule: Schedule, after: datetime, until: datetime) -> list[BillingPeriod]:
    """The periods to invoice: those ended by ``until``, and the one a cancelled
    subscription ended in once it has ended."""
    zone, cycles, ended = schedule.zone, schedule.cycles, schedule.ended_at
    if ended is not None and ended <= schedule.billing_start:
        return []
    periods = schedule_periods(cycles, zone, after=after, until=until)
    if ended is None:
        return periods
    periods = [period for period in periods if period.start < ended]
    if ended <= until and (not periods or periods[-1].end < ended):
        last = schedule_period_at(cycles, zone, ended)
        if after <= last.start < ended:
            periods.append(last)
    return periods


def _ended_and_billed(schedule: Schedule, billed_until: datetime | None, until: datetime) -> bool:
    """Whether ``schedule``'s subscription ended by ``until`` after its first paid period
    began, and its last period is invoiced: only a closing invoice can follow."""
    ended = schedule.ended_at
    return (
        ended is not None
        and schedule.billing_start < ended <= until
        and billed_until is not None
        and billed_until >= ended
    )


def _drafts(first: int, final: int, context: _Context) -> tuple[list[Draft], list[Refusal]]:
    """Compute the invoices of the subscriptions with ids from ``first`` to ``final``
    (no writes). Ranges of ids keep every query an index range scan; histories are read
    only for the subscriptions with a period to invoice or late usage to close."""
    zone = context.settings.zone
    last = last_billed_ends(Q(subscription_id__gte=first, subscription_id__lte=final))
    due, ended = {}, {}
    for schedule in schedules(first, final, zone=zone):
        after = last.get(schedule.id, schedule.billing_start)
        periods = _due_periods(schedule, after, context.until)
        if periods:
            due[schedule.id] = periods
        elif _ended_and_billed(schedule, last.get(schedule.id), context.until):
            # Usage that started before the end of the last period invoiced.
            ended[schedule.id] = (schedule.billing_start, min(last[schedule.id], context.until))
    closing = _late_after_end(ended, zone)
    if not due and not closing:
        return [], []
    starts = [periods[0].start for periods in due.values()] or [context.until]
    views = billing_views(Q(pk__in=[*due, *closing]), since=min(starts), zone=zone)
    customers = {view.customer_id for view in views.values()}
    usage = _usage(due, context.until) if due else {}
    calls = _calls(due, views, zone) if due else {}
    credits = _credits(customers, context.credits_used)
    discounts = _discounts(list(due))
    accounts = _accounts(customers)
    buyers = _buyers(customers)
    drafts, refused = [], []
    for key, (limit, late_calls, late_usage) in closing.items():
        draft = _closing_draft(
            views[key], limit, late_calls, late_usage, credits, accounts, buyers, context
        )
        if draft is not None:
            drafts.append(draft)
    for key, periods in due.items():
        view = views[key]
        pending_usage = usage.get(key, [])
        for period in periods:
            try:
                draft = _draft(
                    view,
                    period,
                    pending_usage,
                    calls.get(key, []),
                    credits,
                    accounts,
                    buyers,
                    context,
                    discounts.get(key, []),
                )
            except SelectionError as error:
                refused.append(Refusal(key, period.start, f"cannot be priced: {error}"))
                break  # later periods would double-bill what this one leaves out
            twice = recurring_charged_twice(draft.lines)
            if twice:
                refused.append(
                    Refusal(key, period.start, f"recurring fee charged twice: {', '.join(twice)}")
                )
                break
            drafts.append(draft)
    drafts.sort(key=lambda d: (d.issued_at, d.subscription_id))
    return drafts, refused


def _draft(
    view: BillingView,
    period: BillingPeriod,
    pending_usage: list[tuple],
    calls: list[tuple],
    credits: dict[int, list[list]],
    accounts: dict[int, tuple[str, int | None]],
    buyers: dict[int, dict],
    context: _Context,
    discounts: list[list] = (),
) -> Draft:
    settings, pricer = context.settings, context.pricer
    interval = view.interval_at(period.start)
    start_config = view.history.at(period.start)
    assert start_config is not None  # _due_periods keeps periods started before the end
    currency = pricer.quote(start_config, interval).currency
    base, base_totals = _charges(view, period, interval, start_config, context)
    lines = _with_discounts(list(base), discounts, period, interval, currency, settings)
    if len(lines) != len(base):
        base_totals = totals(lines, currency)
    ended = view.history.ended_at
    issued_at = min(period.end, ended) if ended is not None else period.end

    # Usage of the period, and any that arrived late for periods already invoiced.
    taken = [row for row in pending_usage if row[1] < period.end and row[6] == currency]
    taken_ids = {row[0] for row in taken}
    pending_usage[:] = [row for row in pending_usage if row[0] not in taken_ids]
    minutes = included_minutes(view.history, period, interval, context.package_minutes)
    # The rated calls this subscription bills (see call_stretches) not billed yet that
    # started before the period's end: the period's own, included minutes first, and
    # those from before it (imported after their invoice, or made in a gap before this
    # subscription) at their rated cost on lines of their own.
    taken_calls = [row for row in calls if row[1] < period.end]
    calls[:] = [row for row in calls if row[1] >= period.end]
    rated = [
        RatedUsage(description, seconds, cost, not international)
        for _, start, description, seconds, cost, international in taken_calls
        if period.start <= start
    ]
    late = [
        LateUsage(start.astimezone(settings.zone).date(), description, seconds, cost)
        for _, start, description, seconds, cost, _ in taken_calls
        if start < period.start
    ]
    call_ids = [row[0] for row in taken_calls]
    covered = usage_groups(rated, minutes * 60)
    usage = usage_lines(_grouped(taken, covered), currency)
    extra = [*usage, *late_usage_lines(late, currency)]
    if view.minimum_usage is not None:
        extra += _shortfall(view, period, interval, taken, covered, usage, currency)

    credited, used = _apply_credits(
        credits.get(view.customer_id, []), (*lines, *extra), currency, issued_at
    )
    extra += credited
    if extra:
        lines += taxed(extra, settings.vat, currency)
    return Draft(
        subscription_id=view.id,
        customer_id=view.customer_id,
        period=period,
        issued_at=issued_at,
        due_at=_due_at(issued_at, view.customer_id, accounts, settings),
        currency=currency,
        lines=lines,
        totals=totals(lines, currency) if extra else base_totals,
        included_minutes=minutes,
        buyer=buyers[view.customer_id],
        usage_ids=[row[0] for row in taken],
        call_ids=call_ids,
        credits_used=used,
    )


def _grouped(rows: Iterable[tuple], covered: Iterable[UsageGroup]) -> list[UsageGroup]:
    """Usage rows (``UsageCharge``) and groups of rated calls, summed per destination."""
    sums: dict[str, list] = defaultdict(lambda: [0, 0, ZERO])
    for _, _, destination, count, seconds, amount, _ in rows:
        group = sums[destination]
        group[0] += count
        group[1] += seconds
        group[2] += amount
    for found in covered:
        group = sums[found.destination]
        group[0] += found.calls
        group[1] += found.seconds
        group[2] += found.amount
    return [UsageGroup(destination, *group) for destination, group in sums.items()]


def _shortfall(
    view: BillingView,
    period: BillingPeriod,
    interval: Interval,
    taken: list[tuple],
    covered: list[UsageGroup],
    lines: list[Line],
    currency: str,
) -> list[Line]:
    """The minimum commitment's top-up of ``period``'s own calls, measured by its usage
    ``lines`` as written (so the customer can add them up; late calls have lines of their
    own). Usage rows that arrived late share their destination's line with the period's
    own, so then the period's lines are summed again without them."""
    assert view.minimum_usage is not None  # only called for a subscription with one
    own = [row for row in taken if row[1] >= period.start]
    if len(own) != len(taken):
        lines = usage_lines(_grouped(own, covered), currency)
    usage = sum((line.amount for line in lines), ZERO)
    months = held_months(view.history, period, interval)
    return commitment_lines(view.minimum_usage, months, usage, currency)


def _with_discounts(
    lines: list[Line],
    discounts: list[list],
    period: BillingPeriod,
    interval: Interval,
    currency: str,
    settings: BillingSettings,
) -> list[Line]:
    """``lines`` with the subscription's granted discounts (``SubscriptionDiscount``) due
    in ``period`` inserted after the recurring fees and the plan's discounts, taxed; each
    entry's periods (or months) left are lowered in place, so a run billing several
    periods at once stops a discount where it ends."""
    due = [entry for entry in discounts if entry[1] <= period.start]
    head = 0
    while head < len(lines) and lines[head].kind in (LineKind.RECURRING, LineKind.DISCOUNT):
        head += 1
    base = sum((line.amount for line in lines[:head]), ZERO)
    found, used = discount_lines([entry[0] for entry in due], base, interval.months, currency)
    if not found:
        return lines
    for entry in due:
        spent = used.get(entry[0].code)
        if spent and entry[0].left is not None:
            entry[0] = replace(entry[0], left=entry[0].left - spent)
    return [*lines[:head], *taxed(found, settings.vat, currency), *lines[head:]]


def _discounts(subscriptions: list[int]) -> dict[int, list[list]]:
    """Per subscription, its granted discounts as ``[PeriodDiscount, starts_at]`` in the
    order they apply, with what their invoice lines so far have used up deducted."""
    if not subscriptions:
        return {}
    rows = list(
        SubscriptionDiscount.objects.filter(subscription_id__in=subscriptions).order_by(
            "starts_at", "pk"
        )
    )
    if not rows:
        return {}
    spent = dict(
        InvoiceLine.objects.filter(
            invoice__subscription_id__in=subscriptions, code__in=[row.line_code for row in rows]
        )
        .values_list("code")
        .annotate(spent=Sum("quantity"))
        .values_list("code", "spent")
    )
    found: dict[int, list[list]] = defaultdict(list)
    for row in rows:
        # Free months are counted in months (the lines' quantity), the others in periods.
        limit = int(row.value) if row.kind == SubscriptionDiscount.Kind.FREE_MONTHS else row.periods
        left = None if limit is None else max(0, limit - int(spent.get(row.line_code) or 0))
        discount = PeriodDiscount(
            row.line_code, DiscountKind(row.kind), row.value, row.description, left
        )
        found[row.subscription_id].append([discount, row.starts_at])
    return found


def _apply_credits(
    credits: list[list], lines: Sequence[Line], currency: str, issued_at: datetime
) -> tuple[list[Line], dict[int, Decimal]]:
    """Credit lines for an invoice of ``lines`` from the customer's ``credits`` granted
    before it, oldest first; the credits' used amounts are advanced in place."""
    available = [
        Credit(key, description, amount - used)
        for key, description, amount, used, cur, granted in credits
        if cur == currency and granted < issued_at and amount > used
    ]
    credited, used = credit_lines(available, sum((line.amount for line in lines), ZERO))
    for entry in credits:
        entry[3] += used.get(entry[0], ZERO)
    return credited, used


def _due_at(
    issued_at: datetime,
    customer_id: int,
    accounts: dict[int, tuple[str, int | None]],
    settings: BillingSettings,
) -> datetime:
    kind, terms = accounts.get(customer_id, (BillingAccount.Kind.POSTPAID, None))
    if kind == BillingAccount.Kind.PREPAID:
        days = 0
    else:
        days = terms if terms is not None else settings.payment_terms_days
    return issued_at + timedelta(days=days)


def _closing_period(until: datetime, zone) -> BillingPeriod:
    """The period a closing invoice is filed under: the run's last day."""
    day = (until - timedelta(microseconds=1)).astimezone(zone).date()
    return BillingPeriod(-1, local_midnight(day, zone), until)


def _late_after_end(
    ended: dict[int, tuple[datetime, datetime]], zone
) -> dict[int, tuple[datetime, list[tuple], list[tuple]]]:
    """Of the ended subscriptions ``{id: (billing start, limit)}``, those with rated calls
    they bill (see :func:`call_stretches`) or usage rows not billed yet that started
    before ``limit``: ``{id: (limit, calls, usage)}``."""
    if not ended:
        return {}
    owners = dict(Subscription.objects.filter(pk__in=list(ended)).values_list("pk", "customer_id"))
    calls = _customer_calls({key: (owners[key], ended[key][1]) for key in ended}, zone)
    usage: dict[int, list[tuple]] = defaultdict(list)
    for row in (
        UsageCharge.objects.filter(
            subscription_id__in=list(ended),
            invoice__isnull=True,
            at__lt=max(limit for _, limit in ended.values()),
        )
        .order_by("at", "pk")
        .values_list(
            "pk", "at", "destination", "calls", "seconds", "amount", "currency", "subscription_id"
        )
    ):
        if row[1] < ended[row[7]][1]:
            usage[row[7]].append(row[:7])
    return {
        key: (ended[key][1], calls.get(key, []), usage.get(key, []))
        for key in sorted(set(calls) | set(usage))
    }


def _closing_draft(
    view: BillingView,
    limit: datetime,
    calls: list[tuple],
    pending_usage: list[tuple],
    credits: dict[int, list[list]],
    accounts: dict[int, tuple[str, int | None]],
    buyers: dict[int, dict],
    context: _Context,
) -> Draft | None:
    """The closing invoice of an ended subscription: its calls and usage rows that arrived
    after its last period was invoiced, at their rated cost (no included minutes: that
    period is closed), less credits. ``None`` when nothing is in its currency."""
    settings = context.settings
    currency = context.pricer.plan(view.history.current.plan)[1].currency
    taken = [row for row in pending_usage if row[6] == currency]
    groups: dict[str, list] = defaultdict(lambda: [0, 0, ZERO])
    for _, _, destination, count, seconds, amount, _ in taken:
        group = groups[destination]
        group[0] += count
        group[1] += seconds
        group[2] += amount
    extra = usage_lines([UsageGroup(d, *g) for d, g in groups.items()], currency)
    extra += late_usage_lines(
        [
            LateUsage(start.astimezone(settings.zone).date(), description, seconds, cost)
            for _, start, description, seconds, cost, _ in calls
        ],
        currency,
    )
    if not extra:
        return None
    period = _closing_period(context.until, settings.zone)
    issued_at = period.end
    credited, used = _apply_credits(credits.get(view.customer_id, []), extra, currency, issued_at)
    lines = taxed([*extra, *credited], settings.vat, currency)
    return Draft(
        subscription_id=view.id,
        customer_id=view.customer_id,
        period=period,
        issued_at=issued_at,
        due_at=_due_at(issued_at, view.customer_id, accounts, settings),
        currency=currency,
        lines=lines,
        totals=totals(lines, currency),
        included_minutes=0,
        buyer=buyers[view.customer_id],
        usage_ids=[row[0] for row in taken],
        call_ids=[row[0] for row in calls],
        credits_used=used,
        reason=Invoice.Reason.CLOSING.value,
    )


def _charges(
    view: BillingView,
    period: BillingPeriod,
    interval: Interval,
    start_config: Config,
    context: _Context,
) -> tuple[list[Line], Totals]:
    """The period's fees and prorations, taxed. A quiet period (nothing changed inside
    it) costs the same for every subscription of one configuration, so a run computes it
    once per configuration."""
    settings = context.settings
    first = period.start == view.billing_start
    quiet = not view.history.steps(period.start, period.end)
    key = (start_config, interval, first)
    if quiet and key in context.quiet:
        return context.quiet[key]
    lines = period_lines(context.pricer, period, interval, view.history, settings.zone, first=first)
    currency = context.pricer.quote(start_config, interval).currency
    lines = taxed(lines, settings.vat, currency)
    charges = (lines, totals(lines, currency))
    if quiet:
        context.quiet[key] = charges
    return charges


def _usage(due: dict[int, list[BillingPeriod]], until: datetime) -> dict[int, list[tuple]]:
    rows: dict[int, list[tuple]] = defaultdict(list)
    lo, hi = min(due), max(due)
    for row in (
        UsageCharge.objects.filter(
            subscription_id__gte=lo, subscription_id__lte=hi, invoice__isnull=True, at__lt=until
        )
        .order_by("at", "pk")
        .values_list(
            "pk", "at", "destination", "calls", "seconds", "amount", "currency", "subscription_id"
        )
    ):
        if row[7] in due:
            rows[row[7]].append(row[:7])
    return rows


def _stretches(customers: set[int], zone) -> dict[int, list[tuple]]:
    """Per customer, the stretches of time ``(start, end or None, subscription id)`` whose
    calls each subscription bills, in time order (see :func:`call_stretches`)."""
    found: dict[int, list[tuple]] = defaultdict(list)
    for pk, customer, started, first, ended, converts in Subscription.objects.filter(
        customer_id__in=customers
    ).values_list(
        "pk", "customer_id", "started_at", "billing_starts_on", "ended_at", "trial_converts"
    ):
        found[customer].append((pk, started, local_midnight(first, zone), ended, converts))
    return {customer: call_stretches(subs) for customer, subs in found.items()}


def call_stretches(subscriptions: Sequence[tuple]) -> list[tuple]:
    """Which subscription bills a customer's calls, from their subscriptions
    ``(id, started_at, billing start, ended_at, trial_converts)``: stretches
    ``(start, end or None, id)`` in time order.

    A call is billed by the subscription whose paid window ``[billing start, ended_at)``
    contains its start (the lowest id where two overlap). Calls while a subscription is
    held but not paid for (a trial, an undecided trial, the rest of its first day) are
    free, and so are calls before the customer's first subscription and after their last
    one ended. A call in a *gap* — after a paid window ended, while the customer held no
    subscription at all, before a later one started — is billed by that later subscription
    (the next to start), on its first invoice among the calls from earlier periods.
    """
    if len(subscriptions) == 1:  # the common case: no overlap, no gap
        pk, _, first, ended, converts = subscriptions[0]
        return [(first, ended, pk)] if converts and (ended is None or ended > first) else []
    windows = [
        (pk, first, ended)
        for pk, _, first, ended, converts in subscriptions
        if converts and (ended is None or ended > first)
    ]
    points = sorted(
        {t for _, started, first, ended, _ in subscriptions for t in (started, first, ended) if t}
    )
    stretches: list[tuple] = []
    for index, start in enumerate(points):
        end = points[index + 1] if index + 1 < len(points) else None
        owner = _owner(start, end, subscriptions, windows)
        if owner is None:
            continue
        if stretches and stretches[-1][1] == start and stretches[-1][2] == owner:
            stretches[-1] = (stretches[-1][0], end, owner)
        else:
            stretches.append((start, end, owner))
    return stretches


def _owner(start, end, subscriptions, windows) -> int | None:
    """The subscription billing the calls of ``[start, end)``, a stretch in which no
    subscription starts, ends or begins to be paid for."""
    paying = [
        pk for pk, first, ended in windows if first <= start and (ended is None or start < ended)
    ]
    if paying:
        return min(paying)
    if end is None or any(
        started <= start and (ended is None or start < ended)
        for _, started, _, ended, _ in subscriptions
    ):
        return None  # held but not paid for (a trial), or after the last one ended
    if not any(ended is not None and ended <= start for _, _, ended in windows):
        return None  # before the first paid window
    later = [(started, pk) for pk, started, _, _, _ in subscriptions if started >= end]
    paid = {pk for pk, _, _ in windows}
    later = [item for item in later if item[1] in paid]
    return min(later)[1] if later else None


def _start(row: tuple) -> datetime:
    return row[1]


def _owned(calls: list[tuple], stretches: list[tuple], limit: datetime) -> list[tuple]:
    """Of a customer's ``calls`` (oldest first), those in ``stretches`` that started
    before ``limit``: a slice per stretch, found by bisection (no work per call)."""
    owned: list[tuple] = []
    for start, end, _ in stretches:
        stop = limit if end is None else min(end, limit)
        low, high = bisect_left(calls, start, key=_start), bisect_left(calls, stop, key=_start)
        if (low, high) == (0, len(calls)) and len(stretches) == 1:
            return calls  # all of them, the usual case: no copy
        owned += calls[low:high]
    return owned


def _customer_calls(wanted: dict[int, tuple[int, datetime]], zone) -> dict[int, list[tuple]]:
    """For subscriptions ``{id: (customer, limit)}``, the rated calls not billed yet that
    each bills (see :func:`call_stretches`) and that started before its limit, oldest
    first; subscriptions billing none are left out."""
    stretches = _stretches({customer for customer, _ in wanted.values()}, zone)
    spans = {
        key: [s for s in stretches.get(customer, []) if s[2] == key and s[0] < limit]
        for key, (customer, limit) in wanted.items()
    }
    billing = {key: wanted[key] for key, mine in spans.items() if mine}
    if not billing:
        return {}
    found = billable_calls(
        {customer for customer, _ in billing.values()},
        min(spans[key][0][0] for key in billing),
        max(limit for _, limit in billing.values()),
    )
    calls = {}
    for key, (customer, limit) in billing.items():
        mine = _owned(found.get(customer, []), spans[key], limit)
        if mine:
            calls[key] = mine
    return calls


def _calls(due: dict[int, list[BillingPeriod]], views: dict, zone) -> dict[int, list[tuple]]:
    """Rated calls not billed yet that each due subscription bills (see
    :func:`call_stretches`) and that started before the end of its last due period, oldest
    first. Each call belongs to one subscription, so none is billed twice."""
    return _customer_calls(
        {key: (views[key].customer_id, periods[-1].end) for key, periods in due.items()}, zone
    )


def _credits(customers: set[int], dry_used: dict[int, Decimal]) -> dict[int, list[list]]:
    found: dict[int, list[list]] = defaultdict(list)
    for key, customer, description, amount, used, currency, granted in (
        AccountCredit.objects.filter(customer_id__in=customers, used__lt=F("amount"))
        .order_by("granted_at", "pk")
        .values_list("pk", "customer_id", "description", "amount", "used", "currency", "granted_at")
    ):
        used += dry_used.get(key, ZERO)
        found[customer].append([key, description, amount, used, currency, granted])
    return found


def _accounts(customers: set[int]) -> dict[int, tuple[str, int | None]]:
    return {
        customer: (kind, terms)
        for customer, kind, terms in BillingAccount.objects.filter(
            customer_id__in=customers
        ).values_list("customer_id", "kind", "payment_terms_days")
    }


def _buyers(customers: set[int]) -> dict[int, dict]:
    return {
        row["id"]: row
        for row in Customer.objects.filter(pk__in=customers).values(
            "id", "name", "email", "phone", "country", "is_company"
        )
    }


def _series(code: str, settings: BillingSettings, *, lock: bool = False) -> NumberSeries:
    prefix = (
        settings.invoice_prefix
        if code == NumberSeries.Code.INVOICE
        else settings.credit_note_prefix
    )
    # Created on first use, race-free: a concurrent creator's row wins quietly.
    NumberSeries.objects.bulk_create(
        [NumberSeries(code=code, prefix=prefix)], ignore_conflicts=True
    )
    series = NumberSeries.objects.select_for_update() if lock else NumberSeries.objects
    return series.get(code=code)


def _take_numbers(code: str, count: int, settings: BillingSettings) -> list[str]:
    """``count`` consecutive numbers; call inside the transaction that uses them."""
    series = _series(code, settings, lock=True)
    numbers = [series.format(series.next_value + offset) for offset in range(count)]
    series.next_value += count
    series.save(update_fields=["next_value"])
    return numbers


def _commit(drafts: list[Draft], context: _Context) -> tuple[list[Draft], list[Refusal]]:
    """Write ``drafts`` in one transaction; returns those written and those refused."""
    if not drafts:
        return [], []
    settings = context.settings
    with transaction.atomic():
        # The series lock comes first: concurrent runs queue here, and what they wrote is
        # visible below.
        series = _series(NumberSeries.Code.INVOICE, settings, lock=True)
        keep, refused = _not_yet_billed(drafts)
        if not keep:
            return [], refused
        for offset, draft in enumerate(keep):
            draft.number = series.format(series.next_value + offset)
        inserted = insert_rows(
            Invoice,
            INVOICE_COLUMNS,
            [_invoice_row(draft, settings, context.at) for draft in keep],
            ignore_conflicts=True,
            returning=["number", "id"],
        )
        if len(inserted) != len(keep):
            raise _Conflict  # written by a path that does not take the series lock
        ids = dict(inserted)
        # Only a customer in credit before these invoices can have one paid at issue.
        prepaid = in_credit({draft.customer_id for draft in keep}) if context.announce else set()
        insert_rows(
            InvoiceLine,
            LINE_COLUMNS,
            [
                (ids[draft.number], position, *_line_row(line))
                for draft in keep
                for position, line in enumerate(draft.lines, 1)
            ],
        )
        _consume(keep, ids)
        post_many(
            [
                NewPosting(
                    kind=Posting.Kind.INVOICE,
                    source_id=ids[draft.number],
                    at=draft.issued_at,
                    currency=draft.currency,
                    description=f"Invoice {draft.number}",
                    entries=ledger.invoice_entries(
                        draft.customer_id, draft.totals.net, draft.totals.vat, draft.totals.total
                    ),
                )
                for draft in keep
            ]
        )
        if context.announce:
            _announce(keep, ids)
            _announce_paid_at_issue(keep, ids, prepaid)
        series.next_value += len(keep)
        series.save(update_fields=["next_value"])
    return keep, refused


def _announce(drafts: list[Draft], ids: dict[str, int]) -> None:
    """``invoice.issued`` for the invoices written, in their transaction."""
    publish(
        subscription_events(
            "invoice.issued",
            [
                (draft.subscription_id, draft.issued_at, _invoice_event(draft, ids))
                for draft in drafts
            ],
            subject="invoice",
        )
    )


def _announce_paid_at_issue(drafts: list[Draft], ids: dict[str, int], prepaid: set[int]) -> None:
    """``invoice.paid`` for the invoices written that the prepaid credit of their customer
    (``prepaid``: those in credit before) settled at once."""
    owed = {
        ids[draft.number]
        for draft in drafts
        if draft.customer_id in prepaid and draft.totals.total > 0
    }
    publish(paid_events(owed, sorted(prepaid), lambda invoice: invoice.issued_at))


def _invoice_event(draft: Draft, ids: dict[str, int]) -> dict:
    return {
        "invoice": {
            "id": ids[draft.number],
            "number": draft.number,
            "reason": draft.reason,
            "period_start": draft.period.start,
            "period_end": draft.period.end,
            "issued_at": draft.issued_at,
            "due_at": draft.due_at,
            "currency": draft.currency,
            "net_amount": draft.totals.net,
            "vat_amount": draft.totals.vat,
            "total": draft.totals.total,
        }
    }


def _not_yet_billed(drafts: list[Draft]) -> tuple[list[Draft], list[Refusal]]:
    """Drop drafts another run has written meanwhile, and refuse any whose period overlaps
    an invoiced one (its recurring fee would be charged twice)."""
    closing = [draft for draft in drafts if draft.reason == Invoice.Reason.CLOSING]
    written = (
        set(
            Invoice.objects.filter(
                reason=Invoice.Reason.CLOSING,
                subscription_id__in=[draft.subscription_id for draft in closing],
                period_start__in={draft.period.start for draft in closing},
            ).values_list("subscription_id", "period_start")
        )
        if closing
        else set()
    )
    periods = [draft for draft in drafts if draft.reason == Invoice.Reason.PERIOD]
    overlaps = invoiced_overlaps(
        [(draft.subscription_id, draft.period.start, draft.period.end) for draft in periods]
    )
    keep, refused = [], []
    for draft in drafts:
        start, end = draft.period.start, draft.period.end
        if draft.reason == Invoice.Reason.CLOSING:
            if (draft.subscription_id, start) not in written:
                keep.append(draft)
            continue
        found = overlaps.get((draft.subscription_id, start, end))
        if not found:
            keep.append(draft)
        elif found != [(start, end)]:
            refused.append(
                Refusal(draft.subscription_id, start, "overlaps a period already invoiced")
            )
    return keep, refused


def _invoice_row(draft: Draft, settings: BillingSettings, at: datetime) -> tuple:
    return (
        draft.customer_id,
        draft.subscription_id,
        draft.reason,
        draft.period.start,
        draft.period.end,
        Invoice.Status.FINALISED.value,
        draft.number,
        draft.currency,
        draft.issued_at,
        draft.due_at,
        draft.totals.net,
        draft.totals.vat,
        draft.totals.total,
        settings.vat.rate,
        settings.vat.included,
        draft.included_minutes,
        draft.buyer,
        at,
    )


def _line_row(line: Line) -> tuple:
    return (
        line.kind.value,
        line.code,
        line.description[:300],
        line.quantity,
        line.unit_amount,
        line.amount,
        line.vat_amount,
        line.total,
    )


def _consume(drafts: list[Draft], ids: dict[str, int]) -> None:
    """Mark the usage and credits the invoices took; refuse if another writer took any."""
    usage = [(usage_id, ids[draft.number]) for draft in drafts for usage_id in draft.usage_ids]
    if assign_unset(UsageCharge, "invoice_id", usage) != len(usage):
        raise _Conflict
    calls = [(call_id, ids[draft.number]) for draft in drafts for call_id in draft.call_ids]
    if mark_billed(calls) != len(calls):
        raise _Conflict  # another invoice billed some of these calls meanwhile
    for draft in drafts:
        for key, amount in draft.credits_used.items():
            updated = AccountCredit.objects.filter(pk=key, used__lte=F("amount") - amount).update(
                used=F("used") + amount
            )
            if updated != 1:
                raise _Conflict


# Finalising a draft ------------------------------------------------------------------


class InvoiceRefused(ValueError):
    """A draft that must not be finalised: ``str()`` says why."""


def finalise_invoice(invoice: Invoice, *, at: datetime) -> Invoice:
    """Check, number and post a draft invoice, emitting ``invoice.issued`` (and
    ``invoice.paid`` when the customer's prepaid credit settles it). Refuses one that
    charges a recurring fee twice for a period, whether within itself or against another
    invoice."""
    settings = billing_settings()
    with transaction.atomic():
        draft = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if draft.status != Invoice.Status.DRAFT:
            raise InvoiceRefused(f"invoice {draft} is already finalised")
        lines = list(draft.lines.all())
        twice = recurring_charged_twice(
            Line(LineKind(line.kind), line.code, "", line.quantity, None, line.amount)
            for line in lines
        )
        if twice:
            raise InvoiceRefused(f"recurring fee charged twice: {', '.join(twice)}")
        if draft.subscription_id and _overlaps_finalised(draft):
            raise InvoiceRefused("the period overlaps an invoice already finalised")
        sums = {
            key: value or ZERO
            for key, value in draft.lines.aggregate(
                vat=Sum("vat_amount"), total=Sum("total")
            ).items()
        }
        prepaid = in_credit([draft.customer_id])
        (number,) = _take_numbers(NumberSeries.Code.INVOICE, 1, settings)
        draft.vat_amount = quantize(sums["vat"], draft.currency)
        draft.total = quantize(sums["total"], draft.currency)
        draft.net_amount = draft.total - draft.vat_amount
        draft.number = number
        draft.status = Invoice.Status.FINALISED
        draft.save()
        post(
            NewPosting(
                kind=Posting.Kind.INVOICE,
                source_id=draft.pk,
                at=draft.issued_at,
                currency=draft.currency,
                description=f"Invoice {number}",
                entries=ledger.invoice_entries(
                    draft.customer_id, draft.net_amount, draft.vat_amount, draft.total
                ),
            )
        )
        publish(
            invoice_events("invoice.issued", [(draft, draft.issued_at)]),
            paid_events(
                {draft.pk} if prepaid and draft.total > 0 else set(),
                [draft.customer_id],
                lambda invoice: invoice.issued_at,
            ),
        )
    invoice.refresh_from_db()
    return invoice


def _overlaps_finalised(draft: Invoice) -> bool:
    recurring = InvoiceLine.objects.filter(invoice=draft, kind=InvoiceLine.Kind.RECURRING)
    if not recurring.exists():
        return False
    return (
        Invoice.objects.filter(
            subscription_id=draft.subscription_id,
            status=Invoice.Status.FINALISED,
            period_start__lt=draft.period_end,
            period_end__gt=draft.period_start,
            lines__kind=InvoiceLine.Kind.RECURRING,
        )
        .exclude(pk=draft.pk)
        .exists()
    )


# Credit notes --------------------------------------------------------------------------


class CreditRefused(SelectionError):
    """A credit note that cannot be issued; ``errors`` names the field."""


def issue_credit_note(
    invoice: Invoice, *, reason: str, at: datetime, amount: Decimal | None = None
) -> CreditNote:
    """Credit ``amount`` (VAT included; default: all not yet credited) of a finalised
    invoice, with the invoice's VAT share, under the next credit-note number. The invoices
    it settles (balance-forward: the oldest owed first) emit ``invoice.paid``."""
    settings = billing_settings()
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if invoice.status != Invoice.Status.FINALISED:
            raise CreditRefused({"invoice": "only a finalised invoice can be credited"})
        credited = invoice.credit_notes.aggregate(total=Sum("total"))["total"] or ZERO
        left = invoice.total - credited
        amount = left if amount is None else quantize(amount, invoice.currency)
        if amount <= 0 or amount > left:
            raise CreditRefused({"amount": f"must be above 0 and at most {left}"})
        if not reason.strip():
            raise CreditRefused({"reason": "say why the invoice is credited"})
        vat = (
            quantize(amount * invoice.vat_amount / invoice.total, invoice.currency)
            if invoice.total
            else ZERO
        )
        owed_before = {item.id for item in open_invoices([invoice.customer_id])}
        (number,) = _take_numbers(NumberSeries.Code.CREDIT_NOTE, 1, settings)
        note = CreditNote.objects.create(
            invoice=invoice,
            customer_id=invoice.customer_id,
            number=number,
            issued_at=at,
            reason=reason.strip()[:300],
            currency=invoice.currency,
            net_amount=amount - vat,
            vat_amount=vat,
            total=amount,
        )
        CreditNoteLine.objects.create(
            credit_note=note,
            position=1,
            description=f"Credit for invoice {invoice.number}: {reason.strip()}"[:300],
            amount=amount,
            vat_amount=vat,
            total=amount,
        )
        post(
            NewPosting(
                kind=Posting.Kind.CREDIT_NOTE,
                source_id=note.pk,
                at=at,
                currency=note.currency,
                description=f"Credit note {number} for invoice {invoice.number}",
                entries=ledger.credit_note_entries(invoice.customer_id, amount - vat, vat, amount),
            )
        )
        # Consumers react at once (referrals take back the rewards the invoice earned).
        publish(credit_note_events(note, invoice))
        # Balance-forward: the credit settles the oldest invoices owed, maybe not this one.
        publish(paid_events(owed_before, [invoice.customer_id], lambda _: at))
    return note
