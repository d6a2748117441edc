"""Writes of segments: create, change, delete. Conditions are validated before saving."""

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from .conditions import validate
from .models import Segment


class NameTaken(ValueError):
    """Another segment already has this name."""


class SegmentInUse(ValueError):
    """Something (a mailing, a promotion, a banner) still aims at the segment."""


def _store(segment: Segment) -> Segment:
    try:
        # Insert-or-fail on the unique name: two saves racing for a name get one winner.
        with transaction.atomic():
            segment.save()
    except IntegrityError:
        raise NameTaken(f"a segment named {segment.name!r} already exists") from None
    return segment


def create_segment(*, name: str, conditions: dict, description: str = "") -> Segment:
    """A new segment. Raises ``ConditionError`` (bad conditions) or ``NameTaken``."""
    validate(conditions)
    return _store(Segment(name=name, description=description, conditions=conditions))


def update_segment(segment: Segment, *, name: str, conditions: dict, description: str = ""):
    """Replace the segment's name, description and conditions (same errors as create)."""
    validate(conditions)
    segment.name, segment.description, segment.conditions = name, description, conditions
    return _store(segment)


def delete_segment(segment: Segment) -> None:
    """Delete the segment. Raises ``SegmentInUse`` while other records protect it."""
    try:
        with transaction.atomic():
            segment.delete()
    except ProtectedError as exc:
        users = sorted({str(obj._meta.verbose_name) for obj in exc.protected_objects})
        raise SegmentInUse(f"the segment is still used by: {', '.join(users)}") from None
