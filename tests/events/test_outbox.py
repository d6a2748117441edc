"""The outbox: events written with the change, handed to each consumer once."""

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from ringup.events import services
from ringup.events.models import Delivery, Event
from ringup.events.services import Emission, dispatch, emit, emit_many, retry_now

from .conftest import needs_postgres, wait_until

AT = datetime(2025, 3, 1, 9, tzinfo=UTC)


def test_a_rolled_back_change_leaves_no_event(db, register):
    register("audit", ["test.started"], lambda event: None)
    with pytest.raises(RuntimeError), transaction.atomic():
        emit("test.started", at=AT, payload={}, customer_id=1)
        raise RuntimeError("the change failed")
    assert not Event.objects.exists()
    assert not Delivery.objects.exists()


def test_a_consumer_of_the_kind_gets_exactly_one_delivery(db, register):
    seen = []
    register("audit", ["test.started"], lambda event: seen.append(event.id))
    register("other", ["test.paid"], lambda event: seen.append(("other", event.id)))
    with transaction.atomic():
        event = emit(
            "test.started",
            at=AT,
            payload={"amount": Decimal("300.00"), "ends": AT + timedelta(days=14)},
            customer_id=7,
            subscription_id=9,
        )
    assert list(event.deliveries.values_list("consumer", "status")) == [("audit", "pending")]
    assert dispatch(at=AT) == {"done": 1, "retried": 0, "dead": 0}
    assert dispatch(at=AT + timedelta(days=1)) == {"done": 0, "retried": 0, "dead": 0}
    assert seen == [event.id]
    stored = Event.objects.get()
    # Payload values are JSON: Decimal as a string, datetime as ISO 8601.
    assert stored.payload == {"amount": "300.00", "ends": "2025-03-15T09:00:00Z"}
    assert (stored.customer_id, stored.subscription_id) == (7, 9)
    assert Delivery.objects.get().done_at == AT


def test_a_key_is_emitted_once(db, register):
    register("audit", ["test.issued"], lambda event: None)
    with transaction.atomic():
        first = emit("test.issued", at=AT, payload={}, key="test.issued:1")
        again = emit("test.issued", at=AT, payload={}, key="test.issued:1")
    assert first is not None and again is None
    assert Event.objects.count() == 1
    assert Delivery.objects.count() == 1


def test_emit_many_writes_events_and_deliveries_in_bulk(
    db, register, django_assert_max_num_queries
):
    register("audit", ["test.issued"], lambda event: None)
    with transaction.atomic():
        emit("test.issued", at=AT, payload={}, key="test.issued:1")
    emissions = [
        Emission("test.issued", AT, {"n": n}, customer_id=n, key=f"test.issued:{n}")
        for n in range(1, 101)
    ] + [Emission("test.issued", AT, {"n": 1}, key="test.issued:2")]  # a repeat
    with django_assert_max_num_queries(8), transaction.atomic():
        written = emit_many(emissions)
    assert [e.payload["n"] for e in written] == list(range(2, 101))
    assert Event.objects.count() == 100
    assert Delivery.objects.filter(consumer="audit").count() == 100


def test_a_failing_handler_is_retried_with_backoff_and_its_writes_rolled_back(
    db, register, settings
):
    settings.RINGUP_EVENTS_BACKOFF_SECONDS = 30
    settings.RINGUP_EVENTS_MAX_ATTEMPTS = 3
    runs = []

    def flaky(event):
        Group.objects.create(name=f"partial-{len(runs)}")
        runs.append(event.id)
        if len(runs) < 3:
            raise ConnectionError("the mail server is down")

    register("mailer", ["test.registered"], flaky)
    with transaction.atomic():
        emit("test.registered", at=AT, payload={}, customer_id=1)
    delivery = Delivery.objects.get()

    assert dispatch(at=AT) == {"done": 0, "retried": 1, "dead": 0}
    delivery.refresh_from_db()
    assert not Group.objects.exists()  # the partial write was rolled back
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "the mail server is down" in delivery.last_error
    # 30 s after the first failure, ± 20 % jitter.
    assert AT + timedelta(seconds=24) <= delivery.next_attempt_at <= AT + timedelta(seconds=36)
    assert dispatch(at=AT + timedelta(seconds=10)) == {"done": 0, "retried": 0, "dead": 0}

    second = delivery.next_attempt_at
    assert dispatch(at=second)["retried"] == 1
    delivery.refresh_from_db()
    # 60 s after the second failure, ± 20 %.
    assert (
        second + timedelta(seconds=48) <= delivery.next_attempt_at <= second + timedelta(seconds=72)
    )
    assert dispatch(at=delivery.next_attempt_at) == {"done": 1, "retried": 0, "dead": 0}
    assert list(Group.objects.values_list("name", flat=True)) == ["partial-2"]
    assert len(runs) == 3


def test_a_delivery_is_dead_after_the_last_attempt_and_can_be_retried_by_staff(
    db, register, settings
):
    settings.RINGUP_EVENTS_MAX_ATTEMPTS = 2

    def broken(event):
        raise ValueError("bad payload")

    register("broken", ["test.paid"], broken)
    with transaction.atomic():
        emit("test.paid", at=AT, payload={})
    assert dispatch(at=AT)["retried"] == 1
    assert dispatch(at=AT + timedelta(days=1))["dead"] == 1
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("dead", 2)
    assert dispatch(at=AT + timedelta(days=30)) == {"done": 0, "retried": 0, "dead": 0}

    register("broken", ["test.paid"], broken)
    assert retry_now(Delivery.objects.all(), at=AT + timedelta(days=2)) == 1
    assert Delivery.objects.get().status == "pending"
    assert dispatch(at=AT + timedelta(days=2))["dead"] == 1


