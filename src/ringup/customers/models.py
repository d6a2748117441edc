"""CRM: customers (firms and people who buy) and their contacts."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ringup.catalog.models import Segment


class Customer(models.Model):
    class Source(models.TextChoices):
        CALCULATOR = "calculator", _("Pricing calculator")
        QUOTE = "quote", _("Shared quote")
        ADVISOR = "advisor", _("Plan advisor")
        REFERRAL = "referral", _("Referral")
        PROMO = "promo", _("Promo code")
        SALES = "sales", _("Sales team")
        WEBSITE = "website", _("Website")

    class Vertical(models.TextChoices):
        RETAIL = "retail", _("Retail")
        HEALTHCARE = "healthcare", _("Healthcare")
        LOGISTICS = "logistics", _("Logistics and transport")
        FINANCE = "finance", _("Finance and insurance")
        IT = "it", _("IT and software")
        HOSPITALITY = "hospitality", _("Hotels and restaurants")
        EDUCATION = "education", _("Education")
        MANUFACTURING = "manufacturing", _("Manufacturing")
        REAL_ESTATE = "real_estate", _("Real estate")
        SERVICES = "services", _("Professional services")
        OTHER = "other", _("Other")

    name = models.CharField(max_length=200)
    is_company = models.BooleanField(default=True)
    # The company's line of business: the sweet-spot report compares margins by it.
    vertical = models.CharField(
        _("vertical"), max_length=20, choices=Vertical.choices, blank=True, default=""
    )
    email = models.EmailField()
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +74951234567")
    country = models.CharField(max_length=2, default="RU")
    language = models.CharField(max_length=8, default="ru")
    tier = models.CharField(max_length=20, choices=Segment.choices, verbose_name=_("segment"))
    employees = models.PositiveIntegerField(default=1)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.WEBSITE)
    registered_at = models.DateTimeField(db_index=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    # The switch's account code (Asterisk/FreeSWITCH accountcode) that calls carry: the
    # CDR import attaches calls to the customer by it.
    account = models.CharField(
        max_length=80,
        null=True,
        blank=True,
        unique=True,
        help_text="Account code in the call records (accountcode) of this customer's calls.",
    )
    # The login of the customer's portal; customers entered by the sales team have none
    # until they are invited.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customer",
        help_text="Portal login of this customer.",
    )
    # Written by the referral program when a referred customer joins (not for a rejected
    # referral), so that the layers below it (segments) can count referrals.
    referrer = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referred_customers",
        help_text="The customer whose referral this customer joined through.",
    )

    class Meta:
        ordering = ["-registered_at"]
        indexes = [models.Index(fields=["tier", "registered_at"])]

    def __str__(self):
        return self.name


class Contact(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True)
    is_primary = models.BooleanField(default=False)

    def __str__(self):
        return f"{self.name} ({self.customer})"


class CustomerScore(models.Model):
    """A customer's churn risk and lifetime value as the revenue analytics last computed
    them (``ringup.analytics``); segments filter on them."""

    customer = models.OneToOneField(
        Customer, primary_key=True, on_delete=models.CASCADE, related_name="score"
    )
    churn_risk = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        help_text="Probability (0–1) that the customer leaves within the next month.",
    )
    clv = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        verbose_name="CLV",
        help_text="Expected discounted margin over the customer's remaining lifetime.",
    )
    currency = models.CharField(max_length=3)
    basis = models.CharField(
        max_length=200, help_text="How the figures were computed (model, cohort, inputs)."
    )
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["churn_risk"]), models.Index(fields=["clv"])]

    def __str__(self):
        return f"{self.customer}: churn {self.churn_risk}, CLV {self.clv} {self.currency}"
