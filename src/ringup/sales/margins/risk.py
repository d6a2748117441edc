"""Risk flags on customers: the facts of every customer in a few set-based queries,
judged by ``ringup.engine.risk`` and stored per customer (replaced on each run).

Facts, over the last ``RINGUP_RISK_DAYS`` days (30):

* traffic from the rated calls (every attempt but duplicates): calls, answered (billable
  seconds above 0), billable seconds, short calls (under the threshold, unanswered
  included), peak concurrent calls (a call ending at the second another starts does not
  overlap it) and the clock hours with traffic;
* numbers (DIDs): those the customer holds (``ringup.usage.numbers``, the inventory)
  with each one's inbound minutes a month from the imported inbound calls; a customer
  with no numbers in the inventory counts the numbers of their live subscriptions, and
  their traffic is unknown, as everyone's is when no inbound call was imported in the
  window (the switch sends none): then the rule is skipped;
* revenue (finalised invoices whose period ended in the window, net of VAT) against the
  window's carrier cost plus ``RINGUP_SUPPORT_COST_MONTHLY`` per customer;
* plan changes (upgrades and downgrades) for price shopping;
* minimum call commitments (``Subscription.minimum_usage``) against each month's call
  spend on the invoices of the last ``REVENUE_DAYS`` held to them
  (``billing.selectors.commitments``).
"""

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import polars as pl
from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ringup.billing.models import Invoice, Subscription, SubscriptionChange
from ringup.billing.selectors.commitments import commitment_spend
from ringup.engine.risk import AccountFacts, RiskThresholds, TrafficFacts, risk_flags
from ringup.usage.numbers import held_numbers, inbound_seconds

from . import selectors
from .models import RiskFlag

LABELS = {
    "dialer_short_acd": _("Auto-dialer: very short calls on average"),
    "dialer_short_calls": _("Auto-dialer: mostly unanswered or very short calls"),
    "dialer_call_rate": _("Auto-dialer: many calls per channel-hour"),
    "idle_dids": _("Many numbers with little inbound traffic"),
    "below_cost_to_serve": _("Revenue below the cost to serve"),
    "price_shopping": _("Frequent plan changes (price shopping)"),
    "commitment_not_met": _("Minimum spend not met"),
}
_LIVE = ["trialing", "active", "past_due"]
# The engine's short-call rule counts attempts under 10 billable seconds.
SHORT_CALL_SECONDS = 10


def thresholds() -> RiskThresholds:
    """The engine's defaults with ``RINGUP_RISK_THRESHOLDS`` applied (name → value)."""
    defaults = RiskThresholds()
    overrides = {}
    for name, value in settings.RINGUP_RISK_THRESHOLDS.items():
        current = getattr(defaults, name)  # an unknown name is a configuration error
        overrides[name] = Decimal(str(value)) if isinstance(current, Decimal) else int(value)
    return dataclasses.replace(defaults, **overrides)


def traffic_facts(since: datetime, until: datetime, short_seconds: int) -> pl.DataFrame:
    """One row per customer with calls in ``[since, until)``: ``calls``, ``answered``,
    ``seconds``, ``short_calls``, ``peak``, ``active_hours``, ``carrier_micros``."""
    calls = selectors.call_attempts(since, until).with_columns(
        pl.col("duration").fill_null(0), pl.col("carrier_cost").fill_null(0)
    )
    totals = calls.group_by("customer_id").agg(
        pl.len().alias("calls"),
        (pl.col("duration") > 0).sum().alias("answered"),
        pl.col("duration").sum().alias("seconds"),
        (pl.col("duration") < short_seconds).sum().alias("short_calls"),
        pl.col("start").dt.truncate("1h").n_unique().alias("active_hours"),
        (pl.col("carrier_cost").cast(pl.Decimal(38, 6)) * 1_000_000)
        .cast(pl.Int64)
        .sum()
        .alias("carrier_micros"),
    )
    return totals.join(peak_concurrency(calls), on="customer_id", how="left").with_columns(
        pl.col("peak").fill_null(0)
    )


