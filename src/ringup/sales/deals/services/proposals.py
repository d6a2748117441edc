"""Share links of a deal's proposal: a random token that opens the proposal without a
login until it expires."""

import secrets
from datetime import datetime, timedelta

from ..models import Deal, ProposalLink
from .deals import DealRefused

MAX_DAYS = 90


class LinkExpired(Exception):
    """The link existed but is past its ``expires_at``."""

    def __init__(self, link: ProposalLink):
        self.link = link
        super().__init__(f"expired at {link.expires_at.isoformat()}")


def share(deal: Deal, *, days: int, at: datetime, by=None) -> ProposalLink:
    """A new link to the deal's proposal, valid for ``days`` (1–90) from ``at``."""
    if not 1 <= days <= MAX_DAYS:
        raise DealRefused({"days": f"between 1 and {MAX_DAYS}"})
    return ProposalLink.objects.create(
        deal=deal,
        token=secrets.token_urlsafe(32),
        created_at=at,
        expires_at=at + timedelta(days=days),
        created_by=by,
    )


def open_link(token: str, *, at: datetime) -> ProposalLink | None:
    """The link of ``token`` (``None``: no such link); raises :class:`LinkExpired` once
    ``at`` has reached its expiry."""
    link = (
        ProposalLink.objects.select_related("deal__customer", "deal__plan")
        .filter(token=token)
        .first()
    )
    if link is not None and link.expires_at <= at:
        raise LinkExpired(link)
    return link
