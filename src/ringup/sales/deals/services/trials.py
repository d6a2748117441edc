"""The proposal's "Try free" link: a signed token naming the deal, valid for
:data:`VALID_DAYS`, which the site's sign-up turns into a trial for the deal's prospect.

The token is ``django.core.signing`` with its own salt; its expiry travels inside it and is
checked against ``at``, so a link's life does not depend on the server's clock alone.
A prospect that already has a login or a live subscription is not taken over: the
sign-up goes on as a normal one (docs/sales.md).
"""

from datetime import UTC, datetime, timedelta

from django.core import signing
from django.utils.translation import gettext_lazy as _

from ringup.billing.models import Subscription
from ringup.customers.models import Customer

from ..models import Deal, Stage, TrialSignup
from .deals import move_deal

SALT = "ringup.sales.deals.trial-link"
VALID_DAYS = 30

# The stages a deal passes through on its way to the trial, from where it can stand when
# the prospect presses "Try free" (the proposal may be shared before the deal is moved).
PATH_TO_TRIAL = {
    Stage.LEAD: (Stage.QUALIFIED, Stage.PROPOSAL, Stage.TRIAL),
    Stage.QUALIFIED: (Stage.PROPOSAL, Stage.TRIAL),
    Stage.PROPOSAL: (Stage.TRIAL,),
}


class TrialLinkRefused(Exception):
    """The link cannot start a trial for the deal's prospect; ``str()`` says why, for the
    visitor."""


def trial_token(deal: Deal, *, at: datetime) -> str:
    """The signed token of ``deal``'s "Try free" link, valid :data:`VALID_DAYS` from ``at``."""
    until = int((at + timedelta(days=VALID_DAYS)).timestamp())
    return signing.dumps({"deal": deal.pk, "until": until}, salt=SALT)


def prospect_is_taken(customer: Customer) -> bool:
    """Whether the prospect already has a portal login or a subscription not cancelled."""
    if customer.user_id is not None:
        return True
    live = Subscription.objects.filter(customer=customer).exclude(
        status=Subscription.Status.CANCELLED
    )
    return live.exists()


def deal_of_token(token: str, *, at: datetime) -> Deal:
    """The open deal ``token`` names, whose prospect can still be signed up at ``at``;
    raises :class:`TrialLinkRefused` for a forged, expired, closed or taken one."""
    try:
        data = signing.loads(token, salt=SALT)
        deal_id, until = int(data["deal"]), int(data["until"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise TrialLinkRefused(_("This trial link is not valid.")) from error
    if datetime.fromtimestamp(until, UTC) <= at:
        raise TrialLinkRefused(_("This trial link has expired."))
    deal = Deal.objects.select_related("customer", "plan").filter(pk=deal_id).first()
    if deal is None or not deal.is_open:
        raise TrialLinkRefused(_("The offer of this trial link is closed."))
    if prospect_is_taken(deal.customer):
        raise TrialLinkRefused(
            _("%(company)s already has an account with us: log in to it.")
            % {"company": deal.customer.name}
        )
    return deal


def record_signup(deal: Deal, user, *, at: datetime) -> TrialSignup:
    """Remember that ``user`` signed up through ``deal``'s link (before verification)."""
    return TrialSignup.objects.create(deal=deal, user=user, created_at=at)


def prospect_of(user) -> Customer | None:
    """The prospect ``user``'s verified sign-up should complete: the deal's customer, if
    ``user`` came through a trial link and the prospect is still free; else ``None``."""
    trial = TrialSignup.objects.select_related("deal__customer").filter(user=user).first()
    if trial is None or prospect_is_taken(trial.deal.customer):
        return None
    return trial.deal.customer


def trial_started(user, customer: Customer, *, at: datetime) -> Deal | None:
    """The trial of ``user``'s sign-up started on ``customer``: when that is the prospect
    of the deal whose link ``user`` came through, move the deal to the trial stage
    (emitting ``deal.stage_changed`` for each stage passed). ``None`` otherwise."""
    trial = TrialSignup.objects.filter(user=user, deal__customer=customer).first()
    if trial is None:
        return None
    deal = trial.deal
    note = f"Trial started from the proposal by {user.email}"
    for stage in PATH_TO_TRIAL.get(deal.stage, ()):
        deal = move_deal(deal, stage, at=at, note=note)
    return deal
