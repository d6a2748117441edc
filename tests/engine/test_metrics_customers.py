"""Customers, ARPU, ARPPU and usage per month and per customer."""

from ringup.engine.metrics import monthly_summary, usage_per_customer

from .test_metrics_frames import by_month, customer, months_frame


def test_customers_revenue_arpu_and_arppu_of_a_month():
    frame = months_frame(
        customer(1, "2025-01", "P1000", revenue=[1000], seconds=600),
        customer(2, "2025-01", "P2000", revenue=[2001], seconds=0),
        customer(3, "2025-01", "T", revenue=[0], seconds=300),  # a trial: active, not paying
        customer(4, "2025-01", "-", revenue=[150]),  # cancelled in the month, billed usage
    )
    row = monthly_summary(frame).row(0, named=True)
    assert (row["active"], row["paying"], row["trialing"]) == (3, 2, 1)
    assert (row["mrr"], row["revenue"], row["paying_revenue"]) == (3000, 3151, 3001)
    # ARPU 3151 / 3 = 1050.33 → 1050; ARPPU 3001 / 2 = 1500.5 → 1501 (half-up).
    assert (row["arpu"], row["arppu"]) == (1050, 1501)
    # Margin is half the revenue in these histories: 500 + 1000 + 0 + 75 = 1575 / 3 = 525.
    assert row["margin_per_active"] == 525
    assert row["minutes_per_active"] == 900 / 60 / 3  # 15 minutes over 3 customers


def test_a_month_without_customers_has_no_averages():
    row = monthly_summary(months_frame(customer(1, "2025-01", "-"))).row(0, named=True)
    assert row["active"] == 0
    assert row["arpu"] is None and row["arppu"] is None and row["minutes_per_active"] is None


def test_averages_are_per_currency():
    frame = months_frame(
        customer(1, "2025-01", "P1000"),
        customer(2, "2025-01", "P30", currency="EUR"),
        customer(3, "2025-01", "P10", currency="EUR"),
    )
    summary = monthly_summary(frame)
    assert by_month(summary, "arpu", currency="RUB") == {"2025-01": (1000,)}
    assert by_month(summary, "arpu", currency="EUR") == {"2025-01": (20,)}


def test_usage_per_customer_over_the_frame():
    frame = months_frame(
        customer(1, "2025-01", "T P500 P500", seconds=120),
        customer(2, "2025-01", "P3000 -", tier="large", seconds=0),
    )
    table = usage_per_customer(frame)
    assert table["customer_id"].to_list() == [2, 1]  # by margin: 1500 before 500
    first = table.row(1, named=True)
    assert (first["active_months"], first["seconds"], first["minutes"]) == (3, 360, 6.0)
    # Margin 0 + 250 + 250 over three active months: 166.67 → 167.
    assert (first["margin"], first["margin_per_month"]) == (500, 167)
    assert table.row(0, named=True)["tier"] == "large"
