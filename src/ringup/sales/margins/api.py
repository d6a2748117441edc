"""Margin monitor API for the operator's staff (read-only): carrier deck versions, a
version's stored margin impact, the customers' risk flags. Authentication as the billing
API (an API key, or a staff session)."""

from datetime import date, datetime
from typing import Any

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from ninja.security import SessionAuthIsStaff

from ringup.apikeys.auth import ApiKeyAuth
from ringup.catalog.api import Message, Unprocessable

from .models import CarrierDeckVersion, MarginImpact, RiskFlag
from .services import WINDOWS

router = Router(tags=["margins"], auth=[ApiKeyAuth(), SessionAuthIsStaff()])
ERRORS = {401: Message, 403: Message, 404: Message, 422: Unprocessable}


class VersionOut(Schema):
    id: int
    carrier: str
    effective_from: date
    imported_at: datetime
    file_name: str


class ImpactOut(Schema):
    version: int
    window_days: int
    target_percent: str
    computed_at: datetime
    below_target: int
    summary: dict[str, Any]
    findings: dict[str, Any]


class RiskFlagOut(Schema):
    customer: int
    code: str
    severity: str
    explanation: str
    figures: dict[str, Any]
    computed_at: datetime


class FlagFilter(Schema):
    code: str | None = Field(None, max_length=40)
    customer: int | None = Field(None, ge=1)
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=10_000_000)


@router.get(
    "/margins/versions", response={200: list[VersionOut], **ERRORS}, summary="Carrier deck versions"
)
def versions(request, carrier: str | None = None):
    """Every carrier deck version, newest first per carrier."""
    rows = CarrierDeckVersion.objects.all()
    if carrier:
        rows = rows.filter(carrier=carrier)
    fields = ("id", "carrier", "effective_from", "imported_at", "file_name")
    return Status(200, list(rows.values(*fields)))


@router.get(
    "/margins/versions/{version_id}/impact",
    response={200: ImpactOut, **ERRORS},
    summary="A version's margin impact",
)
def impact(request, version_id: int, days: int = WINDOWS[0]):
    """The stored impact of the version on the last ``days`` (30 or 90; 404 until
    computed)."""
    if days not in WINDOWS:
        message = f"must be one of {', '.join(map(str, WINDOWS))}"
        detail = [{"type": "value_error", "loc": ["query", "days"], "msg": message}]
        return Status(422, {"detail": detail})
    stored = get_object_or_404(MarginImpact, version_id=version_id, window_days=days)
    return Status(
        200,
        {
            "version": stored.version_id,
            "window_days": stored.window_days,
            "target_percent": str(stored.target_percent),
            "computed_at": stored.computed_at,
            "below_target": stored.below_target,
            "summary": stored.summary,
            "findings": stored.findings,
        },
    )


@router.get(
    "/margins/risk-flags", response={200: list[RiskFlagOut], **ERRORS}, summary="Risk flags"
)
def risk_flags(request, filters: Query[FlagFilter]):
    """The customers' current risk flags (by customer, then code)."""
    rows = RiskFlag.objects.order_by("customer_id", "code")
    if filters.code:
        rows = rows.filter(code=filters.code)
    if filters.customer:
        rows = rows.filter(customer_id=filters.customer)
    page = rows[filters.offset : filters.offset + filters.limit]
    flags = [
        {
            "customer": flag.customer_id,
            "code": flag.code,
            "severity": flag.severity,
            "explanation": flag.explanation,
            "figures": flag.figures,
            "computed_at": flag.computed_at,
        }
        for flag in page
    ]
    return Status(200, flags)
