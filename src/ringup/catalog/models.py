"""The operator's catalog: plans, paid options, numbers, minute bundles, related products,
and the quotes priced from them."""

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from ringup.engine.advisor import NEEDS

MONEY = {"max_digits": 14, "decimal_places": 2, "validators": [MinValueValidator(Decimal(0))]}
PERCENT = {
    "max_digits": 5,
    "decimal_places": 2,
    "default": Decimal(0),
    "validators": [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
}


class Currency(models.TextChoices):
    RUB = "RUB", "RUB ₽"
    EUR = "EUR", "EUR €"
    USD = "USD", "USD $"


class Segment(models.TextChoices):
    MICRO = "micro", _("Micro business")
    SMB = "smb", _("Small & medium business")
    ENTERPRISE = "enterprise", _("Large company / contact centre")


FEATURE_CHOICES = [(code, text) for code, text in NEEDS.items()]


class Plan(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    segment = models.CharField(max_length=20, choices=Segment.choices)
    tagline = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    highlights = models.JSONField(
        default=list, blank=True, help_text="Short lines shown on the plan's card."
    )
    features = models.JSONField(
        default=list,
        blank=True,
        help_text="Advisor feature codes included in the plan: " + ", ".join(NEEDS),
    )
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.RUB)
    monthly_fee = models.DecimalField(**MONEY)
    per_employee = models.DecimalField(**MONEY, default=Decimal(0))
    setup_fee = models.DecimalField(**MONEY, default=Decimal(0))
    included_employees = models.PositiveIntegerField(
        default=0, help_text="Employees covered by the monthly fee before per-employee pricing."
    )
    min_employees = models.PositiveIntegerField(default=1)
    max_employees = models.PositiveIntegerField(default=10_000)
    included_numbers = models.PositiveIntegerField(
        default=1, help_text="Local numbers included in the monthly fee."
    )
    annual_discount_percent = models.DecimalField(**PERCENT)
    max_manager_discount_percent = models.DecimalField(
        **PERCENT, help_text="The largest discount a sales manager may give on a quote."
    )
    trial_days = models.PositiveIntegerField(default=14)
    is_public = models.BooleanField(default=True, help_text="Shown on the pricing page.")
    sort_order = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort_order", "monthly_fee"]

    def __str__(self):
        return self.name

    def clean(self):
        if self.min_employees > self.max_employees:
            raise ValidationError({"max_employees": _("Must not be below the minimum.")})
        unknown = set(self.features or []) - NEEDS.keys()
        if unknown:
            raise ValidationError({"features": f"Unknown features: {', '.join(sorted(unknown))}"})


class Option(models.Model):
    """A paid add-on, offered on some plans."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.RUB)
    monthly_fee = models.DecimalField(**MONEY)
    setup_fee = models.DecimalField(**MONEY, default=Decimal(0))
    per_employee = models.BooleanField(default=False, help_text="Charged once per employee.")
    feature = models.CharField(
        max_length=40,
        blank=True,
        choices=FEATURE_CHOICES,
        help_text="The advisor need this option answers, if any.",
    )
    plans = models.ManyToManyField(Plan, related_name="options", blank=True)
    sort_order = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name


class NumberKind(models.TextChoices):
    LOCAL = "local", _("Local number")
    TOLLFREE = "tollfree", _("Toll-free 8-800 number")
    MOBILE = "mobile", _("Mobile number")
    FOREIGN = "foreign", _("Number abroad")


class NumberOffer(models.Model):
    """The price of a phone number of one kind; a plan includes some local numbers."""

    code = models.SlugField(max_length=40, unique=True)
    kind = models.CharField(max_length=20, choices=NumberKind.choices)
    name = models.CharField(max_length=100)
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.RUB)
    monthly_fee = models.DecimalField(**MONEY)
    setup_fee = models.DecimalField(**MONEY, default=Decimal(0))
    plans = models.ManyToManyField(Plan, related_name="number_offers", blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "monthly_fee"]

    def __str__(self):
        return self.name


class TrafficPackage(models.Model):
    """A monthly minute bundle: a guaranteed traffic payment that includes the minutes."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    minutes = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.RUB)
    monthly_fee = models.DecimalField(**MONEY)
    plans = models.ManyToManyField(Plan, related_name="traffic_packages", blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["minutes"]

    def __str__(self):
        return self.name


class RelatedProduct(models.Model):
    """'Customers on this plan also take…': an option or plan suggested next to a plan.

    Several per plan are rotated by weight; ``valid_from``/``valid_until`` make a
    time-limited promotion.
    """

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="related")
    option = models.ForeignKey(
        Option, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    related_plan = models.ForeignKey(
        Plan, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    pitch = models.CharField(max_length=200, help_text="One sentence shown with the product.")
    weight = models.PositiveIntegerField(default=1, help_text="Relative share of showings.")
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="related_product_is_option_xor_plan",
                condition=(
                    models.Q(option__isnull=False, related_plan__isnull=True)
                    | models.Q(option__isnull=True, related_plan__isnull=False)
                ),
            )
        ]

    def __str__(self):
        return f"{self.plan} → {self.product}"

    @property
    def product(self):
        return self.option or self.related_plan

    def clean(self):
        if bool(self.option_id) == bool(self.related_plan_id):
            raise ValidationError(_("Choose either an option or a plan."))
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValidationError({"valid_until": _("Must be after the start.")})


def new_quote_token() -> str:
    return secrets.token_urlsafe(12)


class Quote(models.Model):
    """A priced offer, frozen at the moment it was made so a shared link never changes."""

    class Source(models.TextChoices):
        CALCULATOR = "calculator", _("Pricing calculator")
        EMBED = "embed", _("Embedded calculator")
        ADVISOR = "advisor", _("Plan advisor")
        API = "api", _("API")
        MANAGER = "manager", _("Sales manager")

    token = models.CharField(max_length=32, unique=True, default=new_quote_token)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="quotes")
    period = models.CharField(max_length=10, default="monthly")
    employees = models.PositiveIntegerField()
    selection = models.JSONField(help_text="The choices as entered.")
    currency = models.CharField(max_length=3, choices=Currency.choices)
    lines = models.JSONField()
    monthly_total = models.DecimalField(max_digits=16, decimal_places=2)
    one_time_total = models.DecimalField(max_digits=16, decimal_places=2)
    period_total = models.DecimalField(max_digits=16, decimal_places=2)
    per_employee_total = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    customer_name = models.CharField(max_length=200, blank=True)
    discount_percent = models.DecimalField(**PERCENT)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.CALCULATOR)
    promo_code = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField()
    valid_until = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Quote {self.token} · {self.plan}"
