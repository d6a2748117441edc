"""Carrier deck versions, their margin impact and alerts, and risk flags on customers.

A carrier's deck is kept as versions with the date each takes effect
(``UNIQUE (carrier, effective_from)``); a version's rates are rows, so the diff between
two versions and the re-costing of past calls are queries, not file reads. A version has
at most one stored impact per window and at most one alert, ever (``UNIQUE (version)``):
re-running the computation never mails the pricing owner twice.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ringup.customers.models import Customer

RATE = {"max_digits": 18, "decimal_places": 6}


class CarrierDeckVersion(models.Model):
    """One version of a carrier's termination deck, in force from ``effective_from``."""

    carrier = models.CharField(_("carrier"), max_length=100)
    effective_from = models.DateField(_("effective from"))
    imported_at = models.DateTimeField(_("imported at"))
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("imported by"),
    )
    file_name = models.CharField(_("file"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("carrier deck version")
        verbose_name_plural = _("carrier deck versions")
        ordering = ["carrier", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "effective_from"], name="margins_one_version_per_day"
            )
        ]

    def __str__(self):
        return f"{self.carrier} · {self.effective_from:%Y-%m-%d}"


class CarrierRate(models.Model):
    """One prefix of a carrier deck version (the deck format of docs/cdr-formats.md)."""

    version = models.ForeignKey(CarrierDeckVersion, on_delete=models.CASCADE, related_name="rates")
    prefix = models.CharField(max_length=16)
    rate = models.DecimalField(**RATE, help_text="Per minute.")
    connect_fee = models.DecimalField(**RATE, default=0)
    first_increment = models.PositiveIntegerField()
    increment = models.PositiveIntegerField()
    min_duration = models.PositiveIntegerField(default=0)
    description = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["prefix"]
        constraints = [
            models.UniqueConstraint(fields=["version", "prefix"], name="margins_prefix_once")
        ]

    def __str__(self):
        return f"{self.prefix} {self.rate}"


class MarginImpact(models.Model):
    """What a version does to the margins of the last ``window_days`` of rated traffic.

    ``findings`` holds the computed tables (``destinations``, ``plans``, ``customers``:
    rows of strings, money exact) and ``summary`` the totals; recomputing replaces them.
    """

    version = models.ForeignKey(
        CarrierDeckVersion, on_delete=models.CASCADE, related_name="impacts"
    )
    window_days = models.PositiveIntegerField()
    target_percent = models.DecimalField(max_digits=5, decimal_places=2)
    computed_at = models.DateTimeField()
    summary = models.JSONField(default=dict)
    findings = models.JSONField(default=dict)
    below_target = models.PositiveIntegerField(
        default=0, help_text="Destinations whose margin this version takes below the target."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "window_days"], name="margins_impact_once")
        ]

    def __str__(self):
        return f"{self.version} · {self.window_days} days"


class MarginAlert(models.Model):
    """The pricing owner's task about a version that takes margins below the target:
    one per version, ever."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")

    version = models.OneToOneField(
        CarrierDeckVersion, on_delete=models.CASCADE, related_name="alert"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("assignee"),
    )
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(_("created at"))
    mailed_to = models.CharField(_("mailed to"), max_length=254, blank=True)

    class Meta:
        verbose_name = _("margin alert")
        verbose_name_plural = _("margin alerts")
        ordering = ["status", "-created_at"]

    def __str__(self):
        return self.title


class RiskFlag(models.Model):
    """A risk signal on a customer, explained with its figures; replaced on every run."""

    class Severity(models.TextChoices):
        INFO = "info", _("Info")
        WARNING = "warning", _("Warning")
        CRITICAL = "critical", _("Critical")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="risk_flags")
    code = models.CharField(_("flag"), max_length=40)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    explanation = models.CharField(_("explanation"), max_length=500)
    figures = models.JSONField(default=dict)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("risk flag")
        verbose_name_plural = _("risk flags")
        ordering = ["customer_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "code"], name="margins_flag_once")
        ]
        indexes = [models.Index(fields=["code"])]

    def __str__(self):
        return f"{self.customer_id}: {self.code}"
