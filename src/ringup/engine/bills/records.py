"""A prospect's call records, read once into the per-call facts the bill analysis needs.

The CDR readers of :mod:`ringup.engine.rating` give text columns in the PBX's own layout;
:func:`call_records` adds, for every call, its start time, billable seconds, whether it was
answered, how long it held a channel, its month, hour and destination category. The
profile (:func:`~.profile.profile`) and the re-rating (:func:`~.saving.rerate`) both read
that frame, so numbers are normalised and classified once.

What each layout says about a call (docs/sales-formulas.md, "Call records"):

============  ==============================  ===========================  =================
layout        billable seconds                answered                     holds a channel
============  ==============================  ===========================  =================
generic       ``duration``                    ``duration`` > 0             ``duration``
Asterisk      ``billsec``                     ``disposition`` = ANSWERED   ``duration``
FreeSWITCH    ``billsec``                     ``answer_stamp`` set or      ``duration``
                                              ``billsec`` > 0
============  ==============================  ===========================  =================

Asterisk's and FreeSWITCH's ``duration`` runs from the start of the attempt to its end,
ringing included: a ringing attempt needs a trunk channel too. The generic CSV carries only
billable seconds, so there a call holds a channel from ``start`` to ``start + duration``.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ..money import CURRENCY_EXPONENTS
from ..rating import (
    CdrFileError,
    CdrFormat,
    Numbering,
    NumberingError,
    cdr_format,
    normalise,
    parse_duration,
    read_cdrs,
    scan_cdrs,
)
from ..rating.cdrs import OUTPUT_COLUMNS
from .categories import area_of, categories, number_areas

#: Calls shorter than this many billable seconds are "short" (a dialer's signature).
SHORT_CALL_SECONDS = 10

_START_FORMAT = "%Y-%m-%d %H:%M:%S"


class BillAnalysisError(ValueError):
    """The bill cannot be analysed; ``errors`` maps each bad field to its message."""

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


@dataclass(frozen=True, slots=True, eq=False)
class CallRecords:
    """The analysable calls of a CDR file, row for row in ``cdrs`` and ``calls``.

    ``cdrs`` is the input without the rows that were skipped (no readable start time or
    billable seconds, or a repeat of an earlier call's id), so it can be rated as it is.
    ``calls`` has one row per call: ``start`` (Datetime, the PBX's wall clock as written),
    ``month`` ("YYYY-MM"), ``hour`` (0–23), ``seconds`` (billable, Int64), ``held``
    (seconds a channel was held, Int64), ``answered`` (Boolean), ``number`` (the dialled
    number as E.164 digits, null where it is none), ``category`` (a :class:`Category`
    value) and ``cost`` (the prospect's current cost, Decimal, when a cost column was
    named; else absent).
    """

    cdrs: pl.DataFrame
    calls: pl.DataFrame
    format: CdrFormat
    numbering: Numbering
    home_country: str
    home_area: str | None
    skipped: int

    @property
    def has_cost(self) -> bool:
        """Whether the file carried the prospect's current cost per call."""
        return "cost" in self.calls.columns


def call_records(
    cdrs: pl.DataFrame,
    format: str | CdrFormat = "generic",
    *,
    home_country: str,
    numbering: Numbering | None = None,
    home_area: str | None = None,
    cost_column: str | None = None,
) -> CallRecords:
    """Read the calls of ``cdrs`` (text columns, as ``read_cdrs`` gives them).

    ``home_country`` is the prospect's country (ISO 3166, e.g. ``"RU"``); national numbers
    are normalised in it unless ``numbering`` says otherwise. ``home_area`` is E.164 digits
    of a number or prefix in the prospect's area (``"7495"``) or an area's name
    (``"Moscow"``); without it the area is the most common one among the callers' numbers,
    else among the fixed lines called (see docs/sales-formulas.md). ``cost_column`` names a
    column with what the prospect paid per call.

    Raises :class:`BillAnalysisError` for a bad setting or a missing column.
    """
    fmt = _format(format)
    country = _country(home_country)
    numbering = numbering or Numbering(country=country)
    _require_columns(cdrs.columns, fmt, cost_column)
    facts = _facts(cdrs, fmt, cost_column)
    readable = facts["start"].is_not_null() & facts["seconds"].is_not_null()
    if cost_column is not None:
        readable &= facts["cost"].is_not_null()
    if fmt.id_column in cdrs.columns:
        # A repeated id is the PBX logging one call twice: counted once, as rating does.
        ids = cdrs[fmt.id_column].cast(pl.String)
        readable &= ids.is_first_distinct() | ids.is_null() | (ids.str.strip_chars() == "")
    kept = cdrs.filter(readable)
    facts = facts.filter(readable)
    dialled = _normalised(kept[fmt.dst_column], numbering)
    area = _home_area(home_area, country, kept[fmt.src_column], dialled, numbering)
    calls = facts.with_columns(
        month=pl.col("start").dt.strftime("%Y-%m"),
        hour=pl.col("start").dt.hour(),
        number=dialled,
        category=categories(dialled, country, area),
    )
    return CallRecords(
        cdrs=kept,
        calls=calls,
        format=fmt,
        numbering=numbering,
        home_country=country,
        home_area=area,
        skipped=cdrs.height - kept.height,
    )


def read_call_records(
    path: str | Path,
    format: str | CdrFormat = "generic",
    *,
    home_country: str,
    numbering: Numbering | None = None,
    home_area: str | None = None,
    cost_column: str | None = None,
) -> CallRecords:
    """:func:`call_records` of the CDR file at ``path``, read with the rating engine's
    readers; a cost column named like one that rating writes (``cost``) is kept.

    Raises :class:`~ringup.engine.rating.CdrFileError` for a file that cannot be read.
    """
    keep = () if cost_column is None else (cost_column,)
    return call_records(
        read_cdrs(path, _format(format), keep=keep),
        format,
        home_country=home_country,
        numbering=numbering,
        home_area=home_area,
        cost_column=cost_column,
    )


def check_call_records(
    path: str | Path,
    format: str | CdrFormat = "generic",
    *,
    home_country: str,
    cost_column: str | None = None,
) -> None:
    """Refuse, from the file's header alone, what :func:`read_call_records` would refuse
    about its layout: a missing or unreadable file, an unknown format or country, a
    missing column. No row is read, so it answers at once for a file of any size.

    Raises :class:`~ringup.engine.rating.CdrFileError` or :class:`BillAnalysisError`.
    """
    fmt = _format(format)
    _country(home_country)
    keep = () if cost_column is None else (cost_column,)
    columns = scan_cdrs(path, fmt, keep=keep).collect_schema().names()
    _require_columns(columns, fmt, cost_column)


def _format(format: str | CdrFormat) -> CdrFormat:
    try:
        return cdr_format(format)
    except CdrFileError as error:
        raise BillAnalysisError({"format": str(error)}) from None


def _country(code: str) -> str:
    try:
        country = Numbering(country=code).country
    except NumberingError as error:
        raise BillAnalysisError({"home_country": str(error)}) from None
    assert country is not None  # Numbering keeps a given country, upper-cased
    return country


def _require_columns(columns: list[str], fmt: CdrFormat, cost_column: str | None) -> None:
    needed = [fmt.src_column, fmt.dst_column, fmt.start_column, fmt.duration_column]
    needed += _EXTRA_COLUMNS.get(fmt.name, ())
    missing = [column for column in needed if column not in columns]
    if missing:
        raise BillAnalysisError({"cdrs": f"the call records lack {', '.join(missing)}"})
    if cost_column is not None and cost_column not in columns:
        hint = " (read the file with read_call_records)" if cost_column in OUTPUT_COLUMNS else ""
        raise BillAnalysisError(
            {"cost_column": f"the call records have no column {cost_column}{hint}"}
        )


def _facts(cdrs: pl.DataFrame, fmt: CdrFormat, cost_column: str | None) -> pl.DataFrame:
    """Start, billable seconds, answered and held seconds of every row (null: unreadable)."""
    seconds = parse_duration(cdrs[fmt.duration_column]).alias("seconds")
    start = (
        cdrs[fmt.start_column]
        .cast(pl.String)
        .str.strip_chars()
        .str.slice(0, 19)  # an offset or fraction after the seconds is the same wall clock
        .str.replace("T", " ", literal=True)
        .str.to_datetime(_START_FORMAT, strict=False)
        .alias("start")
    )
    answered, held = _ANSWERED.get(fmt.name, _generic)(cdrs, seconds)
    columns = [start, seconds, answered.fill_null(False).alias("answered"), held.alias("held")]
    if cost_column is not None:
        columns.append(_money(cdrs[cost_column]).alias("cost"))
    return pl.DataFrame(columns)


def _money(values: pl.Series) -> pl.Series:
    # The prospect's charges come with at most 6 decimals in practice; more is rounded
    # away by the cast, which is below any currency's minor unit.
    text = values.cast(pl.String).str.strip_chars().str.replace(",", ".", literal=True)
    return text.cast(pl.Decimal(38, max(CURRENCY_EXPONENTS.values()) + 4), strict=False)


def _generic(cdrs: pl.DataFrame, seconds: pl.Series) -> tuple[pl.Series, pl.Series]:
    return seconds > 0, seconds


def _asterisk(cdrs: pl.DataFrame, seconds: pl.Series) -> tuple[pl.Series, pl.Series]:
    answered = cdrs["disposition"].cast(pl.String).str.strip_chars().str.to_uppercase()
    return answered == "ANSWERED", _held(cdrs, seconds)


def _freeswitch(cdrs: pl.DataFrame, seconds: pl.Series) -> tuple[pl.Series, pl.Series]:
    stamp = cdrs["answer_stamp"].cast(pl.String).str.strip_chars().fill_null("")
    return (stamp != "") | (seconds > 0), _held(cdrs, seconds)


def _held(cdrs: pl.DataFrame, seconds: pl.Series) -> pl.Series:
    """The attempt's whole ``duration`` (ringing included), else its billable seconds."""
    total = parse_duration(cdrs["duration"])
    return pl.select(pl.max_horizontal(total.fill_null(seconds), seconds)).to_series()


_ANSWERED: Mapping[str, Callable[[pl.DataFrame, pl.Series], tuple[pl.Series, pl.Series]]] = {
    "generic": _generic,
    "asterisk": _asterisk,
    "freeswitch": _freeswitch,
}
_EXTRA_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "asterisk": ("disposition", "duration"),
    "freeswitch": ("answer_stamp", "duration"),
}


def _normalised(dialled: pl.Series, numbering: Numbering) -> pl.Series:
    """:func:`~ringup.engine.rating.normalise`, run once per distinct dialled string.

    A company calls the same numbers again and again (and its callers are a few hundred
    lines), so normalising the distinct strings and joining back is much less work than
    cleaning every call's string.
    """
    text = dialled.cast(pl.String).alias("dialled")
    distinct = text.unique()
    mapping = pl.DataFrame([distinct, normalise(distinct, numbering).alias("number")])
    joined = pl.DataFrame([text]).join(
        mapping, on="dialled", how="left", nulls_equal=True, maintain_order="left"
    )
    return joined["number"]


def _home_area(
    given: str | None,
    country: str,
    callers: pl.Series,
    dialled: pl.Series,
    numbering: Numbering,
) -> str | None:
    if given is not None:
        given = given.strip().lstrip("+")
        if not given.isdigit():
            return given or None
        area = area_of(given, country)
        if area is None:
            raise BillAnalysisError({"home_area": f"{given} is not a fixed-line area of {country}"})
        return area
    # Outbound CDRs often carry extensions as callers: then the callers say nothing and the
    # most common area called stands in (most business calls are local).
    for numbers in (_normalised(callers, numbering), dialled):
        common = number_areas(numbers, country).drop_nulls().mode().sort()
        if len(common):
            return str(common[0])
    return None
