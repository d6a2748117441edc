"""E-mails to the customer about their trial and their invoices, sent from the events
outbox (a failed send raises, so the delivery is retried), honouring the customer's
e-mail choices and in their language."""

import math
from datetime import timedelta

from django.conf import settings

from ringup.billing.models import Invoice, Subscription
from ringup.customers.models import Customer
from ringup.events.registry import consumer
from ringup.notifications.services import send

from .selectors import notification_settings

# event kind → (template, the choice that allows it)
MAILS = {
    "trial.ending": ("portal/email/trial_ending", "trial_reminders"),
    "trial.expired": ("portal/email/trial_expired", "trial_reminders"),
    "invoice.issued": ("portal/email/invoice_issued", "invoices"),
}


@consumer("portal-mail", kinds=list(MAILS))
def on_event(event) -> None:
    """Send the customer the e-mail of ``event``, unless they turned that kind off."""
    customer = Customer.objects.filter(pk=event.customer_id).first()
    if customer is None:
        return
    template, choice = MAILS[event.kind]
    if not getattr(notification_settings(customer), choice):
        return
    context = _context(event, customer)
    if context is None:
        return
    language = customer.language if customer.language in {"en", "ru"} else "en"
    send(customer.email, template, context, language=language)


def _context(event, customer: Customer) -> dict | None:
    portal = f"{settings.PUBLIC_URL}/portal/"
    context = {"customer": customer, "portal_url": portal}
    if event.kind == "invoice.issued":
        invoice_id = (event.payload.get("invoice") or {}).get("id")
        invoice = Invoice.objects.filter(pk=invoice_id, customer=customer).first()
        if invoice is None:
            return None
        return {**context, "invoice": invoice, "invoice_url": f"{portal}invoices/{invoice.pk}/"}
    subscription = (
        Subscription.objects.filter(pk=event.subscription_id, customer=customer)
        .select_related("plan")
        .first()
    )
    if subscription is None:
        return None
    change_url = f"{portal}subscriptions/{subscription.pk}/change/"
    days_left = None
    if subscription.trial_ends_at is not None:
        days_left = max(0, math.ceil((subscription.trial_ends_at - event.at) / timedelta(days=1)))
    return {
        **context,
        "subscription": subscription,
        "change_url": change_url,
        "days_left": days_left,
    }
