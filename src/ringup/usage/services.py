"""CDR import: claim a file once, rate its calls, store them with the file in one go.

``import_cdr_file`` is the whole job for one file; the command runs it inline or enqueues
one Celery task per file (``tasks.import_cdr_file``). The guarantees come from the
database, not from the caller:

* a file is claimed by inserting ``CdrFile(source, sha256)`` or nothing; only the worker
  whose token the row carries imports it. A claim older than ``RINGUP_CDR_CLAIM_TIMEOUT``
  (its worker died) or a failed import may be claimed again, under ``SELECT … FOR UPDATE
  SKIP LOCKED`` so two workers never both take it over;
* the calls are inserted (``ON CONFLICT DO NOTHING`` on ``(source, cdr_id)``) in the same
  transaction that marks the file done, so a worker killed mid-file leaves no calls;
* every row is stored: unrated ones with the engine's reason, or ``unknown_account`` when
  no customer has the call's account code, or ``bad_start`` when its start is unreadable;
* a trial customer's calls (``CallRestriction``) to destinations outside the trial's, or
  beyond its credit cap, are stored unrated with reason ``trial_blocked``: never billed;
* a call to a number a customer holds (``numbers``) is that customer's inbound call when
  it is the call's own customer or the call's account code is no customer's: stored with
  reason ``inbound`` and the number, never charged.
"""

import hashlib
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from ringup.customers.models import Customer
from ringup.engine.rating import (
    CdrFileError,
    CdrFormat,
    Numbering,
    RateDeck,
    UnratedReason,
    cdr_format,
    load_deck,
    normalise,
    rate,
    read_cdrs,
)
from ringup.sql import assign_unset

from .models import CallRestriction, CdrFile, RatedCall
from .numbers import INBOUND, holdings

UNKNOWN_ACCOUNT = "unknown_account"
BAD_START = "bad_start"
TRIAL_BLOCKED = "trial_blocked"
INSERT_BATCH = 5_000
#: Calls in one file after which the import refreshes PostgreSQL's statistics of the table.
ANALYZE_AFTER = 10_000
_START_FORMATS = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M")
_ZERO = Decimal("0.000000")

Progress = Callable[[int, int], None]  # (calls stored so far, calls in the file)


@dataclass
class FileImport:
    """What importing one file did. ``outcome``: ``imported``, ``already_imported`` (the
    same content from the same source is done), ``claimed_elsewhere`` (another worker
    holds a live claim) or ``failed`` (``error`` says why; nothing was stored)."""

    path: str
    source: str
    outcome: str
    calls: int = 0
    imported: int = 0
    duplicates: int = 0
    unrated: dict[str, int] = field(default_factory=dict)
    inbound: int = 0
    customers: int = 0
    cost: Decimal = _ZERO
    margin: Decimal = _ZERO
    error: str = ""

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "source": self.source,
            "outcome": self.outcome,
            "calls": self.calls,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "unrated": self.unrated,
            "inbound": self.inbound,
            "customers": self.customers,
            "cost": str(self.cost),
            "margin": str(self.margin),
            "error": self.error,
        }


#: Carrier deck versions in date order: ``((effective_from, deck), …)``.
CarrierVersions = tuple[tuple[date, RateDeck], ...]


@dataclass(frozen=True)
class Decks:
    retail: RateDeck
    carrier: RateDeck | None
    #: Each replaces ``carrier`` for the calls started on or after its day (operator's
    #: calendar) until the next one's: a call is costed at the version then in force.
    carrier_versions: CarrierVersions = ()


def configured_decks() -> Decks:
    """The retail and carrier decks named by ``RINGUP_RETAIL_DECK``/``RINGUP_CARRIER_DECK``
    (read once per process: a worker rates many files against them)."""
    key = (settings.RINGUP_RETAIL_DECK, settings.RINGUP_CARRIER_DECK or "")
    if _deck_cache.get("key") != key:
        carrier = load_deck(key[1]) if key[1] else None
        _deck_cache.update(key=key, decks=Decks(load_deck(key[0]), carrier))
    return _deck_cache["decks"]


