"""Pricing: worked examples with the arithmetic written out, and properties."""

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringup.engine.pricing import (
    LineKind,
    NumberPrice,
    OptionPrice,
    Period,
    PlanPrice,
    Selection,
    SelectionError,
    TrafficPackagePrice,
    annual_saving,
    price_quote,
)

OFFICE = PlanPrice(
    code="office-pbx",
    name="Office PBX",
    currency="RUB",
    monthly_fee=D("890"),
    per_employee=D("75"),
    min_employees=2,
    max_employees=200,
    annual_discount_percent=D("15"),
    max_manager_discount_percent=D("15"),
    options={
        "crm": OptionPrice("crm", "CRM integration", D("490"), D("1990")),
        "rec": OptionPrice("rec", "Recording per employee", D("49"), per_employee=True),
        "sms": OptionPrice("sms", "Missed-call SMS", D("149")),
    },
    numbers={
        "local": NumberPrice("local", "Extra local number", D("290"), included=2),
        "tollfree": NumberPrice("tollfree", "Toll-free 8-800", D("1490"), D("2990")),
    },
    traffic_packages={"min-1000": TrafficPackagePrice("min-1000", "1,000 min", 1000, D("1100"))},
)


def amounts(quote, kind):
    return [(line.code, line.quantity, line.amount) for line in quote.lines if line.kind == kind]


def test_office_pbx_worked_example_monthly():
    """890 fee + 12 × 75 employees = 900 + 1 extra number (3 − 2 included) × 290
    + CRM 490 + recording 12 × 49 = 588 + 1,000 minutes 1,100
    = 890 + 900 + 290 + 490 + 588 + 1100 = 4,258.00 a month;
    one-time: CRM setup 1,990."""
    quote = price_quote(
        OFFICE,
        Selection(
            employees=12,
            numbers={"local": 3},
            options=["crm", "rec"],
            traffic_package="min-1000",
        ),
    )
    assert amounts(quote, LineKind.RECURRING) == [
        ("office-pbx", 1, D("890.00")),
        ("employees", 12, D("900.00")),
        ("number:local", 1, D("290.00")),
        ("crm", 1, D("490.00")),
        ("rec", 12, D("588.00")),
        ("min-1000", 1, D("1100.00")),
    ]
    assert amounts(quote, LineKind.ONE_TIME) == [("crm", 1, D("1990.00"))]
    assert quote.monthly_total == D("4258.00")
    assert quote.one_time_total == D("1990.00")
    assert quote.period_total == D("6248.00")  # 4,258 + 1,990
    assert quote.per_employee_total == D("1488.00")  # 900 + 588


def test_annual_prepayment_discount_worked_example():
    """Same selection, annual: 15 % of 4,258.00 = 638.70 off each month →
    3,619.30 a month; the year costs 12 × 3,619.30 + 1,990 = 45,421.60."""
    quote = price_quote(
        OFFICE,
        Selection(
            employees=12,
            numbers={"local": 3},
            options=["crm", "rec"],
            traffic_package="min-1000",
            period=Period.ANNUAL,
        ),
    )
    assert quote.lines[6].code == "annual_discount"
    assert quote.lines[6].amount == D("-638.70")
    assert quote.monthly_total == D("3619.30")
    assert quote.period_total == D("45421.60")


def test_manager_discount_then_annual_discount():
    """Base 890 + 2 × 75 = 1,040.00; manager 10 % → −104.00 leaves 936.00;
    annual 15 % of 936.00 = −140.40 → 795.60 a month."""
    quote = price_quote(
        OFFICE,
        Selection(employees=2, period=Period.ANNUAL, manager_discount_percent=D("10")),
    )
    assert [line.amount for line in quote.lines] == [
        D("890.00"),
        D("150.00"),
        D("-104.00"),
        D("-140.40"),
    ]
    assert quote.monthly_total == D("795.60")


def test_rounding_happens_once_per_line_half_up():
    """A 12.5 % discount of 1,040.00 is 130.00; of 1,115.00 (3 employees) it is
    139.375 → 139.38 (half-up), and the total is the sum of rounded lines."""
    plan = PlanPrice(
        code="p",
        name="P",
        currency="RUB",
        monthly_fee=D("890"),
        per_employee=D("75"),
        max_manager_discount_percent=D("20"),
    )
    quote = price_quote(plan, Selection(employees=3, manager_discount_percent=D("12.5")))
    assert quote.lines[-1].amount == D("-139.38")
    assert quote.monthly_total == D("1115.00") - D("139.38")


