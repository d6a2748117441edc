"""The operator's billing settings (``settings.BILLING``, from ``RINGUP_*`` variables)."""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ringup.engine.invoicing import VatRule


@dataclass(frozen=True)
class BillingSettings:
    vat: VatRule
    payment_terms_days: int
    past_due_days: int
    suspend_days: int
    trial_grace_days: int
    invoice_prefix: str
    credit_note_prefix: str
    seller: dict

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(settings.TIME_ZONE)


def billing_settings() -> BillingSettings:
    """Read now, not at import, so tests and ``override_settings`` see their values."""
    raw = settings.BILLING
    try:
        rate = Decimal(str(raw["VAT_RATE"]))
    except InvalidOperation:
        raise ImproperlyConfigured(
            f"RINGUP_VAT_RATE is not a number: {raw['VAT_RATE']!r}"
        ) from None
    if not 0 <= rate < 100:
        raise ImproperlyConfigured(f"RINGUP_VAT_RATE must be between 0 and 100, not {rate}")
    if not 0 < raw["DUNNING_PAST_DUE_DAYS"] <= raw["DUNNING_SUSPEND_DAYS"]:
        raise ImproperlyConfigured(
            "RINGUP_DUNNING_PAST_DUE_DAYS must be positive and not above "
            "RINGUP_DUNNING_SUSPEND_DAYS"
        )
    if int(raw.get("TRIAL_GRACE_DAYS", 7)) < 0:
        raise ImproperlyConfigured("RINGUP_TRIAL_GRACE_DAYS must not be negative")
    return BillingSettings(
        vat=VatRule(rate=rate, included=bool(raw["VAT_INCLUDED"])),
        payment_terms_days=int(raw["PAYMENT_TERMS_DAYS"]),
        past_due_days=int(raw["DUNNING_PAST_DUE_DAYS"]),
        suspend_days=int(raw["DUNNING_SUSPEND_DAYS"]),
        trial_grace_days=int(raw.get("TRIAL_GRACE_DAYS", 7)),
        invoice_prefix=raw["INVOICE_PREFIX"],
        credit_note_prefix=raw["CREDIT_NOTE_PREFIX"],
        seller={"name": settings.OPERATOR_NAME, **raw["SELLER"]},
    )
