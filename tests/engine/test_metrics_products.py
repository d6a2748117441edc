"""Add-on attach rate and the most and least held products."""

from datetime import date

import polars as pl

from ringup.engine.metrics import attach_rate, product_sales

from .test_metrics_frames import customer, months_frame

JAN, FEB = date(2025, 1, 1), date(2025, 2, 1)


def products_frame(*rows: tuple[int, date, str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"customer_id": pl.Int64, "month": pl.Date, "product": pl.String, "kind": pl.String},
        orient="row",
    )


def test_attach_rate_counts_paying_customers_per_segment():
    months = months_frame(
        customer(1, "2025-01", "P1000 P1000", tier="smb"),
        customer(2, "2025-01", "P1000 P1000", tier="smb"),
        customer(3, "2025-01", "T P1000", tier="smb"),  # holds the option during her trial
        customer(4, "2025-01", "P5000 P5000", tier="large"),
    )
    products = products_frame(
        (1, JAN, "smb-plan", "plan"),
        (1, JAN, "recording", "option"),
        (1, FEB, "recording", "option"),
        (3, JAN, "recording", "option"),
        (3, FEB, "recording", "option"),
        (4, FEB, "recording", "option"),
        (4, FEB, "minutes-1000", "package"),
    )
    table = attach_rate(months, products)
    rows = {(r["month"], r["tier"], r["product"]): r for r in table.iter_rows(named=True)}
    # January, smb: 2 paying (the trial does not count), 1 with recording.
    assert (rows[JAN, "smb", "recording"]["paying"], rows[JAN, "smb", "recording"]["holders"]) == (
        2,
        1,
    )
    assert rows[JAN, "smb", "recording"]["attach_rate"] == 0.5
    # February, smb: 3 paying, customers 1 and 3 hold it: 2/3.
    assert rows[FEB, "smb", "recording"]["attach_rate"] == 2 / 3
    assert rows[FEB, "large", "minutes-1000"]["attach_rate"] == 1.0
    assert not any(product == "smb-plan" for _, _, product in rows)  # plans are not add-ons
    overall = attach_rate(months, products, by=())
    assert (
        overall.filter(pl.col("month") == FEB, pl.col("product") == "recording")[
            "attach_rate"
        ].item()
        == 3 / 4
    )


def test_products_ranked_by_holders_with_first_time_holders():
    products = products_frame(
        (1, JAN, "recording", "option"),
        (2, JAN, "recording", "option"),
        (3, JAN, "ivr", "option"),
        (1, FEB, "recording", "option"),
        (2, FEB, "recording", "option"),
        (3, FEB, "recording", "option"),
        (3, FEB, "ivr", "option"),
        (2, FEB, "crm", "option"),
    )
    table = product_sales(products)
    feb = table.filter(pl.col("month") == FEB)
    assert feb.select("product", "holders", "new_holders", "rank", "rank_from_bottom").rows() == [
        ("recording", 3, 1, 1, 3),  # customer 3 took it in February
        ("crm", 1, 1, 2, 1),  # ties share a rank
        ("ivr", 1, 0, 2, 1),
    ]
    assert product_sales(products, kinds=("plan",)).is_empty()
