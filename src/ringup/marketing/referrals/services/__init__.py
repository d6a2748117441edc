"""Writes of the referral program: codes, attribution of sign-ups, invitations, rewards
and their clawback.

Attribution follows the site's events: ``customer.registered`` (the sign-up and its
``referral_code``) records a :class:`Referral`; ``customer.email_verified`` links the new
customer to it, whichever of the two arrives first. Rewards are ``AccountCredit`` rows on
the referrer, so the next invoice shows them; each is claimed by a unique
``Reward.source_key`` in the transaction that writes its credit, so an event delivered
twice rewards once.
"""

from .attribution import record_join, record_signup
from .codes import ALPHABET, code_for, link_for, new_code, normalise_email, normalise_phone
from .invitations import Acquaintance, InvitationError, submit_invitations
from .program import ProgramError, update_program
from .rewards import add_months, claw_back_refunds, clawback_due, grant, reward_payment

__all__ = [
    "ALPHABET",
    "Acquaintance",
    "InvitationError",
    "ProgramError",
    "add_months",
    "claw_back_refunds",
    "clawback_due",
    "code_for",
    "grant",
    "link_for",
    "new_code",
    "normalise_email",
    "normalise_phone",
    "record_join",
    "record_signup",
    "reward_payment",
    "submit_invitations",
    "update_program",
]
