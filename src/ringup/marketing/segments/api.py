"""Segments API for the operator's staff: segments and their conditions, live counts,
samples, CSV export, and a preview of unsaved conditions.

Authentication as for billing: an API key (``Authorization: Bearer rk_…``) or a staff
session (writes with the CSRF token). Bad conditions answer 422 with the JSON path of
each error in ``loc``, e.g. ``["body", "conditions", "all", "1", "value"]``.
"""

import re
from datetime import datetime
from typing import Annotated, Any

from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.security import SessionAuthIsStaff
from pydantic import BeforeValidator, StringConstraints

from ringup.apikeys.auth import ApiKeyAuth
from ringup.catalog.api import Message, Unprocessable

from . import selectors, services
from .conditions import ConditionError, describe
from .export import csv_response

router = Router(tags=["segments"], auth=[ApiKeyAuth(), SessionAuthIsStaff()])

# 400: a body that is not JSON; 403: a session-authenticated write without its CSRF token.
ERRORS = {400: Message, 401: Message, 403: Message, 404: Message, 422: Unprocessable}
IN_USE = {409: Message}
Name = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
]
Description = Annotated[str, StringConstraints(max_length=5000, pattern=r"^[^\x00]*$")]
Conditions = Annotated[
    dict[str, Any],
    Field(
        description='A group {"all": [..]}, {"any": [..]} or {"not": ..} of conditions '
        '{"field": .., "op": .., "value": ..}; see docs/segments.md',
        examples=[{"all": [{"field": "tier", "op": "in", "value": ["smb"]}]}],
    ),
]


def _iso_only(value):
    # Pydantic would also read a bare number as seconds since 1970: an instant here is
    # written as ISO 8601, as documented.
    if isinstance(value, datetime) or value is None:
        return value
    if not isinstance(value, str) or re.fullmatch(r"\s*[-+]?[\d.]+\s*", value):
        raise ValueError("expected an ISO 8601 date-time, e.g. 2025-06-01T12:00:00Z")
    return value


Instant = Annotated[
    datetime | None,
    BeforeValidator(_iso_only),
    Field(description="Evaluate at this instant (ISO 8601; default: now)"),
]
# Instants the calendar arithmetic of every condition can reach safely.
EARLIEST, LATEST = 1900, 9000


class SegmentIn(Schema):
    name: Name
    description: Description = ""
    conditions: Conditions


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    conditions: dict[str, Any]
    in_words: str = Field(description="The conditions as a sentence")
    created_at: datetime
    updated_at: datetime


class CustomerOut(Schema):
    id: int
    name: str
    email: str
    phone: str
    country: str
    language: str
    tier: str
    registered_at: datetime


class CountOut(Schema):
    at: datetime
    count: int


class SampleOut(Schema):
    at: datetime
    customers: list[CustomerOut]


class PreviewIn(Schema):
    conditions: Conditions
    at: Instant = None


class PreviewOut(Schema):
    at: datetime
    count: int
    in_words: str
    sample: list[CustomerOut]


class At(Schema):
    at: Instant = None


class Page(Schema):
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=10_000_000)


def _unprocessable(errors: dict[str, str], where: str = "body"):
    detail = [
        {"type": "value_error", "loc": [where, *path.split(".")], "msg": message}
        for path, message in errors.items()
    ]
    return Status(422, {"detail": detail})


class _BadInstant(ValueError):
    pass


def _instant(at: datetime | None) -> datetime:
    if at is None:
        return timezone.now()
    if not EARLIEST <= at.year <= LATEST:
        raise _BadInstant(f"expected a year from {EARLIEST} to {LATEST}")
    return at if timezone.is_aware(at) else timezone.make_aware(at)


def _segment_out(segment) -> dict:
    return {
        "id": segment.pk,
        "name": segment.name,
        "description": segment.description,
        "conditions": segment.conditions,
        "in_words": describe(segment.conditions),
        "created_at": segment.created_at,
        "updated_at": segment.updated_at,
    }


def _customer_out(customer) -> dict:
    return {
        field: getattr(customer, field)
        for field in ("id", "name", "email", "phone", "country", "language", "tier")
    } | {"registered_at": customer.registered_at}


def _not_found():
    return Status(404, {"detail": "no segment with this id"})


