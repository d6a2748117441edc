"""Cohort retention by signup and by first payment, by segment, and survival counts."""

import polars as pl

from ringup.engine.metrics import cohort_retention, rollup, survival_counts

from .test_metrics_frames import customer, months_frame

COLUMNS = ("age", "customers", "paying", "mrr", "starting_mrr")


def rows(table: pl.DataFrame, *columns: str) -> list[tuple]:
    return list(table.select(columns).iter_rows())


def january() -> pl.DataFrame:
    return months_frame(
        customer(1, "2025-01", "P1000 P1000 P1000", tier="micro"),
        customer(2, "2025-01", "T P2000 -", tier="smb"),  # a trial first, then 2000
        customer(3, "2025-01", "T - -", tier="smb"),  # never pays
        customer(4, "2025-02", "P500 P500", tier="micro"),  # the February cohort
    )


def test_signup_cohorts_logo_and_revenue_retention():
    table = cohort_retention(january())
    jan = table.filter(pl.col("cohort").dt.month() == 1)
    # Three signed up in January; the starting MRR is each one's first MRR: 1000 + 2000.
    assert rows(jan, *COLUMNS) == [
        (0, 3, 1, 1000, 3000),
        (1, 3, 2, 3000, 3000),
        (2, 3, 1, 1000, 3000),
    ]
    assert jan["logo_retention"].to_list() == [1 / 3, 2 / 3, 1 / 3]
    assert jan["revenue_retention"].to_list() == [1000 / 3000, 1.0, 1000 / 3000]
    feb = table.filter(pl.col("cohort").dt.month() == 2)
    assert rows(feb, "age", "logo_retention", "revenue_retention") == [(0, 1.0, 1.0), (1, 1.0, 1.0)]


def test_first_payment_cohorts_leave_out_those_who_never_paid():
    table = cohort_retention(january(), start="first_payment")
    by_cohort = {
        (row["cohort"].month, row["age"]): (row["customers"], row["paying"])
        for row in table.iter_rows(named=True)
    }
    # Customer 2 first paid in February: she joins customer 4 there, and churns at age 1.
    assert by_cohort == {
        (1, 0): (1, 1),
        (1, 1): (1, 1),
        (1, 2): (1, 1),
        (2, 0): (2, 2),
        (2, 1): (2, 1),
    }


def test_cohorts_by_segment_add_up_to_the_cohort():
    by_tier = cohort_retention(january(), by=("tier",))
    smb = by_tier.filter((pl.col("cohort").dt.month() == 1) & (pl.col("tier") == "smb"))
    assert rows(smb, *COLUMNS) == [(0, 2, 0, 0, 2000), (1, 2, 1, 2000, 2000), (2, 2, 0, 0, 2000)]
    assert rollup(by_tier).equals(cohort_retention(january()))


def test_the_segment_is_the_one_held_in_the_cohort_month():
    frame = months_frame(
        customer(1, "2025-01", "P100", tier="micro")
        + customer(1, "2025-02", "P900", tier="large")[0:1]  # grew into "large" later
    )
    table = cohort_retention(frame, by=("tier",))
    assert table["tier"].to_list() == ["micro", "micro"]


def test_survival_counts_stop_at_the_first_lapse():
    frame = months_frame(
        customer(1, "2025-01", "P100 P100 P100 P100"),
        customer(2, "2025-01", "P100 - P100 P100"),  # came back, but churned at age 1
        customer(3, "2025-01", "P100 P100 - -"),
        customer(4, "2025-01", "T T T T"),  # never paid: in no cohort
    )
    table = survival_counts(frame)
    assert rows(table, "age", "alive") == [(0, 3), (1, 2), (2, 1), (3, 1)]


def test_survival_counts_show_the_ages_nobody_is_left_at():
    frame = months_frame(customer(1, "2025-01", "P100 - -"))
    assert rows(survival_counts(frame), "age", "alive") == [(0, 1), (1, 0), (2, 0)]
