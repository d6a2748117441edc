"""MRR and its movements, customer churn, revenue churn, gross and net revenue retention.

Conventions (those of ChartMogul and Baremetrics; docs/metrics.md): a customer's MRR at the
end of a month is compared with its MRR at the end of the month before —

* **new**: from 0, and the customer never had MRR before;
* **reactivation**: from 0, but the customer had MRR in an earlier month;
* **expansion** / **contraction**: both above 0, up / down (upgrade, option, employees…);
* **churn**: to 0 (the month in which MRR is lost, not the month of the last payment).

so that ``closing = opening + new + reactivation + expansion − contraction − churn``.
"""

from __future__ import annotations

import polars as pl

from ._frames import TRIALING, Frame, history, metric, ratio

MOVEMENTS = ("new", "reactivation", "expansion", "contraction", "churn")
#: The columns of :func:`mrr_summary` counting customers, per movement.
MOVEMENT_COUNTS = {
    "new": "new_customers",
    "reactivation": "reactivated_customers",
    "expansion": "expanded_customers",
    "contraction": "contracted_customers",
    "churn": "churned_customers",
}


def movement_conditions() -> dict[str, pl.Expr]:
    """Which rows of :func:`~._frames.history` are which movement (at most one each)."""
    previous, mrr = pl.col("then_mrr"), pl.col("mrr")
    starts = (previous == 0) & (mrr > 0)
    both = (previous > 0) & (mrr > 0)
    return {
        "new": starts & ~pl.col("paid_before"),
        "reactivation": starts & pl.col("paid_before"),
        "expansion": both & (mrr > previous),
        "contraction": both & (mrr < previous),
        "churn": (previous > 0) & (mrr == 0),
    }


def _movement() -> pl.Expr:
    """The movement of a :func:`~._frames.history` row (null when MRR did not change)."""
    kind = pl.Enum(MOVEMENTS)
    movement = pl.lit(None, dtype=kind)
    for name, condition in movement_conditions().items():
        movement = pl.when(condition).then(pl.lit(name, dtype=kind)).otherwise(movement)
    return movement


