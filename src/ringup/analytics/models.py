"""Stored revenue aggregates: one recompute run per history end date and the figures it
computed, so the dashboard, the API and the monthly report read rows instead of
recomputing the history.

Every figure row belongs to a run and a *slice*: ``tier`` and ``plan`` empty mean "all";
a figure of a tier or a plan is computed from that slice's customers alone (docs/analytics.md,
"Filters"). Money is per ``currency`` and never summed across currencies.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 18, "decimal_places": 2}
SLICE = ["run", "tier", "plan"]


class RecomputeRun(models.Model):
    """The aggregates of the history before local midnight of ``until``: one run per
    ``until``; re-running replaces its figures in one transaction."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    until = models.DateField(unique=True, help_text=_("The history up to this day (exclusive)."))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration = models.DurationField(null=True, blank=True)
    customers = models.PositiveIntegerField(default=0)
    unpriced = models.PositiveIntegerField(
        default=0, help_text=_("Subscription-months the catalog cannot price.")
    )
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-until"]
        verbose_name = _("recompute run")

    def __str__(self):
        return f"{self.until:%Y-%m-%d} · {self.get_status_display()}"


class SliceRow(models.Model):
    run = models.ForeignKey(RecomputeRun, on_delete=models.CASCADE, related_name="+")
    tier = models.CharField(max_length=20, blank=True)
    plan = models.CharField(max_length=40, blank=True)

    class Meta:
        abstract = True


class MonthlyFigure(SliceRow):
    """A month's customers, revenue, ARPU, MRR movements, churn and retention."""

    month = models.DateField()
    currency = models.CharField(max_length=3)
    active = models.PositiveIntegerField()
    paying = models.PositiveIntegerField()
    trialing = models.PositiveIntegerField()
    revenue = models.DecimalField(**MONEY)
    paying_revenue = models.DecimalField(**MONEY)
    arpu = models.DecimalField(**MONEY, null=True)
    arppu = models.DecimalField(**MONEY, null=True)
    margin = models.DecimalField(**MONEY)
    minutes = models.DecimalField(max_digits=18, decimal_places=1)
    mrr = models.DecimalField(**MONEY)
    opening_mrr = models.DecimalField(**MONEY)
    new_mrr = models.DecimalField(**MONEY)
    reactivation_mrr = models.DecimalField(**MONEY)
    expansion_mrr = models.DecimalField(**MONEY)
    contraction_mrr = models.DecimalField(**MONEY)
    churned_mrr = models.DecimalField(**MONEY)
    new_customers = models.PositiveIntegerField()
    reactivated_customers = models.PositiveIntegerField()
    expanded_customers = models.PositiveIntegerField()
    contracted_customers = models.PositiveIntegerField()
    churned_customers = models.PositiveIntegerField()
    customer_churn = models.FloatField(null=True)
    revenue_churn = models.FloatField(null=True)
    grr = models.FloatField(null=True)
    nrr = models.FloatField(null=True)
    nrr_12 = models.FloatField(null=True, help_text=_("Net revenue retention over 12 months."))

    class Meta:
        ordering = ["month", "currency"]
        constraints = [
            models.UniqueConstraint(
                fields=[*SLICE, "month", "currency"], name="analytics_monthly_once"
            )
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.currency} {self.tier or 'all'}/{self.plan or 'all'}"


class CohortCell(SliceRow):
    """Retention of the customers who signed up in ``cohort``, ``age`` months later."""

    currency = models.CharField(max_length=3)
    cohort = models.DateField()
    age = models.PositiveSmallIntegerField()
    customers = models.PositiveIntegerField()
    paying = models.PositiveIntegerField()
    mrr = models.DecimalField(**MONEY)
    starting_mrr = models.DecimalField(**MONEY)
    logo_retention = models.FloatField(null=True)
    revenue_retention = models.FloatField(null=True)

    class Meta:
        ordering = ["cohort", "age"]
        constraints = [
            models.UniqueConstraint(
                fields=[*SLICE, "currency", "cohort", "age"], name="analytics_cohort_once"
            )
        ]

    def __str__(self):
        return f"{self.cohort:%Y-%m} +{self.age} {self.currency}"


