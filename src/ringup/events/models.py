"""The outbox: domain events written with the change that caused them, and one delivery
per consumer of the event's kind.

Events sit below every app that emits them, so the customer and subscription are plain
integers, not foreign keys. ``UNIQUE (key)`` makes "emit once" a database fact, and
``UNIQUE (event, consumer)`` means a consumer is handed an event once.
"""

from django.db import models


class Event(models.Model):
    """Something that happened: ``kind`` (dotted, lower case) at ``at``, with a JSON payload."""

    kind = models.CharField(max_length=60, db_index=True)
    at = models.DateTimeField(help_text="When it happened (business time).")
    customer_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    subscription_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    payload = models.JSONField(default=dict, blank=True)
    key = models.CharField(
        max_length=200,
        null=True,
        blank=True,
        unique=True,
        help_text="At most one event with this key ever exists.",
    )
    created_at = models.DateTimeField(help_text="When it was written to the outbox.")

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.kind} #{self.pk}"


class Delivery(models.Model):
    """One event handed to one consumer: pending until its handler commits, dead after
    ``RINGUP_EVENTS_MAX_ATTEMPTS`` failures."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        DEAD = "dead", "Dead"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    consumer = models.CharField(max_length=60)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0, help_text="Failed runs so far.")
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event", "consumer"], name="events_delivery_once")
        ]
        # The dispatcher's query: due pending deliveries, oldest first.
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"{self.event} → {self.consumer} ({self.status})"
