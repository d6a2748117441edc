"""The demo operator's live subscriptions get accounts on the demo PBX, once."""

from datetime import UTC, datetime
from io import StringIO

from django.core.management import call_command
from django.db.models import Q

from ringup.billing.models import Subscription
from ringup.demo.provisioning import provision_demo_accounts
from ringup.events.models import Event
from ringup.provisioning.models import DemoPbxAccount

UNTIL = datetime(2025, 2, 28, 21, tzinfo=UTC)  # 1 March 2025, Moscow midnight


def test_live_subscriptions_are_provisioned_once(db):
    # The demo command provisions what is live at the end of its history.
    call_command(
        "demo_data",
        customers=40,
        months=4,
        seed=5,
        until="2025-03-01",
        invoices=False,
        stdout=StringIO(),
    )
    live = Subscription.objects.filter(started_at__lte=UNTIL).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=UNTIL)
    )
    accounts = DemoPbxAccount.objects.count()
    assert accounts == live.values("customer").distinct().count() > 0
    assert Event.objects.filter(kind__in=["trial.started", "subscription.started"]).count() == (
        live.count()
    )
    trialing = live.filter(status="trialing").values_list("customer_id", flat=True)
    for pbx in DemoPbxAccount.objects.filter(customer_id__in=list(trialing)):
        assert pbx.limits["trial"] is True and pbx.status == "active"
    suspended = set(live.filter(status="suspended").values_list("customer_id", flat=True))
    assert suspended == set(
        DemoPbxAccount.objects.filter(status="suspended").values_list("customer_id", flat=True)
    )
    events = Event.objects.count()
    again = provision_demo_accounts(at=UNTIL)
    assert (again.events, Event.objects.count()) == (0, events)
    assert again.accounts == accounts
