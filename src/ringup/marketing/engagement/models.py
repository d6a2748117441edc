"""Banners in the customer portal and their daily counts, and the sales managers'
follow-up tasks.

A banner's link is structured (a product, a buy link, a help page or a page of this
site), never a free URL, so its click redirect cannot be turned into an open redirect.
Impressions and clicks are one counter row per banner and day, incremented in SQL.
A follow-up task made by a rule carries the rule's key, unique, so a rule run twice (or
an event handled again) never makes the same task twice.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from ringup.customers.models import Customer
from ringup.marketing.segments.models import Segment


def _image_storage() -> FileSystemStorage:
    # Uploaded images live in the data folder and are served by the engagement app's own
    # view (``/b/image/<id>/``), so no media server needs configuring.
    return FileSystemStorage(location=settings.DATA_DIR / "banners")


def is_site_path(path: str) -> bool:
    """Whether ``path`` is a page of this site: a relative path such as ``/pricing/``, never
    another host (``//evil.example``, ``https://…``, ``\\\\evil``)."""
    # Browsers drop tabs and newlines inside URLs ("/\t/evil.example" is "//evil.example").
    return (
        path.startswith("/")
        and not any(char.isspace() or ord(char) < 32 for char in path)
        and not path.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(path, allowed_hosts=set(), require_https=False)
    )


class Banner(models.Model):
    """An offer shown in the customer portal to the customers it targets, while scheduled."""

    class Link(models.TextChoices):
        OPTION = "option", _("Add an option (the customer's change preview)")
        PLAN = "plan", _("Change to a plan (the customer's change preview)")
        BUY = "buy", _("Buy link of a plan")
        HELP = "help", _("Help page")
        PAGE = "page", _("A page of this site")

    title = models.CharField(max_length=100)
    text = models.CharField(max_length=300)
    label = models.CharField(max_length=40, blank=True, help_text='Button text, e.g. "Add it".')
    image = models.ImageField(
        upload_to="%Y/%m/", storage=_image_storage, blank=True, help_text="PNG, JPEG or WebP."
    )
    image_static = models.CharField(
        max_length=200,
        blank=True,
        help_text="Or a static file path, e.g. engagement/banners/upgrade.svg.",
    )
    link = models.CharField(max_length=10, choices=Link.choices)
    target = models.CharField(
        max_length=200,
        help_text="Option or plan code; help article slug; for a page, its path (/pricing/).",
    )
    query = models.CharField(
        max_length=200,
        blank=True,
        help_text="For a buy link: its choices, e.g. period=annual&promo=UPGRADE10.",
    )
    segment = models.ForeignKey(
        Segment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Only its members see the banner; empty: every customer.",
    )
    language = models.CharField(
        max_length=8,
        blank=True,
        choices=settings.LANGUAGES,
        help_text="Only customers of this language; empty: all.",
    )
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    weight = models.PositiveIntegerField(
        default=1, validators=[MinValueValidator(1)], help_text="Relative share of showings."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-active", "-starts_at", "title"]
        constraints = [
            models.CheckConstraint(
                name="banner_ends_after_start",
                condition=models.Q(starts_at__isnull=True)
                | models.Q(ends_at__isnull=True)
                | models.Q(ends_at__gt=models.F("starts_at")),
            ),
            models.CheckConstraint(
                name="banner_weight_positive", condition=models.Q(weight__gte=1)
            ),
        ]

    def __str__(self):
        return self.title

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("Must be after the start.")})
        if self.link == self.Link.PAGE and not is_site_path(self.target):
            raise ValidationError({"target": _("A path of this site, starting with one /.")})
        if self.query and self.link != self.Link.BUY:
            raise ValidationError({"query": _("Only a buy link carries choices.")})


class BannerDay(models.Model):
    """A banner's impressions and clicks on one day (the operator's date)."""

    banner = models.ForeignKey(Banner, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    impressions = models.PositiveBigIntegerField(default=0)
    clicks = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["banner", "day"], name="engagement_banner_day_once")
        ]

    def __str__(self):
        return f"{self.banner} · {self.day}"


class FollowUpTask(models.Model):
    """Something a sales manager should do about a customer, by ``due_on``."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        SNOOZED = "snoozed", _("Snoozed")
        DONE = "done", _("Done")

    class Reason(models.TextChoices):
        MANUAL = "manual", _("Entered by a manager")
        SAID_NO = "said_no", _("Said no: ask again")
        CALLS_DROPPED = "calls_dropped", _("Calls dropped sharply")
        INACTIVE = "inactive", _("No calls for a while")
        TRIAL_EXPIRED = "trial_expired", _("Trial ended without purchase")
        PAYMENT_FAILED = "payment_failed", _("Payment failed")

    class Outcome(models.TextChoices):
        DONE = "done", _("Done")
        NOT_NOW = "not_now", _("No, not now (ask again in 3 and 6 months)")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="follow_ups")
    title = models.CharField(max_length=200)
    reason = models.CharField(max_length=20, choices=Reason.choices, default=Reason.MANUAL)
    note = models.TextField(blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_ups",
        limit_choices_to={"is_staff": True},
    )
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    snoozed_until = models.DateField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    rule_key = models.CharField(
        max_length=200,
        null=True,
        blank=True,
        unique=True,
        help_text="The rule and subject that made it: a rule never makes a task twice.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(fields=["status", "assignee", "due_on"]),
            models.Index(fields=["customer", "created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                name="snoozed_task_has_date",
                condition=~models.Q(status="snoozed") | models.Q(snoozed_until__isnull=False),
            ),
            models.CheckConstraint(
                name="done_task_has_time",
                condition=~models.Q(status="done") | models.Q(done_at__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.title} · {self.customer}"
