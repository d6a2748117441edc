"""CDR files: the generic CSV, Asterisk ``Master.csv`` and FreeSWITCH ``mod_cdr_csv``.

Every column is read as text and kept as it was, so a rated file carries the PBX's own
record unchanged; rating needs only an id, the dialled number and the billable seconds,
which each :class:`CdrFormat` names. ``docs/cdr-formats.md`` lists the columns.

Readers are lazy (:func:`scan_cdrs`) so a file larger than memory streams through in
batches; :func:`read_cdrs` collects a small file at once.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

GENERIC_COLUMNS = ("id", "account", "src", "dst", "start", "duration")

ASTERISK_BASE_COLUMNS = (
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
)
# cdr_csv appends uniqueid (loguniqueid=yes), userfield (loguserfield=yes) and, with
# newcdrcolumns=yes, peeraccount, linkedid and sequence. A 17- or 20-column file is read as
# carrying uniqueid (the default cdr.conf logs both or neither of uniqueid and userfield).
_ASTERISK_NEW = ("peeraccount", "linkedid", "sequence")
ASTERISK_LAYOUTS: Mapping[int, tuple[str, ...]] = {
    16: ASTERISK_BASE_COLUMNS,
    17: (*ASTERISK_BASE_COLUMNS, "uniqueid"),
    18: (*ASTERISK_BASE_COLUMNS, "uniqueid", "userfield"),
    19: (*ASTERISK_BASE_COLUMNS, *_ASTERISK_NEW),
    20: (*ASTERISK_BASE_COLUMNS, "uniqueid", *_ASTERISK_NEW),
    21: (*ASTERISK_BASE_COLUMNS, "uniqueid", "userfield", *_ASTERISK_NEW),
}

FREESWITCH_COLUMNS = (
    "caller_id_name",
    "caller_id_number",
    "destination_number",
    "context",
    "start_stamp",
    "answer_stamp",
    "end_stamp",
    "duration",
    "billsec",
    "hangup_cause",
    "uuid",
    "bleg_uuid",
    "accountcode",
    "read_codec",
    "write_codec",
)

#: Columns rating writes; an input that already has them (a rated file being re-rated)
#: has them replaced, never duplicated.
OUTPUT_COLUMNS = (
    "prefix",
    "rate",
    "billed_seconds",
    "cost",
    "carrier_prefix",
    "carrier_cost",
    "margin",
    "reason",
)


class CdrFileError(ValueError):
    """A CDR file that cannot be read at all: missing, unreadable, or without a needed column.

    (A bad *row* is never this error: it becomes an unrated call with a reason.)
    """


@dataclass(frozen=True, slots=True)
class CdrFormat:
    """Where a CDR layout keeps what rating needs.

    ``layouts`` maps a column count to the column names of a file without a header (empty
    for formats with a header row). ``derived_id`` formats get an ``id`` column added by the
    reader (see :func:`asterisk_id`).
    """

    name: str
    id_column: str
    account_column: str
    src_column: str
    dst_column: str
    start_column: str
    duration_column: str
    layouts: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    derived_id: bool = False

    @property
    def has_header(self) -> bool:
        return not self.layouts

    @property
    def required_columns(self) -> tuple[str, ...]:
        return (
            self.id_column,
            self.account_column,
            self.src_column,
            self.dst_column,
            self.start_column,
            self.duration_column,
        )

    def canonical(self, cdrs: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame | pl.LazyFrame:
        """The calls as ``id, account, src, dst, start, duration`` (text), whatever the layout."""
        return cdrs.select(
            pl.col(source).alias(target)
            for source, target in zip(self.required_columns, GENERIC_COLUMNS, strict=True)
        )


GENERIC = CdrFormat(
    name="generic",
    id_column="id",
    account_column="account",
    src_column="src",
    dst_column="dst",
    start_column="start",
    duration_column="duration",
)
ASTERISK = CdrFormat(
    name="asterisk",
    id_column="id",
    account_column="accountcode",
    src_column="src",
    dst_column="dst",
    start_column="start",
    duration_column="billsec",
    layouts=ASTERISK_LAYOUTS,
    derived_id=True,
)
FREESWITCH = CdrFormat(
    name="freeswitch",
    id_column="uuid",
    account_column="accountcode",
    src_column="caller_id_number",
    dst_column="destination_number",
    start_column="start_stamp",
    duration_column="billsec",
    layouts={len(FREESWITCH_COLUMNS): FREESWITCH_COLUMNS},
)
FORMATS: Mapping[str, CdrFormat] = {f.name: f for f in (GENERIC, ASTERISK, FREESWITCH)}


def cdr_format(name: str | CdrFormat) -> CdrFormat:
    """The format called ``name`` (``generic``, ``asterisk``, ``freeswitch``)."""
    if isinstance(name, CdrFormat):
        return name
    try:
        return FORMATS[name]
    except KeyError:
        raise CdrFileError(
            f"unknown CDR format {name!r} (use one of {', '.join(FORMATS)})"
        ) from None


def asterisk_id() -> pl.Expr:
    """The id of an Asterisk CDR: its ``uniqueid`` when logged, else the row itself.

    Without a uniqueid the id is the 16 standard fields joined with ``|``: stable (the same
    row always gets the same id, so re-importing a file finds the same calls) and exact
    (two rows share an id only when they are identical, which cdr_csv writes only when it
    logged the same call twice).
    """
    fallback = pl.concat_str(
        [pl.col(column).fill_null("") for column in ASTERISK_BASE_COLUMNS], separator="|"
    )
    uniqueid = pl.col("uniqueid").fill_null("")
    return pl.when(uniqueid != "").then(uniqueid).otherwise(fallback).alias("id")


def scan_cdrs(
    path: str | Path,
    format: str | CdrFormat = GENERIC,
    *,
    lossy: bool = True,
    keep: Sequence[str] = (),
) -> pl.LazyFrame:
    """The CDR file at ``path`` as a lazy frame of text columns, ready to stream.

    Columns are the file's (named per ``docs/cdr-formats.md`` for files without a header),
    minus any :data:`OUTPUT_COLUMNS` (a rated file read again) not named in ``keep`` (a
    prospect's own ``cost`` column for the bill analysis), plus ``id`` for Asterisk.
    Blank lines are skipped. Rows with too few fields get empty values (and then become
    unrated calls); fields beyond the layout's last column are ignored. Bytes that are not
    UTF-8 are replaced by U+FFFD (with ``lossy=False`` they make the read fail instead,
    which reads faster: callers try that first and fall back).

    Raises :class:`CdrFileError` when the file is missing or unreadable, has no header
    (generic format), has a column count the format does not know, or lacks a column that
    rating needs.
    """
    scan = _scan(Path(path), cdr_format(format), lossy=lossy, keep=keep)
    return scan.filter(~pl.all_horizontal(pl.all().is_null()))


def census_scan(
    path: str | Path, format: str | CdrFormat = GENERIC, *, lossy: bool = True
) -> pl.LazyFrame:
    """Only the ids of the CDR file at ``path``, blank lines included (as null ids).

    Reading one column is cheaper than reading the rows; the duplicate-id census needs no
    more, and null ids never count as repeats.
    """
    fmt = cdr_format(format)
    return _scan(Path(path), fmt, lossy=lossy).select(fmt.id_column)


def _scan(path: Path, fmt: CdrFormat, *, lossy: bool, keep: Sequence[str] = ()) -> pl.LazyFrame:
    if not path.is_file():
        raise CdrFileError(f"CDR file {path} does not exist")
    header, names = _layout(path, fmt)
    scan = pl.scan_csv(
        path,
        has_header=header,
        new_columns=None if header else list(names),
        infer_schema=False,
        encoding="utf8-lossy" if lossy else "utf8",
        truncate_ragged_lines=True,
        raise_if_empty=False,
        with_column_names=(lambda columns: [c.strip() for c in columns]) if header else None,
    )
    try:
        columns = scan.collect_schema().names()
    except pl.exceptions.PolarsError as error:
        raise CdrFileError(f"cannot read CDR file {path}: {first_line(error)}") from None
    scan = scan.select(c for c in columns if c not in OUTPUT_COLUMNS or c in keep)
    if fmt.derived_id:
        if "uniqueid" not in columns:
            scan = scan.with_columns(pl.lit("", dtype=pl.String).alias("uniqueid"))
        scan = scan.with_columns(asterisk_id())
        if "uniqueid" not in columns:
            scan = scan.drop("uniqueid")
    return scan


def read_cdrs(
    path: str | Path, format: str | CdrFormat = GENERIC, *, keep: Sequence[str] = ()
) -> pl.DataFrame:
    """The whole CDR file at ``path`` in memory (see :func:`scan_cdrs`)."""
    try:
        return scan_cdrs(path, format, keep=keep).collect()
    except pl.exceptions.PolarsError as error:
        raise CdrFileError(f"cannot read CDR file {path}: {first_line(error)}") from None


def first_line(error: BaseException) -> str:
    """The first line of an error's message (Polars' messages carry hints below it)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _layout(path: Path, fmt: CdrFormat) -> tuple[bool, tuple[str, ...]]:
    """Whether the file has a header row, and its column names."""
    try:
        first = pl.read_csv(
            path,
            has_header=False,
            n_rows=1,
            infer_schema=False,
            encoding="utf8-lossy",
            truncate_ragged_lines=True,
            raise_if_empty=False,
        )
    except (OSError, pl.exceptions.PolarsError) as error:
        raise CdrFileError(f"cannot read CDR file {path}: {first_line(error)}") from None
    values = first.row(0) if first.height else ()
    fields = tuple("" if v is None else str(v).strip().lstrip("\ufeff") for v in values)
    if fmt.has_header or _is_own_header(fields, fmt):
        if not fields:
            raise CdrFileError(f"CDR file {path} is empty: it needs a header row")
        _require(fields, fmt, path)
        return True, fields
    if not fields:
        return False, next(iter(fmt.layouts.values()))
    try:
        return False, fmt.layouts[len(fields)]
    except KeyError:
        known = ", ".join(str(count) for count in fmt.layouts)
        raise CdrFileError(
            f"{fmt.name} CDR file {path} has {len(fields)} columns; expected {known}"
        ) from None


def _is_own_header(fields: tuple[str, ...], fmt: CdrFormat) -> bool:
    # A rated Asterisk or FreeSWITCH file has a header row of the documented names: it can
    # be rated again with the same --format.
    layout = next(iter(fmt.layouts.values()))
    return fields[:3] == layout[:3]


def _require(columns: tuple[str, ...], fmt: CdrFormat, path: Path) -> None:
    needed = [c for c in fmt.required_columns if c not in columns]
    if fmt.derived_id:
        needed = [c for c in needed if c != fmt.id_column]
    if needed:
        raise CdrFileError(f"CDR file {path} lacks the column(s) {', '.join(needed)}")
