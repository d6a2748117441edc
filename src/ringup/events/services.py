"""Writing events to the outbox and handing them to their consumers.

``emit`` is called inside the caller's ``transaction.atomic()``: the event and one
``Delivery`` per registered consumer of its kind are written with the change that caused
them, so a rolled-back change leaves no event and a committed one always has its
deliveries. After the commit a ``ringup.events.dispatch`` task is sent; beat sweeps every
minute too, so a lost message (broker down, worker killed) only delays a delivery.

``dispatch`` runs due deliveries in batches, their rows locked
(``SELECT … FOR UPDATE SKIP LOCKED``; on SQLite the ``IMMEDIATE`` transaction serialises
dispatchers instead). Each handler runs in a savepoint of the batch's transaction and its
delivery is marked done in it, so a handler's writes and "done" commit together: a
consumer sees an event once. A handler that raises has its writes rolled back; the
delivery's attempts grow and it is retried later with exponential backoff and jitter, and
is ``dead`` after ``RINGUP_EVENTS_MAX_ATTEMPTS`` failures.
"""

import json
import logging
import random
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from ringup.sql import insert_rows

from . import registry
from .models import Delivery, Event

log = logging.getLogger(__name__)
ERROR_CHARS = 4000


@dataclass(frozen=True)
class Emission:
    """One event for :func:`emit_many` (the arguments of :func:`emit`)."""

    kind: str
    at: datetime
    payload: dict = field(default_factory=dict)
    customer_id: int | None = None
    subscription_id: int | None = None
    key: str | None = None


def emit(
    kind: str,
    *,
    at: datetime,
    payload: dict,
    customer_id: int | None = None,
    subscription_id: int | None = None,
    key: str | None = None,
) -> Event | None:
    """Write event ``kind`` and its deliveries in the current transaction.

    With ``key``, at most one event of that key ever exists: when it already does, nothing
    is written and ``None`` is returned. Payload values become JSON (``Decimal`` → string,
    ``datetime`` → ISO 8601). Dispatch is scheduled for when the transaction commits.
    """
    event = _event(Emission(kind, at, payload, customer_id, subscription_id, key))
    try:
        with transaction.atomic():  # a savepoint: a duplicate key undoes only this insert
            event.save()
            _write_deliveries([event])
    except IntegrityError:
        if key is not None and Event.objects.filter(key=key).exists():
            return None
        raise
    _dispatch_on_commit()
    return event


def emit_many(emissions: Iterable[Emission]) -> list[Event]:
    """Write many events and their deliveries with two bulk inserts (the bill run).

    Keys already in the outbox are skipped; the unique constraint still decides, so a
    concurrent writer of the same key makes this transaction fail rather than emit twice.
    Returns the events written.
    """
    emissions = list(emissions)
    keys = [emission.key for emission in emissions if emission.key is not None]
    if keys:
        taken = set(Event.objects.filter(key__in=keys).values_list("key", flat=True))
        seen: set[str] = set()
        kept = []
        for emission in emissions:
            if emission.key is None or (emission.key not in taken and emission.key not in seen):
                kept.append(emission)
                if emission.key is not None:
                    seen.add(emission.key)
        emissions = kept
    if not emissions:
        return []
    created_at = timezone.now()
    rows = [
        (
            emission.kind,
            emission.at,
            emission.customer_id,
            emission.subscription_id,
            _json(emission.payload),
            emission.key,
            created_at,
        )
        for emission in emissions
    ]
    with transaction.atomic():
        ids = insert_rows(Event, EVENT_COLUMNS, rows, returning=["id"])
        events = [
            Event.from_db(connection.alias, None, (pk, *row))
            for (pk,), row in zip(ids, rows, strict=True)
        ]
        _write_deliveries(events)
    _dispatch_on_commit()
    return events


#: ``Event``'s columns after ``id``, in the model's order (``Event.from_db`` takes them so).
EVENT_COLUMNS = ["kind", "at", "customer_id", "subscription_id", "payload", "key", "created_at"]
DELIVERY_COLUMNS = ["event_id", "consumer", "status", "attempts", "next_attempt_at", "last_error"]
_ENCODER = DjangoJSONEncoder()


def _json(payload: dict) -> dict:
    """``payload`` with JSON values only (``Decimal`` → string, ``datetime`` → ISO 8601)."""
    return json.loads(_ENCODER.encode(payload))


def _event(emission: Emission) -> Event:
    return Event(
        kind=emission.kind,
        at=emission.at,
        payload=_json(emission.payload),
        customer_id=emission.customer_id,
        subscription_id=emission.subscription_id,
        key=emission.key,
        created_at=timezone.now(),
    )


def _write_deliveries(events: list[Event]) -> None:
    """One pending delivery per registered consumer of each event's kind, streamed in one
    statement: a bill run writes one or two per invoice, and nothing is read back."""
    pending = Delivery.Status.PENDING.value
    consumers: dict[str, list[str]] = {}
    rows = []
    for event in events:
        names = consumers.get(event.kind)
        if names is None:
            names = consumers[event.kind] = registry.consumers_of(event.kind)
        # Due at once on either clock: the worker's (now) and a caller's business time (at).
        due = min(event.at, event.created_at)
        rows.extend((event.pk, name, pending, 0, due, "") for name in names)
    if rows:
        insert_rows(Delivery, DELIVERY_COLUMNS, rows)


def _dispatch_on_commit() -> None:
    on_commit_once(_send_dispatch)


