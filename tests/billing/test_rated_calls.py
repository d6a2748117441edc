"""Imported calls on invoices: grouped by destination, included minutes first, each call
billed once — on the invoice of the period its start falls in or, imported after that
invoice, on the next one."""

from datetime import UTC, datetime
from decimal import Decimal as D
from itertools import permutations

import pytest
from django.db.models import Sum

from ringup.billing.models import Invoice, InvoiceLine
from ringup.billing.services.invoicing import bill
from ringup.engine.rating import Numbering
from ringup.usage.models import RatedCall
from ringup.usage.services import import_cdr_file

from .conftest import APRIL_1, MARCH_1, MAY_1

# Times are Moscow's (the operator's zone, UTC+3); the subscription is paid from 1 March.
CDRS = (
    "id,account,src,dst,start,duration\n"
    "m1,acc-romashka,74951110000,84951234567,2025-03-02T10:00:00,39960\n"  # 666 min local
    "k1,acc-romashka,74951110000,+77012345678,2025-03-03T10:00:00,600\n"  # 10 min Kazakhstan
    "r1,acc-romashka,74951110000,89161234567,2025-03-05T10:00:00,24000\n"  # 400 min mobile
    "m2,acc-romashka,74951110000,84951234567,2025-03-10T10:00:00,120\n"  # 2 min local
    "r2,acc-romashka,74951110000,89161234567,2025-03-31T23:59:00,60\n"  # last minute of March
    "r3,acc-romashka,74951110000,89161234567,2025-04-01T00:00:30,60\n"  # first of April
    "x1,acc-someone-else,74951110000,89161234567,2025-03-05T10:00:00,60\n"  # not theirs
)


def usage(invoice: Invoice) -> list[tuple]:
    return list(
        invoice.lines.filter(kind=InvoiceLine.Kind.USAGE)
        .order_by("position")
        .values_list("description", "quantity", "amount")
    )


@pytest.fixture
def imported(customer, tmp_path):
    customer.account = "acc-romashka"
    customer.save()
    path = tmp_path / "pbx1.csv"
    path.write_text(CDRS)
    result = import_cdr_file(path, source="pbx1", numbering=Numbering(country="RU"))
    assert (result.imported, result.unrated) == (7, {"unknown_account": 1})


def test_included_minutes_are_applied_first_and_calls_are_billed_once(subscribe, imported):
    """Office PBX with the 1,000-minute package (retail deck: Moscow local 0.90/min,
    Russia mobile 1.90/min by the second, Kazakhstan 9.00/min; international calls are not
    covered by the package).

    March, in the order the calls started:
      2 Mar  Moscow local  666 min → all included            (334 of 1,000 left)    0.00
      3 Mar  Kazakhstan     10 min → international: 10 × 9.00                      90.00
      5 Mar  Russia mobile 400 min → 334 included, 66 paid: 66 × 1.90             125.40
     10 Mar  Moscow local    2 min → allowance used up: 2 × 0.90                    1.80
     31 Mar  Russia mobile   1 min at 23:59 Moscow → March: 1 × 1.90                1.90
    Lines: Kazakhstan 90.00; Moscow local 668 min 1.80; Russia mobile 401 min 127.30.
    April: the 00:00:30 call of 1 April is April's (a fresh 1,000 minutes): 0.00.
    Nobody else's call is billed.
    """
    subscription = subscribe(traffic_package="min-1000")
    bill(until=APRIL_1, at=APRIL_1)
    march = subscription.invoices.get()
    assert (march.period_start, march.included_minutes) == (MARCH_1, 1000)
    assert usage(march) == [
        ("Calls to International: Kazakhstan: 1 call", D("10.00"), D("90.00")),
        ("Calls to Moscow local: 2 calls", D("668.00"), D("1.80")),
        ("Calls to Russia mobile: 2 calls", D("401.00"), D("127.30")),
    ]
    bill(until=MAY_1, at=MAY_1)
    april = subscription.invoices.get(period_start=APRIL_1)
    assert usage(april) == [("Calls to Russia mobile: 1 call", D("1.00"), D("0.00"))]
    # Billing again bills nothing twice.
    assert bill(until=MAY_1, at=MAY_1).invoices_created == 0
    assert usage(subscription.invoices.get(period_start=MARCH_1)) == usage(march)


def test_a_second_subscription_does_not_bill_the_customers_calls_again(subscribe, imported):
    first = subscribe(traffic_package="min-1000")
    second = subscribe(plan="virtual-number", employees=1)
    bill(until=APRIL_1, at=APRIL_1)
    assert len(usage(first.invoices.get())) == 3
    assert usage(second.invoices.get()) == []


JUNE_1 = datetime(2025, 5, 31, 21, tzinfo=UTC)
HEADER = "id,account,src,dst,start,duration\n"


def import_calls(tmp_path, name: str, rows: str) -> None:
    path = tmp_path / f"{name}.csv"
    path.write_text(HEADER + rows)
    import_cdr_file(path, source="pbx1", numbering=Numbering(country="RU"))


