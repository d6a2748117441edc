"""What every metric shares: the input frames' columns, month arithmetic, exact averages."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import update_wrapper
from typing import Generic, ParamSpec

import polars as pl

Frame = pl.DataFrame | pl.LazyFrame
P = ParamSpec("P")


class Metric(Generic[P]):
    """A metric function: called, it returns the table; ``.plan(…)``, with the same
    arguments, returns the lazy query, so that :func:`~ringup.engine.metrics.recompute`
    runs every table in one ``pl.collect_all`` (shared inputs, steps in parallel)."""

    def __init__(self, plan: Callable[P, pl.LazyFrame]):
        self.plan = plan
        update_wrapper(self, plan)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> pl.DataFrame:
        return self.plan(*args, **kwargs).collect()


def metric(plan: Callable[P, pl.LazyFrame]) -> Metric[P]:
    """Decorate a function building a metric's lazy query (see :class:`Metric`)."""
    return Metric(plan)


#: Columns of the ``months`` frame (docs/metrics.md, "The data").
MONTHS_COLUMNS = (
    "customer_id",
    "month",
    "currency",
    "tier",
    "plan",
    "state",
    "mrr",
    "revenue",
    "margin",
    "seconds",
)
PRODUCTS_COLUMNS = ("customer_id", "month", "product", "kind")
FUNNEL_COLUMNS = ("customer_id", "stage", "at")

#: The seven circles in order; a customer may skip one (a sale without a trial).
STAGES = ("reach", "capture", "warm", "sell", "upsell", "loyalty", "recommendation")

PAYING = "paying"
TRIALING = "trialing"
NONE = "none"


def lazy(frame: Frame, name: str, columns: Iterable[str]) -> pl.LazyFrame:
    """``frame`` as a LazyFrame, after checking it has ``columns`` (a clear error, early)."""
    lf = frame.lazy()
    missing = [column for column in columns if column not in lf.collect_schema().names()]
    if missing:
        raise ValueError(f"the {name} frame lacks column(s): {', '.join(missing)}")
    return lf