def import_decks() -> Decks:
    """The configured decks with the carrier deck versions of the registered source (a
    database read), as the CDR import costs calls."""
    source = _carrier_versions.get("source")
    decks = configured_decks()
    return replace(decks, carrier_versions=source()) if source else decks


_deck_cache: dict = {}
_carrier_versions: dict[str, Callable[[], CarrierVersions]] = {}


def use_carrier_versions(source: Callable[[], CarrierVersions]) -> None:
    """Cost imported calls at dated carrier deck versions from ``source``.

    The margin monitor, an app above this one, keeps the versions and registers its
    reader here when it starts; without it the configured carrier deck costs every call.
    """
    _carrier_versions["source"] = source


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def claim_file(path: str | Path, source: str, sha256: str) -> tuple[CdrFile | None, str]:
    """Claim the file for this worker: ``(row, "claimed")``, or ``(None, why not)``."""
    now = timezone.now()
    token = uuid.uuid4().hex
    CdrFile.objects.bulk_create(
        [CdrFile(source=source, sha256=sha256, path=str(path), token=token, claimed_at=now)],
        ignore_conflicts=True,
    )
    row = CdrFile.objects.get(source=source, sha256=sha256)
    if row.token == token:
        return row, "claimed"  # the insert decided: no lock needed
    if row.status == CdrFile.Status.DONE:
        return None, "already_imported"
    # Taking over a dead worker's claim or a failed import: the row lock decides, and a
    # worker that finds it locked leaves it to the one holding it.
    stale = now - timedelta(seconds=settings.RINGUP_CDR_CLAIM_TIMEOUT)
    with transaction.atomic():
        row = (
            CdrFile.objects.select_for_update(skip_locked=True)
            .filter(Q(status=CdrFile.Status.FAILED) | Q(claimed_at__lt=stale))
            .exclude(status=CdrFile.Status.DONE)
            .filter(pk=row.pk)
            .first()
        )
        if row is None:
            return None, "claimed_elsewhere"
        row.token, row.claimed_at, row.status = token, now, CdrFile.Status.CLAIMED
        row.path, row.error, row.finished_at = str(path), "", None
        row.save()
        return row, "claimed"


def import_cdr_file(
    path: str | Path,
    *,
    source: str,
    format: str | CdrFormat = "generic",
    numbering: Numbering | None = None,
    decks: Decks | None = None,
    progress: Progress | None = None,
) -> FileImport:
    """Import one CDR file (see the module docstring). Raises ``CdrFileError`` for a
    file that does not exist; a file that cannot be read or rated is recorded as failed."""
    fmt = cdr_format(format)
    path = Path(path)
    if not path.is_file():
        raise CdrFileError(f"CDR file {path} does not exist")
    sha256 = file_sha256(path)
    row, outcome = claim_file(path, source, sha256)
    result = FileImport(path=str(path), source=source, outcome=outcome)
    if row is None:
        return result
    try:
        calls = _rated_calls(path, fmt, numbering, decks or import_decks(), sha256)
        calls = inbound_calls(calls, numbering or Numbering())
        calls = restrict_trial_calls(calls, source, numbering or Numbering())
        with transaction.atomic():
            _store(row, source, calls, progress)
            _finish(row, result, len(calls))
        if len(calls) >= ANALYZE_AFTER:
            _refresh_statistics()
    except Exception as error:
        message = " ".join(str(error).split())[:500] or type(error).__name__
        CdrFile.objects.filter(pk=row.pk, token=row.token).update(
            status=CdrFile.Status.FAILED, error=message, finished_at=timezone.now()
        )
        result.outcome, result.error = "failed", message
    return result


