"""Subscriptions, their add-ons and their history of changes."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from ringup.catalog.models import Option, Plan, TrafficPackage
from ringup.customers.models import Customer


class Subscription(models.Model):
    """A customer's service on a plan.

    Paid periods start at local midnight of ``billing_starts_on`` (the first midnight after
    the trial) and recur on its day of the month; the history of interval switches lives
    in ``changes`` (kind ``period_changed``). ``ended_at`` may lie ahead: a cancellation at
    the end of the period. A self-service trial (``trial_converts`` unset) is never billed
    until the customer converts it; one that ends without that is suspended, then ends.
    """

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
    traffic_package = models.ForeignKey(
        TrafficPackage,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="A minute bundle paid every month whether used or not.",
    )
    discount_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        help_text="The sales manager's discount, as on the quote.",
    )
    started_at = models.DateTimeField()
    trial_ends_at = models.DateTimeField(null=True, blank=True)
    billing_starts_on = models.DateField(
        help_text="Local date the first paid period starts; its day is the billing day."
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    trial_converts = models.BooleanField(
        default=True,
        help_text="The trial turns paid at its end by itself; unset, it waits for the "
        "customer's decision (a plan picked, a payment) and is suspended without one.",
    )
    minimum_usage = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
        help_text="Monthly minimum call spend (a contract's commitment), in the "
        "subscription's currency, as call lines are priced (net of VAT where prices exclude "
        "it): a period's calls below it are topped up on the invoice, prorated for a period "
        "held in part. Empty: no commitment.",
    )

    class Meta:
        indexes = [models.Index(fields=["status", "plan"])]
        constraints = [
            models.CheckConstraint(
                name="minimum_usage_not_negative",
                condition=models.Q(minimum_usage__isnull=True) | models.Q(minimum_usage__gte=0),
            )
        ]

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
    """One change of plan, employees, phone numbers, options, traffic package, period or
    status: the history analytics reads and the invoices are computed from."""

    class Kind(models.TextChoices):
        STARTED = "started", _("Started")
        CONVERTED = "converted", _("Trial converted")
        UPGRADE = "upgrade", _("Upgrade")
        DOWNGRADE = "downgrade", _("Downgrade")
        EMPLOYEES = "employees", _("Employees changed")
        OPTION_ADDED = "option_added", _("Option added")
        OPTION_REMOVED = "option_removed", _("Option removed")
        CANCELLED = "cancelled", _("Cancelled")
        PERIOD_CHANGED = "period_changed", _("Billing period changed")
        PAST_DUE = "past_due", _("Past due")
        SUSPENDED = "suspended", _("Suspended")
        REACTIVATED = "reactivated", _("Reactivated")
        NUMBERS = "numbers", _("Phone numbers changed")
        TRAFFIC_PACKAGE = "traffic_package", _("Traffic package changed")
        TRIAL_EXPIRED = "trial_expired", _("Trial expired without a decision")

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
    from_numbers = models.PositiveIntegerField(null=True, blank=True)
    to_numbers = models.PositiveIntegerField(null=True, blank=True)
    from_package = models.ForeignKey(
        TrafficPackage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_package = models.ForeignKey(
        TrafficPackage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    option = models.ForeignKey(
        Option, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_period = models.CharField(max_length=10, blank=True, choices=Subscription.Period.choices)
    to_period = models.CharField(max_length=10, blank=True, choices=Subscription.Period.choices)

    class Meta:
        ordering = ["at"]
        indexes = [models.Index(fields=["subscription", "at"])]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.subscription} · {self.at:%Y-%m-%d}"


class BillingAccount(models.Model):
    """How a customer pays. Customers without one are postpaid on the default terms."""

    class Kind(models.TextChoices):
        PREPAID = "prepaid", _("Prepaid: invoices are due on issue")
        POSTPAID = "postpaid", _("Postpaid: invoices are due after the payment terms")

    customer = models.OneToOneField(
        Customer, on_delete=models.PROTECT, related_name="billing_account"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.POSTPAID)
    payment_terms_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Days to pay a postpaid invoice (default: operator's)."
    )

    def __str__(self):
        return f"{self.customer} · {self.get_kind_display()}"


class UsageCharge(models.Model):
    """Rated usage waiting for an invoice: one row per call, or per subscription,
    destination and day. The usage app fills it; the invoice of the period the usage falls
    in (or the next one, for usage that arrives late) groups it by destination."""

    # Indexed by (subscription, at) below.
    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="usage_charges", db_index=False
    )
    at = models.DateTimeField(help_text="When the usage happened (a call's start).")
    destination = models.CharField(max_length=100, help_text='E.g. "Moscow mobile".')
    calls = models.PositiveIntegerField(default=1)
    seconds = models.PositiveIntegerField(help_text="Billed seconds.")
    amount = models.DecimalField(max_digits=18, decimal_places=6, help_text="Rated amount.")
    currency = models.CharField(max_length=3)
    source_key = models.CharField(
        max_length=100, unique=True, help_text="The usage app's key: a re-import adds nothing."
    )
    invoice = models.ForeignKey(
        "billing.Invoice",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="usage_charges",
    )

    class Meta:
        indexes = [models.Index(fields=["subscription", "at"])]

    def __str__(self):
        return f"{self.destination} · {self.amount}"


class AccountCredit(models.Model):
    """A credit granted to a customer (referral reward, goodwill gesture): it reduces their
    next invoices, as a line, until used up."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="credits")
    description = models.CharField(max_length=200)
    amount = models.DecimalField(
        max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    currency = models.CharField(max_length=3, default="RUB")
    granted_at = models.DateTimeField()
    used = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal(0))

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="credit_used_within_amount",
                condition=models.Q(used__gte=0, used__lte=models.F("amount")),
            )
        ]

    def __str__(self):
        return f"{self.description} · {self.amount}"


class SubscriptionDiscount(models.Model):
    """A discount granted on a subscription's recurring fees (a promotion, a loyalty
    discount): a negative line on the invoices of its periods that start at or after
    ``starts_at``, after the plan's own discounts, for ``periods`` periods (``None``:
    every period). A ``free_months`` discount counts months instead: ``value`` months of
    recurring fees, a monthly period at a time or a share of an annual one.

    How many periods (or months) it has covered is read from the invoice lines it wrote
    (code ``discount:<id>``): invoices never change, so neither does that count."""

    class Kind(models.TextChoices):
        PERCENT = "percent", _("Percentage of the recurring fees")
        AMOUNT = "amount", _("Fixed amount off each period")
        FREE_MONTHS = "free_months", _("Free months of recurring fees")

    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="discounts"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    value = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text="Percent, amount in the subscription's currency, or months.",
    )
    periods = models.PositiveIntegerField(
        null=True, blank=True, help_text="Periods discounted; empty: every period."
    )
    description = models.CharField(max_length=200)
    starts_at = models.DateTimeField(help_text="Periods starting at or after it are discounted.")
    source = models.CharField(
        max_length=100,
        unique=True,
        help_text="Who granted it (e.g. a promotion redemption): granting twice adds nothing.",
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                name="discount_percent_at_most_100",
                condition=~models.Q(kind="percent") | models.Q(value__lte=100),
            )
        ]

    def __str__(self):
        return f"{self.description} · {self.subscription}"

    @property
    def line_code(self) -> str:
        return f"discount:{self.pk}"
