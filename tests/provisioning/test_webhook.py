"""The webhook adapter against a real HTTP receiver on 127.0.0.1."""

import json
import os
import signal
import threading
from datetime import UTC, datetime, timedelta

import psutil
import pytest
from django.core import mail
from django.db import connection, transaction
from standardwebhooks.webhooks import Webhook

from ringup.events.services import emit
from ringup.provisioning.models import Operation, WebhookEndpoint
from ringup.provisioning.services import deliver_due, deliver_next, enable_endpoint, retry_now

from ..events.conftest import needs_postgres, wait_until
from .conftest import subscription_payload

NOTHING = {"delivered": 0, "retrying": 0, "failed": 0, "endpoint_gone": 0}


def now():
    return datetime.now(UTC)


def test_the_request_is_signed_per_standard_webhooks(db, happen, webhook, secret):
    happen("trial.started")
    assert deliver_due(at=now())["delivered"] == 1
    (request,) = webhook.requests
    operation = Operation.objects.get()
    headers = request["headers"]
    assert headers["webhook-id"] == operation.webhook_id
    assert headers["content-type"] == "application/json"
    message = Webhook(secret).verify(request["body"], headers)
    assert message["event"] == "account.create"
    assert message["customer"]["id"] == 41 and message["customer"]["account"] == "acc-41"
    assert message["subscription"]["plan"] == "office-pbx"
    assert message["limits"]["credit_cap"] == "300.00"
    assert message["occurred_at"] == "2025-03-01T09:00:00+00:00"
    # A tampered body does not verify.
    with pytest.raises(Exception, match="signature"):
        Webhook(secret).verify(request["body"].replace(b"300.00", b"999.00"), headers)
    operation.refresh_from_db()
    assert (operation.status, operation.last_http_status) == ("delivered", 200)
    assert json.loads(operation.last_answer) == {"status": 200}


def test_a_500_is_retried_after_5_seconds_and_delivered_once(db, happen, webhook):
    webhook.script = [500]
    happen("trial.started")
    first = now()
    assert deliver_due(at=first) == {**NOTHING, "retrying": 1}
    operation = Operation.objects.get()
    assert (operation.status, operation.attempts, operation.last_http_status) == (
        "pending",
        1,
        500,
    )
    # The first wait is 5 s, lengthened by a random 0–20 %.
    wait = (operation.next_attempt_at - first).total_seconds()
    assert 5 <= wait <= 6
    assert deliver_due(at=first + timedelta(seconds=4)) == NOTHING
    assert deliver_due(at=operation.next_attempt_at)["delivered"] == 1
    assert deliver_due(at=first + timedelta(days=5)) == NOTHING
    ids = [r["headers"]["webhook-id"] for r in webhook.requests]
    assert ids == [operation.webhook_id] * 2
    assert list(webhook.accounts) == [41]


def test_a_timeout_is_retried_with_the_same_webhook_id(db, happen, webhook):
    webhook.script = ["hold"]  # the receiver answers after the 1 s timeout
    happen("trial.started")
    assert deliver_due(at=now()) == {**NOTHING, "retrying": 1}
    operation = Operation.objects.get()
    assert "Timeout" in operation.last_error and operation.last_http_status is None
    webhook.release.set()
    assert deliver_due(at=operation.next_attempt_at)["delivered"] == 1
    ids = {r["headers"]["webhook-id"] for r in webhook.requests}
    assert ids == {operation.webhook_id}
    assert list(webhook.accounts) == [41]  # the late first answer did not create twice


def test_the_retry_schedule_spans_three_days_then_gives_up_and_alerts(
    db, happen, webhook, settings
):
    """Waits 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h: 10 attempts over
    75 h 35 min 5 s (each lengthened by 0–20 %: more than 3 days) before the operation is failed."""
    webhook.script = [503] * 10
    happen("trial.started")
    first = at = now()
    results = []
    for _ in range(10):
        results.append(deliver_next(at=at))
        at = Operation.objects.get().next_attempt_at
    assert results == ["retrying"] * 9 + ["failed"]
    operation = Operation.objects.get()
    assert (operation.status, operation.attempts) == ("failed", 10)
    assert operation.last_attempt_at - first > timedelta(days=3)
    assert len(webhook.requests) == 10
    assert [m.subject for m in mail.outbox] == [
        f"{settings.EMAIL_SUBJECT_PREFIX}Provisioning gave up on account.create #{operation.pk}"
    ]
    assert retry_now(Operation.objects.all(), at=at) == 1
    assert deliver_next(at=at) == "delivered"


@pytest.fixture
def smtp_inbox(settings):
    """A real SMTP server on 127.0.0.1 that staff alerts go to."""
    from ringup.notifications.conf import email_settings
    from tests.notifications.smtp import smtp_server

    with smtp_server() as (received, port):
        for name, value in email_settings(f"smtp://127.0.0.1:{port}").items():
            setattr(settings, name, value)
        yield received


