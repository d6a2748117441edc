"""Which subscription bills a call, for a customer holding more than one: the one whose
paid window ``[billing start, end)`` contains the call's start (the lowest id where two
overlap); calls in a gap between two subscriptions go on the later one's first invoice;
calls during a trial are free. Every call is billed once, late ones included."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from django.db.models import Sum
from hypothesis import given
from hypothesis import strategies as st

from ringup.billing.models import Invoice, InvoiceLine
from ringup.billing.services.invoicing import bill, call_stretches
from ringup.billing.services.subscriptions import cancel_subscription
from ringup.engine.rating import Numbering
from ringup.usage.models import RatedCall
from ringup.usage.services import import_cdr_file

from .conftest import APRIL_1, MARCH_1, MAY_1

HEADER = "id,account,src,dst,start,duration\n"
# Moscow is UTC+3: local midnight of day D is D - 1 at 21:00 UTC.
MARCH_21 = datetime(2025, 3, 20, 21, tzinfo=UTC)
APRIL_11 = datetime(2025, 4, 10, 21, tzinfo=UTC)
APRIL_21 = datetime(2025, 4, 20, 21, tzinfo=UTC)
MAY_11 = datetime(2025, 5, 10, 21, tzinfo=UTC)
MAY_21 = datetime(2025, 5, 20, 21, tzinfo=UTC)
JUNE_1 = datetime(2025, 5, 31, 21, tzinfo=UTC)


def import_calls(tmp_path, name: str, rows: str) -> None:
    path = tmp_path / f"{name}.csv"
    path.write_text(HEADER + rows)
    import_cdr_file(path, source="pbx1", numbering=Numbering(country="RU"))


def usage(invoice: Invoice) -> list[tuple]:
    return list(
        invoice.lines.filter(kind=InvoiceLine.Kind.USAGE)
        .order_by("position")
        .values_list("description", "quantity", "amount")
    )


def billed(*cdr_ids: str) -> list[int | None]:
    found = dict(RatedCall.objects.values_list("cdr_id", "billed_invoice_id"))
    return [found[cdr_id] for cdr_id in cdr_ids]


@pytest.fixture
def account(customer):
    customer.account = "acc-romashka"
    customer.save()
    return customer


@pytest.mark.django_db
def test_overlapping_subscriptions_bill_by_lowest_id_and_a_later_one_after_the_first_ended(
    subscribe, account, tmp_path
):
    """Office PBX #1 paid from 1 March, cancelled for the end of March (ends 1 April);
    Virtual number #2 paid from 21 March. Retail deck, no included minutes: Russia mobile
    1.90/min, Moscow local 0.90/min.

      20 Mar  mobile 5 min  only #1 is paid         → #1 March:         5 × 1.90 = 9.50
      25 Mar  local 10 min  both paid: lowest id    → #1 March:        10 × 0.90 = 9.00
      10 Apr  mobile 3 min  #1 has ended            → #2 21 Mar–21 Apr: 3 × 1.90 = 5.70

    Then, after those invoices, late calls arrive: 28 March (mobile 1 min, #1's window:
    #1 has ended, so its closing invoice: 1.90) and 15 April (local 2 min, #2's window:
    #2's next invoice, 21 April–21 May, as a call from an earlier period: 1.80).
    """
    first = subscribe()
    second = subscribe(MARCH_21, plan="virtual-number", employees=1)
    cancel_subscription(first, at=MARCH_21)
    import_calls(
        tmp_path,
        "calls",
        "a,acc-romashka,74951110000,89161234567,2025-03-20T10:00:00,300\n"
        "b,acc-romashka,74951110000,84951234567,2025-03-25T10:00:00,600\n"
        "c,acc-romashka,74951110000,89161234567,2025-04-10T10:00:00,180\n",
    )
    bill(until=APRIL_21, at=APRIL_21)
    march = first.invoices.get()
    assert march.period_start == MARCH_1
    assert usage(march) == [
        ("Calls to Moscow local: 1 call", D("10.00"), D("9.00")),
        ("Calls to Russia mobile: 1 call", D("5.00"), D("9.50")),
    ]
    own = second.invoices.get()
    assert (own.period_start, own.period_end) == (MARCH_21, APRIL_21)
    assert usage(own) == [("Calls to Russia mobile: 1 call", D("3.00"), D("5.70"))]
    assert billed("a", "b", "c") == [march.pk, march.pk, own.pk]

    import_calls(
        tmp_path,
        "late",
        "d,acc-romashka,74951110000,89161234567,2025-03-28T10:00:00,60\n"
        "e,acc-romashka,74951110000,84951234567,2025-04-15T10:00:00,120\n",
    )
    dry = bill(until=MAY_21, at=MAY_21, dry_run=True).as_dict()
    real = bill(until=MAY_21, at=MAY_21).as_dict()
    assert dry == {**real, "dry_run": True}
    closing = first.invoices.get(reason=Invoice.Reason.CLOSING)
    assert usage(closing) == [
        ("Calls from earlier periods: Russia mobile, 2025-03-28: 1 call", D("1.00"), D("1.90"))
    ]
    later = second.invoices.get(period_start=APRIL_21)
    assert usage(later) == [
        ("Calls from earlier periods: Moscow local, 2025-04-15: 1 call", D("2.00"), D("1.80"))
    ]
    assert billed("d", "e") == [closing.pk, later.pk]
    assert bill(until=MAY_21, at=MAY_21).invoices_created == 0
    # Each call once: 9.50 + 9.00 + 5.70 + 1.90 + 1.80 = 27.90, all of the calls' cost.
    lines = InvoiceLine.objects.filter(kind=InvoiceLine.Kind.USAGE)
    assert lines.aggregate(s=Sum("amount"))["s"] == D("27.90")
    assert RatedCall.objects.aggregate(s=Sum("cost"))["s"] == D("27.90")


@pytest.mark.django_db
def test_calls_in_a_gap_go_on_the_next_subscriptions_first_invoice_and_trial_hours_are_free(
    subscribe, account, tmp_path
):
    """#1 is paid in March and ends with it (1 April). #2 starts on 10 April at 10:00
    Moscow without a trial, so it is paid from 11 April (the rest of 10 April is free).

      31 Mar 23:00  mobile 1 min  #1's March                       1 × 1.90 = 1.90
       5 Apr 10:00  local 5 min   gap: no subscription at all      5 × 0.90 = 4.50
      10 Apr 09:00  mobile 2 min  gap: #2 starts an hour later     2 × 1.90 = 3.80
      10 Apr 12:00  mobile 1 min  #2 held, not paid yet            free
      11 Apr 10:00  mobile 1 min  #2's first period                1 × 1.90 = 1.90

    Before #2 exists the gap calls are billed by nobody (#1's closing invoice does not
    take calls after its end). #2's first invoice (11 April–11 May) bills its own call
    and, as calls from earlier periods, the two gap calls: 1.90 + 4.50 + 3.80 = 10.20.
    """
    first = subscribe()
    cancel_subscription(first, at=MARCH_21)
    import_calls(
        tmp_path,
        "calls",
        "e1,acc-romashka,74951110000,89161234567,2025-03-31T23:00:00,60\n"
        "g1,acc-romashka,74951110000,84951234567,2025-04-05T10:00:00,300\n"
        "g2,acc-romashka,74951110000,89161234567,2025-04-10T09:00:00,120\n"
        "t1,acc-romashka,74951110000,89161234567,2025-04-10T12:00:00,60\n"
        "o1,acc-romashka,74951110000,89161234567,2025-04-11T10:00:00,60\n",
    )
    bill(until=APRIL_11, at=APRIL_11)
    march = first.invoices.get()
    assert usage(march) == [("Calls to Russia mobile: 1 call", D("1.00"), D("1.90"))]
    assert billed("g1", "g2", "t1", "o1") == [None] * 4

    second = subscribe(datetime(2025, 4, 10, 7, tzinfo=UTC))
    assert second.billing_starts_on.isoformat() == "2025-04-11"
    dry = bill(until=MAY_11, at=MAY_11, dry_run=True).as_dict()
    real = bill(until=MAY_11, at=MAY_11).as_dict()
    assert dry == {**real, "dry_run": True}
    assert not first.invoices.filter(reason=Invoice.Reason.CLOSING).exists()
    own = second.invoices.get()
    assert (own.period_start, own.period_end) == (APRIL_11, MAY_11)
    assert usage(own) == [
        ("Calls to Russia mobile: 1 call", D("1.00"), D("1.90")),
        ("Calls from earlier periods: Moscow local, 2025-04-05: 1 call", D("5.00"), D("4.50")),
        ("Calls from earlier periods: Russia mobile, 2025-04-10: 1 call", D("2.00"), D("3.80")),
    ]
    assert billed("e1", "g1", "g2", "t1", "o1") == [march.pk, own.pk, own.pk, None, own.pk]
    assert bill(until=MAY_11, at=MAY_21).invoices_created == 0


@pytest.mark.django_db
def test_a_customer_with_one_subscription_still_has_its_calls_billed_by_it(
    subscribe, account, tmp_path
):
    """The common case: one subscription, paid from 1 March; a call of 2 March (mobile,
    1 min: 1.90) is on March's invoice, one of 2 April on April's."""
    subscription = subscribe()
    import_calls(
        tmp_path,
        "calls",
        "a,acc-romashka,74951110000,89161234567,2025-03-02T10:00:00,60\n"
        "b,acc-romashka,74951110000,89161234567,2025-04-02T10:00:00,60\n",
    )
    bill(until=MAY_1, at=MAY_1)
    march, april = subscription.invoices.order_by("period_start")
    assert (march.period_start, april.period_start) == (MARCH_1, APRIL_1)
    assert billed("a", "b") == [march.pk, april.pk]


def day(n: int, hour: int = 0) -> datetime:
    return datetime(2025, 4, 1, tzinfo=UTC) + timedelta(days=n - 1, hours=hour)


def test_call_stretches_cut_out_every_trial_and_give_gaps_to_the_next_paid_subscription():
    """#1 paid 1 March – 1 April. #3, a self-service trial never decided, runs 2–10 April.
    #2 starts 5 April with a trial and is paid from 20 April. The gap 1–2 April (nobody
    holds a subscription) goes to the next paid subscription to start, #2 (#3 is never
    paid); 2–20 April is trial time, free; from 20 April on, #2."""
    march_1 = datetime(2025, 3, 1, tzinfo=UTC)
    subscriptions = [
        (1, march_1, march_1, day(1), True),
        (2, day(5, 10), day(20), None, True),
        (3, day(2), day(16), day(10), False),
    ]
    assert call_stretches(subscriptions) == [
        (march_1, day(1), 1),
        (day(1), day(2), 2),
        (day(20), None, 2),
    ]
    # Alone, a subscription bills its paid window; one that ended in its trial nothing.
    assert call_stretches([(1, day(1), day(3), None, True)]) == [(day(3), None, 1)]
    assert call_stretches([(1, day(1), day(3), day(2), True)]) == []
    # Before the first subscription and after the last one ended, nothing is billed.
    assert call_stretches([subscriptions[0], (4, day(25), day(25), day(28), False)]) == [
        (march_1, day(1), 1)
    ]