def on_commit_once(send) -> None:
    """Call ``send`` once after the current transaction commits, however many writes in it
    ask for it: one "there is work" task per transaction is enough, since the task runs
    everything due. Outside a transaction, ``send`` runs at once."""
    pending = getattr(connection, "run_on_commit", [])
    if connection.in_atomic_block and any(entry[1] is send for entry in pending):
        return
    transaction.on_commit(send, robust=True)


def _send_dispatch() -> None:
    from .tasks import dispatch_task  # the task module imports this one

    try:
        dispatch_task.delay()
    except Exception:
        # The change is committed and its deliveries are in the outbox: beat's sweep
        # delivers them when the broker is back.
        log.warning("could not send the dispatch task; the sweep will deliver", exc_info=True)


#: Deliveries claimed and committed together: one commit per batch rather than per
#: delivery is what lets a demo load or a bill run's events drain in seconds.
BATCH = 50


def dispatch(
    *, at: datetime, limit: int = 500, consumers: Iterable[str] | None = None
) -> dict[str, int]:
    """Run up to ``limit`` deliveries due at ``at`` (only those to ``consumers``, when
    given); returns how many were ``done``, ``retried`` (failed, scheduled again) and
    ``dead`` (failed for the last time).

    Deliveries are claimed in batches, each handler in a savepoint of the batch's
    transaction. If the commit itself fails (a deferred constraint a handler broke, which
    no savepoint catches), the batch is rolled back whole and the rest of this run goes
    one delivery per transaction, so the culprit is found and recorded alone.
    """
    counts = {"done": 0, "retried": 0, "dead": 0}
    names = None if consumers is None else list(consumers)
    size = BATCH
    while limit > 0:
        try:
            outcomes = _dispatch_batch(at, names, min(size, limit))
        except DatabaseError:
            if size == 1:
                raise
            size = 1
            continue
        if not outcomes:
            break
        for outcome in outcomes:
            counts[outcome] += 1
        limit -= len(outcomes)
    return counts


def _dispatch_batch(at: datetime, consumers: list[str] | None, size: int) -> list[str]:
    due = Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=at)
    if consumers is not None:
        due = due.filter(consumer__in=consumers)
    claimed: list[Delivery] = []
    try:
        with transaction.atomic():
            claimed = list(
                due.select_for_update(skip_locked=True, of=("self",))
                .select_related("event")
                .order_by("next_attempt_at", "id")[:size]
            )
            outcomes = [_run(delivery, at) for delivery in claimed]
            done = [d.pk for d, outcome in zip(claimed, outcomes, strict=True) if outcome == "done"]
            Delivery.objects.filter(pk__in=done).update(status=Delivery.Status.DONE, done_at=at)
            return outcomes
    except DatabaseError as error:
        if len(claimed) != 1:
            raise
        # The commit itself failed (a deferred constraint the handler's writes broke):
        # everything was rolled back, so the failure is recorded in a transaction of its own.
        with transaction.atomic():
            delivery = (
                Delivery.objects.select_for_update(skip_locked=True)
                .filter(pk=claimed[0].pk, status=Delivery.Status.PENDING)
                .first()
            )
            return [_failed(delivery, error, at) if delivery else "retried"]


def _run(delivery: Delivery, at: datetime) -> str:
    """Hand ``delivery``'s event to its consumer in a savepoint: a handler that raises has
    its writes undone and the failure recorded."""
    handle = registry.handler(delivery.consumer)
    try:
        if handle is None:
            raise LookupError(f"no consumer {delivery.consumer!r} is registered")
        with transaction.atomic():
            handle(delivery.event)
    except Exception as error:
        return _failed(delivery, error, at)
    return "done"


def _failed(delivery: Delivery, error: Exception, at: datetime) -> str:
    delivery.attempts += 1
    delivery.last_error = "".join(traceback.format_exception(error))[-ERROR_CHARS:]
    if delivery.attempts >= settings.RINGUP_EVENTS_MAX_ATTEMPTS:
        delivery.status = Delivery.Status.DEAD
        log.error("delivery %s of %s is dead: %s", delivery.pk, delivery.event, error)
    else:
        delivery.next_attempt_at = at + backoff(delivery.attempts)
        log.warning("delivery %s of %s failed, retrying: %s", delivery.pk, delivery.event, error)
    delivery.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
    return "dead" if delivery.status == Delivery.Status.DEAD else "retried"


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: ``RINGUP_EVENTS_BACKOFF_SECONDS`` doubled
    per failure, at most ``RINGUP_EVENTS_BACKOFF_MAX_SECONDS``, times a random 0.8–1.2 so
    deliveries that failed together do not all come back together."""
    base = settings.RINGUP_EVENTS_BACKOFF_SECONDS * 2 ** (attempts - 1)
    seconds = min(base, settings.RINGUP_EVENTS_BACKOFF_MAX_SECONDS)
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))


def retry_now(deliveries: Iterable[Delivery], *, at: datetime) -> int:
    """Make these deliveries due at ``at`` again (dead ones too: one more try each).
    Done deliveries are left alone. Returns how many were rescheduled."""
    ids = [delivery.pk for delivery in deliveries]
    rescheduled = (
        Delivery.objects.filter(pk__in=ids)
        .exclude(status=Delivery.Status.DONE)
        .update(status=Delivery.Status.PENDING, next_attempt_at=at)
    )
    if rescheduled:
        _dispatch_on_commit()
    return rescheduled
