"""Rating a frame of calls against a retail deck and, optionally, a carrier deck.

:func:`rate` is the one place calls are priced: the ``ringup rate`` command streams files
through it batch by batch, the CDR import and the bill analysis call it on their frames.
"""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import polars as pl

from .cdrs import GENERIC, OUTPUT_COLUMNS, CdrFileError, CdrFormat, cdr_format
from .charges import MAX_DURATION, billed_seconds, cost_micros
from .deck import DECIMALS, MONEY, RateDeck
from .duplicates import IdLedger
from .numbers import Numbering, normalise

RATED_COLUMNS = ("prefix", "rate", "billed_seconds", "cost")
CARRIER_COLUMNS = ("carrier_prefix", "carrier_cost", "margin")
REASON_COLUMN = "reason"

Int64s = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]


class UnratedReason(StrEnum):
    """Why a call was not rated, in the order they are checked (the first one wins)."""

    DUPLICATE_ID = "duplicate_id"  # an earlier call in the input has this id: rated once
    MISSING_ID = "missing_id"
    BAD_DURATION = "bad_duration"  # not whole seconds from 0 to a week
    BAD_NUMBER = "bad_number"  # the destination is not an E.164 number after normalising
    NO_MATCH = "no_match"  # no retail deck prefix matches the destination
    NO_CARRIER_MATCH = "no_carrier_match"  # no carrier deck prefix: margin unknown


@dataclass(frozen=True, slots=True)
class BatchTotals:
    """Exact sums over the rated calls of one batch (amounts in micro-units)."""

    calls: int
    rated: int
    seconds: int
    cost_micros: int
    carrier_cost_micros: int


def rate(
    cdrs: pl.DataFrame,
    deck: RateDeck,
    *,
    format: str | CdrFormat = GENERIC,
    numbering: Numbering | None = None,
    carrier_deck: RateDeck | None = None,
    ledger: IdLedger | None = None,
) -> pl.DataFrame:
    """Rate every call of ``cdrs`` (text columns as :func:`~.cdrs.read_cdrs` gives them).

    Returns the input columns (any old rating columns replaced) followed by ``prefix``
    (String), ``rate`` (Decimal, per minute), ``billed_seconds`` (Int64), ``cost`` (Decimal,
    6 places, exact, half-up), with a carrier deck also ``carrier_prefix``,
    ``carrier_cost`` and ``margin`` (= cost − carrier_cost), and last ``reason``: null for a
    rated call, else an :class:`UnratedReason` value, in which case the rating columns are
    null. Same rows, same order: nothing is dropped.

    ``ledger`` carries the ids of earlier batches of the same input (see
    :class:`~.duplicates.IdLedger`); without one, repeats are found within ``cdrs``.
    Raises :class:`~.cdrs.CdrFileError` when a column the format needs is absent.
    """
    rated, _ = rate_batch(
        cdrs,
        deck,
        format=format,
        numbering=numbering,
        carrier_deck=carrier_deck,
        ledger=ledger,
    )
    return rated


def rate_batch(
    cdrs: pl.DataFrame,
    deck: RateDeck,
    *,
    format: str | CdrFormat = GENERIC,
    numbering: Numbering | None = None,
    carrier_deck: RateDeck | None = None,
    ledger: IdLedger | None = None,
) -> tuple[pl.DataFrame, BatchTotals]:
    """:func:`rate`, plus the batch's exact totals (for callers that sum many batches)."""
    priced = price_batch(cdrs, deck, format=format, numbering=numbering, carrier_deck=carrier_deck)
    repeats = (ledger or IdLedger(None)).repeats(priced.ids, priced.present)
    return priced.finish(repeats.to_numpy())


@dataclass(frozen=True, slots=True)
class PricedBatch:
    """A batch rated except for one question: which of its ids repeat earlier ones.

    That answer depends on every earlier batch, so it must come in input order; pricing
    does not, so a caller can price several batches at once (on several threads) and
    :meth:`finish` them in order.
    """

    calls: pl.DataFrame
    ids: pl.Series
    present: pl.Series
    failed: list[Flags]  # missing id, bad duration, bad number, no match[, no carrier match]
    retail: "_Priced"
    carrier: "_Priced | None"

    def finish(self, repeats: Flags) -> tuple[pl.DataFrame, BatchTotals]:
        """The rated frame (as :func:`rate` returns it) and the batch's exact totals."""
        # The first failing check names the reason: codes follow UnratedReason's order.
        failed = [repeats, *self.failed]
        codes = np.select(failed, range(1, len(failed) + 1), default=0)
        unrated = codes != 0
        columns = _rating_columns(self.retail, self.carrier, unrated)
        result = self.calls.with_columns(*columns, _reason_names(codes))
        rated = ~unrated
        totals = BatchTotals(
            calls=len(codes),
            rated=int(rated.sum()),
            seconds=int(self.retail.billed[rated].sum()),
            cost_micros=_exact_sum(self.retail.cost[rated]),
            carrier_cost_micros=0 if self.carrier is None else _exact_sum(self.carrier.cost[rated]),
        )
        return result, totals


