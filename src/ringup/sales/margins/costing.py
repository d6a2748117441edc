"""Re-costing rated calls at a carrier deck, the diff between two decks and the margin
tables, as whole-frame Polars work (no Python loop per call).

Amounts are Int64 micro-units (millionths) as the rating engine computes them; only the
result rows, a few per destination, plan or customer, become ``Decimal``.

The retail rate that restores the target on a destination is

    restoring rate = new carrier rate / (1 − target)

where the new carrier rate is the traffic's carrier cost per carrier-billed minute (the
deck rate itself when one prefix without a connection fee carries it), rounded up to the
retail deck's precision, so charging it never falls short of the target.
"""

import math
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

import polars as pl

from ringup.engine.rating import Numbering, RateDeck, rate

MICROS = 1_000_000
DAYS_PER_MONTH = 30
_CENT = Decimal("0.01")

#: Columns :func:`carrier_costs` needs in ``calls``.
CALL_COLUMNS = ("id", "dst", "duration")


def carrier_costs(calls: pl.DataFrame, deck: RateDeck, numbering: Numbering) -> pl.DataFrame:
    """Per call (same rows, same order): ``carrier_prefix``, ``carrier_seconds`` and
    ``carrier_micros`` under ``deck``, null where the deck has no prefix for the call.

    The rating engine prices the calls with ``deck`` as the deck: its cost is the carrier
    cost, with the same increments and rounding as the CDR import.
    """
    cdrs = calls.select(
        pl.col("id").cast(pl.String),
        pl.col("dst").cast(pl.String),
        pl.col("duration").cast(pl.String),
    )
    rated = rate(cdrs, deck, numbering=numbering)
    return rated.select(
        pl.col("prefix").alias("carrier_prefix"),
        pl.col("billed_seconds").alias("carrier_seconds"),
        micros(pl.col("cost")).alias("carrier_micros"),
    )


def micros(amount: pl.Expr) -> pl.Expr:
    """Exact Int64 micro-units of a Decimal column of at most 6 decimals."""
    return (amount.cast(pl.Decimal(38, 6)) * MICROS).cast(pl.Int64)


def deck_diff(old: RateDeck | None, new: RateDeck) -> pl.DataFrame:
    """Prefix by prefix: ``change`` (added, removed, raised, lowered, unchanged), the
    old and new rate and description, and the change in percent of the old rate."""
    columns = ["prefix", "description", "rate_micros"]
    new_rates = new.entries.select(columns).rename(
        {"description": "new_description", "rate_micros": "new_micros"}
    )
    if old is None:
        return new_rates.with_columns(
            old_micros=pl.lit(None, dtype=pl.Int64),
            old_description=pl.lit(None, dtype=pl.String),
            change=pl.lit("added"),
            percent=pl.lit(None, dtype=pl.Float64),
        )
    old_rates = old.entries.select(columns).rename(
        {"description": "old_description", "rate_micros": "old_micros"}
    )
    joined = old_rates.join(new_rates, on="prefix", how="full", coalesce=True)
    change = (
        pl.when(pl.col("old_micros").is_null())
        .then(pl.lit("added"))
        .when(pl.col("new_micros").is_null())
        .then(pl.lit("removed"))
        .when(pl.col("new_micros") > pl.col("old_micros"))
        .then(pl.lit("raised"))
        .when(pl.col("new_micros") < pl.col("old_micros"))
        .then(pl.lit("lowered"))
        .otherwise(pl.lit("unchanged"))
    )
    percent = (
        pl.when(pl.col("old_micros") > 0)
        .then((pl.col("new_micros") - pl.col("old_micros")) * 100 / pl.col("old_micros"))
        .otherwise(None)
    )
    return joined.with_columns(change=change, percent=percent)