def _refresh_statistics() -> None:
    """``ANALYZE`` the rated calls on PostgreSQL. A bill run often follows an import at
    once, before autovacuum has looked: with statistics from before the import, which know
    nothing of its unbilled calls, marking a chunk's calls billed hashed every unbilled call
    instead of probing the primary key, 3.5 s a chunk instead of 0.05 s
    (docs/benchmarks.md)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {RatedCall._meta.db_table}")


def _rated_calls(
    path: Path, fmt: CdrFormat, numbering: Numbering | None, decks: Decks, sha256: str
) -> pl.DataFrame:
    """The file's calls, rated, one row each in the columns of :class:`RatedCall`."""
    raw = read_cdrs(path, fmt)
    rated = rate(raw, decks.retail, format=fmt, numbering=numbering, carrier_deck=decks.carrier)
    if decks.carrier is None:
        rated = rated.with_columns(
            pl.lit(None, dtype=rated["cost"].dtype).alias(c) for c in ("carrier_cost", "margin")
        )
    descriptions = decks.retail.entries.select("prefix", "description")
    calls = (
        rated.with_row_index("row")
        .with_columns(fmt.canonical(rated).rename(lambda c: f"_{c}"))
        .join(descriptions, on="prefix", how="left")
        .sort("row")
    )
    accounts = calls["_account"].fill_null("").str.strip_chars().unique().to_list()
    customers = dict(
        Customer.objects.filter(account__in=[a for a in accounts if a]).values_list("account", "pk")
    )
    start = _start(calls["_start"])
    calls = _costed_by_version(calls, raw, start, fmt, numbering, decks.carrier_versions)
    customer = (
        calls["_account"]
        .fill_null("")
        .str.strip_chars()
        .replace_strict(customers, default=None, return_dtype=pl.Int64)
    )
    reason = (
        pl.when(pl.col("reason").is_not_null())
        .then(pl.col("reason"))
        .when(pl.col("customer_id").is_null())
        .then(pl.lit(UNKNOWN_ACCOUNT))
        .when(pl.col("start").is_null())
        .then(pl.lit(BAD_START))
        .otherwise(pl.lit(""))
    )
    # An empty id cannot be a key; the row is still kept, under a key of its position.
    cdr_id = (
        pl.when(pl.col("reason") == UnratedReason.MISSING_ID.value)
        .then(pl.format("missing-id:{}:{}", pl.lit(sha256[:16]), pl.col("row")))
        .otherwise(pl.col("_id"))
    )
    return (
        calls.with_columns(customer.alias("customer_id"), start.alias("start"))
        .with_columns(reason.alias("reason"), cdr_id.alias("cdr_id"))
        .select(
            "cdr_id",
            pl.col("_account").fill_null("").str.slice(0, 80).alias("account"),
            "customer_id",
            pl.col("_dst").fill_null("").str.slice(0, 40).alias("dst"),
            "start",
            pl.col("_duration").str.strip_chars().cast(pl.Int64, strict=False).alias("duration"),
            "billed_seconds",
            pl.col("prefix").fill_null(""),
            pl.col("description").fill_null("").str.slice(0, 100),
            "cost",
            "carrier_cost",
            "margin",
            "reason",
            pl.lit("").alias("did"),
        )
    )


_TAIL_DIGITS = 7  # a subscriber number's last digits: the same in every dialled form

# Reasons under which a call to a held number is still that number's inbound call: the
# number is not the caller's to be charged for, whatever the decks made of it.
_MAY_BE_INBOUND = (
    "",
    UNKNOWN_ACCOUNT,
    UnratedReason.NO_MATCH.value,
    UnratedReason.NO_CARRIER_MATCH.value,
)