def month_index(month: pl.Expr) -> pl.Expr:
    """Months since year 0 (``year × 12 + month``): consecutive months differ by 1.

    Computed from the day number with integer arithmetic (the civil calendar from days,
    H. Hinnant's algorithm, on Int32), which costs a third less than ``dt.year()`` and
    ``dt.month()`` over millions of rows; the year is counted from March, so that the
    leap day ends it.
    """
    shifted = month.cast(pl.Int32) + 719_468  # days since 0000-03-01
    era = shifted // 146_097  # 400-year cycles
    day_of_era = shifted - era * 146_097
    year_of_era = (
        day_of_era - day_of_era // 1_460 + day_of_era // 36_524 - day_of_era // 146_096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    months_since_march = (5 * day_of_year + 2) // 153
    return (era * 400 + year_of_era) * 12 + months_since_march + 3


def divide_half_up(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """``numerator / denominator`` rounded half away from zero to an integer, exactly.

    Integer arithmetic, so an average of minor units is the one ``Decimal`` with
    ``ROUND_HALF_UP`` would give (money.quantize); null when the denominator is 0.
    """
    numerator = numerator.cast(pl.Int64)
    denominator = denominator.cast(pl.Int64)
    magnitude = (2 * numerator.abs() + denominator) // (2 * denominator)
    return pl.when(denominator > 0).then(magnitude * numerator.sign()).otherwise(None)


def ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """A rate (not money) as Float64; null when the denominator is 0."""
    return (
        pl.when(denominator != 0)
        .then(numerator.cast(pl.Float64) / denominator.cast(pl.Float64))
        .otherwise(None)
    )


def count(condition: pl.Expr) -> pl.Expr:
    """How many rows satisfy ``condition``, as Int64."""
    return condition.sum().cast(pl.Int64)


def prepare(months: Frame) -> pl.DataFrame:
    """``months`` collected once, in customer and month order, with the columns every
    per-customer metric uses (the metric functions accept it in place of ``months``):

    * ``index``: :func:`month_index` of ``month``;
    * ``first``: the customer's first row;
    * ``paying``: ``state == "paying"``; ``active``: ``state != "none"``;
    * ``paid_before``: the customer had MRR in an earlier month.

    The rows of one customer are consecutive months (the data contract), so per-customer
    values come from running sums, maxima and forward fills over the sorted column, not
    from a group per customer: one linear pass each.
    """
    if isinstance(months, pl.DataFrame) and set(months.columns) >= PREPARED:
        return months
    frame = (
        lazy(months, "months", MONTHS_COLUMNS)
        .with_columns(index=month_index(pl.col("month")))
        .collect()
    )
    customer, index = pl.col("customer_id"), pl.col("index")
    ordered = frame.select(
        ((customer.diff() > 0) | ((customer.diff() == 0) & (index.diff() > 0))).all()
    ).item()
    if not ordered:
        frame = frame.sort("customer_id", "month")
    first = customer.diff().fill_null(1) != 0
    paid = latest_row(pl.col("mrr") > 0)
    return (
        frame.lazy()
        .with_columns(
            # Sorted by customer first: grouping by customer takes the fast sorted path.
            pl.col("customer_id").set_sorted(),
            first=first,
            paying=pl.col("state") == PAYING,
            active=pl.col("state") != NONE,
        )
        .with_columns(paid_before=paid.shift(1, fill_value=-1) >= latest_row(pl.col("first")))
        .collect()
    )


def row_key(customer: pl.Expr, month: pl.Expr) -> pl.Expr:
    """One Int64 for a (customer, month) pair: joins on one integer column are several
    times cheaper than on two. ``month`` as days since 1970 stays below 2²⁰ until 4840."""
    return customer * 1_048_576 + month.cast(pl.Int32)


#: The columns :func:`prepare` adds.
PREPARED = {"index", "first", "paying", "active", "paid_before"}


def latest_row(condition: pl.Expr) -> pl.Expr:
    """The number of the latest row, this one included, where ``condition`` holds (-1
    before the first); with ``first``, the row of each row's customer's first month.

    A running maximum over the row numbers: comparing two of them tells whether the
    condition held earlier for the same customer at half the cost of a running sum
    restarted by a forward fill.
    """
    return pl.when(condition).then(pl.int_range(pl.len(), dtype=pl.Int64)).otherwise(-1).cum_max()


def since_first(running: pl.Expr, start: pl.Expr) -> pl.Expr:
    """A running total restarted at each ``start`` row (sorted frame: a customer's rows)."""
    return running - pl.when(start).then(running).forward_fill()


def at_start(value: pl.Expr, start: pl.Expr, started: pl.Expr) -> pl.Expr:
    """``value`` at the customer's ``start`` row, carried forward to her later rows;
    null where ``started`` is false (no start row yet for this customer)."""
    return pl.when(started).then(pl.when(start).then(value).forward_fill())


def history(months: Frame, period: int = 1, *, trailing: int | None = None) -> pl.LazyFrame:
    """:func:`prepare`'s frame with each row's values ``period`` months earlier:
    ``then_mrr``, ``then_paying`` (0 / False before the customer's first row) and, with
    ``trailing``, those ``trailing`` months earlier too (``trailing_then_mrr``,
    ``trailing_then_paying``), so that one pass serves both.

    The row ``period`` places up is the same customer ``period`` months earlier when the
    customer and the month index say so; otherwise (the customer's first months, or a
    frame with a hole) the earlier month is taken as having no service.
    """
    columns = _earlier(period)
    if trailing is not None:
        columns |= _earlier(trailing, "trailing_")
    return prepare(months).lazy().with_columns(**columns)


def _earlier(period: int, prefix: str = "") -> dict[str, pl.Expr]:
    if period < 1:
        raise ValueError("period must be at least one month")
    index = pl.col("index")
    same = (pl.col("customer_id").shift(period) == pl.col("customer_id")) & (
        index.shift(period) == index - period
    )
    return {
        f"{prefix}then_mrr": pl.when(same).then(pl.col("mrr").shift(period)).otherwise(0),
        f"{prefix}then_paying": pl.when(same).then(pl.col("paying").shift(period)).otherwise(False),
    }
