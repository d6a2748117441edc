"""Subscriptions and their history of changes.

Invoices, the ledger and rating arrive with the billing engine; this is the part the
catalog, the demo history and analytics need first.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from ringup.catalog.models import Option, Plan
from ringup.customers.models import Customer


class Subscription(models.Model):
    class Status(models.TextChoices):
        TRIALING = "trialing", _("Trial")
        ACTIVE = "active", _("Active")
        PAST_DUE = "past_due", _("Past due")
        SUSPENDED = "suspended", _("Suspended")
        CANCELLED = "cancelled", _("Cancelled")

    class Period(models.TextChoices):
        MONTHLY = "monthly", _("Monthly")
        ANNUAL = "annual", _("Annual")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="subscriptions")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(max_length=20, choices=Status.choices)
    period = models.CharField(max_length=10, choices=Period.choices, default=Period.MONTHLY)
    employees = models.PositiveIntegerField(default=1)
    numbers = models.PositiveIntegerField(default=1)
    started_at = models.DateTimeField()
    trial_ends_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "plan"])]

    def __str__(self):
        return f"{self.customer} · {self.plan}"


class SubscriptionOption(models.Model):
    """An add-on on a subscription, from ``added_at`` until ``removed_at``."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="items")
    option = models.ForeignKey(Option, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(default=1)
    added_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.subscription} + {self.option}"


class SubscriptionChange(models.Model):
    """One change of plan, employees, options or status: the history analytics reads."""

    class Kind(models.TextChoices):
        STARTED = "started", _("Started")
        CONVERTED = "converted", _("Trial converted")
        UPGRADE = "upgrade", _("Upgrade")
        DOWNGRADE = "downgrade", _("Downgrade")
        EMPLOYEES = "employees", _("Employees changed")
        OPTION_ADDED = "option_added", _("Option added")
        OPTION_REMOVED = "option_removed", _("Option removed")
        CANCELLED = "cancelled", _("Cancelled")

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    at = models.DateTimeField(db_index=True)
    from_plan = models.ForeignKey(
        Plan, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_plan = models.ForeignKey(
        Plan, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_employees = models.PositiveIntegerField(null=True, blank=True)
    to_employees = models.PositiveIntegerField(null=True, blank=True)
    option = models.ForeignKey(
        Option, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["at"]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.subscription} · {self.at:%Y-%m-%d}"
