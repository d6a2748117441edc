"""Segments: named customer conditions, evaluated whenever they are used."""

from django.core.exceptions import ValidationError
from django.db import models

from .conditions import ConditionError, validate


def _empty_group() -> dict:
    return {"all": []}


class Segment(models.Model):
    """A named set of conditions over customers. It stores the rule, never the members:
    who belongs is computed at the moment the segment is used (see ``selectors``)."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    conditions = models.JSONField(
        default=_empty_group,
        help_text='A tree of groups ({"all": [..]}, {"any": [..]}, {"not": ..}) and '
        'conditions ({"field": .., "op": .., "value": ..}); see docs/segments.md.',
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        try:
            validate(self.conditions)
        except ConditionError as exc:
            messages = [f"{path}: {message}" for path, message in exc.errors.items()]
            raise ValidationError({"conditions": messages}) from None