class RetentionFit(SliceRow):
    """The sBG model fitted to the paying cohorts' survival, and its projection."""

    currency = models.CharField(max_length=3)
    alpha = models.FloatField()
    beta = models.FloatField()
    customers = models.PositiveIntegerField(help_text=_("Customers in the cohorts fitted."))
    observed = models.JSONField(help_text=_("Share still paying at ages 0, 1, … (observed)."))
    projected = models.JSONField(help_text=_("Share still paying at ages 0 … 24 (the model)."))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=[*SLICE, "currency"], name="analytics_fit_once")
        ]

    def __str__(self):
        return f"sBG α={self.alpha:.3g} β={self.beta:.3g} {self.currency}"


class ProductFigure(SliceRow):
    """How many customers hold a product at a month end, its rank and attach rate."""

    month = models.DateField()
    product = models.CharField(max_length=40)
    kind = models.CharField(max_length=10)
    holders = models.PositiveIntegerField()
    new_holders = models.PositiveIntegerField()
    rank = models.PositiveIntegerField()
    rank_from_bottom = models.PositiveIntegerField()
    paying_holders = models.PositiveIntegerField(null=True)
    paying = models.PositiveIntegerField(null=True)
    attach_rate = models.FloatField(null=True)

    class Meta:
        ordering = ["month", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=[*SLICE, "month", "product"], name="analytics_product_once"
            )
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.product}"


class FunnelStage(SliceRow):
    """Customers who reached a circle of the funnel and how many went on to the next."""

    stage = models.CharField(max_length=20)
    position = models.PositiveSmallIntegerField()
    reached = models.PositiveIntegerField()
    reached_next = models.PositiveIntegerField(null=True)
    conversion_to_next = models.FloatField(null=True)
    median_days_to_next = models.FloatField(null=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=[*SLICE, "stage"], name="analytics_funnel_once")
        ]

    def __str__(self):
        return f"{self.position}. {self.stage}"


class TrialMonth(SliceRow):
    """Trials started in a month and how many turned paid within 30 days."""

    month = models.DateField()
    trials = models.PositiveIntegerField()
    converted = models.PositiveIntegerField()
    conversion = models.FloatField(null=True)

    class Meta:
        ordering = ["month"]
        constraints = [
            models.UniqueConstraint(fields=[*SLICE, "month"], name="analytics_trials_once")
        ]

    def __str__(self):
        return f"{self.month:%Y-%m}: {self.converted}/{self.trials}"


class MonthlyReport(models.Model):
    """The management report of a month: claimed (this row) before it is sent, so the
    report goes out once however many workers run the task."""

    month = models.DateField(unique=True, help_text=_("First day of the month reported."))
    run = models.ForeignKey(RecomputeRun, null=True, on_delete=models.SET_NULL, related_name="+")
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.JSONField(default=list)

    class Meta:
        ordering = ["-month"]
        verbose_name = _("monthly report")

    def __str__(self):
        return f"{self.month:%Y-%m}"


class CampaignLift(models.Model):
    """A mailing's or a promotion's lift against its held-out control group, as the
    marketing app measured it at the run (``report``: ringup.marketing.outcomes)."""

    class Kind(models.TextChoices):
        MAILING = "mailing", _("Mailing")
        PROMOTION = "promotion", _("Promotion")

    run = models.ForeignKey(RecomputeRun, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    campaign_id = models.PositiveBigIntegerField()
    name = models.CharField(max_length=200)
    report = models.JSONField()
    summary = models.CharField(max_length=300)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "kind", "campaign_id"], name="analytics_lift_once"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.name}"


class Dashboard(RecomputeRun):
    """The revenue dashboard in the back office (/admin/analytics/dashboard/): a proxy,
    so that it has its place, its link and its view permission in the admin."""

    class Meta:
        proxy = True
        verbose_name = _("dashboard")
        verbose_name_plural = _("dashboard")