def inbound_calls(calls: pl.DataFrame, numbering: Numbering) -> pl.DataFrame:
    """``calls`` with the inbound ones marked (see the module docstring): reason
    ``inbound``, the holder as customer, the number in ``did``, no price. A call matches
    the holding in force at its start; columnar, one join."""
    held = holdings()
    if held.is_empty() or calls.is_empty():
        return calls
    # Only a call whose digits end as a held number's do may be to it, however the switch
    # wrote it (national, "+", "00"): normalising (a phonenumbers call per distinct
    # national number) is kept to those.
    tail = held["number"].str.slice(-_TAIL_DIGITS).unique().implode()
    digits = pl.col("dst").str.replace_all(r"\D", "")
    candidates = (
        calls.select("customer_id", "start", "reason", "dst")
        .with_row_index("_row")
        .filter(
            pl.col("reason").is_in(_MAY_BE_INBOUND)
            & pl.col("start").is_not_null()
            & digits.str.slice(-_TAIL_DIGITS).is_in(tail)
        )
    )
    if candidates.is_empty():
        return calls
    matched = (
        candidates.with_columns(normalise(candidates["dst"], numbering).alias("number"))
        .join(held, on="number")
        .filter(
            (pl.col("start") >= pl.col("assigned_at"))
            & (pl.col("released_at").is_null() | (pl.col("start") < pl.col("released_at")))
            & (pl.col("customer_id").is_null() | (pl.col("customer_id") == pl.col("holder")))
        )
        .unique("_row", keep="first")
    )
    if matched.is_empty():
        return calls
    hit = pl.col("holder").is_not_null()
    priced = ["billed_seconds", "cost", "carrier_cost", "margin"]
    return (
        calls.with_row_index("_row")
        .join(matched.select("_row", "holder", pl.col("number").alias("_did")), "_row", "left")
        .sort("_row")
        .with_columns(
            pl.when(hit)
            .then(pl.col("holder"))
            .otherwise(pl.col("customer_id"))
            .alias("customer_id"),
            pl.when(hit).then(pl.lit(INBOUND)).otherwise(pl.col("reason")).alias("reason"),
            pl.when(hit).then(pl.col("_did")).otherwise(pl.col("did")).alias("did"),
            *(pl.when(hit).then(None).otherwise(pl.col(c)).alias(c) for c in priced),
            *(
                pl.when(hit).then(pl.lit("")).otherwise(pl.col(c)).alias(c)
                for c in ("prefix", "description")
            ),
        )
        .drop("_row", "holder", "_did")
    )


def _costed_by_version(
    calls: pl.DataFrame,
    raw: pl.DataFrame,
    start: pl.Series,
    fmt: CdrFormat,
    numbering: Numbering | None,
    versions: CarrierVersions,
) -> pl.DataFrame:
    """``calls`` (in ``raw``'s order) with ``carrier_cost`` and ``margin`` of each rated
    call taken from the carrier deck version in force on its start day; calls before
    the first version, or with no readable start, keep the configured deck's cost."""
    if not versions:
        return calls
    day = start.dt.convert_time_zone(settings.TIME_ZONE).dt.date()
    carrier = calls["carrier_cost"]
    ends = [since for since, _ in versions[1:]] + [None]
    for (since, deck), until in zip(versions, ends, strict=True):
        in_force = (day >= since) & (day < until) if until else day >= since
        in_force = in_force.fill_null(False)
        if not in_force.any():
            continue
        # The same engine and the same rounding as the retail price, with the version as
        # the deck; a call without a prefix in it has no carrier cost.
        costed = rate(raw.filter(in_force), deck, format=fmt, numbering=numbering)["cost"]
        carrier = carrier.scatter(in_force.arg_true(), costed.cast(carrier.dtype))
    rated = calls["cost"].is_not_null()
    carrier = pl.select(pl.when(rated).then(carrier)).to_series()
    return calls.with_columns(
        carrier.alias("carrier_cost"), (calls["cost"] - carrier).alias("margin")
    )


def restrict_trial_calls(calls: pl.DataFrame, source: str, numbering: Numbering) -> pl.DataFrame:
    """``calls`` with the rated calls of customers under a live ``CallRestriction``,
    started since it began, marked ``trial_blocked`` (money columns null) when their
    destination is not allowed (the longest matching prefix of the E.164 number is a
    blocked one, or none matches) or when the customer's rated spend since the trial
    began, counting already stored calls of this source and this file's in start order,
    would pass the credit cap. Columnar: one pass per distinct set of limits."""
    # Live trials are few, files' customers many: read the former, match in memory.
    ids = set(calls.filter(pl.col("reason") == "")["customer_id"].drop_nulls().unique())
    restrictions = [
        restriction
        for restriction in CallRestriction.objects.filter(lifted_at=None)
        if restriction.customer_id in ids
    ]
    if not restrictions:
        return calls
    calls = calls.with_row_index("_row")
    blocked = pl.Series("_row", [], dtype=pl.UInt32)
    for group in _by_limits(restrictions):
        blocked = pl.concat([blocked, _blocked_rows(calls, source, numbering, group)])
    money = ["cost", "carrier_cost", "margin"]
    hit = pl.col("_row").is_in(blocked.implode())
    return calls.with_columns(
        pl.when(hit).then(pl.lit(TRIAL_BLOCKED)).otherwise(pl.col("reason")).alias("reason"),
        *(pl.when(hit).then(None).otherwise(pl.col(c)).alias(c) for c in money),
    ).drop("_row")


