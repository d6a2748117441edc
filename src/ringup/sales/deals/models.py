"""Deals with prospect companies: the pipeline, the prospect's bill, TCO inputs,
deployment answers and the proposal's share links.

A prospect is a ``customers.Customer`` (source "sales") from the first contact, so
follow-up tasks, the timeline and, once won, the subscription all hang on the same row.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

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
    PRICE = "price", pgettext_lazy("lost reason", "Price")
    FEATURES = "features", _("Missing features")
    TIMING = "timing", _("Timing: not now")
    COMPETITOR = "competitor", _("Chose a competitor")
    NO_DECISION = "no_decision", _("No decision")
    OTHER = "other", _("Other")


class Deal(models.Model):
    """One sale to a prospect company, from the first contact to won or lost."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="deals", verbose_name=_("customer")
    )
    title = models.CharField(max_length=200, verbose_name=pgettext_lazy("deal", "title"))
    tier = models.CharField(max_length=20, choices=Segment.choices, verbose_name=_("segment"))
    sites = models.PositiveIntegerField(
        default=1, verbose_name=_("sites"), help_text=_("Offices or branches.")
    )
    lines = models.PositiveIntegerField(
        default=1, verbose_name=_("lines"), help_text=_("Lines or channels the prospect has now.")
    )
    current_provider = models.CharField(
        max_length=200, blank=True, verbose_name=_("current provider")
    )
    stage = models.CharField(
        max_length=10, choices=Stage.choices, default=Stage.LEAD, verbose_name=_("stage")
    )
    lost_reason = models.CharField(
        max_length=12, choices=LostReason.choices, blank=True, verbose_name=_("lost reason")
    )
    lost_note = models.TextField(blank=True, verbose_name=_("why lost, in words"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
        limit_choices_to={"is_staff": True},
        verbose_name=_("owner"),
    )
    next_step = models.CharField(max_length=200, blank=True, verbose_name=_("next step"))
    next_step_on = models.DateField(null=True, blank=True, verbose_name=_("next step on"))
    expected_mrr = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, verbose_name=_("expected MRR")
    )
    # What is proposed: the won deal's subscription starts on exactly this.
    plan = models.ForeignKey(
        Plan, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("plan")
    )
    employees = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("employees"))
    numbers = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("numbers"))
    options = models.JSONField(
        default=list, blank=True, verbose_name=_("options"), help_text=_("Option codes.")
    )
    # The TCO form's on-premise inputs and the deployment questionnaire, as entered; the
    # figures are computed from them on every view, so they always match the inputs.
    tco_inputs = models.JSONField(default=dict, blank=True, verbose_name=_("TCO inputs"))
    deployment_answers = models.JSONField(
        default=dict, blank=True, verbose_name=_("deployment answers")
    )
    # The subscription a won deal started: one at most (a second win finds it here).
    subscription = models.OneToOneField(
        "billing.Subscription",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deal",
        verbose_name=_("subscription"),
    )
    created_at = models.DateTimeField(verbose_name=_("created at"))
    stage_changed_at = models.DateTimeField(verbose_name=_("stage changed at"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
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

    deal = models.ForeignKey(
        Deal, on_delete=models.CASCADE, related_name="stage_changes", verbose_name=_("deal")
    )
    from_stage = models.CharField(
        max_length=10, choices=Stage.choices, blank=True, verbose_name=_("from stage")
    )
    to_stage = models.CharField(max_length=10, choices=Stage.choices, verbose_name=_("to stage"))
    at = models.DateTimeField(verbose_name=_("when"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("by"),
    )
    note = models.CharField(max_length=300, blank=True, verbose_name=_("note"))

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
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

    deal = models.ForeignKey(
        Deal, on_delete=models.CASCADE, related_name="bills", verbose_name=_("deal")
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, verbose_name=_("kind"))
    cdr_format = models.CharField(max_length=12, blank=True, verbose_name=_("call records format"))
    country = models.CharField(max_length=2, default="RU", verbose_name=_("country"))
    file_name = models.CharField(
        max_length=255, blank=True, verbose_name=_("file name"), help_text=_("As uploaded.")
    )
    stored_as = models.CharField(
        max_length=255, blank=True, verbose_name=_("stored as"), help_text=_("Under DATA_DIR.")
    )
    sha256 = models.CharField(max_length=64, blank=True, verbose_name="SHA-256")
    # Invoice summary rows as entered (month, minutes by category, fees, total paid).
    months = models.JSONField(default=list, blank=True, verbose_name=_("months"))
    # What the prospect pays a month now, when known (the summary's totals give it too).
    current_monthly_cost = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        verbose_name=_("current monthly cost"),
    )
    profile = models.JSONField(default=dict, verbose_name=_("profile"))
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.READY, verbose_name=_("status")
    )
    error = models.CharField(max_length=500, blank=True, verbose_name=_("error"))
    # When ``profile`` was last computed (null until the first analysis ends): a bill being
    # compared again with a new offer keeps showing its last figures meanwhile.
    analysed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("analysed at"))
    # The worker's claim: a claim older than the lease is taken over (its worker died).
    claim = models.CharField(max_length=32, blank=True, verbose_name=_("worker's claim"))
    claimed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("claimed at"))
    uploaded_at = models.DateTimeField(verbose_name=_("uploaded at"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("uploaded by"),
    )

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = _("bill analysis")
        verbose_name_plural = _("bill analyses")

    def __str__(self):
        return f"{self.get_kind_display()} of {self.deal}"


class ProposalLink(models.Model):
    """A link to the deal's proposal that works without a login until ``expires_at``."""

    deal = models.ForeignKey(
        Deal, on_delete=models.CASCADE, related_name="links", verbose_name=_("deal")
    )
    token = models.CharField(max_length=43, unique=True, verbose_name=_("token"))
    created_at = models.DateTimeField(verbose_name=_("created at"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("proposal link")
        verbose_name_plural = _("proposal links")
        ordering = ["-created_at"]

    def __str__(self):
        return self.token


class TrialSignup(models.Model):
    """A sign-up that came through the proposal's "Try free" link: once its e-mail and
    phone are verified, its login and trial go to the deal's prospect (services/trials)."""

    deal = models.ForeignKey(
        Deal, on_delete=models.CASCADE, related_name="trial_signups", verbose_name=_("deal")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="deal_trial",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(verbose_name=_("created at"))

    class Meta:
        verbose_name = _("trial sign-up")
        verbose_name_plural = _("trial sign-ups")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.user} → {self.deal}"
