"""Records that must never change once issued or posted.

The ORM refuses it on every path: ``save()`` and ``delete()`` of an instance, and a
queryset's ``update()`` and ``delete()``. On PostgreSQL a trigger refuses it too
(migration 0003), so raw SQL cannot either.
"""

from django.db import models


class ImmutableRecord(Exception):
    """An attempt to change or delete an issued invoice, a credit note or the ledger."""


class GuardedQuerySet(models.QuerySet):
    """A queryset whose ``update()`` and ``delete()`` refuse rows that are locked."""

    def locked(self) -> models.QuerySet:
        """The rows of this queryset that may no longer change; all of them by default."""
        return self

    def _refuse_locked(self, verb: str) -> None:
        if self.locked().exists():
            raise ImmutableRecord(f"{self.model._meta.verbose_name} records cannot be {verb}")

    def update(self, **kwargs):
        self._refuse_locked("updated")
        return super().update(**kwargs)

    def delete(self):
        self._refuse_locked("deleted")
        return super().delete()


class WriteOnce(models.Model):
    """A model whose rows are written once and then never changed or deleted."""

    objects = GuardedQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.is_locked():
            raise ImmutableRecord(f"a {self._meta.verbose_name} cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRecord(f"a {self._meta.verbose_name} cannot be deleted")

    def is_locked(self) -> bool:
        return not self._state.adding