def test_tollfree_number_has_connection_fee():
    quote = price_quote(OFFICE, Selection(employees=2, numbers={"tollfree": 1}))
    assert ("number:tollfree", 1, D("1490.00")) in amounts(quote, LineKind.RECURRING)
    assert amounts(quote, LineKind.ONE_TIME) == [("number:tollfree", 1, D("2990.00"))]


def test_included_numbers_are_free_and_default_employees_is_plan_minimum():
    quote = price_quote(OFFICE, Selection(numbers={"local": 2}))
    assert quote.employees == 2
    assert quote.monthly_total == D("1040.00")  # 890 + 2 × 75, both numbers included


def test_duplicate_options_are_charged_once():
    quote = price_quote(OFFICE, Selection(employees=2, options=["sms", "sms"]))
    assert [line.code for line in quote.lines].count("sms") == 1


@pytest.mark.parametrize(
    ("selection", "field"),
    [
        (Selection(employees=1), "employees"),
        (Selection(employees=201), "employees"),
        (Selection(options=["nope"]), "options"),
        (Selection(traffic_package="min-99"), "traffic_package"),
        (Selection(numbers={"local": -1}), "numbers.local"),
        (Selection(numbers={"mobile": 1}), "numbers.mobile"),
        (Selection(manager_discount_percent=D("15.01")), "discount_percent"),
        (Selection(manager_discount_percent=D("-1")), "discount_percent"),
    ],
)
def test_bad_selection_names_the_field(selection, field):
    with pytest.raises(SelectionError) as caught:
        price_quote(OFFICE, selection)
    assert field in caught.value.errors


selections = st.builds(
    Selection,
    employees=st.integers(2, 200),
    numbers=st.fixed_dictionaries(
        {}, optional={"local": st.integers(0, 50), "tollfree": st.integers(0, 5)}
    ),
    options=st.lists(st.sampled_from(sorted(OFFICE.options)), max_size=4),
    traffic_package=st.sampled_from([None, "min-1000"]),
    period=st.sampled_from(list(Period)),
    manager_discount_percent=st.decimals(
        min_value=0, max_value=15, places=2, allow_nan=False, allow_infinity=False
    ),
)


@given(selections)
def test_totals_are_sums_of_lines(selection):
    quote = price_quote(OFFICE, selection)
    recurring = sum(line.amount for line in quote.lines if line.kind == LineKind.RECURRING)
    once = sum(line.amount for line in quote.lines if line.kind == LineKind.ONE_TIME)
    assert quote.monthly_total == recurring
    assert quote.one_time_total == once
    assert quote.period_total == quote.monthly_total * quote.months + quote.one_time_total
    for line in quote.lines:
        assert line.amount == line.amount.quantize(D("0.01"))


@given(selections)
def test_no_negative_totals(selection):
    quote = price_quote(OFFICE, selection)
    assert quote.monthly_total >= 0
    assert quote.one_time_total >= 0
    assert quote.period_total >= 0


@given(selections)
def test_annual_is_twelve_monthly_minus_the_annual_discount(selection):
    from dataclasses import replace

    monthly = price_quote(OFFICE, replace(selection, period=Period.MONTHLY))
    annual = price_quote(OFFICE, replace(selection, period=Period.ANNUAL))
    discount = next(line.amount for line in annual.lines if line.code == "annual_discount")
    assert annual.period_total == 12 * monthly.monthly_total + 12 * discount + (
        annual.one_time_total
    )
    assert annual_saving(OFFICE, selection) == -12 * discount
    assert annual.one_time_total == monthly.one_time_total


@given(selections, st.integers(1, 20))
def test_more_employees_never_cost_less(selection, extra):
    from dataclasses import replace

    fewer = price_quote(OFFICE, selection)
    more_employees = min(200, (selection.employees or 2) + extra)
    more = price_quote(OFFICE, replace(selection, employees=more_employees))
    assert more.monthly_total >= fewer.monthly_total
