"""Add-on attach rate and the most and least held products."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from ._frames import PRODUCTS_COLUMNS, Frame, lazy, metric, prepare, ratio, row_key

ADD_ONS = ("option", "package")


@metric
def attach_rate(
    months: Frame,
    products: Frame,
    *,
    by: Sequence[str] = ("tier",),
    kinds: Sequence[str] = ADD_ONS,
) -> pl.LazyFrame:
    """Share of paying customers holding each add-on, per month (and ``by`` segment).

    Columns: ``month``, *by*, ``product``, ``paying`` (customers paying at month end in the
    segment), ``holders`` (of those, the ones holding the product at month end),
    ``attach_rate = holders / paying`` (Float64). Products of ``kinds`` only (options and
    traffic packages by default); a product nobody pays for in a month has no row.
    """
    # prepare() puts the months in customer and month order, so their row keys ascend:
    # the products, sorted by the same key, meet them in one merge (an as-of join on
    # equal keys) instead of a hash table over every paying customer-month.
    paying = (
        prepare(months)
        .lazy()
        .filter(pl.col("paying"))
        .select("month", *by, key=row_key(pl.col("customer_id"), pl.col("month")).set_sorted())
    )
    segments = paying.group_by("month", *by).agg(paying=pl.len().cast(pl.Int64))
    held = (
        lazy(products, "products", PRODUCTS_COLUMNS)
        .filter(pl.col("kind").is_in(list(kinds)))
        .select("product", key=row_key(pl.col("customer_id"), pl.col("month")))
        .sort("key")
        .join_asof(paying, on="key", strategy="backward", tolerance=0)
        .drop_nulls("month")
        .group_by("month", *by, "product")
        .agg(holders=pl.len().cast(pl.Int64))
    )
    return (
        held.join(segments, on=["month", *by])
        .with_columns(attach_rate=ratio(pl.col("holders"), pl.col("paying")))
        .select("month", *by, "product", "paying", "holders", "attach_rate")
        .sort("month", *by, "product")
    )


@metric
def product_sales(products: Frame, *, kinds: Sequence[str] | None = None) -> pl.LazyFrame:
    """How many customers hold each product per month, ranked.

    Columns: ``month``, ``product``, ``kind``, ``holders`` (customers holding it at month
    end), ``new_holders`` (of those, the ones holding it for the first time in the frame),
    ``rank`` (1 = most holders that month; ties share a rank) and ``rank_from_bottom``
    (1 = fewest). ``kinds`` restricts to e.g. ``("option",)``.
    """
    lf = lazy(products, "products", PRODUCTS_COLUMNS)
    if kinds is not None:
        lf = lf.filter(pl.col("kind").is_in(list(kinds)))
    held = lf.group_by("month", "product", "kind").agg(holders=pl.len().cast(pl.Int64))
    firsts = (
        lf.group_by("customer_id", "product")
        .agg(pl.col("month").min())
        .group_by("month", "product")
        .agg(new_holders=pl.len().cast(pl.Int64))
    )
    return (
        held.join(firsts, on=["month", "product"], how="left")
        .with_columns(
            pl.col("new_holders").fill_null(0),
            rank=pl.col("holders").rank("min", descending=True).over("month").cast(pl.Int32),
            rank_from_bottom=pl.col("holders").rank("min").over("month").cast(pl.Int32),
        )
        .sort("month", "rank", "product")
    )
