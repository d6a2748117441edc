"""Reads for the margin monitor and the risk flags: decks of stored versions, the rated
calls of a window and the plan each call was made on, as Polars frames."""

from datetime import date, datetime

import polars as pl
from django.conf import settings
from django.db.models import Min, Q

from ringup.billing.models import SubscriptionChange
from ringup.engine.rating import RateDeck, deck_from_frame
from ringup.usage.models import RatedCall
from ringup.usage.numbers import INBOUND

from .models import CarrierDeckVersion, CarrierRate

_DECK_COLUMNS = (
    "prefix",
    "rate",
    "connect_fee",
    "first_increment",
    "increment",
    "description",
    "min_duration",
)


def deck_of(version: CarrierDeckVersion) -> RateDeck:
    """The version's rates as the rating engine's deck."""
    rows = CarrierRate.objects.filter(version=version).values_list(*_DECK_COLUMNS)
    frame = pl.DataFrame(
        [tuple(str(value) for value in row) for row in rows],
        schema=list(_DECK_COLUMNS),
        orient="row",
    )
    return deck_from_frame(frame, name=str(version))


def costing_carrier() -> str:
    """The carrier whose versions cost imported calls: ``RINGUP_COSTING_CARRIER``, or
    else the carrier of the most recently imported version ("" when there is none)."""
    named = settings.RINGUP_COSTING_CARRIER.strip()
    if named:
        return named
    latest = CarrierDeckVersion.objects.order_by("-imported_at", "-pk").first()
    return latest.carrier if latest else ""


def costing_versions() -> tuple[tuple[date, RateDeck], ...]:
    """The costing carrier's versions in date order, as ``(effective_from, deck)`` — the
    CDR import's source of dated carrier decks (``usage.services.use_carrier_versions``).

    One small query per call; the decks are read again only when the versions change
    (a worker imports many files against the same ones).
    """
    carrier = costing_carrier()
    versions = list(CarrierDeckVersion.objects.filter(carrier=carrier).order_by("effective_from"))
    key = tuple((v.pk, v.effective_from, v.imported_at) for v in versions)
    if _costing_cache.get("key") != key:
        _costing_cache.update(
            key=key, decks=tuple((v.effective_from, deck_of(v)) for v in versions)
        )
    return _costing_cache["decks"]


_costing_cache: dict = {}


def previous_version(version: CarrierDeckVersion) -> CarrierDeckVersion | None:
    """The same carrier's version in force before ``version``."""
    return (
        CarrierDeckVersion.objects.filter(
            carrier=version.carrier, effective_from__lt=version.effective_from
        )
        .order_by("-effective_from")
        .first()
    )


_CALL_SCHEMA = {
    "id": pl.Int64,
    "customer_id": pl.Int64,
    "start": pl.Datetime("us", "UTC"),
    "dst": pl.String,
    "duration": pl.Int64,
    "billed_seconds": pl.Int64,
    "prefix": pl.String,
    "description": pl.String,
    "cost": pl.Decimal(18, 6),
    "carrier_cost": pl.Decimal(18, 6),
}


def rated_calls(since: datetime, until: datetime, **filters) -> pl.DataFrame:
    """The billable rated calls of customers started in ``[since, until)``, one row each
    (columns of ``_CALL_SCHEMA``), in one query."""
    rows = (
        RatedCall.objects.filter(
            reason="", customer__isnull=False, start__gte=since, start__lt=until, **filters
        )
        .order_by("pk")
        .values_list(*_CALL_SCHEMA)
    )
    return pl.DataFrame(list(rows), schema=_CALL_SCHEMA, orient="row")


def first_call() -> datetime | None:
    """When the first billable rated call stored started (the history's beginning)."""
    return RatedCall.objects.filter(reason="", customer__isnull=False).aggregate(
        first=Min("start")
    )["first"]


def call_attempts(since: datetime, until: datetime) -> pl.DataFrame:
    """Every outbound call of customers in ``[since, until)``, rated or not (attempts
    count for answer ratios; inbound calls are not the customer's dialling):
    ``customer_id``, ``start``, ``duration``, ``billed_seconds``, ``carrier_cost``."""
    schema = {
        "customer_id": pl.Int64,
        "start": pl.Datetime("us", "UTC"),
        "duration": pl.Int64,
        "billed_seconds": pl.Int64,
        "cost": pl.Decimal(18, 6),
        "carrier_cost": pl.Decimal(18, 6),
    }
    rows = (
        RatedCall.objects.filter(customer__isnull=False, start__gte=since, start__lt=until)
        .exclude(reason__in=["duplicate_id", "missing_id", INBOUND])
        .values_list(*schema)
    )
    return pl.DataFrame(list(rows), schema=schema, orient="row")


def plan_timeline(customer_ids: list[int]) -> pl.DataFrame:
    """When each customer's subscriptions took each plan: ``customer_id``, ``at``
    (UTC), ``plan`` (code), sorted by ``at`` (for an as-of join on call starts)."""
    rows = (
        SubscriptionChange.objects.filter(
            subscription__customer_id__in=customer_ids, to_plan__isnull=False
        )
        .filter(Q(kind__in=["started", "converted", "upgrade", "downgrade"]))
        .values_list("subscription__customer_id", "at", "to_plan__code")
    )
    schema = {"customer_id": pl.Int64, "at": pl.Datetime("us", "UTC"), "plan": pl.String}
    return pl.DataFrame(list(rows), schema=schema, orient="row").sort("at")


def with_plans(calls: pl.DataFrame) -> pl.DataFrame:
    """``calls`` with ``plan``: the plan the customer's subscription had at the call's
    start (the last plan change before it), or "no plan"."""
    timeline = plan_timeline(calls["customer_id"].unique().to_list())
    return (
        calls.with_row_index("_row")
        .sort("start")
        .join_asof(
            timeline,
            left_on="start",
            right_on="at",
            by="customer_id",
            strategy="backward",
            check_sortedness=False,  # both sides are sorted by time just above
        )
        .sort("_row")
        .drop("_row", "at")
        .with_columns(pl.col("plan").fill_null("no plan"))
    )
