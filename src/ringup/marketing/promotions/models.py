"""Promotions (a benefit under conditions), their promo codes and redemptions.

A promotion says *what* it gives (a percentage, an amount off each period, or free
months; once or for N periods) and *when* (first purchase, a range of plans and options,
a segment, annual billing, a date window, redemption limits). Promotions with a code are
redeemed by typing it; automatic ones apply by themselves (turnover, loyalty, annual
prepayment). A redemption grants a billing discount on the subscription
(``billing.SubscriptionDiscount``), which the bill run puts on the invoices.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from ringup.billing.models import Subscription, SubscriptionDiscount
from ringup.catalog.models import Option, Plan
from ringup.customers.models import Customer
from ringup.marketing.segments.models import Segment


class Promotion(models.Model):
    class Benefit(models.TextChoices):
        PERCENT = "percent", _("Percentage off the recurring fees")
        AMOUNT = "amount", _("Fixed amount off each period")
        FREE_MONTHS = "free_months", _("Free months")

    class Duration(models.TextChoices):
        ONCE = "once", _("The first period only")
        REPEATING = "repeating", _("A number of periods")
        FOREVER = "forever", _("Every period")

    class Automatic(models.TextChoices):
        NO = "", _("No: redeemed with a promo code")
        AT_PURCHASE = "purchase", _("At purchase (e.g. annual prepayment)")
        TURNOVER = "turnover", _("Turnover: invoiced revenue over the last months")
        LOYALTY = "loyalty", _("Loyalty: months since the first paid period")

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    benefit = models.CharField(max_length=20, choices=Benefit.choices)
    value = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text="Percent, amount per period (in the plan's currency) or months.",
    )
    duration = models.CharField(max_length=20, choices=Duration.choices, default=Duration.ONCE)
    periods = models.PositiveIntegerField(
        null=True, blank=True, help_text="Periods discounted when the duration is a number."
    )
    automatic = models.CharField(
        max_length=20, choices=Automatic.choices, default=Automatic.NO, blank=True
    )
    # Conditions.
    first_purchase_only = models.BooleanField(
        default=False, help_text="Only for a customer's first paid subscription."
    )
    plans = models.ManyToManyField(
        Plan, blank=True, related_name="+", help_text="The range: any plan when empty."
    )
    options = models.ManyToManyField(
        Option,
        blank=True,
        related_name="+",
        help_text="The range: the selection must hold one of these options (none: any).",
    )
    segment = models.ForeignKey(
        Segment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    annual_only = models.BooleanField(default=False, help_text="Only for annual billing.")
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    max_redemptions = models.PositiveIntegerField(
        null=True, blank=True, help_text="Redemptions in all; empty: no limit."
    )
    redeemed = models.PositiveIntegerField(default=0, editable=False)
    per_customer_limit = models.PositiveIntegerField(default=1)
    min_revenue = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Turnover: invoiced total of the last months at least this.",
    )
    revenue_months = models.PositiveIntegerField(default=12)
    min_months = models.PositiveIntegerField(
        null=True, blank=True, help_text="Loyalty: months since the first paid period."
    )
    # Stacking.
    exclusive = models.BooleanField(
        default=True, help_text="Applies alone: never combined with another promotion."
    )
    priority = models.IntegerField(default=0, help_text="Higher is considered first.")
    # Control group and lift (docs/promotions.md).
    holdout_percent = models.PositiveSmallIntegerField(
        default=10,
        help_text="Share of the eligible customers held out as a control group (0–50).",
    )
    conversion_kind = models.CharField(
        max_length=60, default="invoice.paid", help_text="The lift report's conversion event."
    )
    conversion_changes = models.JSONField(
        default=list, blank=True, help_text='subscription.changed: e.g. ["plan_up"].'
    )
    conversion_window_days = models.PositiveIntegerField(default=30)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-priority", "pk"]
        constraints = [
            models.CheckConstraint(
                name="promotion_within_limit",
                condition=models.Q(max_redemptions__isnull=True)
                | models.Q(redeemed__lte=models.F("max_redemptions")),
            ),
            models.CheckConstraint(
                name="promotion_percent_at_most_100",
                condition=~models.Q(benefit="percent") | models.Q(value__lte=100),
            ),
            models.CheckConstraint(
                name="promotion_holdout_at_most_half", condition=models.Q(holdout_percent__lte=50)
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.duration == self.Duration.REPEATING and not self.periods:
            errors["periods"] = "Required when the duration is a number of periods."
        if self.benefit == self.Benefit.PERCENT and self.value and self.value > 100:
            errors["value"] = "A percentage is at most 100."
        if self.benefit == self.Benefit.FREE_MONTHS and self.value and self.value % 1:
            errors["value"] = "Free months are whole months."
        if self.automatic == self.Automatic.TURNOVER and self.min_revenue is None:
            errors["min_revenue"] = "Required for a turnover promotion."
        if self.automatic == self.Automatic.LOYALTY and not self.min_months:
            errors["min_months"] = "Required for a loyalty promotion."
        if self.holdout_percent is not None and self.holdout_percent > 50:
            errors["holdout_percent"] = "At most 50."
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = "Must be after the start."
        if errors:
            raise ValidationError(errors)


class PromoCode(models.Model):
    """A code that redeems its promotion; single-use (``max_uses`` 1), a number of uses,
    or unlimited (empty). ``used`` only grows through a conditional ``UPDATE``."""

    code = models.CharField(max_length=40, unique=True, help_text="Stored upper case.")
    promotion = models.ForeignKey(Promotion, on_delete=models.PROTECT, related_name="codes")
    max_uses = models.PositiveIntegerField(null=True, blank=True, default=1)
    used = models.PositiveIntegerField(default=0, editable=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                name="promo_code_within_uses",
                condition=models.Q(max_uses__isnull=True)
                | models.Q(used__lte=models.F("max_uses")),
            )
        ]

    def __str__(self):
        return self.code

    def save(self, *args, **kwargs):
        # Codes are typed in any case and looked up upper case.
        self.code = self.code.strip().upper()
        super().save(*args, **kwargs)


class Redemption(models.Model):
    """A promotion applied to a customer's subscription. ``ordinal`` numbers a customer's
    redemptions of one promotion, so two racing redemptions past the per-customer limit
    collide on a unique constraint."""

    promotion = models.ForeignKey(Promotion, on_delete=models.PROTECT, related_name="redemptions")
    code = models.ForeignKey(
        PromoCode, null=True, blank=True, on_delete=models.PROTECT, related_name="redemptions"
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="+")
    ordinal = models.PositiveIntegerField()
    discount = models.OneToOneField(
        SubscriptionDiscount, null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["promotion", "customer", "ordinal"], name="redemption_per_customer"
            ),
            models.UniqueConstraint(
                fields=["promotion", "subscription"], name="redemption_once_per_subscription"
            ),
        ]

    def __str__(self):
        return f"{self.promotion} · {self.customer}"


class PendingCode(models.Model):
    """A promo code typed at sign-up, waiting for that sign-up's subscription to start
    (the discount is for paid periods, so the code is redeemed when it does)."""

    signup_id = models.PositiveBigIntegerField(unique=True)
    email = models.EmailField(db_index=True)
    code = models.CharField(max_length=40)
    at = models.DateTimeField()
    redemption = models.ForeignKey(
        Redemption, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=200, blank=True)

    def __str__(self):
        return f"{self.code} · {self.email}"


class Assignment(models.Model):
    """A customer entered the promotion's experiment: the first time every condition held
    for them (a code redeemed by a known customer, an automatic grant). ``group`` comes
    from a hash of (promotion, customer), so it is the same on every later attempt; the
    row keeps when the customer entered (the lift window starts there) for the report
    and for audit, once per customer under a unique constraint."""

    class Group(models.TextChoices):
        TREATED = "treated", _("Treated")
        HELD_OUT = "held_out", _("Held out (control group)")

    promotion = models.ForeignKey(Promotion, on_delete=models.CASCADE, related_name="assignments")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    group = models.CharField(max_length=10, choices=Group.choices)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["promotion", "customer"], name="promotion_assignment_once"
            )
        ]

    def __str__(self):
        return f"{self.promotion} · {self.customer} ({self.group})"
