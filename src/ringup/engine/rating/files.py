"""Rating a CDR file into a rated file and an unrated file, in bounded memory.

Two streaming passes over the input: a census hashes the call ids (exact duplicate
detection, see ``duplicates``) while the rating pass prices its first batches; batches are
then finished (duplicates marked) in input order and appended to the outputs by a writer
thread. Before the census, a scan of the raw bytes tells whether any value can need quotes
in CSV (see :func:`needs_no_quotes`); when none can, the rated calls are written without
checking each value, which halves the cost of writing them. Outputs are written under
temporary names and renamed into place only when the whole input has been rated, so an
interrupted run leaves no half-rated file that could be billed.

Threads, not processes: Polars and NumPy release the GIL in their loops, so the census,
two pricing threads and the writer share the cores without copying batches between
processes. At most about five batches are in memory at once.
"""

import functools
import os
from collections import Counter, deque
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO

import numpy as np
import polars as pl

from .cdrs import (
    GENERIC,
    CdrFileError,
    CdrFormat,
    cdr_format,
    census_scan,
    first_line,
    scan_cdrs,
)
from .deck import DECIMALS, RateDeck
from .duplicates import IdLedger
from .numbers import Numbering
from .rate import BatchTotals, PricedBatch, price_batch

#: Calls per batch: large enough that per-batch overheads vanish, small enough that the
#: batches in flight (being read, rated and written: about four) stay within a few hundred MB.
DEFAULT_BATCH_ROWS = 250_000
#: Batches priced at once. NumPy and Polars release the GIL, so two threads use two cores;
#: one more batch waits to be finished, so about four batches are in memory at a time.
_PRICERS = 2

_ZERO = Decimal(0).scaleb(-DECIMALS)


@dataclass(frozen=True, slots=True)
class RatingSummary:
    """What a rating run did. Every input call is counted once, as rated or unrated.

    ``total_cost`` and ``seconds`` sum the rated calls; with a carrier deck,
    ``total_carrier_cost`` sums their carrier costs and :attr:`margin` is the difference.
    """

    cdrs: int
    rated: int
    unrated: int
    total_cost: Decimal
    seconds: int
    total_carrier_cost: Decimal | None = None
    unrated_by_reason: Mapping[str, int] = field(default_factory=dict)

    @property
    def margin(self) -> Decimal | None:
        if self.total_carrier_cost is None:
            return None
        return self.total_cost - self.total_carrier_cost

    def as_json(self) -> dict[str, int | str]:
        """The summary ``ringup rate`` prints: counts, and amounts as 6-decimal strings."""
        summary: dict[str, int | str] = {
            "cdrs": self.cdrs,
            "rated": self.rated,
            "unrated": self.unrated,
            "total_cost": _amount(self.total_cost),
            "seconds": self.seconds,
        }
        if self.total_carrier_cost is not None and self.margin is not None:
            summary["total_carrier_cost"] = _amount(self.total_carrier_cost)
            summary["margin"] = _amount(self.margin)
        return summary


def _amount(value: Decimal) -> str:
    return f"{value.quantize(_ZERO):f}"


def unrated_path_for(out: str | Path) -> Path:
    """Where unrated calls go by default: ``RATED.csv`` → ``RATED.unrated.csv``."""
    out = Path(out)
    if out.suffix.lower() == ".csv":
        return out.with_suffix(".unrated.csv")
    return out.with_name(out.name + ".unrated.csv")