def _by_limits(restrictions: list[CallRestriction]) -> list[list[CallRestriction]]:
    groups: dict[tuple, list[CallRestriction]] = {}
    for restriction in restrictions:
        limits = (tuple(restriction.allowed_prefixes), tuple(restriction.blocked_prefixes))
        groups.setdefault(limits, []).append(restriction)
    return list(groups.values())


def _blocked_rows(
    calls: pl.DataFrame, source: str, numbering: Numbering, group: list[CallRestriction]
) -> pl.Series:
    """The ``_row`` of the calls this group of same-limit restrictions blocks."""
    terms = pl.DataFrame(
        {
            "customer_id": [r.customer_id for r in group],
            "_since": [r.since for r in group],
            "_cap": [r.credit_cap for r in group],
        },
        schema_overrides={"customer_id": pl.Int64, "_since": pl.Datetime("us", "UTC")},
    ).with_columns(pl.col("_cap").cast(calls["cost"].dtype))
    mine = calls.join(terms, on="customer_id").filter(
        (pl.col("reason") == "") & (pl.col("start") >= pl.col("_since"))
    )
    if mine.is_empty():
        return pl.Series("_row", [], dtype=pl.UInt32)
    e164 = normalise(mine["dst"], numbering).fill_null("")
    allowed = _longest_match(e164, group[0].allowed_prefixes)
    denied = _longest_match(e164, group[0].blocked_prefixes)
    mine = mine.with_columns(pl.Series("_allowed", (allowed > 0) & (allowed > denied)))
    spend = _stored_spend(source, group).with_columns(pl.lit(None, pl.UInt32).alias("_row"))
    ledger = (
        pl.concat(
            [
                spend,
                mine.filter("_allowed")
                .join(spend.select("cdr_id"), on="cdr_id", how="anti")  # stored already
                .select("customer_id", "cdr_id", "start", "cost", "_row"),
            ],
            how="vertical_relaxed",
        )
        .sort("customer_id", "start", "cdr_id")
        .with_columns(pl.col("cost").cum_sum().over("customer_id").alias("_spent"))
        .join(terms.select("customer_id", "_cap"), on="customer_id")
    )
    over_cap = ledger.filter(pl.col("_row").is_not_null() & (pl.col("_spent") > pl.col("_cap")))
    return pl.concat([mine.filter(~pl.col("_allowed"))["_row"], over_cap["_row"]])


def _longest_match(numbers: pl.Series, prefixes: list[str]) -> pl.Series:
    """Per number, the length of the longest of ``prefixes`` it starts with (0: none)."""
    longest = pl.Series(np.zeros(len(numbers), dtype=np.int32))
    for prefix in sorted(set(prefixes), key=len):
        longest = pl.select(
            pl.when(numbers.str.starts_with(prefix)).then(len(prefix)).otherwise(longest)
        ).to_series()
    return longest


def _stored_spend(source: str, group: list[CallRestriction]) -> pl.DataFrame:
    """The rated calls already stored for these customers since their trials began.

    A trial's spend is capped, so these are few."""
    since = {r.customer_id: r.since for r in group}
    rows = [
        row
        for row in RatedCall.objects.filter(
            customer_id__in=list(since), reason="", start__gte=min(since.values())
        ).values_list("customer_id", "cdr_id", "start", "cost", "source")
        if row[2] >= since[row[0]]
    ]
    return pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            # Another source's ids are not this file's: keep them apart from the anti-join.
            "cdr_id": [r[1] if r[4] == source else f"{r[4]}\x00{r[1]}" for r in rows],
            "start": [r[2] for r in rows],
            "cost": [r[3] for r in rows],
        },
        schema={
            "customer_id": pl.Int64,
            "cdr_id": pl.String,
            "start": pl.Datetime("us", "UTC"),
            "cost": pl.Decimal(18, 6),
        },
    )


