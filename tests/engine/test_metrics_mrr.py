"""MRR movements, customer churn, revenue churn, GRR and NRR on hand-made histories."""

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringup.engine.metrics import (
    churn_and_retention,
    monthly_summary,
    mrr_movements,
    mrr_summary,
    recompute,
)
from ringup.engine.metrics._frames import STAGES

from .test_metrics_frames import by_month, customer, months_frame

MOVEMENT_COLUMNS = ("opening_mrr", "new", "reactivation", "expansion", "contraction", "churn")


def test_each_movement_on_a_worked_history():
    frame = months_frame(
        # Upgrade, downgrade, cancellation, comeback.
        customer(1, "2025-01", "P1000 P1500 P1200 - P1200"),
        # A trial is not a paying customer: MRR starts, as "new", when she pays.
        customer(2, "2025-01", "T P2000 P2000 P2000 P2000"),
    )
    summary = by_month(mrr_summary(frame), *MOVEMENT_COLUMNS, "closing_mrr")
    assert summary == {
        # opening, new, reactivation, expansion, contraction, churn, closing
        "2025-01": (0, 1000, 0, 0, 0, 0, 1000),
        "2025-02": (1000, 2000, 0, 500, 0, 0, 3500),  # 1000 → 1500 is expansion
        "2025-03": (3500, 0, 0, 0, 300, 0, 3200),  # 1500 → 1200
        "2025-04": (3200, 0, 0, 0, 0, 1200, 2000),  # churn in the month MRR goes to 0
        "2025-05": (2000, 0, 1200, 0, 0, 0, 3200),  # she paid before: not new
    }
    moves = mrr_movements(frame).filter(pl.col("customer_id") == 1)
    assert moves["movement"].cast(pl.String).to_list() == [
        "new",
        "expansion",
        "contraction",
        "churn",
        "reactivation",
    ]
    assert moves["amount"].to_list() == [1000, 500, -300, -1200, 1200]


def test_counts_of_customers_behind_the_movements():
    frame = months_frame(
        customer(1, "2025-01", "P100 P200"),
        customer(2, "2025-01", "P100 P200"),
        customer(3, "2025-01", "P100 -"),
    )
    february = mrr_summary(frame).row(1, named=True)
    assert (february["expanded_customers"], february["churned_customers"]) == (2, 1)
    assert february["new_customers"] == 0


def test_the_given_mrr_is_used_as_it_is():
    # An annual plan of 12,000.00 a year arrives as 1,000.00 of MRR every month (the
    # extraction divides by 12): the engine does not divide again, nor count the annual
    # invoice of January (revenue) as MRR.
    frame = months_frame(
        customer(1, "2025-01", "P100000 P100000 P100000", revenue=[1_200_000, 0, 0])
    )
    assert by_month(mrr_summary(frame), "closing_mrr", "expansion", "contraction") == {
        "2025-01": (100_000, 0, 0),
        "2025-02": (100_000, 0, 0),
        "2025-03": (100_000, 0, 0),
    }
    assert by_month(monthly_summary(frame), "mrr", "revenue")["2025-01"] == (100_000, 1_200_000)


def test_currencies_are_never_added_together():
    frame = months_frame(
        customer(1, "2025-01", "P1000 P1000"),
        customer(2, "2025-01", "P70 P90", currency="EUR"),
    )
    summary = mrr_summary(frame)
    assert summary.height == 4  # two months × two currencies
    assert by_month(summary, "closing_mrr", "expansion", currency="EUR") == {
        "2025-01": (70, 0),
        "2025-02": (90, 20),
    }
    assert by_month(summary, "closing_mrr", "expansion", currency="RUB") == {
        "2025-01": (1000, 0),
        "2025-02": (1000, 0),
    }


