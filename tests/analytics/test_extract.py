"""The frames the metrics engine computes from, on small hand-made histories with the
answer worked out. Prices are the demo catalog's, VAT 20 % included in them; MRR is
without VAT, each recurring line taxed as on an invoice:

* Office PBX, 10 employees, monthly: 890 + 10 × 75 = 1,640.00 with VAT; VAT per line
  890 × 20/120 = 148.33 and 750 × 20/120 = 125.00, so MRR = 1,640.00 − 273.33 = 1,366.67.
* The same with 15 employees: 890 + 1,125 = 2,015.00; VAT 148.33 + 187.50; MRR 1,679.17.
"""

from datetime import date
from decimal import Decimal

import polars as pl

from ringup.analytics.services.extract import extract
from ringup.billing.models import CreditNote
from ringup.billing.services.discounts import NewDiscount, add_discount
from ringup.billing.services.invoicing import bill, issue_credit_note
from ringup.billing.services.subscriptions import (
    ChangeRequest,
    cancel_subscription,
    change_subscription,
)
from ringup.catalog.models import NumberOffer, Plan
from ringup.engine import metrics

from .conftest import APRIL_1, DAY, JUNE_1, MARCH_1, MAY_1

UNTIL = date(2025, 6, 1)  # the history before June: January to May 2025


def month(frame: pl.DataFrame, customer, day: date) -> dict:
    rows = frame.filter((pl.col("customer_id") == customer.pk) & (pl.col("month") == day))
    assert rows.height == 1
    return rows.row(0, named=True)


def test_one_row_per_month_from_registration(make_customer, start_sub):
    firm = make_customer()
    start_sub(firm)
    months = extract(UNTIL).months
    # Registered 10 January: January … May.
    assert months["month"].to_list() == [date(2025, m, 1) for m in range(1, 6)]
    assert month(months, firm, date(2025, 2, 1))["state"] == "none"  # starts at March's midnight
    march = month(months, firm, date(2025, 3, 1))
    assert (march["state"], march["plan"], march["mrr"], march["tier"]) == (
        "paying",
        "office-pbx",
        136_667,
        "smb",
    )


def test_a_trial_is_not_paying(make_customer, start_sub):
    firm = make_customer()
    # A 14-day trial from 25 March runs to 8 April: trialing at the end of March.
    start_sub(firm, MARCH_1 + 24 * DAY, trial=True)
    months = extract(UNTIL).months
    march = month(months, firm, date(2025, 3, 1))
    assert (march["state"], march["mrr"]) == ("trialing", 0)
    assert month(months, firm, date(2025, 4, 1))["state"] == "paying"
    summary = metrics.monthly_summary(months).filter(pl.col("month") == date(2025, 3, 1))
    assert summary.select("active", "paying", "trialing").row(0) == (1, 0, 1)


def test_an_upgrade_is_expansion(make_customer, start_sub):
    firm = make_customer()
    subscription = start_sub(firm)
    change_subscription(subscription, ChangeRequest(employees=15), at=APRIL_1 + 9 * DAY)
    months = extract(UNTIL).months
    assert month(months, firm, date(2025, 3, 1))["mrr"] == 136_667
    assert month(months, firm, date(2025, 4, 1))["mrr"] == 167_917
    moves = metrics.mrr_movements(months).filter(pl.col("month") == date(2025, 4, 1))
    # 1,679.17 − 1,366.67 = 312.50
    assert moves.select("movement", "amount").row(0) == ("expansion", 31_250)


def test_an_annual_plan_counts_one_twelfth(make_customer, start_sub):
    firm = make_customer()
    start_sub(firm, period="annual")
    # A year costs (1,640.00 − 15 % = 1,394.00) × 12 = 16,728.00 with VAT; a month of it is
    # 1,394.00, without VAT (per line: 148.33 + 125.00 − 41.00 = 232.33) 1,161.67.
    months = extract(UNTIL).months
    assert month(months, firm, date(2025, 3, 1))["mrr"] == 116_167
    assert month(months, firm, date(2025, 5, 1))["mrr"] == 116_167


def test_a_subscription_cancelled_within_its_first_month_never_counts(make_customer, start_sub):
    firm = make_customer()
    first = start_sub(firm)
    cancel_subscription(first, at=MARCH_1 + 5 * DAY, immediately=True)
    start_sub(firm, MAY_1)
    months = extract(UNTIL).months
    assert [month(months, firm, date(2025, m, 1))["state"] for m in (3, 4, 5)] == [
        "none",
        "none",
        "paying",
    ]
    # Cancelled within March: never paying at a month end, so May is its first MRR: new.
    moves = metrics.mrr_movements(months)
    assert moves.select("month", "movement").rows() == [(date(2025, 5, 1), "new")]


def test_a_return_after_churn_is_reactivation(make_customer, start_sub):
    firm = make_customer()
    first = start_sub(firm)
    cancel_subscription(first, at=APRIL_1 + 5 * DAY, immediately=True)
    start_sub(firm, JUNE_1 - 10 * DAY)
    moves = metrics.mrr_movements(extract(UNTIL).months)
    assert moves.select("month", "movement", "amount").rows() == [
        (date(2025, 3, 1), "new", 136_667),
        (date(2025, 4, 1), "churn", -136_667),
        (date(2025, 5, 1), "reactivation", 136_667),
    ]


