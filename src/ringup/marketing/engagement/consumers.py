"""Follow-up rules that react to events: each makes a task once (``services.rules``)."""

from ringup.customers.models import Customer
from ringup.events.registry import consumer

from .services import rules

HANDLERS = {
    "trial.expired": rules.on_trial_expired,
    "payment.failed": rules.on_payment_failed,
    "customer.inactive": rules.on_inactive,
    "deal.lost": rules.on_deal_lost,
}


@consumer("engagement-follow-ups", kinds=sorted(HANDLERS))
def on_event(event) -> None:
    """A trial ended without purchase, a failed payment, a customer gone quiet or a lost
    deal: a task for a sales manager. Events about no (or a deleted) customer make nothing."""
    if event.customer_id is None or not Customer.objects.filter(pk=event.customer_id).exists():
        return
    HANDLERS[event.kind](event)
