"""Reads of invoices, balances and what is still owed."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import DecimalField, Exists, F, Func, Max, OuterRef, Q, Sum, Value
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual

from ringup.engine.ledger import Account, outstanding
from ringup.engine.money import ZERO

from ..models import Entry, Invoice, RevenueTimeline

# Ledger amounts have two decimal places; sums are brought back to them (SQLite adds up
# decimals in floating point).
CENT = Decimal("0.01")


def last_billed_ends(scope: Q) -> dict[int, datetime]:
    """The end of the last billed period of each subscription in ``scope`` (a filter on
    ``Invoice.subscription_id``), for the subscriptions that have one."""
    return dict(
        Invoice.objects.filter(scope, reason=Invoice.Reason.PERIOD)
        .values("subscription_id")
        .annotate(end=Max("period_end"))
        .values_list("subscription_id", "end")
    )


def invoiced_overlaps(periods: Sequence[tuple[int, datetime, datetime]]) -> dict[tuple, list]:
    """For ``(subscription, start, end)`` periods, the invoiced periods ``(start, end)`` of
    the same subscription that overlap each; periods without any are left out. Closing
    invoices charge no recurring fee, so they overlap nothing."""
    if not periods:
        return {}
    if connection.vendor == "postgresql":
        rows = _overlaps_joined(periods)
    else:
        first = min(start for _, start, _ in periods)
        invoiced = defaultdict(list)
        for sub, start, end in Invoice.objects.filter(
            subscription_id__in={sub for sub, _, _ in periods},
            period_end__gt=first,
            reason=Invoice.Reason.PERIOD,
        ).values_list("subscription_id", "period_start", "period_end"):
            invoiced[sub].append((start, end))
        rows = [
            (sub, start, end, s, e)
            for sub, start, end in periods
            for s, e in invoiced.get(sub, [])
            if s < end and e > start
        ]
    found: dict[tuple, list] = defaultdict(list)
    for sub, start, end, invoiced_start, invoiced_end in rows:
        found[(sub, start, end)].append((invoiced_start, invoiced_end))
    return found


def _overlaps_joined(periods) -> list[tuple]:
    """One query on PostgreSQL, returning only the overlaps (normally none): a probe of
    the ``(subscription, period_start, reason)`` index per period. ``OFFSET 0`` keeps the
    planner from flattening the probe into a join, which it would hash over every
    invoiced period — a scan of the whole table per chunk of a bill run, when the
    statistics lag behind the run's own inserts."""
    import psycopg  # the PostgreSQL driver

    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            "SELECT d.sub, d.start, d.stop, i.period_start, i.period_end FROM "
            "unnest(%b::bigint[], %b::timestamptz[], %b::timestamptz[]) AS d(sub, start, stop) "
            "CROSS JOIN LATERAL (SELECT period_start, period_end FROM billing_invoice "
            "WHERE subscription_id = d.sub AND reason = %b "
            "AND period_start < d.stop AND period_end > d.start OFFSET 0) AS i",
            [*(list(column) for column in zip(*periods, strict=True)), Invoice.Reason.PERIOD.value],
        )
        return cursor.fetchall()


def balance(customer_id: int) -> Decimal:
    """What the customer owes (negative: their prepaid credit): the sum of their entries."""
    total = Entry.objects.filter(customer_id=customer_id, account=Account.RECEIVABLE).aggregate(
        total=Sum("amount")
    )["total"]
    return (total or ZERO).quantize(CENT)


def owing_balances(customer_ids: Iterable[int] | None = None) -> dict[int, Decimal]:
    """Customers who owe something, with what they owe."""
    entries = Entry.objects.filter(account=Account.RECEIVABLE)
    if customer_ids is not None:
        entries = entries.filter(customer_id__in=list(customer_ids))
    rows = entries.values("customer_id").annotate(owed=Sum("amount")).filter(owed__gt=0)
    owed = {row["customer_id"]: row["owed"].quantize(CENT) for row in rows}
    return {customer: amount for customer, amount in owed.items() if amount > 0}


def in_credit(customer_ids: Iterable[int]) -> set[int]:
    """Of ``customer_ids``, those with a prepaid credit (a negative balance)."""
    rows = (
        Entry.objects.filter(account=Account.RECEIVABLE, customer_id__in=list(customer_ids))
        .values("customer_id")
        .annotate(balance=Sum("amount"))
        .filter(balance__lt=0)
        .values_list("customer_id", "balance")
    )
    # SQLite sums in floating point: a balance of -0.000…1 is no credit.
    return {customer for customer, total in rows if total.quantize(CENT) < 0}