def test_two_currencies_are_never_summed(make_customer, start_sub):
    plan = Plan.objects.create(
        code="eu-office",
        name="EU office",
        segment="smb",
        currency="EUR",
        monthly_fee=Decimal("60"),
        min_employees=1,
    )
    NumberOffer.objects.create(
        code="eu-local", kind="local", name="Local", currency="EUR", monthly_fee=Decimal("5")
    ).plans.add(plan)
    start_sub(make_customer("Roubles"))
    start_sub(make_customer("Euros"), plan="eu-office", employees=1)
    months = extract(UNTIL).months
    summary = metrics.monthly_summary(months).filter(pl.col("month") == date(2025, 3, 1))
    # 60.00 with VAT: 60 − 10.00 = 50.00 without.
    assert summary.select("currency", "paying", "mrr").rows() == [
        ("EUR", 1, 5_000),
        ("RUB", 1, 136_667),
    ]


def test_revenue_is_invoiced_net_of_vat_and_credit_notes(make_customer, start_sub):
    firm = make_customer()
    start_sub(firm)
    bill(until=MAY_1, at=MAY_1)
    # The March period is invoiced on 1 April, in arrears: 1,640.00 with VAT, 1,366.67
    # without, revenue of March (the service month), as April's is of April.
    months = extract(UNTIL).months
    assert month(months, firm, date(2025, 3, 1))["revenue"] == 136_667
    assert month(months, firm, date(2025, 4, 1))["revenue"] == 136_667
    invoice = firm.invoices.order_by("issued_at").last()
    issue_credit_note(invoice, amount=Decimal("120.00"), reason="goodwill", at=MAY_1 + DAY)
    credit = CreditNote.objects.get()
    months = extract(UNTIL).months
    # The credit note's net (120.00 − 20.00 VAT = 100.00) comes off the revenue of May,
    # the month it is issued in; May's own period is not invoiced yet.
    assert credit.net_amount == Decimal("100.00")
    assert month(months, firm, date(2025, 5, 1))["revenue"] == -10_000


def test_products_and_funnel(make_customer, start_sub):
    firm = make_customer()
    subscription = start_sub(firm, MARCH_1 + 24 * DAY, trial=True)
    change_subscription(
        subscription, ChangeRequest(options=("call-recording-pro",)), at=MAY_1 + 3 * DAY
    )
    frames = extract(UNTIL)
    held = frames.products.filter(pl.col("month") == date(2025, 5, 1))
    assert sorted(held.select("product", "kind").rows()) == [
        ("call-recording-pro", "option"),
        ("office-pbx", "plan"),
    ]
    stages = dict(frames.funnel.select("stage", "at").rows())
    assert list(stages) == ["reach", "capture", "warm", "sell", "upsell"]
    assert stages["warm"] == subscription.started_at
    assert stages["upsell"] == MAY_1 + 3 * DAY


def test_a_history_before_the_first_customer_is_empty(make_customer):
    make_customer()  # registered on 10 January at noon, Moscow time
    frames = extract(date(2025, 1, 10))
    assert frames.months.is_empty() and frames.funnel.is_empty()


def test_granted_discounts_lower_mrr_while_they_last(make_customer, start_sub):
    """25 % off for two periods from 15 March: billing's discount line is 1,640.00 × 25 %
    = 410.00 with VAT (VAT 410 × 20/120 = 68.33), so MRR is 741.67 + 625.00 − 341.67 =
    1,025.00 at the ends of March and April, and 1,366.67 again in May. 300.00 off every
    period (VAT 50.00): 1,366.67 − 250.00 = 1,116.67 in every paid month."""
    percent, amount = make_customer(), make_customer()
    for firm, discount in [
        (percent, NewDiscount("percent", Decimal(25), "Spring", "test:percent", periods=2)),
        (amount, NewDiscount("amount", Decimal(300), "Loyalty", "test:amount")),
    ]:
        subscription = start_sub(firm)
        add_discount(subscription, discount, at=MARCH_1 + 14 * DAY)
    months = extract(UNTIL).months
    assert [month(months, percent, date(2025, m, 1))["mrr"] for m in (3, 4, 5)] == [
        102_500,
        102_500,
        136_667,
    ]
    assert [month(months, amount, date(2025, m, 1))["mrr"] for m in (3, 4, 5)] == [111_667] * 3


def test_free_months_take_the_whole_month(make_customer, start_sub):
    firm = make_customer()
    subscription = start_sub(firm)
    add_discount(
        subscription, NewDiscount("free_months", Decimal(1), "Welcome", "test:free"), at=APRIL_1
    )
    months = extract(UNTIL).months
    # The month end after 1 April is April's: free; March before it and May after it pay.
    assert [month(months, firm, date(2025, m, 1))["mrr"] for m in (3, 4, 5)] == [
        136_667,
        0,
        136_667,
    ]
