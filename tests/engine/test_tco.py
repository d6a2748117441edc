"""TCO / ROI of an on-premise IP-PBX against our hosted PBX, computed by hand."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringup.engine.tco import Hosted, OnPremise, TcoError, tco

D = Decimal


def rented_pbx() -> OnPremise:
    return OnPremise(
        rent_monthly=D(3000),
        phones=D(30000),
        line_rental_monthly=D(2000),
        it_hours_monthly=D(4),
        it_hourly_rate=D(1000),
        power_space_monthly=D(500),
        calls_monthly=D(5000),
    )


def our_pbx() -> Hosted:
    return Hosted(monthly_fee=D(8000), one_time=D(3000), phones=D(30000), calls_monthly=D(4000))


def test_a_rented_pbx_over_two_years():
    """Worked by hand.

    On-premise: month 0 phones 30,000; each month rent 3,000 + lines 2,000 + IT 4 h × 1,000
    = 4,000 + power 500 + calls 5,000 = 14,500. No purchase, so no maintenance.
    Hosted: month 0 one-time 3,000 + phones 30,000 = 33,000; each month 8,000 + calls 4,000
    = 12,000.

    Year 1 (months 0–12): on-premise 30,000 + 12 × 14,500 = 204,000; hosted 33,000 +
    12 × 12,000 = 177,000; saving 27,000. Year 2: 174,000 against 144,000, saving 30,000;
    cumulative saving 57,000.

    Monthly saving: month 0 −3,000, then 2,500 a month. Cumulative: −3,000, −500, +2,000
    → payback in month 2.

    NPV at 12 % a year, monthly flows at 1.12^(m/12): −3,000 + 2,500 × Σ_{m=1}^{24} v^m
    with v = 1.12^(−1/12) = 0.9906004; Σ = v (1 − v²⁴) / (1 − v) = 0.9906004 × 0.2028061 /
    0.0093996 = 21.373227; 2,500 × 21.373227 = 53,433.07; NPV = 50,433.07.
    """
    result = tco(rented_pbx(), our_pbx(), years=2, discount_rate=D(12))
    first, second = result.years
    assert (first.on_premise, first.hosted, first.saving) == (D(204000), D(177000), D(27000))
    assert (second.on_premise, second.hosted, second.saving) == (D(174000), D(144000), D(30000))
    assert second.cumulative_saving == result.total_saving == D(57000)
    assert result.payback_month == 2
    assert result.npv == D("50433.07")
    rental = next(line for line in first.on_premise_lines if line.key == "it_staff")
    assert (rental.formula, rental.amount) == ("12 × 4 h × 1000.00 a month", D(48000))


def test_a_bought_pbx_pays_maintenance_each_year_and_pays_back_at_once():
    """Purchase 100,000 with 15 % maintenance: 15,000 in months 1 and 13.

    Month 0: on-premise 100,000 + licences 20,000 = 120,000 against hosted 3,000: the
    saving is positive from the start (payback month 0).
    Year 1: 120,000 + 15,000 = 135,000; year 2: 15,000. Hosted: 3,000 + 12 × 1,000 =
    15,000, then 12,000. Without discounting the NPV is the total saving: 150,000 − 27,000
    = 123,000.
    """
    bought = OnPremise(purchase=D(100000), licences=D(20000), maintenance_percent=D(15))
    result = tco(bought, Hosted(monthly_fee=D(1000), one_time=D(3000)), years=2, discount_rate=D(0))
    assert [y.on_premise for y in result.years] == [D(135000), D(15000)]
    assert [y.hosted for y in result.years] == [D(15000), D(12000)]
    maintenance = [
        line for y in result.years for line in y.on_premise_lines if line.key == "maintenance"
    ]
    assert [(m.formula, m.amount) for m in maintenance] == [
        ("100000.00 × 15% a year", D(15000)),
        ("100000.00 × 15% a year", D(15000)),
    ]
    assert result.payback_month == 0
    assert result.npv == D(123000)


def test_no_payback_within_the_horizon():
    # Hosted costs 100 more every month and nothing less upfront: never pays back.
    result = tco(OnPremise(line_rental_monthly=D(900)), Hosted(monthly_fee=D(1000)), years=5)
    assert result.payback_month is None
    assert result.total_saving == D(-6000)  # 60 months × −100


def test_each_year_sums_its_lines():
    result = tco(rented_pbx(), our_pbx(), years=3)
    for year in result.years:
        assert year.on_premise == sum(line.amount for line in year.on_premise_lines)
        assert year.hosted == sum(line.amount for line in year.hosted_lines)


amounts = st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False)


@settings(max_examples=50, deadline=None)
@given(
    purchase=amounts,
    monthly=amounts,
    fee=amounts,
    one_time=amounts,
    years=st.integers(1, 5),
    rate=st.decimals(min_value=0, max_value=30, places=1),
)
def test_cumulative_totals_are_sums_of_years(purchase, monthly, fee, one_time, years, rate):
    result = tco(
        OnPremise(purchase=purchase, line_rental_monthly=monthly),
        Hosted(monthly_fee=fee, one_time=one_time),
        years=years,
        discount_rate=rate,
    )
    assert len(result.years) == years
    running_theirs = running_ours = D(0)
    for year in result.years:
        running_theirs += year.on_premise
        running_ours += year.hosted
        assert year.cumulative_on_premise == running_theirs
        assert year.cumulative_hosted == running_ours
    assert result.total_saving == sum(y.saving for y in result.years)
    if rate == 0:
        assert result.npv == result.total_saving


def test_bad_inputs_name_their_fields():
    with pytest.raises(TcoError) as error:
        tco(
            OnPremise(purchase=D(-1), maintenance_percent=D(150)),
            Hosted(monthly_fee=D("NaN")),
            years=6,
            discount_rate=D(-5),
            currency="XYZ",
        )
    assert error.value.errors == {
        "on_premise.purchase": "must not be negative",
        "on_premise.maintenance_percent": "must be between 0 and 100 (typically 10–20)",
        "hosted.monthly_fee": "must be a number",
        "years": "must be between 1 and 5",
        "discount_rate": "must be between 0 and 100 (% a year)",
        "currency": "unsupported currency 'XYZ'",
    }


def test_the_quote_lines_can_stand_in_for_the_subscription_line():
    # Plan 1,500 + 10 employees × 100 − 10 % discount 250 = 2,250 a month.
    lines = (("Plan Business", D(1500)), ("10 employees", D(1000)), ("Discount 10%", D(-250)))
    hosted = Hosted(monthly_fee=D(2250), subscription_lines=lines)
    year = tco(OnPremise(), hosted, years=1).years[0]
    assert [(line.key, line.formula, line.amount) for line in year.hosted_lines] == [
        ("subscription.1", "12 × 1500.00 a month", D(18000)),
        ("subscription.2", "12 × 1000.00 a month", D(12000)),
        ("subscription.3", "12 × -250.00 a month", D(-3000)),
    ]
    assert year.hosted == D(27000)  # 12 × 2,250
    with pytest.raises(TcoError) as error:
        tco(OnPremise(), Hosted(monthly_fee=D(2000), subscription_lines=lines))
    assert error.value.errors == {
        "hosted.subscription_lines": "add up to 2250.00, not the monthly fee 2000.00"
    }
