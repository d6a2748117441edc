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
from .numbers import Numbering, normalised_keys
from .prefixes import Keys

RATED_COLUMNS = ("prefix", "rate", "billed_seconds", "cost")
CARRIER_COLUMNS = ("carrier_prefix", "carrier_cost", "margin")
REASON_COLUMN = "reason"

Int64s = npt.NDArray[np.int64]
Indices = npt.NDArray[np.intp]
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
    unrated_by_reason: dict[str, int]


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
        codes = self._reason_codes(repeats)
        unrated = codes != 0
        columns = _rating_columns(self.retail, self.carrier, unrated)
        result = self.calls.with_columns(*columns, _reason_names(codes))
        return result, self._totals(codes)

    def split(self, repeats: Flags) -> tuple[pl.DataFrame, pl.DataFrame, BatchTotals]:
        """The rated calls (input and rating columns), the unrated ones (input columns and
        ``reason``) and the batch's exact totals: :meth:`finish` split by ``reason``, without
        building the null half of either."""
        codes = self._reason_codes(repeats)
        rated = codes == 0
        kept: slice | Indices
        if rated.all():
            rated_calls, unrated_calls, kept = self.calls, self.calls.clear(), slice(None)
        else:
            rated_calls = self.calls.filter(pl.Series(rated))
            unrated_calls = self.calls.filter(pl.Series(~rated))
            kept = np.flatnonzero(rated)
        return (
            rated_calls.with_columns(*_rated_columns(self.retail, self.carrier, kept)),
            unrated_calls.with_columns(_reason_names(codes[~rated])),
            self._totals(codes),
        )

    def _reason_codes(self, repeats: Flags) -> Int64s:
        # The first failing check names the reason: codes follow UnratedReason's order.
        failed = [repeats, *self.failed]
        codes: Int64s = np.select(failed, range(1, len(failed) + 1), default=0)
        return codes

    def _totals(self, codes: Int64s) -> BatchTotals:
        rated = codes == 0
        counts = np.bincount(codes, minlength=len(_REASON_NAMES) + 1)
        return BatchTotals(
            calls=len(codes),
            rated=int(counts[0]),
            seconds=int(self.retail.billed[rated].sum()),
            cost_micros=_exact_sum(self.retail.cost[rated]),
            carrier_cost_micros=0 if self.carrier is None else _exact_sum(self.carrier.cost[rated]),
            unrated_by_reason={
                _REASON_NAMES[code]: int(count)
                for code, count in enumerate(counts.tolist())
                if code and count
            },
        )


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
    seconds, whole = _whole_seconds(calls[fmt.duration_column])
    keys, has_number = normalised_keys(calls[fmt.dst_column], numbering or Numbering())
    retail = _Priced.of(deck, keys, has_number, seconds)
    carrier = None if carrier_deck is None else _Priced.of(carrier_deck, keys, has_number, seconds)
    present = IdLedger.present(ids)
    failed = [(~present).to_numpy(), ~whole, ~has_number, retail.rows < 0]
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


def _rated_columns(
    retail: "_Priced", carrier: "_Priced | None", kept: slice | Indices
) -> list[pl.Series]:
    """:func:`_rating_columns` of only the ``kept`` calls, which are all rated."""
    columns = [
        retail.kept_prefixes("prefix", kept),
        retail.kept_rates("rate", kept),
        pl.Series("billed_seconds", retail.billed[kept]),
        _money("cost", retail.cost[kept]),
    ]
    if carrier is not None:
        columns += [
            carrier.kept_prefixes("carrier_prefix", kept),
            _money("carrier_cost", carrier.cost[kept]),
            _money("margin", retail.cost[kept] - carrier.cost[kept]),
        ]
    return columns


def parse_duration(durations: pl.Series) -> pl.Series:
    """Whole seconds from 0 to :data:`~.charges.MAX_DURATION`, else null (Int64).

    Digits only, optionally padded with spaces: "-5", "+5", "1e3", "12.5" and "" are not
    whole seconds.
    """
    seconds, whole = _whole_seconds(durations)
    return pl.Series("duration", np.ma.masked_array(seconds, ~whole), dtype=pl.Int64)


