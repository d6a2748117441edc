"""Subscription events become account operations; the demo PBX applies them."""

from datetime import timedelta

from django.contrib import messages
from django.utils import timezone

from ringup.provisioning.models import Account, DemoPbxAccount, Operation, WebhookEndpoint
from ringup.provisioning.services import deliver_due

from .conftest import AT


def kinds():
    return list(Operation.objects.order_by("event_id").values_list("kind", flat=True))


def test_a_trial_is_created_on_the_demo_pbx_with_trial_limits(db, happen):
    happen("trial.started")
    operation = Operation.objects.get()
    assert operation.kind == "account.create"
    assert operation.webhook_id == f"op_{operation.pk}"
    assert operation.body["limits"] == {
        "trial": True,
        "credit_cap": "300.00",
        "allowed_prefixes": ["7"],
        "blocked_prefixes": ["76", "77", "7809"],
    }
    assert operation.body["occurred_at"] == AT.isoformat()
    assert deliver_due(at=AT)["delivered"] == 1
    pbx = DemoPbxAccount.objects.get()
    assert (pbx.sip_login, pbx.status, pbx.plan) == ("ringup-41", "active", "office-pbx")
    # 5 employees: extensions 101–105; 2 numbers made up for customer 41.
    assert (pbx.extension_first, pbx.extension_last) == (101, 105)
    assert pbx.numbers == ["+74950004101", "+74950004102"]
    assert pbx.features == ["call-recording", "crm-integration"]
    assert pbx.limits["credit_cap"] == "300.00"
    operation.refresh_from_db()
    assert (operation.status, operation.attempts) == ("delivered", 1)


def test_the_lifecycle_maps_to_create_update_suspend_resume_delete(db, happen):
    happen("trial.started")
    happen("subscription.started", at=AT + timedelta(days=14), status="active")
    happen("subscription.changed", at=AT + timedelta(days=20), status="active", employees=12)
    happen(
        "option.added", at=AT + timedelta(days=21), status="active", employees=12, options=["ivr"]
    )
    happen("subscription.suspended", at=AT + timedelta(days=40), status="suspended")
    happen("subscription.suspended", at=AT + timedelta(days=40), status="suspended")
    happen("subscription.resumed", at=AT + timedelta(days=41), status="active")
    happen("subscription.ended", at=AT + timedelta(days=90), status="cancelled")
    assert kinds() == [
        "account.create",
        "account.update",
        "account.update",
        "account.update",
        "account.suspend",
        "account.resume",
        "account.delete",
    ]
    conversion = Operation.objects.get(body__cause="subscription.started")
    assert conversion.body["limits"]["trial"] is False
    assert deliver_due(at=AT + timedelta(days=90))["delivered"] == 7
    pbx = DemoPbxAccount.objects.get()
    assert (pbx.status, pbx.extension_last, pbx.features) == ("deleted", 112, ["ivr"])
    assert Account.objects.get().status == "deleted"


def test_events_for_an_account_that_does_not_exist_ask_nothing_but_a_new_trial_creates(db, happen):
    happen("trial.expired", status="trialing")
    assert not Operation.objects.exists()
    happen("trial.started", at=AT + timedelta(days=1))
    happen("trial.expired", at=AT + timedelta(days=15))
    happen("subscription.ended", at=AT + timedelta(days=16))
    happen("trial.started", at=AT + timedelta(days=30), subscription_id=8)
    # The old subscription's end, delivered late, does not delete the new one's account.
    happen("subscription.ended", at=AT + timedelta(days=31), subscription_id=7)
    assert kinds() == ["account.create", "account.suspend", "account.delete", "account.create"]


def test_operations_of_an_account_go_in_event_order(db, happen):
    """The create fails; the update recorded after it is not sent before it."""
    happen("trial.started")
    happen("subscription.changed", at=AT, employees=9, changes=["employees"])
    DemoPbxAccount.objects.all().delete()
    create, update = Operation.objects.order_by("event_id")
    assert update.body["changes"] == ["employees"]
    # Another customer's operation is not held up.
    happen("trial.started", customer_id=42, subscription_id=9)
    Operation.objects.filter(pk=create.pk).update(next_attempt_at=AT + timedelta(hours=1))
    assert deliver_due(at=AT) == {"delivered": 1, "retrying": 0, "failed": 0, "endpoint_gone": 0}
    update.refresh_from_db()
    assert (update.status, update.attempts) == ("pending", 0)
    assert deliver_due(at=AT + timedelta(hours=1))["delivered"] == 2
    assert DemoPbxAccount.objects.get(customer_id=41).extension_last == 109


def test_the_back_office_shows_operations_and_flags_a_disabled_endpoint(admin_client, happen):
    happen("trial.started")
    deliver_due(at=AT)
    WebhookEndpoint.objects.create(
        url="https://pbx.example/hooks",
        created_at=timezone.now(),
        disabled_at=timezone.now(),
        disabled_reason="HTTP 410: gone",
    )
    page = admin_client.get("/admin/provisioning/operation/")
    assert page.status_code == 200
    assert b"account.create" in page.content
    warnings = [m.message for m in messages.get_messages(page.wsgi_request)]
    assert any("https://pbx.example/hooks is disabled" in w for w in warnings)
    pbx = admin_client.get("/admin/provisioning/demopbxaccount/")
    assert b"ringup-41" in pbx.content and "101–105" in pbx.content.decode()
    operation = Operation.objects.get()
    detail = admin_client.get(f"/admin/provisioning/operation/{operation.pk}/change/")
    assert detail.status_code == 200
