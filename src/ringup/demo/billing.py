"""The demo operator's invoices and payments: every period of the generated history is
invoiced by the real bill run, then customers pay the way customers do — most on time,
some late, a few stop paying — and dunning sets the statuses that follows from it.

A handful of the larger business customers have a minimum call commitment on their
contract, signed as the month of the demo's calls began (there are no calls before it):
its invoices top up those that fall short."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.db.models import Min, Q

from ringup.billing.models import BillingAccount, Invoice, Subscription
from ringup.billing.selectors.subscriptions import billing_views
from ringup.billing.services.dunning import run_dunning
from ringup.billing.services.invoicing import bill
from ringup.billing.services.payments import NewPayment, record_payments
from ringup.billing.services.subscriptions import set_minimum_usage
from ringup.customers.models import Customer
from ringup.engine.periods import local_midnight
from ringup.usage.models import RatedCall

DAY = 86_400
PREPAID = {"micro": 0.5, "smb": 0.2, "enterprise": 0.0}  # share of customers paying ahead
PROMPT, LATE = 0.85, 0.11  # the rest stop paying at some point
LATE_DAYS = 8.0  # mean delay past the due date of a late payer
STOPPED_DAYS = (12, 60)  # a defaulter's last payment was this many days before the end
COMMITTED, AMONG = 5, 12  # customers with a commitment, drawn from the largest firms
CANDIDATES = 60  # the largest firms looked at, for AMONG billed most of the calls' month
MIN_BILLED_DAYS = 21  # the calls a commitment is set against span most of a month
# A commitment is one of these percentages of the calls its invoice bills, rounded to 10:
# some are met, some not; the largest firm drawn commits above its calls, so an invoice
# shows a shortfall.
SHORT_PERCENT, OTHER_PERCENTS = 150, (60, 85, 110, 130)
COMMITMENT_STEP = Decimal(10)
COMMITMENT_STREAM = 1  # a random stream of its own: the payments drawn stay as they were


@dataclass(frozen=True)
class Billed:
    invoices: int
    payments: int
    statuses: dict[str, int]


def bill_history(*, until: date, seed: int) -> Billed:
    """Invoice the history's periods that ended before ``until`` (local midnight), with a
    few minimum call commitments on the last month's, and pay them; deterministic for a
    seed."""
    zone = ZoneInfo(settings.TIME_ZONE)
    end = local_midnight(until, zone)
    rng = np.random.default_rng(seed)
    _prepaid_accounts(rng)
    # The history is the past: its invoices and payments tell nobody anything now. The
    # periods that ended before the calls' month had no calls and no commitments; those
    # ending in it are billed once the commitments are signed.
    invoices = 0
    calls_from = _calls_month(zone)
    if calls_from is not None and calls_from < end:
        invoices += bill(until=calls_from, at=end, announce=False).invoices_created
        _commitments(np.random.default_rng((seed, COMMITMENT_STREAM)), calls_from, end)
    invoices += bill(until=end, at=end, announce=False).invoices_created
    payments = _payments(rng, end)
    record_payments(payments, at=end, announce=False)
    # Dunning as it stood when the history ends.
    statuses = run_dunning(at=end - timedelta(seconds=1))
    return Billed(invoices, len(payments), statuses)


def _calls_month(zone: ZoneInfo) -> datetime | None:
    """Local midnight of the day the demo's imported calls begin (``None``: no calls)."""
    first = RatedCall.objects.aggregate(first=Min("start"))["first"]
    return None if first is None else local_midnight(first.astimezone(zone).date(), zone)


def _commitments(rng: np.random.Generator, since: datetime, end: datetime) -> int:
    """Give ``COMMITTED`` of the ``AMONG`` largest business customers whose last invoice
    bills at least ``MIN_BILLED_DAYS`` of the calls from ``since`` a minimum call
    commitment near those calls; the largest one drawn commits above them. Returns how
    many."""
    firms = _largest_firms(since, end)
    stops = _billed_until(firms, since, end)
    chosen = [c for c in firms if stops[c] - since >= timedelta(days=MIN_BILLED_DAYS)][:AMONG]
    if not chosen:
        return 0
    spend = _calls_cost(chosen, since, stops)
    drawn = sorted(rng.choice(len(chosen), size=min(COMMITTED, len(chosen)), replace=False))
    others = rng.permutation(OTHER_PERCENTS).tolist()
    percents = [SHORT_PERCENT, *(others[i % len(others)] for i in range(len(drawn) - 1))]
    subscriptions = Subscription.objects.in_bulk([firms[chosen[i]] for i in drawn])
    for index, percent in zip(drawn, percents, strict=True):
        customer = chosen[index]
        calls = spend.get(customer, Decimal(0)) * percent / 100
        steps = (calls / COMMITMENT_STEP).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        amount = max(steps, Decimal(1)) * COMMITMENT_STEP
        set_minimum_usage(subscriptions[firms[customer]], amount, at=since)
    return len(drawn)


