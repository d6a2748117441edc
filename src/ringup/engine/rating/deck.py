"""Rate decks: destination prefixes with a per-minute rate, a connection fee and billing
increments, read from CSV and checked line by line before any call is rated.

Deck CSV (header row, comma-separated, column names case-insensitive)::

    prefix,rate,connect_fee,first_increment,increment[,description][,min_duration]
    7,0.95,0,60,60,Russia
    7916,1.20,0.50,30,6,Russia mobile MTS,60

* ``prefix`` — E.164 digits without ``+``, 1–15 of them, each prefix once per deck;
* ``rate`` — per minute; ``connect_fee`` — per connected call (empty means 0);
* ``first_increment``, ``increment`` — seconds: 60/60, 1/1, 30/6 …;
* ``min_duration`` — optional, seconds billed at least (empty means 0).

Amounts are exact decimals with at most 6 significant decimals (trailing zeros are
ignored); the engine keeps them as integer micro-units, so a deck value it cannot represent
exactly is a :class:`DeckError` naming its line rather than a silent rounding.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl

from .prefixes import MAX_DIGITS, PrefixIndex, is_digit_string

REQUIRED_COLUMNS = ("prefix", "rate", "connect_fee", "first_increment", "increment")
OPTIONAL_COLUMNS = ("description", "min_duration")
#: The settings a call's cost needs, in the row order of :attr:`RateDeck.pricing`.
PRICING_COLUMNS = (
    "first_increment",
    "increment",
    "min_duration",
    "rate_micros",
    "connect_fee_micros",
)

#: Amounts are held as integers of this many units per currency unit.
MICROS = 1_000_000
DECIMALS = 6
#: Exact money columns in frames: decimals with 6 places (CSV shows e.g. ``1.250000``).
MONEY = pl.Decimal(38, DECIMALS)
#: Upper limits that keep every product in int64 (see ``charges``) and catch typos.
MAX_AMOUNT = 10_000_000
MAX_SECONDS_SETTING = 86_400

# Row numbers in messages are file lines: the header is line 1.
_FIRST_DATA_LINE = 2
_LINE = "_line"


class DeckError(ValueError):
    """A deck that cannot be used; the message names the file and, where it can, the line."""


@dataclass(frozen=True, slots=True)
class DeckEntry:
    """One prefix of a deck, with exact amounts (for display, tests and single lookups)."""

    prefix: str
    rate: Decimal
    connect_fee: Decimal
    first_increment: int
    increment: int
    min_duration: int = 0
    description: str = ""


@dataclass(frozen=True, slots=True, eq=False)
class RateDeck:
    """A checked rate deck, indexed for longest-prefix matching.

    ``entries`` has one row per prefix and the columns ``prefix`` (String), ``description``
    (String), ``rate`` (Decimal, 6 places), ``rate_micros`` and ``connect_fee_micros``
    (Int64, millionths of the currency unit), ``first_increment``, ``increment`` and
    ``min_duration`` (Int64 seconds). Row ``i`` of ``entries`` is what :meth:`match`
    answers ``i`` for. ``columns`` holds the Int64 columns as NumPy arrays, ready for
    gathering per call; ``pricing`` holds the :data:`PRICING_COLUMNS` as the rows of one
    array, so that one gather fetches all of a call's settings.
    """

    name: str
    entries: pl.DataFrame
    index: PrefixIndex
    columns: Mapping[str, npt.NDArray[np.int64]]
    pricing: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return self.entries.height

    def match(self, numbers: pl.Series) -> pl.Series:
        """Row of ``entries`` of the longest prefix of each number (null: none matches).

        ``numbers`` are normalised E.164 digit strings or nulls (see ``numbers.normalise``).
        """
        rows = self.index.match(numbers)
        return pl.Series("row", rows).replace(-1, None)

    def entry(self, prefix: str) -> DeckEntry:
        """The entry for exactly ``prefix`` (``KeyError`` when the deck has none)."""
        found = self.entries.filter(pl.col("prefix") == prefix)
        if not found.height:
            raise KeyError(prefix)
        row = found.row(0, named=True)
        return DeckEntry(
            prefix=row["prefix"],
            rate=Decimal(row["rate_micros"]).scaleb(-DECIMALS),
            connect_fee=Decimal(row["connect_fee_micros"]).scaleb(-DECIMALS),
            first_increment=row["first_increment"],
            increment=row["increment"],
            min_duration=row["min_duration"],
            description=row["description"],
        )

    def longest_match(self, number: str) -> DeckEntry | None:
        """The entry whose prefix is the longest prefix of the E.164 digits ``number``."""
        valid = number.isascii() and number.isdigit() and len(number) <= MAX_DIGITS
        row = self.match(pl.Series([number if valid else None], dtype=pl.String))[0]
        return None if row is None else self.entry(self.entries["prefix"][row])


def load_deck(path: str | Path) -> RateDeck:
    """Read and check the deck CSV at ``path``.

    Raises :class:`DeckError` for a missing or unreadable file, a missing required column,
    and the first line whose values are not usable (with the count of further bad lines).
    """
    path = Path(path)
    try:
        frame = pl.read_csv(
            path,
            infer_schema=False,
            encoding="utf8-lossy",
            raise_if_empty=False,
            with_column_names=lambda names: [name.strip().lower() for name in names],
        )
    except FileNotFoundError:
        raise DeckError(f"deck {path} does not exist") from None
    except (OSError, pl.exceptions.PolarsError) as error:
        raise DeckError(f"cannot read deck {path}: {_first_line(error)}") from None
    return deck_from_frame(frame, name=str(path))


def deck_from_frame(frame: pl.DataFrame, name: str = "deck") -> RateDeck:
    """Check a deck given as a frame of strings (one row per deck line, header excluded).

    The same checks and messages as :func:`load_deck`; ``name`` stands for the file in them.
    """
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise DeckError(f"deck {name} lacks the column(s) {', '.join(missing)}")
    frame = _with_optional_columns(frame.with_row_index(_LINE, offset=_FIRST_DATA_LINE))
    frame = frame.filter(~_blank_line())
    if not frame.height:
        raise DeckError(f"deck {name} has no prefixes")
    values = frame.select(
        pl.col(_LINE),
        *(
            pl.col(column).cast(pl.String).fill_null("").str.strip_chars()
            for column in _ALL_COLUMNS
        ),
    )
    _raise_for_bad_lines(values, name)
    entries = values.select(
        "prefix",
        "description",
        _micros(pl.col("rate")).alias("rate_micros"),
        _micros(pl.col("connect_fee")).alias("connect_fee_micros"),
        _seconds(pl.col("first_increment")).alias("first_increment"),
        _seconds(pl.col("increment")).alias("increment"),
        _seconds(pl.col("min_duration")).alias("min_duration"),
    )
    numeric = {
        column: entries[column].to_numpy()
        for column in entries.columns
        if entries[column].dtype == pl.Int64
    }
    entries = entries.with_columns(
        rate=(pl.col("rate_micros").cast(pl.Decimal(38, 0)) * _ONE_MICRO).cast(MONEY)
    )
    return RateDeck(
        name=name,
        entries=entries,
        index=PrefixIndex.build(entries["prefix"]),
        columns=numeric,
        pricing=np.stack([numeric[column] for column in PRICING_COLUMNS]),
    )


_ALL_COLUMNS = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
_ONE_MICRO = pl.lit(Decimal(1).scaleb(-DECIMALS), dtype=MONEY)


def _with_optional_columns(frame: pl.DataFrame) -> pl.DataFrame:
    absent = [column for column in OPTIONAL_COLUMNS if column not in frame.columns]
    return frame.with_columns(pl.lit("", dtype=pl.String).alias(column) for column in absent)


def _blank_line() -> pl.Expr:
    # Spreadsheets leave empty lines at the end of an export; they are not deck lines.
    return pl.all_horizontal(
        pl.col(column).is_null() | (pl.col(column).str.strip_chars() == "")
        for column in _ALL_COLUMNS
    )


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# --- checks -----------------------------------------------------------------------------

_AMOUNT = r"^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$"
_INTEGER = r"^[0-9]{1,9}$"


def _significant_decimals(value: pl.Expr) -> pl.Expr:
    fraction = value.str.extract(r"\.([0-9]*)$").fill_null("")
    return fraction.str.strip_chars_end("0").str.len_chars()


def _whole_part(value: pl.Expr) -> pl.Expr:
    digits = value.str.extract(r"^([0-9]*)").fill_null("").str.strip_chars_start("0")
    return pl.when(digits == "").then(pl.lit("0")).otherwise(digits)


def _amount_problem(column: str, *, optional: bool) -> pl.Expr:
    value = pl.col(column)
    whole = _whole_part(value)
    problem = (
        pl.when(value == "")
        .then(pl.lit(None if optional else f"{column} is empty", dtype=pl.String))
        .when(~value.str.contains(_AMOUNT))
        .then(pl.format(f"{column} {{}} is not a non-negative decimal number", _quoted(value)))
        .when(_significant_decimals(value) > DECIMALS)
        .then(pl.format(f"{column} {{}} has more than {DECIMALS} decimals", _quoted(value)))
        .when((whole.str.len_chars() > 8) | (whole.cast(pl.Int64, strict=False) > MAX_AMOUNT))
        .then(pl.format(f"{column} {{}} is above {MAX_AMOUNT}", _quoted(value)))
    )
    return problem.otherwise(pl.lit(None, dtype=pl.String))


def _seconds_problem(column: str, lowest: int, *, optional: bool) -> pl.Expr:
    value = pl.col(column)
    number = value.cast(pl.Int64, strict=False)
    limits = f"between {lowest} and {MAX_SECONDS_SETTING}"
    return (
        pl.when(value == "")
        .then(pl.lit(None if optional else f"{column} is empty", dtype=pl.String))
        .when(~value.str.contains(_INTEGER) | (number < lowest) | (number > MAX_SECONDS_SETTING))
        .then(pl.format(f"{column} {{}} is not whole seconds {limits}", _quoted(value)))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def _prefix_problem() -> pl.Expr:
    prefix = pl.col("prefix")
    first_line = pl.col(_LINE).min().over("prefix")
    return (
        pl.when(~is_digit_string(prefix))
        .then(pl.format(f"prefix {{}} is not 1–{MAX_DIGITS} digits (no +)", _quoted(prefix)))
        .when(pl.col(_LINE) != first_line)
        .then(pl.format("prefix {} already appears on line {}", _quoted(prefix), first_line))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def _quoted(value: pl.Expr) -> pl.Expr:
    return pl.format("'{}'", value)


def _raise_for_bad_lines(values: pl.DataFrame, name: str) -> None:
    problems: Sequence[pl.Expr] = (
        _prefix_problem(),
        _amount_problem("rate", optional=False),
        _amount_problem("connect_fee", optional=True),
        _seconds_problem("first_increment", 0, optional=False),
        _seconds_problem("increment", 1, optional=False),
        _seconds_problem("min_duration", 0, optional=True),
    )
    bad = (
        values.select(pl.col(_LINE), pl.coalesce(*problems).alias("problem"))
        .filter(pl.col("problem").is_not_null())
        .sort(_LINE)
    )
    if bad.height:
        line, problem = bad.row(0)
        more = f" (and {bad.height - 1} more bad lines)" if bad.height > 1 else ""
        raise DeckError(f"deck {name} line {line}: {problem}{more}")


# --- conversion (after the checks passed) -----------------------------------------------


def _micros(value: pl.Expr) -> pl.Expr:
    fraction = value.str.extract(r"\.([0-9]*)$").fill_null("").str.strip_chars_end("0")
    padded = fraction.str.pad_end(DECIMALS, "0")
    return _whole_part(value).cast(pl.Int64) * MICROS + padded.cast(pl.Int64)


def _seconds(value: pl.Expr) -> pl.Expr:
    return pl.when(value == "").then(0).otherwise(value.cast(pl.Int64, strict=False)).cast(pl.Int64)