def owner_at(stretches: list[tuple], at: datetime) -> int | None:
    found = [pk for start, end, pk in stretches if start <= at and (end is None or at < end)]
    assert len(found) <= 1  # stretches never overlap: a call has one subscription at most
    return found[0] if found else None


subscription_rows = st.lists(
    st.tuples(
        st.integers(0, 40),  # started, days after 1 April
        st.integers(0, 20),  # trial days
        st.one_of(st.none(), st.integers(1, 40)),  # held for so many days (None: still)
        st.booleans(),  # trial_converts
    ),
    min_size=1,
    max_size=5,
)


@given(subscription_rows, st.lists(st.integers(0, 24 * 90), max_size=30))
def test_every_instant_has_at_most_one_subscription_and_paid_windows_win(rows, hours):
    """Whatever the subscriptions, the stretches are disjoint and in time order; an
    instant inside a paid window belongs to the lowest such id; one inside a trial (any
    held, unpaid time) to nobody; one in a gap to the next paid subscription to start."""
    subscriptions = []
    for pk, (started, trial, held, converts) in enumerate(rows, 1):
        ended = None if held is None else day(1 + started + held)
        subscriptions.append((pk, day(1 + started), day(1 + started + trial), ended, converts))
    stretches = call_stretches(subscriptions)
    assert stretches == sorted(stretches, key=lambda s: s[0])
    for at in (day(1) + timedelta(hours=h) for h in hours):
        paying = [
            pk
            for pk, _, first, ended, converts in subscriptions
            if converts and first <= at and (ended is None or at < ended)
        ]
        held = any(s <= at and (e is None or at < e) for _, s, _, e, _ in subscriptions)
        owner = owner_at(stretches, at)
        paid = [sub for sub in subscriptions if sub[4] and (sub[3] is None or sub[3] > sub[2])]
        after_a_window = any(e is not None and e <= at for _, _, _, e, _ in paid)
        following = sorted((s, pk) for pk, s, _, _, _ in paid if s > at)
        if paying:
            assert owner == min(paying)
        elif held:
            assert owner is None
        elif after_a_window and following:  # a gap: the next paid subscription to start
            assert owner == following[0][1]
        else:  # before the first paid window, or after the last subscription
            assert owner is None