def test_410_disables_the_endpoint_and_operations_wait_until_it_is_enabled(
    db, happen, webhook, smtp_inbox, settings
):
    webhook.script = [410]
    happen("trial.started")
    assert deliver_due(at=now()) == {**NOTHING, "endpoint_gone": 1}
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.url == webhook.url and endpoint.disabled_at is not None
    assert "410" in endpoint.disabled_reason
    (alert,) = smtp_inbox.wait_for(1)
    assert alert["Subject"] == f"{settings.EMAIL_SUBJECT_PREFIX}Provisioning endpoint disabled"
    assert alert["To"] == "ops@ringup.example"
    assert webhook.url in alert.get_body("plain").get_content()
    happen("subscription.changed", employees=8)
    later = now() + timedelta(days=1)
    assert deliver_due(at=later) == NOTHING  # waiting, however long
    assert len(webhook.requests) == 1
    enable_endpoint(endpoint, at=later)
    assert deliver_due(at=later)["delivered"] == 2
    assert [r["headers"]["webhook-id"] for r in webhook.requests][1:] == [
        op.webhook_id for op in Operation.objects.order_by("event_id")
    ]
    assert Operation.objects.get(kind="account.create").attempts == 1  # 410 is not a try
    assert webhook.accounts == {41: {"status": "active", "last": "account.update"}}


def test_the_back_office_enables_an_endpoint_and_retries_an_operation(
    admin_client, happen, webhook
):
    webhook.script = [410]
    happen("trial.started")
    deliver_due(at=now())
    endpoint = WebhookEndpoint.objects.get()
    page = admin_client.get("/admin/provisioning/webhookendpoint/")
    assert b"is disabled since" in page.content
    admin_client.post(
        "/admin/provisioning/webhookendpoint/",
        {"action": "enable_action", "_selected_action": [endpoint.pk]},
    )
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is None
    operation = Operation.objects.get()
    Operation.objects.update(status="failed")
    answer = admin_client.post(
        "/admin/provisioning/operation/",
        {"action": "retry_now_action", "_selected_action": [operation.pk]},
        follow=True,
    )
    assert b"1 operations will be retried now" in answer.content
    assert deliver_due(at=now())["delivered"] == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_loses_nothing(
    start_worker, receiver, secret, settings, tmp_path
):
    """A real worker sends the create; the receiver holds the request; the worker is
    killed (SIGKILL). A new worker takes the operation over once its lease expires
    (2 × 3 s timeout + 5 s) and delivers it, with the same webhook-id."""
    needs_postgres()
    env = {
        "RINGUP_PROVISIONING": f"webhook:{receiver.url}",
        "RINGUP_PROVISIONING_SECRET": secret,
        "RINGUP_PROVISIONING_TIMEOUT": "3",
        "RINGUP_OUTBOX_SWEEP_SECONDS": "1",
    }
    settings.RINGUP_PROVISIONING = env["RINGUP_PROVISIONING"]
    settings.RINGUP_PROVISIONING_SECRET = secret
    receiver.script = ["hold"]
    first = start_worker(env=env)
    with transaction.atomic():
        emit(
            "trial.started",
            at=now(),
            payload=subscription_payload(),
            customer_id=41,
            subscription_id=7,
        )
    assert receiver.received.wait(timeout=60), "the worker never sent the operation"
    family = [first.pid] + [c.pid for c in psutil.Process(first.pid).children(recursive=True)]
    for pid in family:
        os.kill(pid, signal.SIGKILL)
    first.wait(timeout=10)
    receiver.release.set()  # the answer goes to a dead connection
    operation = Operation.objects.get()
    assert (operation.status, operation.attempts) == ("pending", 1)

    second = start_worker("--beat", "--schedule", str(tmp_path / "beat"), env=env)
    wait_until(
        lambda: Operation.objects.filter(status="delivered").exists(),
        timeout=90,
        what="the restarted worker to deliver the operation",
        process=second,
    )
    operation.refresh_from_db()
    assert operation.attempts == 2
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [operation.webhook_id] * 2
    assert list(receiver.accounts) == [41]


@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_send_each_operation_once_in_account_order(webhook):
    """Two sender threads over 3 accounts × 4 operations: every webhook-id arrives once,
    and each account's operations arrive in event order."""
    needs_postgres()
    for step in range(4):
        for customer in (41, 42, 43):
            kind = "trial.started" if step == 0 else "subscription.changed"
            with transaction.atomic():
                emit(
                    kind,
                    at=now(),
                    payload=subscription_payload(customer, customer, employees=step + 1),
                    customer_id=customer,
                    subscription_id=customer,
                )
    from ringup.events.services import dispatch

    dispatch(at=now())
    errors = []

    def send():
        try:
            while deliver_next(at=now()) is not None:
                pass
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    ids = [r["headers"]["webhook-id"] for r in webhook.requests]
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 12
    for customer in (41, 42, 43):
        sent = [
            json.loads(r["body"])["subscription"]["employees"]
            for r in webhook.requests
            if json.loads(r["body"])["customer"]["id"] == customer
        ]
        assert sent == [1, 2, 3, 4]
    assert Operation.objects.filter(status="delivered").count() == 12