def _start(text: pl.Series) -> pl.Series:
    """Start times as UTC instants: ISO 8601 with an offset as given, without one in the
    operator's time zone (``TIME_ZONE``), as switches write them; unreadable → null."""
    cleaned = text.fill_null("").str.strip_chars().str.replace("T", " ", literal=True)
    zone = settings.TIME_ZONE
    frame = pl.DataFrame({"t": cleaned})
    aware = pl.col("t").str.to_datetime(
        "%Y-%m-%d %H:%M:%S%.f%#z", strict=False, time_unit="us", time_zone="UTC"
    )
    naive = [
        pl.col("t")
        .str.to_datetime(fmt, strict=False, time_unit="us")
        .dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
        for fmt in _START_FORMATS
    ]
    return frame.select(pl.coalesce(aware, *naive).alias("start"))["start"]


def _store(row: CdrFile, source: str, calls: pl.DataFrame, progress: Progress | None) -> None:
    total = calls.height
    # A repeated id is stored once: the first row (the engine rates it, the rest repeat it).
    kept = calls.filter(pl.col("reason") != UnratedReason.DUPLICATE_ID.value)
    done = total - kept.height
    for batch in kept.iter_slices(INSERT_BATCH):
        RatedCall.objects.bulk_create(
            [
                RatedCall(source=source, cdr_file=row, **call)
                for call in batch.iter_rows(named=True)
            ],
            ignore_conflicts=True,
        )
        done += batch.height
        if progress:
            progress(done, total)
    if progress and not kept.height:
        progress(total, total)


def _finish(row: CdrFile, result: FileImport, calls: int) -> None:
    mine = RatedCall.objects.filter(cdr_file=row)
    sums = mine.aggregate(
        imported=Count("pk"),
        customers=Count("customer", distinct=True),
        cost=Sum("cost", filter=Q(reason="")),
        margin=Sum("margin", filter=Q(reason="")),
    )
    unrated = dict(
        mine.exclude(reason__in=["", INBOUND])
        .values("reason")
        .annotate(n=Count("pk"))
        .order_by("reason")
        .values_list("reason", "n")
    )
    result.outcome = "imported"
    result.calls = calls
    result.imported = sums["imported"]
    result.duplicates = calls - sums["imported"]
    result.unrated = unrated
    result.inbound = mine.filter(reason=INBOUND).count()
    result.customers = sums["customers"]
    # SQLite sums decimals as floats: back to the engine's exact 6 places.
    result.cost = Decimal(sums["cost"] or 0).quantize(_ZERO)
    result.margin = Decimal(sums["margin"] or 0).quantize(_ZERO)
    finished = CdrFile.objects.filter(pk=row.pk, token=row.token).update(
        status=CdrFile.Status.DONE,
        calls=calls,
        imported=result.imported,
        duplicates=result.duplicates,
        unrated=sum(unrated.values()),
        finished_at=timezone.now(),
    )
    if finished != 1:
        # The claim went stale and another worker took the file over: let it finish.
        raise ClaimLost(f"the claim on {row.path} was taken over by another worker")


class ClaimLost(RuntimeError):
    """This worker's claim expired and was taken over; its work is rolled back."""


def cdr_paths(spec: str) -> list[Path]:
    """The files a command-line argument names: a file, a directory's files (not
    recursive, sorted) or a glob pattern. Empty when nothing matches."""
    path = Path(spec)
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    if any(ch in spec for ch in "*?["):
        anchor = Path(path.anchor) if path.is_absolute() else Path()
        pattern = str(path.relative_to(anchor)) if path.is_absolute() else spec
        return sorted(p for p in anchor.glob(pattern) if p.is_file())
    return []


