"""Accounts on the PBX platform, the operations that keep them in step, and where they go.

Provisioning sits beside usage and below billing: it learns customers and subscriptions
from event payloads, so they are plain integers here. ``Operation`` is one change to send
(``UNIQUE (event_id, kind)``: an event is turned into its operation once); its id is the
``webhook-id`` the receiver sees on every retry.
"""

from django.db import models


class Account(models.Model):
    """The customer's account on the PBX platform, as far as operations have taken it."""

    class Status(models.TextChoices):
        NONE = "none", "Not created yet"
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        DELETED = "deleted", "Deleted"

    customer_id = models.BigIntegerField(unique=True)
    subscription_id = models.BigIntegerField(null=True, blank=True)
    name = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=10,
        choices=Status.choices,
        default=Status.NONE,
        help_text="Where the recorded operations take it (delivered or not yet).",
    )
    updated_at = models.DateTimeField()

    def __str__(self):
        return f"{self.name or 'customer'} #{self.customer_id} ({self.status})"

    @property
    def exists(self) -> bool:
        return self.status in (self.Status.ACTIVE, self.Status.SUSPENDED)


class Operation(models.Model):
    """One account change to deliver, retried until the platform accepts it."""

    class Kind(models.TextChoices):
        CREATE = "account.create", "Create"
        UPDATE = "account.update", "Update"
        SUSPEND = "account.suspend", "Suspend"
        RESUME = "account.resume", "Resume"
        DELETE = "account.delete", "Delete"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="operations")
    event_id = models.BigIntegerField(help_text="The event this operation comes from.")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    body = models.JSONField(help_text="Sent as is on every attempt.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        help_text="Due then; while an attempt is under way, when it may be taken over."
    )
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_answer = models.TextField(blank=True, help_text="The platform's answer, truncated.")
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event_id", "kind"], name="provisioning_op_once")
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["account", "event_id"]),
        ]

    def __str__(self):
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def webhook_id(self) -> str:
        """The idempotency key the receiver sees on every attempt."""
        return f"op_{self.pk}"


class WebhookEndpoint(models.Model):
    """A receiver URL; disabled when it answers 410 Gone, until staff enable it again."""

    url = models.URLField(max_length=500, unique=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()

    def __str__(self):
        return self.url + (" (disabled)" if self.disabled_at else "")

    @property
    def is_disabled(self) -> bool:
        return self.disabled_at is not None


class DemoPbxAccount(models.Model):
    """An account on the built-in simulated PBX (``RINGUP_PROVISIONING=demo``)."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        DELETED = "deleted", "Deleted"

    customer_id = models.BigIntegerField(unique=True)
    name = models.CharField(max_length=200)
    sip_login = models.CharField(max_length=80, unique=True)
    plan = models.CharField(max_length=60, blank=True)
    extension_first = models.PositiveIntegerField()
    extension_last = models.PositiveIntegerField()
    numbers = models.JSONField(default=list, blank=True)
    features = models.JSONField(default=list, blank=True, help_text="Enabled options.")
    limits = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    last_webhook_id = models.CharField(max_length=40, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = "demo PBX account"

    def __str__(self):
        return f"{self.sip_login} ({self.status})"

    @property
    def extensions(self) -> str:
        return f"{self.extension_first}–{self.extension_last}"
