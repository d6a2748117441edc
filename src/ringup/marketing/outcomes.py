"""What happened to groups of customers after each one's start instant: conversion and
revenue per customer, treated against held out, with 95 % intervals.

Shared by every campaign that holds out a control group (a mailing's recipients, a
promotion's assignments): the campaign says who was in which group and from when, this
module reads the events and invoices of each customer's window and ``ringup.engine.lift``
does the statistics. It sits below the marketing apps, which may not import each other.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from ringup.billing.models import Invoice
from ringup.engine import lift
from ringup.events.models import Event

#: A member of a group: the customer and the instant its window starts.
Member = tuple[int, datetime]


def converted(members: list[Member], *, kind: str, changes: list[str], window: timedelta) -> int:
    """How many ``members`` had an event ``kind`` within ``window`` of their start (with
    ``changes``: only an event whose payload's ``changes`` names one of them)."""
    if not members:
        return 0
    starts = dict(members)
    events = Event.objects.filter(
        kind=kind,
        customer_id__in=list(starts),
        at__gte=min(starts.values()),
        at__lte=max(starts.values()) + window,
    ).values_list("customer_id", "at", "payload")
    wanted = set(changes or [])
    found = set()
    for customer_id, at, payload in events:
        start = starts[customer_id]
        if not start <= at <= start + window:
            continue
        if wanted and not wanted.intersection((payload or {}).get("changes") or []):
            continue
        found.add(customer_id)
    return len(found)


def revenue(members: list[Member], *, window: timedelta) -> list[Decimal]:
    """Finalised invoice totals issued within ``window`` of each member's start, one
    value per member (zero when none)."""
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


def lift_report(
    treated: list[Member],
    held_out: list[Member],
    *,
    conversion_kind: str,
    conversion_changes: list[str],
    window_days: int,
) -> dict:
    """Conversion (``conversion_kind`` within ``window_days`` of each member's start) and
    revenue per customer of both groups, with the differences treated − held out and
    their 95 % intervals (Newcombe; Welch). An interval is ``None`` while a group is too
    small to have one (conversion: empty; revenue: fewer than two)."""
    window = timedelta(days=window_days)
    report: dict = {"window_days": window_days, "conversion_kind": conversion_kind}
    values = {}
    for name, members in (("treated", treated), ("held_out", held_out)):
        values[name] = revenue(members, window=window)
        report[name] = {
            "customers": len(members),
            "converted": converted(
                members, kind=conversion_kind, changes=conversion_changes, window=window
            ),
            "revenue": str(sum(values[name], Decimal(0))),
        }
    a, b = report["treated"], report["held_out"]
    report["conversion_lift"] = None
    if a["customers"] and b["customers"]:
        interval = lift.proportion_difference(
            a["converted"], a["customers"], b["converted"], b["customers"]
        )
        report["conversion_lift"] = {
            "estimate": interval.estimate,
            "low": interval.low,
            "high": interval.high,
        }
    report["revenue_lift"] = None
    if a["customers"] >= 2 and b["customers"] >= 2:
        interval = lift.mean_difference(
            [float(v) for v in values["treated"]], [float(v) for v in values["held_out"]]
        )
        report["revenue_lift"] = {
            "estimate": _money(interval.estimate),
            "low": _money(interval.low),
            "high": _money(interval.high),
        }
    return report


def describe(report: dict) -> str:
    """The report in one line for the back office: converted/customers of each group,
    then each difference with its interval in brackets."""
    parts = [
        f"treated {report['treated']['converted']}/{report['treated']['customers']}, "
        f"held out {report['held_out']['converted']}/{report['held_out']['customers']}"
    ]
    conversion, money = report["conversion_lift"], report["revenue_lift"]
    if conversion:
        low, high = conversion["low"], conversion["high"]
        parts.append(f"conversion {conversion['estimate']:+.1%} [{low:+.1%}, {high:+.1%}]")
    if money:
        parts.append(f"revenue/customer {money['estimate']} [{money['low']}, {money['high']}]")
    return "; ".join(parts)
