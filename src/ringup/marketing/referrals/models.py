"""The referral program: customers' codes, the referrals they bring, the acquaintances
they name, and the rewards (balance credits) they earn."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Round
from django.utils.translation import gettext_lazy as _

from ringup.billing.models import AccountCredit
from ringup.customers.models import Customer

AMOUNT = {"max_digits": 14, "decimal_places": 2}
ZERO = Decimal("0.00")


class ReferralProgram(models.Model):
    """The program's terms: one row (``current()``), edited in the back office."""

    class RewardKind(models.TextChoices):
        PERCENTAGE = "percentage", _("Percentage of the referred customer's payments")
        FIXED = "fixed", _("Fixed bonus on the first payment")

    is_active = models.BooleanField(default=True)
    reward_kind = models.CharField(
        max_length=20, choices=RewardKind.choices, default=RewardKind.PERCENTAGE
    )
    percentage = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("10.00"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Share of each paid invoice of the referred customer, in percent.",
    )
    months = models.PositiveIntegerField(
        default=12, help_text="Months after the first payment during which payments earn."
    )
    fixed_bonus = models.DecimalField(**AMOUNT, default=Decimal("500.00"))
    invitations_needed = models.PositiveIntegerField(
        default=3, help_text="Acquaintances a customer names to earn the invitation bonus."
    )
    invitation_bonus = models.DecimalField(**AMOUNT, default=Decimal("300.00"))
    invitation_buy_bonus = models.DecimalField(
        **AMOUNT,
        default=Decimal("500.00"),
        help_text="Extra bonus when a named acquaintance first pays.",
    )
    currency = models.CharField(max_length=3, default="RUB")

    class Meta:
        verbose_name = "referral program"

    def __str__(self):
        return f"Referral program ({self.get_reward_kind_display()})"

    @classmethod
    def current(cls) -> "ReferralProgram":
        program, _ = cls.objects.get_or_create(pk=1)
        return program


class ReferralCode(models.Model):
    """A customer's code, shared as ``PUBLIC_URL/?ref=CODE``."""

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, related_name="referral_code"
    )
    code = models.CharField(max_length=12, unique=True)
    created_at = models.DateTimeField()

    def __str__(self):
        return self.code


class Invitation(models.Model):
    """An acquaintance a customer named; matched to a sign-up by e-mail or phone."""

    referrer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="invitations")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True, help_text="Normalised: lower case, no +tag.")
    phone = models.CharField(max_length=20, blank=True, help_text="E.164")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="invitation_has_contact", condition=~models.Q(email="", phone="")
            ),
            models.UniqueConstraint(
                fields=["referrer", "email"],
                condition=~models.Q(email=""),
                name="invitation_email_once",
            ),
            models.UniqueConstraint(
                fields=["referrer", "phone"],
                condition=~models.Q(phone=""),
                name="invitation_phone_once",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.email or self.phone})"


class Referral(models.Model):
    """A sign-up that came with a customer's code (or matched one of their invitations)."""

    class Status(models.TextChoices):
        SIGNED_UP = "signed_up", _("Signed up")
        JOINED = "joined", _("Joined (e-mail verified)")
        CONVERTED = "converted", _("Bought")
        REJECTED = "rejected", _("Rejected")

    class Reason(models.TextChoices):
        SAME_EMAIL = "same_email", _("Same e-mail address as the referrer")
        SAME_PHONE = "same_phone", _("Same phone number as the referrer")
        SAME_PAYER = "same_payer", _("Paid with the referrer's card or account")
        RING = "ring", _("The referrer was referred by this customer")
        INACTIVE = "inactive", _("The program was off")

    referrer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="referrals")
    referred = models.OneToOneField(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referred_by",
        help_text="Set when the sign-up's e-mail address is verified.",
    )
    signup_id = models.PositiveBigIntegerField(
        null=True, blank=True, unique=True, help_text="The site's sign-up (none: entered by staff)."
    )
    code = models.CharField(max_length=40)
    invitation = models.ForeignKey(
        Invitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals"
    )
    email = models.EmailField(help_text="The sign-up's address, normalised.")
    phone = models.CharField(max_length=20, blank=True)
    at = models.DateTimeField(help_text="When the referred customer signed up.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SIGNED_UP)
    reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)
    joined_at = models.DateTimeField(null=True, blank=True)
    converted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["email"]), models.Index(fields=["referrer", "status"])]
        constraints = [
            models.CheckConstraint(
                name="rejected_referral_has_reason",
                condition=~models.Q(status="rejected") | ~models.Q(reason=""),
            )
        ]

    def __str__(self):
        return f"{self.referrer} → {self.email} ({self.get_status_display()})"


class Reward(models.Model):
    """A reward paid to a referrer as an ``AccountCredit``. ``source_key`` names what
    earned it (``percentage:invoice:<id>``, ``first_payment:referral:<id>``,
    ``invitations:customer:<id>``, ``invitation_buy:referral:<id>``): unique, so each
    qualified referral or payment is rewarded once, however often its event arrives."""

    class Kind(models.TextChoices):
        PERCENTAGE = "percentage", _("Share of a payment")
        FIRST_PAYMENT = "first_payment", _("First payment bonus")
        INVITATIONS = "invitations", _("Acquaintances named")
        INVITATION_BUY = "invitation_buy", _("A named acquaintance bought")

    referrer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="referral_rewards"
    )
    referral = models.ForeignKey(
        Referral, null=True, blank=True, on_delete=models.PROTECT, related_name="rewards"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    source_key = models.CharField(max_length=80, unique=True)
    invoice_id = models.PositiveBigIntegerField(
        null=True, blank=True, db_index=True, help_text="The referred customer's paid invoice."
    )
    amount = models.DecimalField(**AMOUNT, help_text="Earned, before any debt was set off.")
    credit = models.OneToOneField(
        AccountCredit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referral_reward",
        help_text="The credit on the referrer's account (none when debt took it all).",
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount} → {self.referrer}"


class Clawback(models.Model):
    """A reward taken back because the invoice that earned it was credited (a refund).

    ``from_credit`` came off the reward's credit not yet used; ``carried`` had already
    reduced an invoice, so it is owed and set off against the referrer's next rewards
    (``settled`` of it so far)."""

    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="clawbacks")
    credit_note_id = models.PositiveBigIntegerField()
    amount = models.DecimalField(**AMOUNT)
    from_credit = models.DecimalField(**AMOUNT, default=ZERO)
    carried = models.DecimalField(**AMOUNT, default=ZERO)
    settled = models.DecimalField(**AMOUNT, default=ZERO)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reward", "credit_note_id"], name="clawback_once_per_credit_note"
            ),
            models.CheckConstraint(
                name="clawback_adds_up",
                condition=models.Q(amount=Round(models.F("from_credit") + models.F("carried"), 2)),
            ),
            models.CheckConstraint(
                name="clawback_settled_within_carried",
                condition=models.Q(settled__gte=0, settled__lte=models.F("carried")),
            ),
        ]

    def __str__(self):
        return f"Clawback {self.amount} of {self.reward}"
