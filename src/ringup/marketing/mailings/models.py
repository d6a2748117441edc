"""Mailings: templates with language variants, mailings (one-off, recurring, triggered),
their runs, one recipient row per (run, customer), suppressions, consent and clicks.

Exactly-once is a database fact: ``UNIQUE (run, customer)`` makes a customer a recipient
of a run once, ``UNIQUE (mailing, scheduled_for)`` makes a schedule slot a run once, and
a recipient's status moves pending → sending → sent under a row lock.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from ringup.customers.models import Customer
from ringup.marketing.segments.models import Segment

LANGUAGES = [("en", "English"), ("ru", "Русский")]


class Template(models.Model):
    """A message with a variant per language; the customer's language picks the variant,
    ``default_language`` when there is none."""

    name = models.CharField(max_length=200, unique=True)
    default_language = models.CharField(max_length=8, choices=LANGUAGES, default="en")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class TemplateVariant(models.Model):
    """Subject, HTML and text of one language. Django template syntax over the context
    documented in docs/mailings.md (``customer_name``, ``plan``, ``trial_ends_at``,
    ``links.*``); every style attribute inline, mail clients drop ``<style>``."""

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="variants")
    language = models.CharField(max_length=8, choices=LANGUAGES)
    subject = models.CharField(max_length=250)
    html = models.TextField(help_text="The body inside the operator's branded layout.")
    text = models.TextField(help_text="The plain-text part.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["template", "language"], name="mailings_variant_once")
        ]

    def __str__(self):
        return f"{self.template} ({self.language})"


class Mailing(models.Model):
    """What is sent to whom and when.

    * one-off: to ``segment`` at ``send_at`` (empty: as soon as it is activated);
    * recurring: every month on ``day_of_month`` at ``time_of_day`` in the operator's time
      zone, each issue a run of its own with the segment's members of that moment;
    * triggered: an event of ``trigger_kind`` (optionally only with ``trigger_changes``
      and ``trigger_plans``) or, with ``segment.entered``, entering ``segment`` (checked
      daily at ``time_of_day``) makes the customer a recipient ``delay_minutes`` later,
      once per customer per mailing; ``segment`` filters the events.
    """

    class Kind(models.TextChoices):
        ONE_OFF = "one_off", _("One-off")
        RECURRING = "recurring", _("Recurring (monthly)")
        TRIGGERED = "triggered", _("Triggered")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        FINISHED = "finished", _("Finished")

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.ONE_OFF)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    template = models.ForeignKey(Template, on_delete=models.PROTECT, related_name="mailings")
    segment = models.ForeignKey(
        Segment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Who receives it (empty: every customer).",
    )
    send_at = models.DateTimeField(null=True, blank=True, help_text="One-off: when to send.")
    day_of_month = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Recurring: 1–28."
    )
    time_of_day = models.TimeField(
        null=True, blank=True, help_text="Recurring and segment-entry: local time."
    )
    trigger_kind = models.CharField(
        max_length=60, blank=True, help_text="Triggered: an event kind, or segment.entered."
    )
    trigger_changes = models.JSONField(
        default=list, blank=True, help_text='subscription.changed: e.g. ["plan_up"].'
    )
    trigger_plans = models.JSONField(
        default=list, blank=True, help_text="Only when the subscription's plan is one of these."
    )
    delay_minutes = models.PositiveIntegerField(default=0)
    entries_checked_on = models.DateField(null=True, blank=True, editable=False)
    active_since = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Schedules count from here."
    )
    holdout_percent = models.PositiveSmallIntegerField(
        default=10, help_text="Share of the audience held out as a control group (0–50)."
    )
    requires_consent = models.BooleanField(
        default=True, help_text="Marketing: only customers who did not opt out of product news."
    )
    conversion_kind = models.CharField(
        max_length=60, default="invoice.paid", help_text="The lift report's conversion event."
    )
    conversion_changes = models.JSONField(default=list, blank=True)
    conversion_window_days = models.PositiveIntegerField(default=30)
    track_opens = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="mailings_holdout_at_most_half", condition=models.Q(holdout_percent__lte=50)
            ),
        ]

    def __str__(self):
        return self.name


class Run(models.Model):
    """One issue of a mailing: a one-off's single send, a month's newsletter, or the
    standing run a triggered mailing adds its recipients to."""

    class Status(models.TextChoices):
        SENDING = "sending", _("Sending")
        DONE = "done", _("Done")

    mailing = models.ForeignKey(Mailing, on_delete=models.CASCADE, related_name="runs")
    scheduled_for = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENDING)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-scheduled_for"]
        constraints = [
            models.UniqueConstraint(fields=["mailing", "scheduled_for"], name="mailings_run_once")
        ]

    def __str__(self):
        return f"{self.mailing} · {self.scheduled_for:%Y-%m-%d %H:%M}"


class Recipient(models.Model):
    """A customer in a run. ``sending`` rows belong to a worker until ``lease_until``."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SUPPRESSED = "suppressed", _("Suppressed")
        HELD_OUT = "held_out", _("Held out (control group)")

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="recipients")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    email = models.CharField(max_length=254)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    due_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, db_default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    # ``mailing.sent`` was emitted (per batch, after the sends; the scheduler catches up
    # on rows a killed worker sent but did not announce).
    announced = models.BooleanField(default=False, db_default=False)
    opened_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, db_default="")
    # The triggering event's facts the template may show (plan, trial end).
    context = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "customer"], name="mailings_recipient_once")
        ]
        # The sender's query: due rows of a status.
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self):
        return f"{self.email} ({self.status})"


class Suppression(models.Model):
    """An address never mailed again: it unsubscribed, bounced or complained."""

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        BOUNCED = "bounced", _("Bounced")
        COMPLAINT = "complaint", _("Spam complaint")

    address = models.CharField(max_length=254, unique=True, help_text="Lower case.")
    reason = models.CharField(max_length=12, choices=Reason.choices)
    at = models.DateTimeField()
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self):
        return f"{self.address} ({self.reason})"


class Consent(models.Model):
    """A customer's choice about marketing mail ("product news"). No row: not opted out."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="+")
    product_news = models.BooleanField()
    updated_at = models.DateTimeField()

    def __str__(self):
        return f"{self.customer}: {'yes' if self.product_news else 'no'}"


class Click(models.Model):
    """A recipient followed a link of the message."""

    recipient = models.ForeignKey(Recipient, on_delete=models.CASCADE, related_name="clicks")
    url = models.URLField(max_length=2000)
    at = models.DateTimeField()

    def __str__(self):
        return self.url