def price_batch(
    cdrs: pl.DataFrame,
    deck: RateDeck,
    *,
    format: str | CdrFormat = GENERIC,
    numbering: Numbering | None = None,
    carrier_deck: RateDeck | None = None,
) -> PricedBatch:
    """Everything of :func:`rate` but the duplicate-id check (see :class:`PricedBatch`)."""
    fmt = cdr_format(format)
    calls = _calls(cdrs, fmt)
    ids = calls[fmt.id_column].cast(pl.String)
    duration = parse_duration(calls[fmt.duration_column])
    numbers = normalise(calls[fmt.dst_column], numbering or Numbering())
    seconds = duration.fill_null(0).to_numpy()
    retail = _Priced.of(deck, numbers, seconds)
    carrier = None if carrier_deck is None else _Priced.of(carrier_deck, numbers, seconds)
    present = IdLedger.present(ids)
    failed = [
        (~present).to_numpy(),
        duration.is_null().to_numpy(),
        numbers.is_null().to_numpy(),
        retail.rows < 0,
    ]
    if carrier is not None:
        failed.append(carrier.rows < 0)
    return PricedBatch(calls, ids, present, failed, retail, carrier)


def _calls(cdrs: pl.DataFrame, fmt: CdrFormat) -> pl.DataFrame:
    """The input columns, checked, without any earlier rating's columns."""
    needed = (fmt.id_column, fmt.dst_column, fmt.duration_column)
    missing = [column for column in needed if column not in cdrs.columns]
    if missing:
        raise CdrFileError(f"the CDRs lack the column(s) {', '.join(missing)}")
    return cdrs.drop(c for c in OUTPUT_COLUMNS if c in cdrs.columns)


def _rating_columns(
    retail: "_Priced", carrier: "_Priced | None", unrated: Flags
) -> list[pl.Series]:
    columns = [
        retail.prefixes("prefix", unrated),
        retail.rates("rate", unrated),
        pl.Series("billed_seconds", np.ma.masked_array(retail.billed, unrated)),
        _money("cost", retail.cost, unrated),
    ]
    if carrier is not None:
        columns += [
            carrier.prefixes("carrier_prefix", unrated),
            _money("carrier_cost", carrier.cost, unrated),
            _money("margin", retail.cost - carrier.cost, unrated),
        ]
    return columns


def parse_duration(durations: pl.Series) -> pl.Series:
    """Whole seconds from 0 to :data:`~.charges.MAX_DURATION`, else null (Int64).

    Digits only, optionally padded with spaces: "-5", "+5", "1e3", "12.5" and "" are not
    whole seconds.
    """
    text = durations.cast(pl.String)
    seconds = text.str.to_integer(strict=False)
    failed = (seconds.is_null() & text.is_not_null()).arg_true()
    if len(failed):
        # Padded values (" 61 ") are rare: strip only the values that did not parse, as
        # stripping every value would double the cost of this step.
        stripped = text.gather(failed).str.strip_chars()
        text = text.scatter(failed, stripped)
        seconds = seconds.scatter(failed, stripped.str.to_integer(strict=False))
    # to_integer accepts a sign; a duration has none.
    signed = text.str.starts_with("+") | text.str.starts_with("-")
    valid = seconds.is_between(0, MAX_DURATION) & ~signed
    return pl.select(pl.when(valid).then(seconds)).to_series().alias("duration")


@dataclass(frozen=True, slots=True)
class _Priced:
    """One deck's answer for a batch: entry row per call (-1: none), billed s, cost µ."""

    deck: RateDeck
    rows: Int64s
    billed: Int64s
    cost: Int64s

    @classmethod
    def of(cls, deck: RateDeck, numbers: pl.Series, seconds: Int64s) -> "_Priced":
        rows = deck.index.match(numbers)
        take = np.maximum(rows, 0)  # unmatched calls are priced on row 0, then masked
        entry = deck.columns
        billed = billed_seconds(
            seconds,
            entry["first_increment"][take],
            entry["increment"][take],
            entry["min_duration"][take],
        )
        cost = cost_micros(billed, entry["rate_micros"][take], entry["connect_fee_micros"][take])
        return cls(deck=deck, rows=rows, billed=billed, cost=cost)

    def prefixes(self, name: str, unrated: Flags) -> pl.Series:
        """The matched prefix per call (null where the call is unrated)."""
        return self.deck.entries["prefix"].gather(self._rows(unrated)).alias(name)

    def rates(self, name: str, unrated: Flags) -> pl.Series:
        """The per-minute rate per call, exact (null where the call is unrated)."""
        return self.deck.entries["rate"].gather(self._rows(unrated)).alias(name)

    def _rows(self, unrated: Flags) -> pl.Series:
        return pl.Series(np.ma.masked_array(self.rows, unrated))


_ONE_MICRO = pl.Series([Decimal(1).scaleb(-DECIMALS)], dtype=MONEY)


def _money(name: str, micros: Int64s, unrated: Flags) -> pl.Series:
    # Micro-units as Decimal(38, 0) times 10⁻⁶ as Decimal(38, 6): the product has scale
    # 0 + 6 and the same digits, so it is exact (one i128 multiplication per value).
    values = pl.Series(name, np.ma.masked_array(micros, unrated), dtype=pl.Int64)
    return (values.cast(pl.Decimal(38, 0)) * _ONE_MICRO).alias(name)


def _exact_sum(micros: Int64s) -> int:
    """Sum without int64 overflow: high and low 32-bit halves are summed separately."""
    high = int((micros >> 32).sum())
    low = int((micros & 0xFFFF_FFFF).sum())
    return (high << 32) + low


_REASON_NAMES = {code: reason.value for code, reason in enumerate(UnratedReason, start=1)}


def _reason_names(codes: Int64s) -> pl.Series:
    # Small integer codes keep the selection in NumPy; text is made once, by Polars.
    return pl.Series(REASON_COLUMN, codes).replace_strict(
        _REASON_NAMES, default=None, return_dtype=pl.String
    )
