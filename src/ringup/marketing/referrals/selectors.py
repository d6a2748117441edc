"""Reads of the referral program, for the portal, the API and the back office."""

from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone

from ringup.customers.models import Customer

from . import services
from .models import ZERO, Clawback, Invitation, Referral, ReferralProgram, Reward


def referral_link(customer: Customer, *, at: datetime | None = None) -> str:
    """The customer's link ``PUBLIC_URL/?ref=CODE`` (the code is created on first use)."""
    return services.link_for(services.code_for(customer, at=at or timezone.now()))


def referral_summary(customer: Customer) -> dict:
    """What became of the customer's recommendations: ``invited`` (acquaintances named),
    ``signed_up`` (every sign-up with their code, rejected ones included), ``joined``
    (e-mail verified, not rejected), ``bought``, ``rejected``, ``rewards_earned``
    (rewards less clawbacks) and ``currency``."""
    counts = Referral.objects.filter(referrer=customer).aggregate(
        signed_up=Count("pk"),
        joined=Count(
            "pk", filter=Q(status__in=[Referral.Status.JOINED, Referral.Status.CONVERTED])
        ),
        bought=Count("pk", filter=Q(status=Referral.Status.CONVERTED)),
        rejected=Count("pk", filter=Q(status=Referral.Status.REJECTED)),
    )
    return {
        "invited": Invitation.objects.filter(referrer=customer).count(),
        **counts,
        "rewards_earned": rewards_earned(customer),
        "currency": ReferralProgram.current().currency,
    }


#: What became of a named acquaintance, the furthest first.
OUTCOMES = ("bought", "joined", "signed_up", "waiting")
_OUTCOME_OF = {
    Referral.Status.CONVERTED: "bought",
    Referral.Status.JOINED: "joined",
    Referral.Status.SIGNED_UP: "signed_up",
}


def invitations_with_outcome(customer: Customer) -> list[tuple[Invitation, str]]:
    """The acquaintances ``customer`` named, newest first, each with the furthest of
    :data:`OUTCOMES` their sign-ups reached (a rejected referral earns nothing and leaves
    the acquaintance ``waiting``)."""
    furthest: dict[int, str] = {}
    sign_ups = Referral.objects.filter(invitation__referrer=customer)
    for invitation_id, status in sign_ups.values_list("invitation_id", "status"):
        outcome = _OUTCOME_OF.get(status, "waiting")
        if OUTCOMES.index(outcome) < OUTCOMES.index(furthest.get(invitation_id, "waiting")):
            furthest[invitation_id] = outcome
    named = Invitation.objects.filter(referrer=customer).order_by("-created_at", "-pk")
    return [(invitation, furthest.get(invitation.pk, "waiting")) for invitation in named]


def rewards_earned(customer: Customer) -> Decimal:
    earned = Reward.objects.filter(referrer=customer).aggregate(s=Sum("amount"))["s"] or ZERO
    taken = Clawback.objects.filter(reward__referrer=customer).aggregate(s=Sum("amount"))["s"]
    return earned - (taken or ZERO)


def referrals_of(customer_id: int | None = None):
    """Referrals, newest first (one referrer's, when given)."""
    found = Referral.objects.select_related("referrer", "referred")
    return found.filter(referrer_id=customer_id) if customer_id is not None else found


def rewards_of(customer_id: int):
    return Reward.objects.filter(referrer_id=customer_id).prefetch_related("clawbacks")