def peak_concurrency(calls: pl.DataFrame) -> pl.DataFrame:
    """Per customer, the most answered calls up at once: +1 at each start, −1 at each end,
    ends before starts at the same second, running sum per customer, its maximum."""
    answered = calls.filter(pl.col("duration") > 0)
    ends = pl.col("start") + pl.duration(seconds=pl.col("duration"))
    steps = pl.concat(
        [
            answered.select("customer_id", pl.col("start").alias("at"), pl.lit(1).alias("step")),
            answered.select("customer_id", ends.alias("at"), pl.lit(-1).alias("step")),
        ]
    ).sort("customer_id", "at", "step")
    return (
        steps.with_columns(pl.col("step").cum_sum().over("customer_id").alias("level"))
        .group_by("customer_id")
        .agg(pl.col("level").max().alias("peak"))
    )


REVENUE_DAYS = 180


def monthly_revenue(at: datetime) -> dict[int, Decimal]:
    """Per customer with finalised invoices whose period ended in the ``REVENUE_DAYS``
    before ``at``: their net amount per 30 days of the periods they cover (so an annual
    invoice counts a twelfth a month). Customers without such invoices are absent: their
    revenue is unknown (a trial), not zero."""
    rows = Invoice.objects.filter(
        status="finalised", period_end__gt=at - timedelta(days=REVENUE_DAYS), period_end__lte=at
    ).values_list("customer_id", "net_amount", "period_start", "period_end")
    frame = pl.DataFrame(
        list(rows),
        schema={
            "customer_id": pl.Int64,
            "net": pl.Decimal(18, 2),
            "start": pl.Datetime("us", "UTC"),
            "end": pl.Datetime("us", "UTC"),
        },
        orient="row",
    )
    totals = frame.group_by("customer_id").agg(
        pl.col("net").sum(), (pl.col("end") - pl.col("start")).dt.total_seconds().sum().alias("s")
    )
    month = Decimal(30 * 86_400)
    return {
        customer_id: (net * month / seconds).quantize(Decimal("0.01"))
        for customer_id, net, seconds in totals.iter_rows()
        if seconds
    }


@dataclass(frozen=True)
class Computed:
    customers: int
    flags: int


def compute_flags(*, at: datetime) -> Computed:
    """Judge every customer with traffic, a live subscription or plan changes and replace
    the stored flags with the result (one transaction: readers see the old set or the
    new one)."""
    limits = thresholds()
    since = at - timedelta(days=settings.RINGUP_RISK_DAYS)
    facts_by_customer = traffic_facts(since, at, SHORT_CALL_SECONDS).iter_rows(named=True)
    traffic = {row["customer_id"]: row for row in facts_by_customer}
    dids, inbound = numbers_and_traffic(since, at)
    revenue = monthly_revenue(at)
    changes = plan_changes(at - timedelta(days=31 * limits.plan_change_months), at)
    commitments = commitment_spend(at - timedelta(days=REVENUE_DAYS), at)
    rows = []
    for customer_id in sorted(set(traffic) | set(dids) | set(changes) | set(commitments)):
        facts = traffic.get(customer_id)
        commitment, spend = commitments.get(customer_id, (None, {}))
        account = AccountFacts(
            dids=dids.get(customer_id),
            inbound_minutes_per_did=inbound.get(customer_id),
            revenue=revenue.get(customer_id),
            carrier_cost=_per_month(facts["carrier_micros"] if facts else 0),
            support_cost=Decimal(settings.RINGUP_SUPPORT_COST_MONTHLY),
            plan_changes=tuple(changes.get(customer_id, ())),
            at=timezone.localdate(at),
            commitment=commitment,
            spend_by_month=spend,
        )
        for flag in risk_flags(_traffic(facts), account, limits):
            rows.append(
                RiskFlag(
                    customer_id=customer_id,
                    code=flag.code.value,
                    severity=flag.severity.value,
                    explanation=flag.text()[:500],
                    figures={"message": flag.message, **_plain(flag.params)},
                    computed_at=at,
                )
            )
    with transaction.atomic():
        RiskFlag.objects.all().delete()
        RiskFlag.objects.bulk_create(rows, batch_size=1000)
    return Computed(customers=len({row.customer_id for row in rows}), flags=len(rows))


def _traffic(facts: dict | None) -> TrafficFacts | None:
    if facts is None:
        return None
    return TrafficFacts(
        calls=facts["calls"],
        answered=facts["answered"],
        seconds=facts["seconds"],
        short_calls=facts["short_calls"],
        peak_concurrent_calls=facts["peak"],
        active_hours=facts["active_hours"],
    )