def summarise(results: Iterable[FileImport]) -> dict:
    """One summary over many files (the command's output)."""
    results = list(results)
    unrated: dict[str, int] = {}
    for result in results:
        for reason, count in result.unrated.items():
            unrated[reason] = unrated.get(reason, 0) + count
    outcomes: dict[str, int] = {}
    for result in results:
        outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
    return {
        "files": len(results),
        "outcomes": dict(sorted(outcomes.items())),
        "calls": sum(r.calls for r in results),
        "imported": sum(r.imported for r in results),
        "duplicates_skipped": sum(r.duplicates for r in results),
        "unrated": dict(sorted(unrated.items())),
        "inbound": sum(r.inbound for r in results),
        "customers_matched": sum(r.customers for r in results),
        "total_cost": str(sum((r.cost for r in results), _ZERO)),
        "margin": str(sum((r.margin for r in results), _ZERO)),
        "errors": [f"{r.path}: {r.error}" for r in results if r.error],
    }


def files_summary(source: str, sha256s: list[str], since) -> dict | None:
    """The summary of the files with these contents from ``source`` once every one has
    finished (``None`` while any is still claimed or not yet claimed). Files finished
    before ``since`` count as ``already_imported``: this run added nothing from them."""
    rows = list(CdrFile.objects.filter(source=source, sha256__in=sha256s))
    stale = timezone.now() - timedelta(seconds=settings.RINGUP_CDR_CLAIM_TIMEOUT)
    # A claim gone stale is a dead worker's: nobody will finish it unless queued again.
    dead = [r for r in rows if r.status == CdrFile.Status.CLAIMED and r.claimed_at < stale]
    live = any(r.status == CdrFile.Status.CLAIMED and r.claimed_at >= stale for r in rows)
    if len(rows) < len(set(sha256s)) or live:
        return None
    fresh = [r for r in rows if r.finished_at and r.finished_at >= since]
    done = [r for r in fresh if r.status == CdrFile.Status.DONE]
    calls = RatedCall.objects.filter(cdr_file__in=done)
    sums = calls.aggregate(
        customers=Count("customer", distinct=True),
        cost=Sum("cost", filter=Q(reason="")),
        margin=Sum("margin", filter=Q(reason="")),
    )
    unrated = dict(
        calls.exclude(reason__in=["", INBOUND])
        .values("reason")
        .annotate(n=Count("pk"))
        .order_by("reason")
        .values_list("reason", "n")
    )
    outcomes = {
        "imported": len(done),
        "failed": len(fresh) - len(done),
        "already_imported": len(rows) - len(fresh) - len(dead),
        "stale_claim": len(dead),
    }
    return {
        "files": len(rows),
        "outcomes": {key: n for key, n in sorted(outcomes.items()) if n},
        "calls": sum(r.calls for r in done),
        "imported": sum(r.imported for r in done),
        "duplicates_skipped": sum(r.duplicates for r in done),
        "unrated": unrated,
        "inbound": calls.filter(reason=INBOUND).count(),
        "customers_matched": sums["customers"],
        "total_cost": str(Decimal(sums["cost"] or 0).quantize(_ZERO)),
        "margin": str(Decimal(sums["margin"] or 0).quantize(_ZERO)),
        "errors": sorted(
            [f"{r.path}: {r.error}" for r in fresh if r.status != CdrFile.Status.DONE]
            + [f"{r.path}: claimed by a worker that did not finish; import it again" for r in dead]
        ),
    }


def mark_billed(calls: Sequence[tuple[int, int]]) -> int:
    """Record which invoice billed each call: ``calls`` holds ``(call id, invoice id)``
    pairs, and only calls not billed yet are marked (``… WHERE billed_invoice_id IS
    NULL``). Returns how many were marked: the caller, inside the transaction that writes
    the invoices, rolls back when that is fewer than it took (another invoice billed some
    meanwhile)."""
    return assign_unset(RatedCall, "billed_invoice_id", calls)