@router.get("/segments", response={200: list[SegmentOut], **ERRORS}, summary="Segments")
def list_segments(request, page: Query[Page]):
    return [_segment_out(s) for s in selectors.segments()[page.offset : page.offset + page.limit]]


@router.post("/segments", response={201: SegmentOut, **ERRORS}, summary="Create a segment")
def create_segment(request, payload: SegmentIn):
    try:
        segment = services.create_segment(**payload.dict())
    except ConditionError as exc:
        return _unprocessable(exc.errors)
    except services.NameTaken as exc:
        return _unprocessable({"name": str(exc)})
    return Status(201, _segment_out(segment))


# Before the /segments/{segment_id} routes, so that "preview" is not taken for an id.
@router.post(
    "/segments/preview",
    response={200: PreviewOut, **ERRORS},
    summary="Count and sample of conditions, without saving them",
)
def preview(request, payload: PreviewIn):
    try:
        at = _instant(payload.at)
    except _BadInstant as exc:
        return _unprocessable({"at": str(exc)})
    try:
        in_words = describe(payload.conditions)
    except ConditionError as exc:
        return _unprocessable(exc.errors)
    return {
        "at": at,
        "count": selectors.count(payload.conditions, at=at),
        "in_words": in_words,
        "sample": [_customer_out(c) for c in selectors.sample(payload.conditions, at=at)],
    }


@router.get("/segments/{segment_id}", response={200: SegmentOut, **ERRORS}, summary="A segment")
def get_segment(request, segment_id: int):
    segment = selectors.get_segment(segment_id)
    return _not_found() if segment is None else _segment_out(segment)


@router.put(
    "/segments/{segment_id}", response={200: SegmentOut, **ERRORS}, summary="Replace a segment"
)
def update_segment(request, segment_id: int, payload: SegmentIn):
    segment = selectors.get_segment(segment_id)
    if segment is None:
        return _not_found()
    try:
        services.update_segment(segment, **payload.dict())
    except ConditionError as exc:
        return _unprocessable(exc.errors)
    except services.NameTaken as exc:
        return _unprocessable({"name": str(exc)})
    return _segment_out(segment)


@router.delete("/segments/{segment_id}", response={204: None, **ERRORS}, summary="Delete a segment")
def delete_segment(request, segment_id: int):
    segment = selectors.get_segment(segment_id)
    if segment is None:
        return _not_found()
    try:
        services.delete_segment(segment)
    except services.SegmentInUse as exc:
        return Status(409, {"detail": str(exc)})
    return Status(204, None)


@router.get(
    "/segments/{segment_id}/count",
    response={200: CountOut, **ERRORS},
    summary="How many customers are in the segment now (or at ?at=)",
)
def segment_count(request, segment_id: int, query: Query[At]):
    segment = selectors.get_segment(segment_id)
    if segment is None:
        return _not_found()
    try:
        at = _instant(query.at)
    except _BadInstant as exc:
        return _unprocessable({"at": str(exc)}, "query")
    return {"at": at, "count": selectors.count(segment, at=at)}


@router.get(
    "/segments/{segment_id}/sample",
    response={200: SampleOut, **ERRORS},
    summary="Up to 20 members, the most recently registered first",
)
def segment_sample(request, segment_id: int, query: Query[At]):
    segment = selectors.get_segment(segment_id)
    if segment is None:
        return _not_found()
    try:
        at = _instant(query.at)
    except _BadInstant as exc:
        return _unprocessable({"at": str(exc)}, "query")
    return {"at": at, "customers": [_customer_out(c) for c in selectors.sample(segment, at=at)]}


@router.get(
    "/segments/{segment_id}/export.csv",
    response={200: None, **ERRORS},
    summary="The members as CSV: name, email, phone, country, language, tier",
    openapi_extra={"responses": {200: {"description": "CSV", "content": {"text/csv": {}}}}},
)
def segment_export(request, segment_id: int, query: Query[At]):
    segment = selectors.get_segment(segment_id)
    if segment is None:
        return _not_found()
    try:
        at = _instant(query.at)
    except _BadInstant as exc:
        return _unprocessable({"at": str(exc)}, "query")
    return csv_response(segment, at=at)