def test_an_unknown_consumer_is_a_failure_not_a_crash(db, register):
    register("gone", ["test.paid"], lambda event: None)
    with transaction.atomic():
        emit("test.paid", at=AT, payload={})
    from ringup.events import registry

    registry.unregister("gone")
    assert dispatch(at=AT)["retried"] == 1
    assert "no consumer 'gone'" in Delivery.objects.get().last_error


def test_dispatch_can_be_limited_to_some_consumers(db, register):
    seen = []
    register("audit", ["test.paid"], lambda event: seen.append("audit"))
    register("mailer", ["test.paid"], lambda event: seen.append("mailer"))
    with transaction.atomic():
        emit("test.paid", at=AT, payload={})
    assert dispatch(at=AT, consumers=["audit"])["done"] == 1
    assert seen == ["audit"]
    assert Delivery.objects.get(consumer="mailer").status == "pending"


def test_the_command_prints_json_counts(db, register, capsys):
    register("audit", ["test.paid"], lambda event: None)
    with transaction.atomic():
        emit("test.paid", at=AT, payload={})
    call_command("dispatch_events")
    assert capsys.readouterr().out.strip() == '{"done": 1, "retried": 0, "dead": 0}'


def test_the_back_office_retries_a_dead_delivery(admin_client, register):
    register("audit", ["test.paid"], lambda event: None)
    with transaction.atomic():
        emit("test.paid", at=AT, payload={"n": 1})
    Delivery.objects.update(status="dead", attempts=10)
    delivery = Delivery.objects.get()
    page = admin_client.get(f"/admin/events/event/{delivery.event_id}/change/")
    assert page.status_code == 200 and b"audit" in page.content
    answer = admin_client.post(
        "/admin/events/delivery/",
        {"action": "retry_now_action", "_selected_action": [delivery.pk]},
        follow=True,
    )
    assert b"1 deliveries will be retried now" in answer.content
    assert Delivery.objects.get().status == "pending"


def test_dispatch_is_sent_once_per_transaction_after_commit(db, register, monkeypatch):
    sent = []
    monkeypatch.setattr(services, "_send_dispatch", lambda: sent.append(1))
    register("audit", ["test.paid"], lambda event: None)
    with transaction.atomic():
        emit("test.paid", at=AT, payload={})
        emit("test.paid", at=AT, payload={})
    # pytest-django's test transaction never commits: the callbacks are still queued.
    queued = [entry for entry in connection.run_on_commit if entry[1] is services._send_dispatch]
    assert len(queued) == 1 and not sent


@pytest.mark.django_db(transaction=True)
def test_concurrent_dispatchers_never_run_a_delivery_twice(register, monkeypatch):
    """Two dispatcher threads over 40 deliveries, claimed 5 at a time: each handler runs
    once. The first two handlers meet at a barrier, so both dispatchers demonstrably hold
    a batch at once (SKIP LOCKED let the second pass the first's locked rows)."""
    needs_postgres()
    monkeypatch.setattr(services, "BATCH", 5)
    barrier = threading.Barrier(2, timeout=20)
    runs, lock = [], threading.Lock()

    def handle(event):
        with lock:
            runs.append(event.id)
            first_two = len(runs) <= 2
        if first_two:
            barrier.wait()

    register("counter", ["test.paid"], handle)
    with transaction.atomic():
        emit_many(Emission("test.paid", AT, {"n": n}) for n in range(40))
    results, errors = [], []

    def run():
        try:
            results.append(dispatch(at=AT))
        except Exception as error:  # surfaced below: a thread's exception is otherwise lost
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sorted(runs) == sorted(set(runs)) and len(runs) == 40
    assert sum(r["done"] for r in results) == 40
    assert all(r["done"] > 0 for r in results)
    assert Delivery.objects.filter(status="done").count() == 40


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_after_commit(start_worker):
    """emit → commit → the task goes to Redis → a real Celery worker runs the consumer."""
    needs_postgres()
    from . import worker_consumers

    process = start_worker("--include", "tests.events.worker_consumers")
    with transaction.atomic():
        event = emit(worker_consumers.KIND, at=datetime.now(UTC), payload={})
    wait_until(
        lambda: Delivery.objects.filter(event=event, status="done").exists(),
        timeout=60,
        what="the worker to handle the event",
        process=process,
    )
    assert Group.objects.filter(name=f"handled-{event.id}").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_handler_breaking_a_deferred_constraint_is_retried_not_stuck(register):
    """The foreign key is checked at commit, after the handler's savepoint: the failed
    commit is still recorded as a failed attempt, and the next delivery goes on."""
    from ringup.customers.models import Contact

    def orphan(event):
        Contact.objects.create(customer_id=999_999, name="nobody")

    register("orphans", ["test.orphan"], orphan)
    register("audit", ["test.paid"], lambda event: None)
    with transaction.atomic():
        emit("test.orphan", at=AT, payload={})
        emit("test.paid", at=AT + timedelta(seconds=1), payload={})
    assert dispatch(at=AT + timedelta(seconds=1)) == {"done": 1, "retried": 1, "dead": 0}
    failed = Delivery.objects.get(consumer="orphans")
    assert (failed.status, failed.attempts) == ("pending", 1)
    assert "foreign key" in failed.last_error.lower()
    assert not Contact.objects.exists()


def test_the_command_refuses_a_bad_limit(db):
    with pytest.raises(CommandError, match="--limit"):
        call_command("dispatch_events", "--limit", "0")