def _largest_firms(since: datetime, end: datetime) -> dict[int, int]:
    """The ``CANDIDATES`` business customers with most employees on a live monthly
    subscription paid since before ``since``: {customer: subscription}, largest first."""
    first_day = since.astimezone(ZoneInfo(settings.TIME_ZONE)).date()
    live = (
        Subscription.objects.filter(
            customer__is_company=True,
            period=Subscription.Period.MONTHLY,
            trial_converts=True,
            billing_starts_on__lt=first_day,
        )
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=end))
        .order_by("-customer__employees", "customer_id", "pk")
        .values_list("pk", "customer_id")
    )
    # One subscription per customer: the lowest id, which bills their calls where two
    # overlap.
    firms: dict[int, int] = {}
    for pk, customer in live.iterator():
        firms.setdefault(customer, pk)
        if len(firms) == CANDIDATES:
            break
    return firms


def _billed_until(firms: dict[int, int], since: datetime, end: datetime) -> dict[int, datetime]:
    """Per customer of ``firms``, the end of their subscription's last period over by
    ``end``: its invoice bills their calls from ``since`` until then."""
    zone = ZoneInfo(settings.TIME_ZONE)
    views = billing_views(Q(pk__in=list(firms.values())), since=since, zone=zone)
    stops = {}
    for customer, pk in firms.items():
        found = views[pk].period_at(end - timedelta(seconds=1))
        assert found is not None  # paid since before ``since``
        period = found[0]
        stops[customer] = period.end if period.end <= end else period.start
    return stops


def _calls_cost(customers: list[int], since: datetime, stops: dict) -> dict[int, Decimal]:
    """Per customer, the rated cost of their calls from ``since`` until their stop."""
    spend: dict[int, Decimal] = {}
    for customer, start, cost in RatedCall.objects.filter(
        customer_id__in=customers, start__gte=since, start__lt=max(stops.values()), cost__gt=0
    ).values_list("customer_id", "start", "cost"):
        if start < stops[customer]:
            spend[customer] = spend.get(customer, Decimal(0)) + cost
    return spend


def _prepaid_accounts(rng: np.random.Generator) -> None:
    customers = list(Customer.objects.order_by("pk").values_list("pk", "tier"))
    share = np.array([PREPAID.get(tier, 0.0) for _, tier in customers])
    prepaid = rng.random(len(customers)) < share
    BillingAccount.objects.bulk_create(
        [
            BillingAccount(customer_id=pk, kind=BillingAccount.Kind.PREPAID)
            for (pk, _), chosen in zip(customers, prepaid.tolist(), strict=True)
            if chosen
        ],
        ignore_conflicts=True,
    )


def _payments(rng: np.random.Generator, end) -> list[NewPayment]:
    rows = list(
        Invoice.objects.filter(status=Invoice.Status.FINALISED, total__gt=0)
        .order_by("pk")
        .values_list("customer_id", "number", "total", "currency", "issued_at", "due_at")
    )
    if not rows:
        return []
    customer, number, total, currency, issued, due = zip(*rows, strict=True)
    customers, owner = np.unique(np.array(customer), return_inverse=True)
    issued_s = np.array([moment.timestamp() for moment in issued])
    due_s = np.array([moment.timestamp() for moment in due])

    habit = rng.random(len(customers))[owner]
    prepaid = set(
        BillingAccount.objects.filter(kind=BillingAccount.Kind.PREPAID).values_list(
            "customer_id", flat=True
        )
    )
    ahead = np.isin(np.array(customer), list(prepaid))
    on_time = issued_s + rng.random(len(rows)) * np.maximum(due_s - issued_s, DAY)
    # A prepaid customer tops up a few days before the period's invoice.
    on_time = np.where(ahead, issued_s - rng.random(len(rows)) * 4 * DAY, on_time)
    late = due_s + rng.exponential(LATE_DAYS * DAY, len(rows))
    paid_at = np.where(habit < PROMPT, on_time, late)
    stopped = end.timestamp() - rng.uniform(*STOPPED_DAYS, len(customers))[owner] * DAY
    paid = (paid_at < end.timestamp()) & ((habit < PROMPT + LATE) | (issued_s < stopped))

    zone = end.tzinfo
    return [
        NewPayment(
            customer_id=customer[i],
            amount=total[i],
            currency=currency[i],
            received_at=_instant(paid_at[i], zone),
            reference=f"demo:{number[i]}",
            note=f"Bank transfer for invoice {number[i]}",
        )
        for i in np.flatnonzero(paid).tolist()
    ]


def _instant(seconds: float, zone) -> datetime:
    return datetime.fromtimestamp(int(seconds), tz=zone)
