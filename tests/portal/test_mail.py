"""The portal's e-mails end to end: billing writes the event to the outbox, the outbox
runs the portal's consumer, and the message reaches a real SMTP server."""

from datetime import timedelta

import pytest

from ringup.billing.services.subscriptions import (
    StartRequest,
    advance_subscriptions,
    start_subscription,
)
from ringup.events.models import Delivery
from ringup.events.services import dispatch
from tests.notifications.smtp import smtp_server

from .conftest import NOW


@pytest.fixture
def inbox(settings):
    from ringup.notifications.conf import email_settings

    with smtp_server() as (received, port):
        for name, value in email_settings(f"smtp://127.0.0.1:{port}").items():
            setattr(settings, name, value)
        yield received


def portal_deliveries():
    return Delivery.objects.filter(consumer="portal-mail")


def test_invoice_issued_and_trial_ending_reach_the_customer(alice, inbox):
    invoices = list(alice.invoices.order_by("issued_at").values_list("number", "total"))
    dispatch(at=NOW)  # the bill run of the fixture wrote one invoice.issued per invoice
    received = inbox.wait_for(2)
    assert [m["Subject"] for m in received] == [
        f"Invoice {number} for ₽{total:,}" for number, total in invoices
    ]
    assert all(m["To"] == alice.email for m in received)

    trial = start_subscription(
        alice, StartRequest(plan="office-pbx", employees=3), at=NOW - timedelta(days=12)
    )
    advance_subscriptions(at=NOW)  # 2 days left: within the notice, trial.ending is written
    dispatch(at=NOW + timedelta(minutes=1))
    message = inbox.wait_for(3)[2]
    assert message["Subject"] == "Your Office PBX trial ends in 3 days"
    assert f"/portal/subscriptions/{trial.pk}/change/" in message.get_body("plain").get_content()
    assert portal_deliveries().exclude(status="done").count() == 0