@dataclass(frozen=True)
class OpenInvoice:
    id: int
    customer_id: int
    number: str
    due_at: datetime
    total: Decimal
    owed: Decimal


def open_invoices(customer_ids: Iterable[int] | None = None) -> list[OpenInvoice]:
    """Finalised invoices not yet fully paid, oldest first per customer.

    Payments and credit notes settle the oldest invoices first, so what a customer owes
    sits on their newest invoices: they are read newest first until the balance is covered.
    """
    owed = owing_balances(customer_ids)
    if not owed:
        return []
    found: list[OpenInvoice] = []
    remaining = dict(owed)
    invoices = (
        Invoice.objects.filter(customer_id__in=list(owed), status=Invoice.Status.FINALISED)
        .order_by("customer_id", "-issued_at", "-id")
        .values_list("id", "customer_id", "number", "due_at", "total")
    )
    for key, customer, number, due_at, total in invoices.iterator(chunk_size=5000):
        left = remaining[customer]
        if left <= 0 or total <= 0:
            continue
        part = min(left, total)
        remaining[customer] = left - part
        found.append(OpenInvoice(key, customer, number, due_at, total, part))
    return sorted(found, key=lambda item: (item.customer_id, item.due_at, item.id))


def invoice_owed(invoice: Invoice) -> Decimal:
    """What is still owed on ``invoice`` (0 when paid)."""
    history = list(
        Invoice.objects.filter(customer_id=invoice.customer_id, status=Invoice.Status.FINALISED)
        .order_by("issued_at", "id")
        .values_list("id", "total")
    )
    settled = sum((total for _, total in history), ZERO) - balance(invoice.customer_id)
    return outstanding(history, settled).get(invoice.pk, ZERO)


def get_invoice(pk: int) -> Invoice | None:
    return (
        Invoice.objects.select_related("customer", "subscription__plan")
        .prefetch_related("lines", "credit_notes")
        .filter(pk=pk)
        .first()
    )


def customer_invoices(customer_id: int | None, *, limit: int, offset: int) -> list[Invoice]:
    invoices = Invoice.objects.all()
    if customer_id is not None:
        invoices = invoices.filter(customer_id=customer_id)
    return list(invoices.order_by("-issued_at", "-id")[offset : offset + limit])


class _InvoicedBefore(Func):
    """A timeline's running total at its last issue before ``instant`` (0 if none):
    ``width_bucket`` finds how many issues are at or before ``instant − 1 µs`` (the last
    of equal instants, whose running total counts them all) by binary search."""

    output_field = DecimalField()

    def __init__(self, instant: datetime):
        # Timestamps have microsecond precision on both sides, so "before t" is "at or
        # before t − 1 µs" exactly.
        super().__init__(
            F("running_total"), F("issued"), Value(instant - timedelta(microseconds=1))
        )

    def as_sql(self, compiler, connection, **extra):
        (running, running_params), (issued, issued_params), (instant, instant_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        sql = f"COALESCE({running}[width_bucket({instant}, {issued})], 0)"
        return sql, (*running_params, *instant_params, *issued_params)


def invoiced_compared(at_least: bool, amount: Decimal, *, since: datetime, until: datetime) -> Q:
    """A filter on customers: the total of their finalised invoices issued in
    [``since``, ``until``) is ≥ ``amount`` (``at_least``) or ≤ it; customers never invoiced
    count as zero. PostgreSQL only (``RevenueTimeline``): one row per customer, whatever
    the window, against a sum over every invoice in it.

    Customers without a timeline are in the result exactly when zero passes, so the
    filter is the existence of a passing timeline or the absence of a failing one: a
    semi- or anti-join PostgreSQL hashes once, not a probe per customer (``NOT IN`` would
    be a probe per customer once the ids outgrow ``work_mem``)."""
    invoiced = _InvoicedBefore(until) - _InvoicedBefore(since)
    passes = (GreaterThanOrEqual if at_least else LessThanOrEqual)(
        F("invoiced"), Value(amount, output_field=DecimalField())
    )
    timeline = RevenueTimeline.objects.filter(customer=OuterRef("pk")).alias(invoiced=invoiced)
    zero_passes = amount <= 0 if at_least else amount >= 0
    if zero_passes:
        return ~Q(Exists(timeline.exclude(passes)))
    return Q(Exists(timeline.filter(passes)))
