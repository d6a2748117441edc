"""Deals with prospect companies: the pipeline, the prospect's bill, TCO inputs,
deployment answers and the proposal's share links.

A prospect is a ``customers.Customer`` (source "sales") from the first contact, so
follow-up tasks, the timeline and, once won, the subscription all hang on the same row.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ringup.catalog.models import Plan, Segment
from ringup.customers.models import Customer


class Stage(models.TextChoices):
    LEAD = "lead", _("Lead")
    QUALIFIED = "qualified", _("Qualified")
    PROPOSAL = "proposal", _("Proposal")
    TRIAL = "trial", _("Trial")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class LostReason(models.TextChoices):
    PRICE = "price", _("Price")
    FEATURES = "features", _("Missing features")
    TIMING = "timing", _("Timing: not now")
    COMPETITOR = "competitor", _("Chose a competitor")
    NO_DECISION = "no_decision", _("No decision")
    OTHER = "other", _("Other")


class Deal(models.Model):
    """One sale to a prospect company, from the first contact to won or lost."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="deals")
    title = models.CharField(max_length=200)
    tier = models.CharField(max_length=20, choices=Segment.choices, verbose_name=_("segment"))
    sites = models.PositiveIntegerField(default=1, help_text=_("Offices or branches."))
    lines = models.PositiveIntegerField(
        default=1, help_text=_("Lines or channels the prospect has now.")
    )
    current_provider = models.CharField(max_length=200, blank=True)
    stage = models.CharField(max_length=10, choices=Stage.choices, default=Stage.LEAD)
    lost_reason = models.CharField(max_length=12, choices=LostReason.choices, blank=True)
    lost_note = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
        limit_choices_to={"is_staff": True},
    )
    next_step = models.CharField(max_length=200, blank=True)
    next_step_on = models.DateField(null=True, blank=True)
    expected_mrr = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, verbose_name=_("expected MRR")
    )
    # What is proposed: the won deal's subscription starts on exactly this.
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.PROTECT)
    employees = models.PositiveIntegerField(null=True, blank=True)
    numbers = models.PositiveIntegerField(null=True, blank=True)
    options = models.JSONField(default=list, blank=True, help_text=_("Option codes."))
    # The TCO form's on-premise inputs and the deployment questionnaire, as entered; the
    # figures are computed from them on every view, so they always match the inputs.
    tco_inputs = models.JSONField(default=dict, blank=True)
    deployment_answers = models.JSONField(default=dict, blank=True)
    # The subscription a won deal started: one at most (a second win finds it here).
    subscription = models.OneToOneField(
        "billing.Subscription",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deal",
    )
    created_at = models.DateTimeField()
    stage_changed_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-stage_changed_at", "-id"]
        indexes = [models.Index(fields=["stage", "owner"])]
        constraints = [
            models.CheckConstraint(
                name="lost_deal_has_reason",
                condition=~models.Q(stage="lost") | ~models.Q(lost_reason=""),
            ),
        ]

    def __str__(self):
        return f"{self.title} ({self.customer})"

    @property
    def is_open(self) -> bool:
        return self.stage not in (Stage.WON, Stage.LOST)


class StageChange(models.Model):
    """A deal entering a stage: the pipeline's history and each stage's timestamp."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=10, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=10, choices=Stage.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.deal}: {self.from_stage or '—'} → {self.to_stage}"


class BillAnalysis(models.Model):
    """The prospect's current bill: their call records (the file is kept under
    ``DATA_DIR/deals/``) or, without them, a summary of their invoices month by month.
    The computed profile is stored, so the deal page needs no re-reading of the file."""

    class Kind(models.TextChoices):
        CDRS = "cdrs", _("Call records")
        SUMMARY = "summary", _("Invoice summary")

    class Status(models.TextChoices):
        # Call records are analysed by a background worker (a year of a large company's
        # calls takes longer than a web request may); a summary is analysed at once.
        ANALYSING = "analysing", _("Analysing")
        READY = "ready", _("Analysed")
        FAILED = "failed", _("Failed")

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="bills")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    cdr_format = models.CharField(max_length=12, blank=True)
    country = models.CharField(max_length=2, default="RU")
    file_name = models.CharField(max_length=255, blank=True, help_text=_("As uploaded."))
    stored_as = models.CharField(max_length=255, blank=True, help_text=_("Under DATA_DIR."))
    sha256 = models.CharField(max_length=64, blank=True)
    # Invoice summary rows as entered (month, minutes by category, fees, total paid).
    months = models.JSONField(default=list, blank=True)
    # What the prospect pays a month now, when known (the summary's totals give it too).
    current_monthly_cost = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )
    profile = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.READY)
    error = models.CharField(max_length=500, blank=True)
    # When ``profile`` was last computed (null until the first analysis ends): a bill being
    # compared again with a new offer keeps showing its last figures meanwhile.
    analysed_at = models.DateTimeField(null=True, blank=True)
    # The worker's claim: a claim older than the lease is taken over (its worker died).
    claim = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    uploaded_at = models.DateTimeField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name_plural = "bill analyses"

    def __str__(self):
        return f"{self.get_kind_display()} of {self.deal}"


class ProposalLink(models.Model):
    """A link to the deal's proposal that works without a login until ``expires_at``."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="links")
    token = models.CharField(max_length=43, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.token


class TrialSignup(models.Model):
    """A sign-up that came through the proposal's "Try free" link: once its e-mail and
    phone are verified, its login and trial go to the deal's prospect (services/trials)."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="trial_signups")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deal_trial"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.user} → {self.deal}"