def diff_impact(diff: pl.DataFrame, priced: pl.DataFrame) -> pl.DataFrame:
    """``diff`` with each prefix's ``minutes`` and ``impact_micros`` over the window,
    sorted by the size of the impact (largest first).

    A prefix of the new deck carries the calls it now prices: its impact is their new
    carrier cost minus their old. A removed prefix carries the calls it used to price
    (they moved to a shorter prefix), its impact is their change too.
    """
    change = pl.col("carrier_micros") - pl.col("old_carrier_micros")
    new_side = priced.group_by(pl.col("carrier_prefix").alias("prefix")).agg(
        (pl.col("carrier_seconds").sum() / 60).alias("minutes"),
        change.sum().alias("impact_micros"),
    )
    old_side = priced.group_by(pl.col("old_carrier_prefix").alias("prefix")).agg(
        (pl.col("old_carrier_seconds").sum() / 60).alias("old_minutes"),
        change.sum().alias("old_impact_micros"),
    )
    removed = pl.col("change") == "removed"
    return (
        diff.join(new_side, on="prefix", how="left")
        .join(old_side, on="prefix", how="left")
        .with_columns(
            minutes=pl.when(removed).then("old_minutes").otherwise("minutes").fill_null(0),
            impact_micros=pl.when(removed)
            .then("old_impact_micros")
            .otherwise("impact_micros")
            .fill_null(0),
        )
        .drop("old_minutes", "old_impact_micros")
        .sort(pl.col("impact_micros").abs(), "prefix", descending=[True, False])
    )


def margin_table(priced: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Calls, retail revenue, old and new carrier cost, carrier seconds and margins in
    percent, per group of ``by``; groups without retail revenue are left out (their
    margin in percent is undefined)."""
    table = (
        priced.group_by(by)
        .agg(
            pl.len().alias("calls"),
            pl.col("retail_micros").sum(),
            pl.col("old_carrier_micros").sum(),
            pl.col("carrier_micros").sum(),
            pl.col("carrier_seconds").sum(),
        )
        .filter(pl.col("retail_micros") > 0)
    )
    retail = pl.col("retail_micros")
    return table.with_columns(
        old_percent=(retail - pl.col("old_carrier_micros")) * 100 / retail,
        new_percent=(retail - pl.col("carrier_micros")) * 100 / retail,
    ).sort(by)


def below_target(table: pl.DataFrame, target_percent: Decimal) -> pl.DataFrame:
    """Rows whose new margin is below the target and lower than before (a version that
    leaves an already thin margin unchanged is not its finding), worst loss first."""
    target = float(target_percent)
    return table.filter(
        (pl.col("new_percent") < target) & (pl.col("carrier_micros") > pl.col("old_carrier_micros"))
    ).sort(pl.col("carrier_micros") - pl.col("old_carrier_micros"), descending=True)


def days_covered(first_call: datetime | None, *, since: datetime, until: datetime) -> int:
    """Days of ``[since, until)`` the stored history covers: from the first call ever
    stored, when that is later than ``since`` (at least 1). A window longer than the
    history would otherwise spread the loss over months without calls and understate it."""
    window = max(1, math.ceil((until - since).total_seconds() / 86_400))
    if first_call is None or first_call <= since:
        return window
    return max(1, min(window, math.ceil((until - first_call).total_seconds() / 86_400)))


def money(value_micros: int) -> Decimal:
    """Micro-units as an exact 6-place decimal."""
    return Decimal(value_micros).scaleb(-6)


def rate_text(value_micros: int) -> str:
    """A per-minute rate as written in decks: at least 2 decimals, no trailing zeros
    beyond them (1.45, 1.347183)."""
    value = money(value_micros).normalize()
    return str(value.quantize(_CENT)) if -value.as_tuple().exponent < 2 else f"{value:f}"


def monthly(value_micros: int, days: int) -> Decimal:
    """An amount over a window of ``days`` as money per 30-day month, to the cent."""
    return (Decimal(value_micros) * DAYS_PER_MONTH / days).scaleb(-6).quantize(_CENT, ROUND_HALF_UP)


def restoring_rate(
    carrier_micros: int, carrier_seconds: int, target_percent: Decimal, places: int
) -> Decimal | None:
    """Retail rate per minute that gives ``target_percent`` margin over this carrier cost:
    carrier rate per minute / (1 − target), rounded up to ``places`` decimals."""
    if carrier_seconds <= 0:
        return None
    carrier_rate = Decimal(carrier_micros) * 60 / carrier_seconds / MICROS
    needed = carrier_rate / (1 - target_percent / 100)
    return needed.quantize(Decimal(1).scaleb(-places), ROUND_CEILING)


def deck_places(deck: RateDeck, lowest: int = 2) -> int:
    """The decimals a deck's rates are written with (at least ``lowest``: the currency's
    minor unit), e.g. 2 for a deck of 0.90, 2.50 and 1.90."""
    remainders = deck.entries.select(pl.col("rate_micros") % MICROS)["rate_micros"]
    places = lowest
    for candidate in range(6, lowest, -1):
        if (remainders % (10 ** (6 - candidate)) != 0).any():
            places = candidate
            break
    return places
