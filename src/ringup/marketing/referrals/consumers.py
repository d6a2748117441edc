"""The referral program's reactions to events: attribution from the site's sign-up
events, rewards from billing's payments, and the notices to referrers."""

from django.conf import settings

from ringup.events.registry import consumer
from ringup.notifications.services import send

from . import services

LANGUAGES = {"en", "ru"}
NOTICES = {
    "referral.invited": "thanks",
    "referral.joined": "joined",
    "referral.converted": "bought",
}


@consumer(
    "referrals",
    kinds=["customer.registered", "customer.email_verified", "invoice.paid", "credit_note.issued"],
)
def on_event(event) -> None:
    """Attribute sign-ups to referrers, reward referred customers' payments and take
    rewards back when the invoice that earned them is credited."""
    if event.kind == "customer.registered":
        services.record_signup(event.payload.get("signup") or {}, at=event.at)
    elif event.kind == "customer.email_verified":
        services.record_join(event.customer_id, at=event.at)
    elif event.kind == "credit_note.issued":
        services.claw_back_refunds(
            at=event.at, credit_note_id=(event.payload.get("credit_note") or {}).get("id")
        )
    else:
        invoice_id = (event.payload.get("invoice") or {}).get("id")
        if invoice_id is not None:
            services.reward_payment(event.customer_id, invoice_id, at=event.at)
        # A credit note settling an open invoice announces it paid: take back at once
        # what refunds of this customer earned (the periodic task covers the rest).
        services.claw_back_refunds(at=event.at, customer_id=event.customer_id)


@consumer("referrals-mail", kinds=list(NOTICES))
def on_notice(event) -> None:
    """E-mail the referrer: thanks for naming acquaintances, a referral joined or bought.
    A failed send raises, so the delivery is retried."""
    referrer = event.payload["referrer"]
    language = referrer.get("language") if referrer.get("language") in LANGUAGES else "en"
    context = {
        "referrer": referrer,
        "friend": masked((event.payload.get("referral") or {}).get("email", "")),
        "invited": event.payload.get("invited") or [],
        "reward": event.payload.get("reward"),
        "currency": event.payload.get("currency", ""),
        "portal_url": f"{settings.PUBLIC_URL}/portal/",
    }
    send(
        referrer["email"],
        f"referrals/email/{language}/{NOTICES[event.kind]}",
        context,
        language=language,
    )


def masked(email: str) -> str:
    """``anna@example.com`` as ``a***@example.com``: the referrer learns that their friend
    joined without the notice handing out the friend's address."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else ""
