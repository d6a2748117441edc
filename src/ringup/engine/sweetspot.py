"""The sweet-spot report: revenue and margin of customers grouped by what a sales manager
can see before signing them — call volume, lines, sites, minimum spend, vertical — so
the operator knows which customers are profitable to chase.

Input: one row per customer for a window of ``months`` months, amounts in minor units
(Int64): ``revenue`` (invoiced, without VAT), ``carrier`` (termination cost of their
rated calls), ``seconds`` (billed), ``lines``, ``sites``, ``min_spend`` (the monthly
guaranteed traffic payment, 0 without one) and ``vertical`` ("" when not known).

Per band: ``customers``, ``revenue``, ``margin`` = revenue − carrier, ``margin_percent`` =
margin / revenue × 100 (None without revenue), and per customer per month
``revenue_per_customer`` and ``margin_per_customer`` = total / customers / months, rounded
half up to whole minor units. Bands are half-open ``[low, high)`` in the unit of their
dimension (minutes a month, lines, sites, minor units a month).
"""

from dataclasses import dataclass

import polars as pl

from .metrics._frames import divide_half_up

#: Dimension → (column, band edges in its unit; the last band is open-ended).
BANDS: dict[str, tuple[str, tuple[int, ...]]] = {
    "volume": ("minutes_per_month", (0, 500, 2_000, 10_000, 50_000)),
    "lines": ("lines", (0, 6, 21, 51, 201)),
    "sites": ("sites", (1, 2, 4, 10)),
    "min_spend": ("min_spend", (0, 1, 100_000, 500_000, 2_000_000)),
}
DIMENSIONS = (*BANDS, "vertical")
COLUMNS = ("revenue", "carrier", "seconds", "lines", "sites", "min_spend", "vertical")


@dataclass(frozen=True)
class Band:
    dimension: str
    label: str  # "500–2000", "10000+", or the vertical's code
    low: int | None
    high: int | None  # exclusive; None: open-ended
    customers: int
    revenue: int
    margin: int
    margin_percent: float | None
    revenue_per_customer: int
    margin_per_customer: int


def sweet_spot(customers: pl.DataFrame, dimension: str, *, months: int) -> list[Band]:
    """The bands of ``dimension`` (one of :data:`DIMENSIONS`), every band listed even when
    empty (a vertical only when some customer has it). Raises ``ValueError`` for an
    unknown dimension, a missing column or ``months`` < 1."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"dimension must be one of {', '.join(DIMENSIONS)}")
    if months < 1:
        raise ValueError("months must be at least 1")
    missing = [column for column in COLUMNS if column not in customers.columns]
    if missing:
        raise ValueError(f"customers lack {', '.join(missing)}")
    frame = customers.with_columns(
        (pl.col("seconds") / 60 / months).alias("minutes_per_month"),
        (pl.col("revenue") - pl.col("carrier")).alias("margin"),
    )
    edges: list[tuple[str, int | None, int | None, pl.Expr]]
    if dimension == "vertical":
        keys = sorted(set(frame["vertical"].fill_null("").to_list()))
        edges = [(key, None, None, pl.col("vertical").fill_null("") == key) for key in keys]
    else:
        column, cuts = BANDS[dimension]
        edges = [
            (_label(low, high), low, high, _within(column, low, high))
            for low, high in zip(cuts, (*cuts[1:], None), strict=True)
        ]
    return [
        _band(frame.filter(test), dimension, label, low, high, months)
        for label, low, high, test in edges
    ]


def _within(column: str, low: int, high: int | None) -> pl.Expr:
    inside = pl.col(column) >= low
    return inside if high is None else inside & (pl.col(column) < high)


def _label(low: int, high: int | None) -> str:
    if high is None:
        return f"{low}+"
    return str(low) if high == low + 1 else f"{low}–{high - 1}"


def _band(
    rows: pl.DataFrame,
    dimension: str,
    label: str,
    low: int | None,
    high: int | None,
    months: int,
) -> Band:
    per = pl.lit(rows.height * months)
    totals = rows.select(
        pl.col("revenue").sum().alias("revenue"),
        pl.col("margin").sum().alias("margin"),
    ).with_columns(
        divide_half_up(pl.col("revenue"), per).fill_null(0).alias("revenue_per_customer"),
        divide_half_up(pl.col("margin"), per).fill_null(0).alias("margin_per_customer"),
    )
    figures = totals.row(0, named=True)
    revenue, margin = figures["revenue"], figures["margin"]
    return Band(
        dimension=dimension,
        label=label,
        low=low,
        high=high,
        customers=rows.height,
        revenue=revenue,
        margin=margin,
        margin_percent=round(margin * 100 / revenue, 1) if revenue else None,
        revenue_per_customer=figures["revenue_per_customer"],
        margin_per_customer=figures["margin_per_customer"],
    )
