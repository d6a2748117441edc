"""Self-service sign-ups: who asked for a trial, of what offer, and where they came from."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from ringup.billing.models import Subscription
from ringup.catalog.models import Plan, Quote
from ringup.customers.models import Customer


class Signup(models.Model):
    """A visitor's sign-up: the lead, the offer it carried and its verification.

    One trial per e-mail address and per phone number is the database's rule (unique
    constraints), so two racing sign-ups cannot both win. The customer is created when
    the e-mail address is verified; the trial starts once the phone is confirmed too.
    """

    Source = Customer.Source

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signup"
    )
    email = models.EmailField()
    phone = models.CharField(max_length=20, help_text="E.164, e.g. +74951234567")
    language = models.CharField(max_length=8, default="en")
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.WEBSITE)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="signups")
    period = models.CharField(max_length=10, default="monthly")
    employees = models.PositiveIntegerField(null=True, blank=True)
    extra_numbers = models.PositiveIntegerField(default=0)
    options = models.JSONField(default=list, blank=True)
    traffic_package = models.CharField(max_length=40, blank=True)
    promo_code = models.CharField(max_length=40, blank=True)
    referral_code = models.CharField(max_length=40, blank=True)
    quote = models.ForeignKey(
        Quote, null=True, blank=True, on_delete=models.SET_NULL, related_name="signups"
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)
    phone_verified_at = models.DateTimeField(null=True, blank=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    customer = models.OneToOneField(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="signup"
    )
    subscription = models.OneToOneField(
        Subscription, null=True, blank=True, on_delete=models.SET_NULL, related_name="signup"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="one_trial_per_email"),
            models.UniqueConstraint(fields=["phone"], name="one_trial_per_phone"),
        ]

    def __str__(self):
        return f"{self.email} ({self.plan.code})"

    @property
    def phone_prefix(self) -> str:
        return phone_prefix(self.phone)


def phone_prefix(e164: str) -> str:
    """The first 7 digits of an E.164 number: country and area or operator code, the
    unit in which bulk-bought numbers come."""
    return e164.lstrip("+")[:7]