def rate_file(
    cdrs: str | Path,
    deck: RateDeck,
    out: str | Path,
    unrated: str | Path | None = None,
    *,
    format: str | CdrFormat = GENERIC,
    numbering: Numbering | None = None,
    carrier_deck: RateDeck | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> RatingSummary:
    """Rate the CDR file ``cdrs`` into ``out`` (rated calls) and ``unrated`` (the others).

    ``out`` gets every input column plus ``prefix, rate, billed_seconds, cost`` (and
    ``carrier_prefix, carrier_cost, margin`` with a carrier deck); ``unrated`` (default
    :func:`unrated_path_for` ``out``) gets every input column plus ``reason``. Rows keep
    their input order. Memory is bounded by ``batch_rows`` and the duplicate-id census
    (8 bytes per call).

    Raises :class:`~.cdrs.CdrFileError` for an input that cannot be read at all and
    ``OSError`` for outputs that cannot be written; bad rows are unrated, never raised.
    """
    job = _Job(
        cdrs=cdrs,
        deck=deck,
        out=Path(out),
        unrated=unrated_path_for(out) if unrated is None else Path(unrated),
        fmt=cdr_format(format),
        numbering=numbering,
        carrier_deck=carrier_deck,
        batch_rows=batch_rows,
    )
    try:
        # Strict UTF-8 reads faster; the rare file with other bytes is rated again in full,
        # lossily (nothing has been renamed into place yet).
        return _rate_file(job, lossy=False)
    except _NotUtf8:
        return _rate_file(job, lossy=True)


@dataclass(frozen=True, slots=True)
class _Job:
    """One rating run: what to rate, against what, into where."""

    cdrs: str | Path
    deck: RateDeck
    out: Path
    unrated: Path
    fmt: CdrFormat
    numbering: Numbering | None
    carrier_deck: RateDeck | None
    batch_rows: int


def _rate_file(job: _Job, *, lossy: bool) -> RatingSummary:
    scan = scan_cdrs(job.cdrs, job.fmt, lossy=lossy)
    totals = _Totals(carrier=job.carrier_deck is not None)
    price = functools.partial(
        price_batch,
        deck=job.deck,
        format=job.fmt,
        numbering=job.numbering,
        carrier_deck=job.carrier_deck,
    )
    with (
        _replacing(job.out) as rated_file,
        _replacing(job.unrated) as unrated_file,
        _Writer(rated_file, unrated_file) as writer,
        ThreadPoolExecutor(1, thread_name_prefix="census") as census_thread,
        ThreadPoolExecutor(_PRICERS, thread_name_prefix="pricer") as pricers,
    ):
        # The census (pass 1) reads on one core; pricing the first batches of pass 2 uses
        # the other meanwhile. Only finishing a batch waits for the census.
        plain = census_thread.submit(needs_no_quotes, Path(job.cdrs))
        census = census_thread.submit(_census, job, lossy)
        header = price(pl.DataFrame(schema=scan.collect_schema()))
        rated, unrated, _ = header.split(np.zeros(0, dtype=bool))
        writer.write(rated, unrated, include_header=True)
        in_flight: deque[Future[PricedBatch]] = deque()

        def finish_oldest() -> None:
            priced = in_flight.popleft().result()
            repeats = census.result().repeats(priced.ids, priced.present)  # in input order
            rated, unrated, batch_totals = priced.split(repeats.to_numpy())
            totals.add(batch_totals)
            writer.write(rated, unrated, include_header=False, plain=plain.result())

        for batch in _batches(scan, job.batch_rows, job.cdrs):
            in_flight.append(pricers.submit(price, batch))
            if len(in_flight) > _PRICERS:
                finish_oldest()
        while in_flight:
            finish_oldest()
    return totals.summary()


def _census(job: _Job, lossy: bool) -> IdLedger:
    ids = census_scan(job.cdrs, job.fmt, lossy=lossy)
    return IdLedger.from_census(
        batch.to_series() for batch in _batches(ids, job.batch_rows, job.cdrs)
    )


class _NotUtf8(Exception):
    """A strict UTF-8 read met other bytes."""


def _batches(scan: pl.LazyFrame, batch_rows: int, path: str | Path) -> Iterator[pl.DataFrame]:
    try:
        yield from scan.collect_batches(chunk_size=batch_rows, engine="streaming")
    except pl.exceptions.ComputeError as error:
        if "utf-8" in str(error).lower():
            raise _NotUtf8 from error
        raise CdrFileError(f"cannot read CDR file {path}: {first_line(error)}") from None
    except pl.exceptions.PolarsError as error:
        raise CdrFileError(f"cannot read CDR file {path}: {first_line(error)}") from None


class _Writer:
    """Appends rated batches to the two outputs on a background thread.

    Polars writes CSV without holding the GIL, so batch *n* is written while batch *n + 1*
    is being rated; at most one batch waits, which bounds the memory this adds.
    """

    def __init__(self, rated: IO[bytes], unrated: IO[bytes]) -> None:
        self._files = (rated, unrated)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rating-writer")
        self._pending: Future[None] | None = None

    def __enter__(self) -> "_Writer":
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self._wait()
        finally:
            self._pool.shutdown(wait=True)

    def write(
        self,
        rated: pl.DataFrame,
        unrated: pl.DataFrame,
        *,
        include_header: bool,
        plain: bool = False,
    ) -> None:
        """Append the batch; ``plain``: no text value of ``rated`` needs quoting but the
        empty ones (see :func:`needs_no_quotes`)."""
        self._wait()
        self._pending = self._pool.submit(
            _write, (rated, unrated), self._files, include_header, plain
        )

    def _wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()  # re-raises a write error here, in the caller's thread


def _write(
    frames: tuple[pl.DataFrame, pl.DataFrame],
    files: tuple[IO[bytes], IO[bytes]],
    include_header: bool,
    plain: bool,
) -> None:
    (rated, unrated), (rated_file, unrated_file) = frames, files
    if plain and not include_header:
        # Checking every value for characters to quote is half of what writing costs; the
        # output is the same bytes as with that check (an empty value is written "").
        _with_empty_values_quoted(rated).write_csv(
            rated_file, include_header=False, quote_style="never"
        )
    elif include_header or rated.height:
        rated.write_csv(rated_file, include_header=include_header)
    if include_header or unrated.height:
        unrated.write_csv(unrated_file, include_header=include_header)


def _with_empty_values_quoted(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with its empty text values replaced by ``""``, for writing unquoted."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    if not text or not frame.height:
        return frame
    shortest = frame.select(pl.col(text).str.len_bytes().min()).row(0)
    empty = [name for name, length in zip(text, shortest, strict=True) if length == 0]
    return frame.with_columns(
        pl.when(pl.col(name) == "").then(pl.lit('""')).otherwise(pl.col(name)).alias(name)
        for name in empty
    )


#: Bytes read at a time by :func:`needs_no_quotes` (whole lines are examined).
_SCAN_BYTES = 1 << 22
#: More empty quoted fields than this and the scan gives up: quoting is then just as cheap.
_MAX_EMPTY_FIELDS = 100_000
_FIELD_ENDS = (ord(","), ord("\n"))


def needs_no_quotes(path: Path) -> bool:
    """True when no value read from the CSV file at ``path`` needs quotes when written again,
    except empty ones.

    A value needs quotes when it holds a comma, a quote, a line break or a carriage return,
    and an empty one is written ``""``. A value can hold the first three only if it was
    quoted in the file; so a file without carriage returns whose only quotes are empty
    quoted fields (``,"",``) has no such values. Asterisk and FreeSWITCH quote every field:
    their files answer False at their first quote.
    """
    buffer = bytearray(_SCAN_BYTES)
    empty_fields = 0
    kept = 0  # the start of an unfinished line, moved to the front of the buffer
    with path.open("rb", buffering=0) as handle, memoryview(buffer) as view:
        while read := handle.readinto(view[kept:]):
            size = kept + read
            lines = buffer.rfind(b"\n", 0, size) + 1  # whole lines: no pattern straddles
            if not lines:
                return False  # a line longer than the buffer: not a CDR file worth the care
            found = _empty_quoted_fields(buffer, lines)
            if found is None or empty_fields + found > _MAX_EMPTY_FIELDS:
                return False
            empty_fields += found
            kept = size - lines
            buffer[:kept] = buffer[lines:size]
        return _empty_quoted_fields(buffer, kept) is not None


def _empty_quoted_fields(data: bytearray, end: int) -> int | None:
    """How many ``""`` fields the whole lines ``data[:end]`` hold; None: they have other
    quotes or a carriage return."""
    if data.find(b"\r", 0, end) >= 0:
        return None
    count = 0
    quote = data.find(b'"', 0, end)
    while quote >= 0:
        after = quote + 2
        closed = after <= end and data[quote + 1] == ord('"')
        before_byte = data[quote - 1] if quote else ord("\n")
        after_byte = data[after] if after < end else ord("\n")
        if not closed or before_byte not in _FIELD_ENDS or after_byte not in _FIELD_ENDS:
            return None
        count += 1
        quote = data.find(b'"', after, end)
    return count


@dataclass
class _Totals:
    carrier: bool
    cdrs: int = 0
    rated: int = 0
    cost_micros: int = 0
    carrier_cost_micros: int = 0
    seconds: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def add(self, batch: BatchTotals) -> None:
        self.cdrs += batch.calls
        self.rated += batch.rated
        self.cost_micros += batch.cost_micros
        self.carrier_cost_micros += batch.carrier_cost_micros
        self.seconds += batch.seconds
        self.reasons.update(batch.unrated_by_reason)

    def summary(self) -> RatingSummary:
        return RatingSummary(
            cdrs=self.cdrs,
            rated=self.rated,
            unrated=self.cdrs - self.rated,
            total_cost=_decimal(self.cost_micros),
            seconds=self.seconds,
            total_carrier_cost=_decimal(self.carrier_cost_micros) if self.carrier else None,
            unrated_by_reason=dict(sorted(self.reasons.items())),
        )


def _decimal(micros: int) -> Decimal:
    return Decimal(micros).scaleb(-DECIMALS)


@contextmanager
def _replacing(path: Path) -> Iterator[IO[bytes]]:
    """A binary file that replaces ``path`` only if the block completes."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with partial.open("wb") as handle:
            yield handle
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
