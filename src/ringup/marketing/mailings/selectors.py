"""Reads: run counts and the lift report (treated against held-out)."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Q

from ringup.billing.models import Invoice
from ringup.engine import lift
from ringup.events.models import Event

from .models import Click, Mailing, Recipient, Run

STATUSES = [status.value for status in Recipient.Status]


def run_counts(run: Run) -> dict[str, int]:
    """Recipients of the run by status, plus ``clicks`` and ``opens``."""
    totals = dict(
        Recipient.objects.filter(run=run)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    counts = {status: totals.get(status, 0) for status in STATUSES}
    counts["clicks"] = Click.objects.filter(recipient__run=run).count()
    counts["opens"] = Recipient.objects.filter(run=run, opened_at__isnull=False).count()
    return counts


def _groups(mailing: Mailing, run: Run | None):
    recipients = Recipient.objects.filter(run__mailing=mailing)
    if run is not None:
        recipients = recipients.filter(run=run)
    return {
        "treated": list(
            recipients.filter(status=Recipient.Status.SENT).values_list("customer_id", "due_at")
        ),
        "held_out": list(
            recipients.filter(status=Recipient.Status.HELD_OUT).values_list("customer_id", "due_at")
        ),
    }


def _converted(members: list[tuple[int, datetime]], mailing: Mailing, window: timedelta) -> int:
    if not members:
        return 0
    starts = dict(members)
    events = Event.objects.filter(
        kind=mailing.conversion_kind,
        customer_id__in=list(starts),
        at__gte=min(starts.values()),
        at__lte=max(starts.values()) + window,
    ).values_list("customer_id", "at", "payload")
    wanted = set(mailing.conversion_changes or [])
    converted = set()
    for customer_id, at, payload in events:
        start = starts[customer_id]
        if not start <= at <= start + window:
            continue
        if wanted and not wanted.intersection((payload or {}).get("changes") or []):
            continue
        converted.add(customer_id)
    return len(converted)


def _revenue(members: list[tuple[int, datetime]], window: timedelta) -> list[Decimal]:
    """Invoiced total per member in its window (zero when none)."""
    starts = dict(members)
    if not starts:
        return []
    totals = {customer_id: Decimal(0) for customer_id in starts}
    invoices = Invoice.objects.filter(
        status=Invoice.Status.FINALISED,
        customer_id__in=list(starts),
        issued_at__gte=min(starts.values()),
        issued_at__lte=max(starts.values()) + window,
    ).values_list("customer_id", "issued_at", "total")
    for customer_id, issued_at, total in invoices:
        if starts[customer_id] <= issued_at <= starts[customer_id] + window:
            totals[customer_id] += total
    return list(totals.values())


def _money(value: float) -> str:
    return str(Decimal(repr(value)).quantize(Decimal("0.01")))


def lift_report(mailing: Mailing, *, run: Run | None = None) -> dict:
    """Conversion (``mailing.conversion_kind`` within ``conversion_window_days`` of each
    recipient's send time) and revenue per customer, treated against held-out, with the
    differences and their 95 % intervals; an interval is ``None`` while a group is too
    small to have one."""
    window = timedelta(days=mailing.conversion_window_days)
    groups = _groups(mailing, run)
    report: dict = {
        "window_days": mailing.conversion_window_days,
        "conversion_kind": mailing.conversion_kind,
    }
    for name, members in groups.items():
        revenue = _revenue(members, window)
        report[name] = {
            "customers": len(members),
            "converted": _converted(members, mailing, window),
            "revenue": str(sum(revenue, Decimal(0))),
            "revenue_values": revenue,
        }
    treated, held = report["treated"], report["held_out"]
    report["conversion_lift"] = None
    if treated["customers"] and held["customers"]:
        interval = lift.proportion_difference(
            treated["converted"], treated["customers"], held["converted"], held["customers"]
        )
        report["conversion_lift"] = {
            "estimate": interval.estimate,
            "low": interval.low,
            "high": interval.high,
        }
    report["revenue_lift"] = None
    if treated["customers"] >= 2 and held["customers"] >= 2:
        interval = lift.mean_difference(
            [float(v) for v in treated["revenue_values"]],
            [float(v) for v in held["revenue_values"]],
        )
        report["revenue_lift"] = {
            "estimate": _money(interval.estimate),
            "low": _money(interval.low),
            "high": _money(interval.high),
        }
    for name in ("treated", "held_out"):
        report[name].pop("revenue_values")
    return report


def runs_with_counts(mailing: Mailing) -> list[tuple[Run, dict]]:
    return [(run, run_counts(run)) for run in mailing.runs.all()]


def sent_count(mailing: Mailing) -> int:
    return Recipient.objects.filter(run__mailing=mailing).aggregate(
        n=Count("pk", filter=Q(status=Recipient.Status.SENT))
    )["n"]
