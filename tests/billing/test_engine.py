"""The pure parts of billing (``ringup.engine.invoicing`` and ``ringup.engine.ledger``):
configuration through time, proration lines, VAT, credits, double entry."""

from datetime import date, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from ringup.engine import ledger
from ringup.engine.invoicing import (
    Config,
    Credit,
    History,
    Line,
    LineKind,
    OptionSpan,
    PlanChange,
    VatRule,
    change_lines,
    credit_lines,
    period_lines,
    recurring_charged_twice,
    taxed,
    totals,
)
from ringup.engine.periods import Interval, billing_period
from ringup.engine.pricing import OptionPrice, Period, PlanPrice, Selection, price_quote

MOSCOW = ZoneInfo("Europe/Moscow")
PBX = PlanPrice(
    code="pbx",
    name="Office PBX",
    currency="RUB",
    monthly_fee=D("890"),
    per_employee=D("75"),
    min_employees=1,
    max_employees=500,
    annual_discount_percent=D("15"),
    options={
        "crm": OptionPrice("crm", "CRM integration", D("490"), D("1990")),
        "rec": OptionPrice("rec", "Recording", D("49"), per_employee=True),
    },
)
APRIL = billing_period(date(2024, 4, 1), 1, Interval.MONTHLY, 0, MOSCOW)  # 30 days


class Pricer:
    def quote(self, config: Config, interval: Interval):
        return price_quote(
            PBX,
            Selection(
                employees=config.employees,
                options=config.options,
                period=Period(interval.value),
            ),
        )

    def plan_name(self, code):
        return "Office PBX"


PRICER = Pricer()


def test_history_undoes_later_changes_to_find_an_earlier_configuration():
    t1, t2 = APRIL.start + timedelta(days=5), APRIL.start + timedelta(days=20)
    history = History(
        current=Config("pbx", employees=12, options=("crm",)),
        plan_changes=(PlanChange(t1, from_employees=5), PlanChange(t2, from_employees=8)),
        option_spans=(OptionSpan("crm", t1), OptionSpan("rec", APRIL.start, t2)),
    )
    assert history.at(APRIL.start) == Config("pbx", 5, options=("rec",))
    assert history.at(t1) == Config("pbx", 8, options=("crm", "rec"))
    assert history.at(t2) == Config("pbx", 12, options=("crm",))
    assert [at for at, _ in history.steps(APRIL.start, APRIL.end)] == [t1, t2]
    ended = History(current=history.current, ended_at=t2)
    assert ended.at(t2) is None
    assert ended.steps(APRIL.start, APRIL.end) == [(t2, None)]


def test_period_lines_of_a_quiet_month_are_the_quote():
    history = History(current=Config("pbx", 10, options=("crm",)))
    lines = period_lines(PRICER, APRIL, Interval.MONTHLY, history, MOSCOW, first=False)
    assert [(line.kind, line.amount) for line in lines] == [
        (LineKind.RECURRING, D("890.00")),
        (LineKind.RECURRING, D("750.00")),
        (LineKind.RECURRING, D("490.00")),
    ]
    first = period_lines(PRICER, APRIL, Interval.MONTHLY, history, MOSCOW, first=True)
    assert first[-1].kind is LineKind.ONE_TIME
    assert first[-1].amount == D("1990.00")


prices = st.integers(min_value=1, max_value=400)


@given(
    before=prices,
    after=prices,
    offset=st.integers(min_value=1, max_value=APRIL.seconds - 1),
    add=st.booleans(),
)
def test_credit_plus_charge_is_the_price_difference_for_the_remaining_time(
    before, after, offset, add
):
    at = APRIL.start + timedelta(seconds=offset)
    old = Config("pbx", before)
    new = Config("pbx", after, options=("crm",) if add else ())
    lines = change_lines(PRICER, APRIL, Interval.MONTHLY, at, old, new, MOSCOW)
    old_price = PRICER.quote(old, Interval.MONTHLY).monthly_total
    new_price = PRICER.quote(new, Interval.MONTHLY).monthly_total
    remaining = D(int((APRIL.end - at).total_seconds())) / D(APRIL.seconds)
    prorated = sum((line.amount for line in lines if line.kind is LineKind.PRORATION), D(0))
    assert prorated == ((new_price - old_price) * remaining).quantize(D("0.01"), "ROUND_HALF_UP")
    one_time = [line for line in lines if line.kind is LineKind.ONE_TIME]
    assert [line.code for line in one_time] == (["crm"] if add else [])


