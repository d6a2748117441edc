"""Imported calls on invoices: grouped by destination, included minutes first, each call
billed once — on the invoice of the period its start falls in."""

from decimal import Decimal as D

import pytest

from ringup.billing.models import Invoice, InvoiceLine
from ringup.billing.services.invoicing import bill
from ringup.engine.rating import Numbering
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
