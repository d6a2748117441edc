"""The demo operator's referral program: one early customer recommended three later ones
(rewarded a share of their paid invoices) and named three acquaintances (the bonus)."""

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Min

from ringup.billing.models import Invoice
from ringup.billing.selectors.invoices import open_invoices
from ringup.customers.models import Customer
from ringup.marketing.referrals import services
from ringup.marketing.referrals.models import Referral, ReferralProgram, Reward

ACQUAINTANCES = [
    services.Acquaintance("Олег Смирнов", email="oleg.smirnov@example.com"),
    services.Acquaintance("Marina Volkova", email="marina.volkova@example.com"),
    services.Acquaintance("Андрей Козлов", phone="+79165550101"),
]


@dataclass(frozen=True)
class ReferralDemo:
    referrer: Customer | None
    code: str
    referrals: int
    rewards: int

    @property
    def message(self) -> str:
        if self.referrer is None:
            return "Referrals: no paying customers to show them with."
        return (
            f"Referrals: {self.referrer} (code {self.code}) referred {self.referrals} "
            f"customers; {self.rewards} rewards."
        )


@transaction.atomic
def load_referrals() -> ReferralDemo:
    """The program's terms, and one referrer with three referrals and their rewards,
    from the billed history (paid invoices). Run again, it adds nothing."""
    ReferralProgram.current()
    existing = Referral.objects.order_by("pk").select_related("referrer").first()
    if existing is not None:
        return _summary(existing.referrer)
    paying = (
        Customer.objects.filter(invoices__status=Invoice.Status.FINALISED)
        .annotate(first_invoice=Min("invoices__issued_at"))
        .order_by("registered_at", "pk")
        .distinct()
    )
    customers = list(paying[:4])
    if len(customers) < 4:
        return ReferralDemo(None, "", 0, 0)
    referrer, *referred = customers
    code = services.code_for(referrer, at=referrer.registered_at).code
    for customer in referred:
        Referral.objects.create(
            referrer=referrer,
            referred=customer,
            code=code,
            email=services.normalise_email(customer.email),
            phone=customer.phone,
            at=customer.registered_at,
            status=Referral.Status.JOINED,
            joined_at=customer.registered_at,
        )
    # As attribution does when a referred customer joins (the segments count these).
    Customer.objects.filter(pk__in=[c.pk for c in referred]).update(referrer=referrer)
    for customer, invoice, at in _paid_invoices(referred):
        services.reward_payment(customer.pk, invoice.pk, at=at)
    services.submit_invitations(
        referrer, ACQUAINTANCES, at=referrer.registered_at + timedelta(days=30)
    )
    return _summary(referrer)


def _paid_invoices(customers: list[Customer]):
    """``(customer, invoice, paid at)`` of the customers' settled invoices in order: the
    history is billed without events, so they are read from the ledger (paid at the
    first payment received on or after the invoice date)."""
    owed = {item.id for item in open_invoices([c.pk for c in customers])}
    for customer in customers:
        received = sorted(customer.payments.values_list("received_at", flat=True))
        invoices = customer.invoices.filter(status=Invoice.Status.FINALISED, total__gt=0)
        for invoice in invoices.order_by("issued_at", "pk"):
            if invoice.pk in owed:
                continue
            at = next((day for day in received if day >= invoice.issued_at), invoice.issued_at)
            yield customer, invoice, at


def _summary(referrer: Customer) -> ReferralDemo:
    return ReferralDemo(
        referrer,
        services.code_for(referrer, at=referrer.registered_at).code,
        Referral.objects.filter(referrer=referrer).count(),
        Reward.objects.filter(referrer=referrer).count(),
    )
