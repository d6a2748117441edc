"""The engine's discount lines: worked examples and money properties."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from ringup.engine.invoicing import (
    DiscountKind,
    Line,
    LineKind,
    PeriodDiscount,
    VatRule,
    discount_lines,
    taxed,
    totals,
)
from ringup.engine.pricing import Period, PlanPrice, Selection, price_quote, with_promotion

D = Decimal
PERCENT, AMOUNT, FREE = DiscountKind.PERCENT, DiscountKind.AMOUNT, DiscountKind.FREE_MONTHS


def amounts(lines):
    return [line.amount for line in lines]


def test_a_percentage_of_the_recurring_fees():
    """20% of 1,640.00 = 328.00."""
    lines, used = discount_lines(
        [PeriodDiscount("a", PERCENT, D(20), "20%", 3)], D("1640"), 1, "RUB"
    )
    assert amounts(lines) == [D("-328.00")]
    assert used == {"a": 1}


def test_a_fixed_amount_is_capped_by_the_fees():
    """500.00 off a 1,640.00 period is 500.00; off a 490.00 period only 490.00."""
    discount = PeriodDiscount("a", AMOUNT, D(500), "500 off", 1)
    assert amounts(discount_lines([discount], D("1640"), 1, "RUB")[0]) == [D("-500.00")]
    assert amounts(discount_lines([discount], D("490"), 1, "RUB")[0]) == [D("-490.00")]


def test_free_months_on_an_annual_period_take_a_twelfth_each():
    """Annual 16,728.00 (1,394 × 12), 2 free months: 16,728 × 2 / 12 = 2,788.00, and the
    line's quantity says 2 months were used."""
    discount = PeriodDiscount("a", FREE, D(2), "2 free months", 2)
    lines, used = discount_lines([discount], D("16728"), 12, "RUB")
    assert amounts(lines) == [D("-2788.00")]
    assert lines[0].quantity == 2
    assert used == {"a": 2}


def test_stacked_discounts_apply_on_what_is_left():
    """10% of 1,000.00 = 100.00, then 20% of the remaining 900.00 = 180.00, then a
    1,000.00 amount is capped by the remaining 720.00."""
    discounts = [
        PeriodDiscount("a", PERCENT, D(10), "10%"),
        PeriodDiscount("b", PERCENT, D(20), "20%"),
        PeriodDiscount("c", AMOUNT, D(1000), "1000 off"),
    ]
    lines, _ = discount_lines(discounts, D("1000"), 1, "RUB")
    assert amounts(lines) == [D("-100.00"), D("-180.00"), D("-720.00")]


def test_a_used_up_discount_gives_nothing():
    lines, used = discount_lines([PeriodDiscount("a", PERCENT, D(20), "20%", 0)], D(100), 1, "RUB")
    assert (lines, used) == ([], {})


money = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False)
discount = st.builds(
    PeriodDiscount,
    code=st.uuids().map(str),
    kind=st.sampled_from(list(DiscountKind)),
    value=st.decimals(min_value=D("0.01"), max_value=100, places=2),
    description=st.just("promotion"),
    left=st.one_of(st.none(), st.integers(min_value=0, max_value=24)),
)


@given(base=money, discounts=st.lists(discount, max_size=5), months=st.sampled_from([1, 12]))
def test_discounts_never_exceed_the_fees_and_round_once(base, discounts, months):
    lines, used = discount_lines(discounts, base, months, "RUB")
    total = sum((line.amount for line in lines), D(0))
    assert -base <= total <= 0
    for line in lines:
        assert line.amount == line.amount.quantize(D("0.01"))
        assert line.amount < 0
    assert set(used) == {line.code for line in lines}


@given(
    fees=st.lists(st.decimals(min_value=0, max_value=100_000, places=2), min_size=1, max_size=4),
    discounts=st.lists(discount, max_size=4),
    included=st.booleans(),
)
def test_an_invoice_with_discounts_totals_the_sum_of_its_lines(fees, discounts, included):
    recurring = [
        Line(LineKind.RECURRING, f"fee{i}", "fee", D(1), fee, fee) for i, fee in enumerate(fees)
    ]
    base = sum(fees, D(0))
    found, _ = discount_lines(discounts, base, 1, "RUB")
    lines = taxed([*recurring, *found], VatRule(D(20), included), "RUB")
    sums = totals(lines, "RUB")
    assert sums.total == sum((line.total for line in lines), D(0))
    assert sums.net + sums.vat == sums.total
    assert sum((line.amount for line in lines), D(0)) >= 0
    if included:
        assert sums.total >= 0
    else:
        # VAT on top is rounded per line: a fully discounted invoice may be a cent per
        # line off zero (0.02 + 0.02 − 0.04, VAT 0.00 + 0.00 − 0.01).
        assert sums.total >= -D("0.01") * len(lines)


@given(
    employees=st.integers(min_value=1, max_value=50),
    annual=st.booleans(),
    amount=st.decimals(min_value=0, max_value=10_000_000, places=2),
)
def test_a_promotion_on_a_quote_never_exceeds_the_first_period(employees, annual, amount):
    plan = PlanPrice(
        code="p",
        name="P",
        currency="RUB",
        monthly_fee=D("890"),
        per_employee=D("75"),
        setup_fee=D("1990"),
        annual_discount_percent=D("15"),
    )
    period = Period.ANNUAL if annual else Period.MONTHLY
    quote = price_quote(plan, Selection(employees=employees, period=period))
    promoted = with_promotion(quote, "promo:X", "Promo code X", amount)
    discount = quote.period_total - promoted.period_total
    assert 0 <= discount <= quote.monthly_total * quote.months
    assert promoted.period_total >= quote.one_time_total
    recurring = sum(line.amount for line in promoted.lines if line.kind == "recurring")
    once = sum(line.amount for line in promoted.lines if line.kind == "one_time")
    assert promoted.period_total == recurring * promoted.months + once