def _per_month(micros: int) -> Decimal:
    months = Decimal(settings.RINGUP_RISK_DAYS) / 30
    return (Decimal(micros).scaleb(-6) / months).quantize(Decimal("0.01"))


def numbers_and_traffic(
    since: datetime, until: datetime
) -> tuple[dict[int, int], dict[int, list[Decimal]]]:
    """Per customer, the numbers they hold at ``until`` and, where known (see the module
    docstring), each number's inbound minutes a month over ``[since, until)``."""
    counts = numbers_held(until)
    held = held_numbers(until)
    counts.update({customer_id: len(numbers) for customer_id, numbers in held.items()})
    seconds = inbound_seconds(since, until)
    if not seconds:  # no inbound call imported: the switch sends none, traffic is unknown
        return counts, {}
    months = Decimal((until - since).total_seconds()) / (30 * 86_400)
    minutes = {
        customer_id: [
            (Decimal(seconds.get(customer_id, {}).get(number, 0)) / 60 / months).quantize(
                Decimal("0.1"), ROUND_HALF_UP
            )
            for number in numbers
        ]
        for customer_id, numbers in held.items()
    }
    return counts, minutes


def numbers_held(at: datetime) -> dict[int, int]:
    """Per customer, the phone numbers (DIDs) of their live subscriptions at ``at``."""
    return dict(
        Subscription.objects.filter(status__in=_LIVE, started_at__lt=at)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=at))
        .values("customer_id")
        .annotate(n=Sum("numbers"))
        .values_list("customer_id", "n")
    )


def plan_changes(since: datetime, until: datetime) -> dict[int, list]:
    """Per customer, the local days of their upgrades and downgrades in ``[since, until)``."""
    changes: dict[int, list] = {}
    rows = (
        SubscriptionChange.objects.filter(
            kind__in=["upgrade", "downgrade"], at__gte=since, at__lt=until
        )
        .order_by("at")
        .values_list("subscription__customer_id", "at")
    )
    for customer_id, changed_at in rows:
        changes.setdefault(customer_id, []).append(timezone.localdate(changed_at))
    return changes


def _plain(params: dict) -> dict:
    return {
        key: value if isinstance(value, int | str) else str(value) for key, value in params.items()
    }


def explained(flag: RiskFlag) -> str:
    """The flag's explanation in the current language (the engine's message is a msgid;
    this app's Russian catalog carries the engine's messages, added by hand since
    ``makemessages`` does not see strings outside gettext calls)."""
    message = flag.figures.get("message")
    if not message:
        return flag.explanation
    params = {key: value for key, value in flag.figures.items() if key != "message"}
    try:
        return gettext(message).format(**params)
    except (KeyError, IndexError, ValueError):
        return flag.explanation


def codes_in_use() -> list[tuple[str, str]]:
    """Flag codes present now, with their labels, for the board's filter."""
    codes = RiskFlag.objects.values_list("code", flat=True).distinct().order_by("code")
    return [(code, LABELS.get(code, code)) for code in codes]


def board(*, code: str = "") -> list[dict]:
    """Customers with flags (all, or only those with ``code``), worst first: each with
    its flags explained and their figures."""
    flags = RiskFlag.objects.select_related("customer").order_by("customer__name", "code")
    if code:
        flags = flags.filter(customer__risk_flags__code=code).distinct()
    order = {"critical": 0, "warning": 1, "info": 2}
    customers: dict[int, dict] = {}
    for flag in flags:
        entry = customers.setdefault(
            flag.customer_id, {"customer": flag.customer, "flags": [], "worst": 3}
        )
        figures = {k: v for k, v in flag.figures.items() if k != "message"}
        entry["flags"].append(
            {
                "code": flag.code,
                "label": LABELS.get(flag.code, flag.code),
                "severity": flag.severity,
                "severity_label": flag.get_severity_display(),
                "text": explained(flag),
                "figures": figures,
                "computed_at": flag.computed_at,
            }
        )
        entry["worst"] = min(entry["worst"], order.get(flag.severity, 3))
    return sorted(customers.values(), key=lambda e: (e["worst"], e["customer"].name))