def cube(
    months: Frame, period: int = 1, *, full: bool = True, trailing: int | None = None
) -> pl.LazyFrame:
    """The rows of :func:`~._frames.history` (``period`` months back) added up by month,
    currency and what each row is: ``paying``, ``then_paying``, ``in_base`` (paying or
    with MRR ``period`` months earlier) and, when ``full``, ``movement``, ``active``,
    ``trialing`` with the month's ``revenue``, ``margin`` and ``seconds``; with
    ``trailing``, the same base ``trailing`` months back as well (columns prefixed
    ``trailing_``: :func:`retention_aggregations` reads either).

    Every monthly figure is a sum over these few groups per month (``rows`` counts
    customers), so the whole frame is grouped once, with plain sums only; churn and
    retention alone need the short form.
    """
    keys = {"paying": pl.col("paying")}
    sums = {"rows": pl.len().cast(pl.Int64), "mrr": pl.col("mrr").sum()}
    for prefix in ("", "trailing_") if trailing is not None else ("",):
        then_mrr, then_paying = pl.col(f"{prefix}then_mrr"), pl.col(f"{prefix}then_paying")
        keys |= {
            f"{prefix}then_paying": then_paying,
            f"{prefix}in_base": then_paying | (then_mrr > 0),
        }
        sums |= {
            f"{prefix}then_mrr": then_mrr.sum(),
            # min(MRR now, MRR then) per customer; 0 outside the base (MRR is never < 0).
            f"{prefix}capped": pl.min_horizontal(pl.col("mrr"), then_mrr).sum(),
        }
    if full:
        keys |= {"active": pl.col("active"), "trialing": pl.col("state") == TRIALING}
        sums |= {name: pl.col(name).sum() for name in ("revenue", "margin", "seconds")}
    # The keys packed in one small integer (a bit per flag, then the movement's number):
    # grouping on it costs a fraction of grouping on six columns; unpacked after.
    code = sum(
        (key.cast(pl.Int32) * (1 << bit) for bit, key in enumerate(keys.values())),
        start=_movement_number() * (1 << len(keys)) if full else pl.lit(0, dtype=pl.Int32),
    )
    flags = {name: (pl.col("code") // (1 << bit)) % 2 == 1 for bit, name in enumerate(keys)}
    if full:
        flags["movement"] = _movement_named(pl.col("code") // (1 << len(keys)))
    return (
        history(months, period, trailing=trailing)
        .group_by("month", "currency", code=code)
        .agg(**sums)
        .select("month", "currency", **flags, **{name: pl.col(name) for name in sums})
    )


def _movement_number() -> pl.Expr:
    """1 + the position in :data:`MOVEMENTS` of a :func:`~._frames.history` row's
    movement, 0 when MRR did not change."""
    number = pl.lit(0, dtype=pl.Int32)
    for position, condition in enumerate(movement_conditions().values(), start=1):
        number = pl.when(condition).then(pl.lit(position, dtype=pl.Int32)).otherwise(number)
    return number


def _movement_named(number: pl.Expr) -> pl.Expr:
    """The movement of :func:`_movement_number` (null for 0)."""
    kind = pl.Enum(MOVEMENTS)
    movement = pl.lit(None, dtype=kind)
    for position, name in enumerate(MOVEMENTS, start=1):
        movement = pl.when(number == position).then(pl.lit(name, dtype=kind)).otherwise(movement)
    return movement


def customers(condition: pl.Expr) -> pl.Expr:
    """How many customers of a month's :func:`cube` rows satisfy ``condition``."""
    return pl.col("rows").filter(condition).sum()


def movement_aggregations() -> dict[str, pl.Expr]:
    """The :func:`mrr_summary` columns, over a month's :func:`cube` rows."""
    change = pl.col("mrr") - pl.col("then_mrr")  # one sign within each movement
    kind = pl.col("movement")
    return {
        "opening_mrr": pl.col("then_mrr").sum(),
        **{name: change.filter(kind == name).sum().abs() for name in MOVEMENTS},
        "closing_mrr": pl.col("mrr").sum(),
        **{MOVEMENT_COUNTS[name]: customers(kind == name) for name in MOVEMENTS},
    }


@metric
def mrr_movements(months: Frame) -> pl.LazyFrame:
    """The customer-months whose MRR changed, with the movement it counts as.

    Columns: ``customer_id``, ``month``, ``currency``, ``previous_mrr``, ``mrr`` (minor
    units), ``movement`` (one of :data:`MOVEMENTS`), ``amount`` (``mrr − previous_mrr``,
    signed). The first row of a customer compares with 0, so ``months`` must start at the
    customer's registration month (the data contract) for "new" to mean new.
    """
    return (
        history(months)
        .select(
            "customer_id",
            "month",
            "currency",
            previous_mrr="then_mrr",
            mrr="mrr",
            movement=_movement(),
            amount=pl.col("mrr") - pl.col("then_mrr"),
        )
        .filter(pl.col("movement").is_not_null())
    )


@metric
def mrr_summary(months: Frame) -> pl.LazyFrame:
    """MRR per month and currency with its movements (all ≥ 0, minor units).

    Columns: ``month``, ``currency``, ``opening_mrr``, ``new``, ``reactivation``,
    ``expansion``, ``contraction``, ``churn``, ``closing_mrr`` and the number of customers
    behind each movement (``new_customers``, ``reactivated_customers``,
    ``expanded_customers``, ``contracted_customers``, ``churned_customers``).
    ``closing_mrr = opening_mrr + new + reactivation + expansion − contraction − churn``.
    """
    return (
        cube(months)
        .group_by("month", "currency")
        .agg(**movement_aggregations())
        .sort("month", "currency")
    )


def retention_aggregations(prefix: str = "") -> dict[str, pl.Expr]:
    """The sums behind :func:`churn_and_retention`, over a month's :func:`cube` rows (those
    of its ``trailing`` base with ``prefix="trailing_"``)."""
    then_paying = pl.col(f"{prefix}then_paying")
    return {
        "start_customers": customers(then_paying),
        "lost_customers": customers(then_paying & ~pl.col("paying")),
        "start_mrr": pl.col(f"{prefix}then_mrr").sum(),
        "retained_mrr_capped": pl.col(f"{prefix}capped").sum(),
        "retained_mrr": pl.col("mrr").filter(pl.col(f"{prefix}in_base")).sum(),
    }


def with_retention_rates(sums: pl.LazyFrame, period: int) -> pl.LazyFrame:
    """The rates of :func:`churn_and_retention` from its sums, without the first
    ``period`` months (they have no base month in the frame)."""
    first_base = pl.col("month").min().dt.offset_by(f"{period}mo")
    return (
        sums.filter(pl.col("month") >= first_base)
        .with_columns(
            customer_churn=ratio(pl.col("lost_customers"), pl.col("start_customers")),
            grr=ratio(pl.col("retained_mrr_capped"), pl.col("start_mrr")),
            nrr=ratio(pl.col("retained_mrr"), pl.col("start_mrr")),
        )
        .with_columns(revenue_churn=1 - pl.col("grr"))
        .sort("month", "currency")
    )


@metric
def churn_and_retention(months: Frame, *, period: int = 1) -> pl.LazyFrame:
    """Customer churn, revenue churn, GRR and NRR of the customers paying ``period`` months
    earlier (``period=1``: monthly figures; ``period=12``: trailing twelve months).

    For month *m* and the base *b = m − period*:

    * ``start_customers``: paying at the end of *b*; ``lost_customers``: of those, not
      paying at the end of *m*; ``customer_churn = lost_customers / start_customers``;
    * ``start_mrr``: their MRR at the end of *b*; ``retained_mrr``: their MRR at the end of
      *m*; ``retained_mrr_capped``: the sum of ``min(MRR at m, MRR at b)`` per customer;
    * ``grr = retained_mrr_capped / start_mrr`` (churn and contraction lost, expansion not
      counted), ``nrr = retained_mrr / start_mrr`` (expansion counted),
      ``revenue_churn = 1 − grr``. New customers and reactivations count in neither.

    Months without a base in the frame (the first ``period`` months) are left out. Money
    in minor units per currency; rates Float64, null when nobody was paying at *b*.
    """
    sums = (
        cube(months, period, full=False)
        .group_by("month", "currency")
        .agg(**retention_aggregations())
    )
    return with_retention_rates(sums, period)
