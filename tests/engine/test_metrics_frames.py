"""The frames the metrics are computed from, and what every metric shares.

``customer(…)`` writes a customer's history compactly for the other metric tests: one
token per month from her registration month, ``P1000`` paying with an MRR of 1000 minor
units, ``T`` trialing, ``-`` no service.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringup.engine.metrics import monthly_summary, prepare
from ringup.engine.metrics._frames import divide_half_up

STATES = {"P": "paying", "T": "trialing", "-": "none"}


def month(text: str) -> date:
    """``"2025-03"`` → 1 March 2025."""
    year, number = text.split("-")
    return date(int(year), int(number), 1)


def customer(
    customer_id: int,
    first: str,
    history: str,
    *,
    currency: str = "RUB",
    tier: str = "smb",
    revenue: list[int] | None = None,
    seconds: int = 0,
) -> list[dict]:
    """The ``months`` rows of one customer (revenue = MRR unless given, margin = half)."""
    rows = []
    start = month(first)
    for offset, token in enumerate(history.split()):
        state = STATES[token[0]]
        mrr = int(token[1:] or 0)
        number = start.month - 1 + offset
        earned = mrr if revenue is None else revenue[offset]
        rows.append(
            {
                "customer_id": customer_id,
                "month": date(start.year + number // 12, number % 12 + 1, 1),
                "currency": currency,
                "tier": tier,
                "plan": None if state == "none" else f"{tier}-plan",
                "state": state,
                "mrr": mrr,
                "revenue": earned,
                "margin": earned // 2,
                "seconds": seconds,
            }
        )
    return rows


def months_frame(*customers: list[dict]) -> pl.DataFrame:
    rows = [row for history in customers for row in history]
    schema = {
        "customer_id": pl.Int64,
        "month": pl.Date,
        "currency": pl.String,
        "tier": pl.String,
        "plan": pl.String,
        "state": pl.String,
        "mrr": pl.Int64,
        "revenue": pl.Int64,
        "margin": pl.Int64,
        "seconds": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema)


def by_month(frame: pl.DataFrame, *columns: str, currency: str = "RUB") -> dict:
    """``{ "2025-01": (column values…) }`` of one currency, for compact assertions."""
    rows = frame.filter(pl.col("currency") == currency).sort("month")
    return {
        row["month"].strftime("%Y-%m"): tuple(row[column] for column in columns)
        for row in rows.iter_rows(named=True)
    }


def test_a_missing_column_is_named():
    frame = months_frame(customer(1, "2025-01", "P100")).drop("mrr")
    with pytest.raises(ValueError, match="months frame lacks column"):
        monthly_summary(frame)


def test_prepare_orders_rows_and_marks_each_customers_first_month():
    frame = months_frame(customer(2, "2025-01", "P100 - P100"), customer(1, "2025-02", "T P50"))
    prepared = prepare(frame.reverse())  # shuffled input: prepare sorts it
    assert prepared["customer_id"].to_list() == [1, 1, 2, 2, 2]
    assert prepared["first"].to_list() == [True, False, True, False, False]
    # paid_before: customer 2 had MRR in January, so March's payment comes after one.
    assert prepared["paid_before"].to_list() == [False, False, False, True, True]
    assert prepare(prepared) is prepared  # already prepared: used as it is


@given(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.integers(min_value=1, max_value=10**6),
)
def test_averages_round_half_up_exactly_like_decimal(numerator, denominator):
    result = pl.select(divide_half_up(pl.lit(numerator), pl.lit(denominator))).item()
    exact = (Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1), ROUND_HALF_UP)
    assert result == int(exact)


def test_an_average_over_nobody_is_null():
    assert pl.select(divide_half_up(pl.lit(5), pl.lit(0))).item() is None