@given(
    amounts=st.lists(st.decimals(D("-10000"), D("10000"), places=2), max_size=30),
    rate=st.sampled_from([D("0"), D("10"), D("18"), D("20")]),
    included=st.booleans(),
)
def test_an_invoice_total_is_the_exact_sum_of_its_lines(amounts, rate, included):
    lines = [Line(LineKind.RECURRING, "x", "x", D(1), a, a) for a in amounts]
    result = taxed(lines, VatRule(rate, included), "RUB")
    sums = totals(result, "RUB")
    assert sums.total == sum((line.total for line in result), D("0.00"))
    assert sums.net + sums.vat == sums.total
    for line in result:
        assert line.vat_amount == line.vat_amount.quantize(D("0.01"))
        assert line.total == (line.amount if included else line.amount + line.vat_amount)
    if included:
        assert sums.total == sum(amounts, D(0))


@given(
    credits=st.lists(st.decimals(D("0.01"), D("2000"), places=2), max_size=5),
    room=st.decimals(D("0"), D("3000"), places=2),
)
def test_credits_never_take_an_invoice_below_zero(credits, room):
    lines, used = credit_lines([Credit(i, "credit", c) for i, c in enumerate(credits)], room)
    applied = -sum((line.amount for line in lines), D(0))
    assert applied == sum(used.values(), D(0)) == min(room, sum(credits, D(0)))
    assert all(used[i] <= credits[i] for i in used)


def test_a_recurring_fee_twice_is_caught():
    fee = Line(LineKind.RECURRING, "pbx", "fee", D(1), D(1), D(1))
    assert recurring_charged_twice([fee, fee]) == ["pbx"]
    proration = Line(LineKind.PRORATION, "pbx", "p", D(1), D(1), D(1))
    assert recurring_charged_twice([fee, proration]) == []


events = st.lists(
    st.tuples(
        st.sampled_from(["invoice", "payment", "credit_note", "refund"]),
        st.integers(1, 3),
        st.decimals(D("0.01"), D("100000"), places=2),
        st.sampled_from([D("0"), D("20")]),
    ),
    max_size=40,
)


@given(events=events)
def test_every_posting_balances_and_balances_are_sums_of_entries(events):
    postings = []
    for kind, customer, amount, rate in events:
        if kind in {"invoice", "credit_note"}:
            vat = (amount * rate / (100 + rate)).quantize(D("0.01"))
            make = ledger.invoice_entries if kind == "invoice" else ledger.credit_note_entries
            postings.append(make(customer, amount - vat, vat, amount))
        elif kind == "payment":
            postings.append(ledger.payment_entries(customer, amount))
        else:
            postings.append(ledger.refund_entries(customer, amount))
    for entries in postings:
        ledger.check_balanced(entries)
    everything = [entry for entries in postings for entry in entries]
    assert sum((e.amount for e in everything), D(0)) == 0
    owed = sum((e.amount for e in everything if e.account is ledger.Account.RECEIVABLE), D(0))
    outside = sum(
        (e.amount for e in everything if e.account is not ledger.Account.RECEIVABLE), D(0)
    )
    assert owed == -outside


@given(
    totals_=st.lists(st.decimals(D("0.01"), D("5000"), places=2), max_size=10),
    settled=st.decimals(D("-100"), D("60000"), places=2),
)
def test_payments_settle_oldest_invoices_first(totals_, settled):
    owed = ledger.outstanding(list(enumerate(totals_)), settled)
    assert sum(owed.values(), D(0)) == max(D(0), sum(totals_, D(0)) - max(settled, D(0)))
    # Once an invoice is (partly) open, every later one is wholly open.
    open_ = [key for key, value in owed.items() if value > 0]
    if open_:
        assert all(owed[key] == totals_[key] for key in open_[1:])


def test_an_unbalanced_posting_is_refused():
    entries = (ledger.Entry(ledger.Account.BANK, D("1")),)
    try:
        ledger.check_balanced(entries)
    except ledger.UnbalancedPosting:
        return
    raise AssertionError("accepted an unbalanced posting")


def test_annual_lines_are_twelve_months_with_the_discount():
    history = History(current=Config("pbx", 1))
    year = billing_period(date(2024, 1, 1), 1, Interval.ANNUAL, 0, MOSCOW)
    lines = period_lines(PRICER, year, Interval.ANNUAL, history, MOSCOW, first=False)
    assert [(line.kind, line.amount) for line in lines] == [
        (LineKind.RECURRING, D("10680.00")),
        (LineKind.RECURRING, D("900.00")),
        (LineKind.DISCOUNT, D("-1737.00")),
    ]
