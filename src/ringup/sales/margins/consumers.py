"""The pricing owner's alert: a task in the back office and an e-mail, once per version."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q

from ringup.events.registry import consumer
from ringup.notifications.services import send

from .models import MarginAlert


def pricing_owner():
    """The active staff user named by ``RINGUP_PRICING_OWNER`` (username or e-mail)."""
    name = settings.RINGUP_PRICING_OWNER.strip()
    if not name:
        return None
    return (
        get_user_model()
        .objects.filter(Q(username=name) | Q(email__iexact=name), is_staff=True, is_active=True)
        .order_by("pk")
        .first()
    )


@consumer("margins-pricing-owner", kinds=["margin.below_target"])
def on_below_target(event) -> None:
    """Create the version's alert (insert or nothing on its unique version) and, only when
    it is new, e-mail the pricing owner. A failed send raises: the alert is rolled back
    with it and the delivery retried, so the owner gets exactly one mail."""
    payload = event.payload
    owner = pricing_owner()
    title = f"Margins below target after {payload['version']}"
    lines = [
        f"{row['description'] or row['prefix']}: {row['old_margin_percent']} % → "
        f"{row['new_margin_percent']} %, restoring rate {row['restoring_rate']}"
        for row in payload["destinations"]
    ]
    try:
        with transaction.atomic():
            alert = MarginAlert.objects.create(
                version_id=payload["version_id"],
                assignee=owner,
                title=title[:200],
                summary="\n".join(lines),
                created_at=event.at,
                mailed_to=owner.email if owner and owner.email else "",
            )
    except IntegrityError:
        if MarginAlert.objects.filter(version_id=payload["version_id"]).exists():
            return
        raise
    if alert.mailed_to:
        send(
            alert.mailed_to,
            "margins/email/below_target",
            {**payload, "owner": owner, "title": title},
            language=settings.LANGUAGE_CODE[:2],
        )
