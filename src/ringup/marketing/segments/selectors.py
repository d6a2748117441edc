"""Who is in a segment, computed when asked: each function is one SQL query."""

from datetime import datetime

from django.db.models import QuerySet

from ringup.customers.models import Customer

from .conditions import compile_conditions
from .models import Segment

SAMPLE_SIZE = 20


def _conditions(segment_or_conditions: Segment | dict) -> dict:
    if isinstance(segment_or_conditions, Segment):
        return segment_or_conditions.conditions
    return segment_or_conditions


def members(segment_or_conditions: Segment | dict, *, at: datetime) -> QuerySet[Customer]:
    """The customers meeting the segment's conditions at ``at``: a lazy queryset that runs
    as one SQL statement when evaluated. Raises ``ConditionError`` on bad conditions."""
    return Customer.objects.filter(compile_conditions(_conditions(segment_or_conditions), at=at))


def count(segment_or_conditions: Segment | dict, *, at: datetime) -> int:
    """How many customers meet the conditions at ``at`` (one query)."""
    return members(segment_or_conditions, at=at).count()


def sample(
    segment_or_conditions: Segment | dict, *, at: datetime, size: int = SAMPLE_SIZE
) -> list[Customer]:
    """Up to ``size`` members, the most recently registered first (one query)."""
    return list(members(segment_or_conditions, at=at).order_by("-registered_at", "-pk")[:size])


def get_segment(pk: int) -> Segment | None:
    return Segment.objects.filter(pk=pk).first()


def segments() -> QuerySet[Segment]:
    return Segment.objects.all()
