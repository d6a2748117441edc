"""Importing carrier deck versions and storing their margin impact.

``import_version`` checks a deck CSV with the rating engine (``load_deck``'s rules and
messages) and stores it as a version; ``compute_impact`` re-costs the window's rated calls
at the version and at the one before it, stores the tables, and — in the same
transaction — emits ``margin.below_target`` once per version (event key) when
destinations fall below the target. The pricing owner's alert and e-mail come from that
event (``consumers``).
"""

import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import polars as pl
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from ringup.engine.pricing import SelectionError
from ringup.engine.rating import DeckError, RateDeck, deck_from_frame
from ringup.events.services import emit
from ringup.usage.numbers import numbering

from . import costing, selectors
from .models import CarrierDeckVersion, CarrierRate, MarginImpact

BELOW_TARGET = "margin.below_target"
WINDOWS = (30, 90)


class VersionRefused(SelectionError):
    """A deck version that cannot be stored; ``errors`` names the field (API: 422)."""


def target_percent() -> Decimal:
    """The operator's target margin in percent of retail revenue (``RINGUP_MARGIN_TARGET``)."""
    return Decimal(settings.RINGUP_MARGIN_TARGET)


def read_deck(content: bytes, name: str) -> RateDeck:
    """A deck CSV's bytes, checked by the rating engine (``DeckError`` names the line)."""
    try:
        frame = pl.read_csv(
            io.BytesIO(content),
            infer_schema=False,
            encoding="utf8-lossy",
            raise_if_empty=False,
            with_column_names=lambda names: [n.strip().lower() for n in names],
        )
    except pl.exceptions.PolarsError as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise DeckError(f"cannot read deck {name}: {first}") from None
    return deck_from_frame(frame, name=name)


def import_version(
    content: bytes,
    *,
    carrier: str,
    effective_from: date,
    at: datetime,
    by=None,
    file_name: str = "deck.csv",
) -> CarrierDeckVersion:
    """Store a deck CSV as ``carrier``'s version from ``effective_from``.

    Raises :class:`VersionRefused` naming ``carrier``, ``effective_from`` or ``file``.
    """
    carrier = carrier.strip()
    if not carrier:
        raise VersionRefused({"carrier": "must not be empty"})
    try:
        deck = read_deck(content, file_name)
    except DeckError as error:
        raise VersionRefused({"file": str(error)}) from None
    try:
        with transaction.atomic():
            version = CarrierDeckVersion.objects.create(
                carrier=carrier,
                effective_from=effective_from,
                imported_at=at,
                imported_by=by,
                file_name=file_name[:200],
            )
            CarrierRate.objects.bulk_create(_rates(version, deck), batch_size=2000)
    except IntegrityError:
        raise VersionRefused(
            {"effective_from": f"{carrier} already has a version from {effective_from}"}
        ) from None
    return version


def _rates(version: CarrierDeckVersion, deck: RateDeck) -> list[CarrierRate]:
    columns = (
        "prefix",
        "description",
        "rate_micros",
        "connect_fee_micros",
        "first_increment",
        "increment",
        "min_duration",
    )
    return [
        CarrierRate(
            version=version,
            prefix=prefix,
            description=description[:100],
            rate=costing.money(rate),
            connect_fee=costing.money(fee),
            first_increment=first,
            increment=step,
            min_duration=minimum,
        )
        for prefix, description, rate, fee, first, step, minimum in deck.entries.select(
            columns
        ).iter_rows()
    ]


@dataclass(frozen=True)
class Impact:
    """A version's effect on a window's traffic, before it is stored."""

    summary: dict
    findings: dict
    below_target: int


def impact_of(version: CarrierDeckVersion, *, days: int, at: datetime, retail: RateDeck) -> Impact:
    """Re-cost the rated calls of the ``days`` before ``at`` at ``version`` and at the
    version before it (or, for a first version, at the carrier cost they were rated
    with); the diff, and the destinations, plans and customers below the target."""
    target = target_percent()
    since = at - timedelta(days=days)
    calls = selectors.with_plans(selectors.rated_calls(since, at))
    previous = selectors.previous_version(version)
    new_deck = selectors.deck_of(version)
    old_deck = selectors.deck_of(previous) if previous else None
    priced = _priced(calls, new_deck, old_deck)
    unpriced = priced.filter(
        pl.col("carrier_micros").is_null() | pl.col("old_carrier_micros").is_null()
    ).height
    priced = priced.drop_nulls(["carrier_micros", "old_carrier_micros"])
    places = costing.deck_places(retail)
    covered = costing.days_covered(selectors.first_call(), since=since, until=at)
    diff = costing.diff_impact(costing.deck_diff(old_deck, new_deck), priced)
    groups = {
        "destinations": ["prefix", "description"],
        "plans": ["plan"],
        "customers": ["customer_id"],
    }
    findings = {
        name: _rows(
            costing.below_target(costing.margin_table(priced, by), target), covered, target, places
        )
        for name, by in groups.items()
    }
    findings["diff"] = _diff_rows(diff)
    totals = costing.margin_table(priced.with_columns(all=pl.lit("all")), ["all"])
    summary = {
        "days": days,
        # Local days, as the operator reads them: the window is [since, until).
        "first_day": timezone.localdate(since).isoformat(),
        "last_day": timezone.localdate(at - timedelta(microseconds=1)).isoformat(),
        "target_percent": str(target),
        "previous_version": previous.pk if previous else None,
        "previous": str(previous) if previous else "",
        "calls": priced.height,
        "unpriced_calls": unpriced,
        "price_places": places,
        "days_covered": covered,
        "totals": _rows(totals, covered, target, places)[0] if totals.height else None,
        "changes": {
            change: int(count)
            for change, count in diff.group_by("change").len().iter_rows()
            if change != "unchanged"
        },
    }
    return Impact(summary, findings, below_target=len(findings["destinations"]))