def _whole_seconds(durations: pl.Series) -> tuple[Int64s, Flags]:
    """:func:`parse_duration` as NumPy: the seconds (0 where not whole) and a mask of the
    whole ones."""
    text = durations.cast(pl.String)
    parsed = text.str.to_integer(strict=False)
    seconds = parsed.fill_null(-1).to_numpy(writable=True)
    # to_integer accepts a sign; a duration has none. "-5" is caught by the range below,
    # "+5" and "-0" only by their text.
    signed = _signed(text).to_numpy(writable=True)
    if parsed.null_count() > text.null_count():
        # Padded values (" 61 ") are rare: strip only the values that did not parse, as
        # stripping every value would double the cost of this step.
        failed = (parsed.is_null() & text.is_not_null()).arg_true()
        stripped = text.gather(failed).str.strip_chars()
        rows = failed.to_numpy()
        seconds[rows] = stripped.str.to_integer(strict=False).fill_null(-1).to_numpy()
        signed[rows] = _signed(stripped).to_numpy()
    whole = (seconds >= 0) & (seconds <= MAX_DURATION) & ~signed
    seconds[~whole] = 0
    return seconds, whole


def _signed(text: pl.Series) -> pl.Series:
    return (text.str.starts_with("+") | text.str.starts_with("-")).fill_null(False)


@dataclass(frozen=True, slots=True)
class _Priced:
    """One deck's answer for a batch: entry row per call (-1: none), billed s, cost µ."""

    deck: RateDeck
    rows: Int64s
    billed: Int64s
    cost: Int64s

    @classmethod
    def of(cls, deck: RateDeck, keys: Keys, has_number: Flags, seconds: Int64s) -> "_Priced":
        """Price calls of ``seconds`` to the numbers of ``keys`` (see ``prefixes``)."""
        rows = deck.index.match_keys(keys, has_number)
        take = np.maximum(rows, 0)  # unmatched calls are priced on row 0, then masked
        # One gather for all settings (see RateDeck.pricing) rather than one per setting.
        first, step, minimum, rate, fee = np.take(deck.pricing, take, axis=1)
        billed = billed_seconds(seconds, first, step, minimum)
        cost = cost_micros(billed, rate, fee)
        return cls(deck=deck, rows=rows, billed=billed, cost=cost)

    def prefixes(self, name: str, unrated: Flags) -> pl.Series:
        """The matched prefix per call (null where the call is unrated)."""
        return self.deck.entries["prefix"].gather(self._rows(unrated)).alias(name)

    def rates(self, name: str, unrated: Flags) -> pl.Series:
        """The per-minute rate per call, exact (null where the call is unrated)."""
        return self.deck.entries["rate"].gather(self._rows(unrated)).alias(name)

    def _rows(self, unrated: Flags) -> pl.Series:
        return pl.Series(np.ma.masked_array(self.rows, unrated))

    def kept_prefixes(self, name: str, kept: slice | Indices) -> pl.Series:
        """The matched prefix of each kept call (all of them rated)."""
        return self.deck.entries["prefix"].gather(self.rows[kept]).alias(name)

    def kept_rates(self, name: str, kept: slice | Indices) -> pl.Series:
        """The per-minute rate of each kept call (all of them rated)."""
        return self.deck.entries["rate"].gather(self.rows[kept]).alias(name)


_ONE_MICRO = pl.Series([Decimal(1).scaleb(-DECIMALS)], dtype=MONEY)


def _money(name: str, micros: Int64s, unrated: Flags | None = None) -> pl.Series:
    # Micro-units as Decimal(38, 0) times 10⁻⁶ as Decimal(38, 6): the product has scale
    # 0 + 6 and the same digits, so it is exact (one i128 multiplication per value).
    masked = micros if unrated is None else np.ma.masked_array(micros, unrated)
    values = pl.Series(name, masked, dtype=pl.Int64)
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