def test_a_call_imported_after_its_period_was_invoiced_is_billed_on_the_next_invoice_once(
    subscribe, imported, tmp_path
):
    """March is invoiced; then a 5-minute call of 20 March arrives. April's invoice bills
    it at its rated cost (5 × 1.90), on a line of its own: April's fresh included minutes
    cover April's calls only. Billing again, or the next period, does not bill it again."""
    subscription = subscribe(traffic_package="min-1000")
    bill(until=APRIL_1, at=APRIL_1)
    march = subscription.invoices.get()
    import_calls(
        tmp_path, "late", "l1,acc-romashka,74951110000,89161234567,2025-03-20T10:00:00,300\n"
    )
    late = RatedCall.objects.get(cdr_id="l1")
    assert late.billed_invoice_id is None

    dry = bill(until=MAY_1, at=MAY_1, dry_run=True).as_dict()
    assert RatedCall.objects.get(cdr_id="l1").billed_invoice_id is None  # dry writes nothing
    assert subscription.invoices.count() == 1
    real = bill(until=MAY_1, at=MAY_1).as_dict()
    assert dry == {**real, "dry_run": True}

    april = subscription.invoices.get(period_start=APRIL_1)
    assert usage(april) == [
        ("Calls to Russia mobile: 1 call", D("1.00"), D("0.00")),
        ("Calls from earlier periods: Russia mobile, 2025-03-20: 1 call", D("5.00"), D("9.50")),
    ]
    assert RatedCall.objects.get(cdr_id="l1").billed_invoice_id == april.pk
    assert set(
        RatedCall.objects.filter(cdr_id__in=["m1", "k1", "r1", "m2", "r2"]).values_list(
            "billed_invoice_id", flat=True
        )
    ) == {march.pk}
    assert usage(subscription.invoices.get(period_start=MARCH_1)) == usage(march)

    assert bill(until=MAY_1, at=MAY_1).invoices_created == 0
    bill(until=JUNE_1, at=JUNE_1)
    may = subscription.invoices.get(period_start=MAY_1)
    assert usage(may) == []
    lines = InvoiceLine.objects.filter(invoice__subscription=subscription)
    assert lines.filter(description__startswith="Calls from earlier periods").count() == 1


# Three files of calls (costs in whole kopecks: Russia mobile 1.90/min, Moscow local
# 0.90/min, Kazakhstan 9.00/min) and two bill runs, in every order.
FILES = {
    "f1": "a1,acc-romashka,74951110000,89161234567,2025-03-04T10:00:00,600\n"
    "a2,acc-romashka,74951110000,84951234567,2025-03-28T10:00:00,120\n",
    "f2": "b1,acc-romashka,74951110000,+77012345678,2025-03-15T10:00:00,180\n"
    "b2,acc-romashka,74951110000,89161234567,2025-04-10T10:00:00,240\n",
    "f3": "c1,acc-romashka,74951110000,84951234567,2025-04-30T23:00:00,60\n"
    "c2,acc-romashka,74951110000,89161234567,2025-03-31T23:59:00,60\n",
}
EVENTS = [*FILES, "bill-april", "bill-may"]
ORDERS = [
    order for order in permutations(EVENTS) if order.index("bill-april") < order.index("bill-may")
]


@pytest.mark.parametrize("order", ORDERS, ids="-".join)
def test_every_call_is_billed_once_whatever_the_order_of_import_and_billing(
    subscribe, customer, tmp_path, order
):
    """Without included minutes, whatever the order in which files arrive and periods are
    invoiced, the invoices' usage adds up to the calls' rated costs: none is lost, none is
    billed twice, each is on the invoice of its period or a later one."""
    customer.account = "acc-romashka"
    customer.save()
    subscription = subscribe()
    runs = {"bill-april": APRIL_1, "bill-may": MAY_1}
    for event in order:
        if event in FILES:
            import_calls(tmp_path, event, FILES[event])
        else:
            bill(until=runs[event], at=runs[event])
    bill(until=JUNE_1, at=JUNE_1)
    bill(until=JUNE_1, at=JUNE_1)  # again: nothing more

    calls = RatedCall.objects.filter(customer=customer)
    assert calls.count() == 6
    assert calls.aggregate(total=Sum("cost"))["total"] == D("58.20")
    billed = InvoiceLine.objects.filter(
        invoice__subscription=subscription, kind=InvoiceLine.Kind.USAGE
    ).aggregate(total=Sum("amount"))["total"]
    assert billed == D("58.20")
    invoices = dict(subscription.invoices.values_list("pk", "period_end"))
    assert len(invoices) == 3
    for start, invoice in calls.values_list("start", "billed_invoice_id"):
        assert invoice in invoices and start < invoices[invoice]


def test_the_migration_marks_the_calls_invoices_billed_before_calls_recorded_it(
    subscribe, imported
):
    """Invoices written before ``billed_invoice_id`` existed billed their period's calls:
    the migration records that, so the next invoice does not bill them again as late."""
    from importlib import import_module

    from django.apps import apps

    mark = import_module("ringup.billing.migrations.0004_mark_rated_calls_billed").mark
    subscription = subscribe(traffic_package="min-1000")
    bill(until=APRIL_1, at=APRIL_1)
    march = subscription.invoices.get()
    RatedCall.objects.update(billed_invoice_id=None)
    mark(apps, None)
    marked = RatedCall.objects.filter(billed_invoice_id=march.pk)
    assert sorted(marked.values_list("cdr_id", flat=True)) == ["k1", "m1", "m2", "r1", "r2"]
    bill(until=MAY_1, at=MAY_1)
    april = subscription.invoices.get(period_start=APRIL_1)
    assert usage(april) == [("Calls to Russia mobile: 1 call", D("1.00"), D("0.00"))]