def _priced(calls: pl.DataFrame, new_deck: RateDeck, old_deck: RateDeck | None) -> pl.DataFrame:
    """``calls`` with ``retail_micros`` and the carrier columns of :func:`costing.carrier_costs`
    at the new deck and (prefixed ``old_``) at the old one."""
    plan = numbering()
    new = costing.carrier_costs(calls, new_deck, plan)
    if old_deck is not None:
        old = costing.carrier_costs(calls, old_deck, plan)
    else:
        # A first version: the carrier cost stored at import (its prefix is not stored;
        # only a removed prefix would need it, and a first version removes none).
        old = calls.select(
            pl.lit(None, dtype=pl.String).alias("carrier_prefix"),
            pl.col("duration").alias("carrier_seconds"),
            costing.micros(pl.col("carrier_cost")).alias("carrier_micros"),
        )
    return pl.concat(
        [
            calls.with_columns(retail_micros=costing.micros(pl.col("cost"))),
            new,
            old.rename(lambda c: f"old_{c}"),
        ],
        how="horizontal",
    )


def _rows(table: pl.DataFrame, days: int, target: Decimal, places: int) -> list[dict]:
    """Result rows as exact strings: margins, loss per month, the restoring rate."""
    rows = []
    for row in table.iter_rows(named=True):
        retail, old, new = row["retail_micros"], row["old_carrier_micros"], row["carrier_micros"]
        restore = costing.restoring_rate(new, row["carrier_seconds"], target, places)
        rows.append(
            {
                **{k: row[k] for k in ("prefix", "description", "plan", "customer_id") if k in row},
                "calls": row["calls"],
                "minutes": round(row["carrier_seconds"] / 60, 1),
                "retail": str(costing.money(retail).quantize(Decimal("0.01"))),
                "old_carrier": str(costing.money(old).quantize(Decimal("0.01"))),
                "new_carrier": str(costing.money(new).quantize(Decimal("0.01"))),
                "old_margin_percent": round(row["old_percent"], 1),
                "new_margin_percent": round(row["new_percent"], 1),
                "loss_per_month": str(costing.monthly(new - old, days)),
                "new_carrier_rate": costing.rate_text(
                    # per carrier minute, half-up to the micro-unit
                    (new * 120 + row["carrier_seconds"]) // (2 * row["carrier_seconds"])
                )
                if row["carrier_seconds"]
                else None,
                "restoring_rate": str(restore) if restore is not None else None,
            }
        )
    return rows


def _diff_rows(diff: pl.DataFrame) -> list[dict]:
    rows = []
    for row in diff.filter(pl.col("change") != "unchanged").iter_rows(named=True):
        old, new = row["old_micros"], row["new_micros"]
        rows.append(
            {
                "prefix": row["prefix"],
                "description": row["new_description"] or row["old_description"] or "",
                "change": row["change"],
                "old_rate": costing.rate_text(old) if old is not None else None,
                "new_rate": costing.rate_text(new) if new is not None else None,
                "percent": round(row["percent"], 1) if row["percent"] is not None else None,
                "minutes": round(row["minutes"], 1),
                "impact": str(costing.money(row["impact_micros"]).quantize(Decimal("0.01"))),
            }
        )
    return rows


def compute_impact(
    version: CarrierDeckVersion, *, days: int, at: datetime, retail: RateDeck
) -> MarginImpact:
    """Store (or replace) the version's impact on the last ``days`` and, when it takes
    destinations below the target, emit ``margin.below_target`` in the same transaction —
    once per version, whatever the window or how often this runs."""
    impact = impact_of(version, days=days, at=at, retail=retail)
    with transaction.atomic():
        stored, _ = MarginImpact.objects.update_or_create(
            version=version,
            window_days=days,
            defaults={
                "target_percent": target_percent(),
                "computed_at": at,
                "summary": impact.summary,
                "findings": impact.findings,
                "below_target": impact.below_target,
            },
        )
        if impact.below_target:
            emit(
                BELOW_TARGET,
                at=at,
                key=f"{BELOW_TARGET}:{version.pk}",
                payload={
                    "version_id": version.pk,
                    "version": str(version),
                    "impact_id": stored.pk,
                    "days": days,
                    "target_percent": str(target_percent()),
                    "destinations": impact.findings["destinations"][:10],
                    "below_target": impact.below_target,
                    "url": settings.PUBLIC_URL
                    + reverse("admin:margins_impact", args=[version.pk])
                    + f"?days={days}",
                },
            )
    return stored