def test_churn_grr_and_nrr_on_a_worked_month():
    frame = months_frame(
        customer(1, "2025-01", "P1000 P1500"),  # expands by 500
        customer(2, "2025-01", "P2000 -"),  # churns
        customer(3, "2025-01", "P500 P400"),  # contracts by 100
        customer(4, "2025-02", "P3000"),  # new: in no base
        customer(5, "2025-01", "T T"),  # trialing: in no base
    )
    february = churn_and_retention(frame).row(0, named=True)
    # Paying at the end of January: 1, 2, 3; customer 2 is not paying at the end of
    # February: churn 1/3.
    assert (february["start_customers"], february["lost_customers"]) == (3, 1)
    assert february["customer_churn"] == 1 / 3
    # Start 1000 + 2000 + 500 = 3500; capped min(1500, 1000) + 0 + min(400, 500) = 1400;
    # retained 1500 + 0 + 400 = 1900.
    assert (february["start_mrr"], february["retained_mrr_capped"]) == (3500, 1400)
    assert february["retained_mrr"] == 1900
    assert february["grr"] == 1400 / 3500  # 0.4
    assert february["revenue_churn"] == 1 - 1400 / 3500  # churn 2000 + contraction 100
    assert february["nrr"] == 1900 / 3500  # 0.543: expansion offsets part of it
    # The first month has no month before it in the frame: no row.
    assert churn_and_retention(frame)["month"].dt.strftime("%Y-%m").to_list() == ["2025-02"]


def test_trailing_period_compares_with_the_base_months_earlier():
    frame = months_frame(
        customer(1, "2025-01", "P1000 - P1000"),  # lost in between, back by March
        customer(2, "2025-01", "P1000 P1000 P500"),
    )
    march = churn_and_retention(frame, period=2).row(0, named=True)
    # Against January both are paying again in March: no customer lost over two months,
    # MRR 2000 → 1500 (customer 2's contraction).
    assert (march["start_customers"], march["lost_customers"]) == (2, 0)
    assert (march["grr"], march["nrr"]) == (0.75, 0.75)


def test_a_month_nobody_paid_before_has_no_rates():
    frame = months_frame(customer(1, "2025-01", "T P100"))
    february = churn_and_retention(frame).row(0, named=True)
    assert february["customer_churn"] is None
    assert february["grr"] is None


histories = st.lists(
    st.lists(
        st.one_of(st.just("-"), st.just("T"), st.integers(1, 50).map(lambda n: f"P{n * 100}")),
        min_size=1,
        max_size=8,
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(histories, st.lists(st.sampled_from(["RUB", "EUR"]), min_size=6, max_size=6))
def test_movements_reconcile_the_mrr_month_to_month(histories, currencies):
    # Customers register over the first months; each history runs to the same last month.
    length = max(len(history) for history in histories)
    customers = [
        customer(
            number,
            f"2025-{length - len(history) + 1:02d}",
            " ".join(history),
            currency=currencies[number],
        )
        for number, history in enumerate(histories)
    ]
    frame = months_frame(*customers)
    summary = mrr_summary(frame)
    reconciled = (
        pl.col("opening_mrr")
        + pl.col("new")
        + pl.col("reactivation")
        + pl.col("expansion")
        - pl.col("contraction")
        - pl.col("churn")
    )
    assert (summary.select(reconciled == pl.col("closing_mrr")).to_series()).all()
    # Each month opens where the month before closed, per currency.
    carried = summary.with_columns(
        before=pl.col("closing_mrr").shift().over("currency", order_by="month")
    ).drop_nulls("before")
    assert (carried["before"] == carried["opening_mrr"]).all()
    # Closing MRR is the month's MRR; the single pass of recompute gives the same tables.
    sums = frame.group_by("month", "currency").agg(pl.col("mrr").sum()).sort("month", "currency")
    assert summary["closing_mrr"].to_list() == sums["mrr"].to_list()
    empty = pl.DataFrame(
        schema={"customer_id": pl.Int64, "month": pl.Date, "product": pl.String, "kind": pl.String}
    )
    funnel = pl.DataFrame(
        {"customer_id": [1], "stage": [STAGES[0]], "at": [frame["month"][0]]}
    ).with_columns(pl.col("at").cast(pl.Datetime("us", "UTC")))
    tables = recompute(frame, empty, funnel)
    # Monthly GRR and NRR are the movements of the base over its opening MRR.
    rates = summary.join(tables["churn_and_retention"], on=["month", "currency"])
    for row in rates.filter(pl.col("opening_mrr") > 0).iter_rows(named=True):
        lost = row["churn"] + row["contraction"]
        assert row["grr"] == pytest.approx(1 - lost / row["opening_mrr"])
        assert row["nrr"] == pytest.approx(1 + (row["expansion"] - lost) / row["opening_mrr"])
    assert tables["mrr_summary"].equals(summary)
    assert tables["churn_and_retention"].equals(churn_and_retention(frame))
    assert tables["monthly_summary"].equals(monthly_summary(frame))
