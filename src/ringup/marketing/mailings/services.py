"""Mailings: activating, scheduling runs, adding recipients, sending, unsubscribing.

* **Runs** are created by :func:`schedule` (beat every minute, ``at=`` now): a one-off
  mailing's send time, a newsletter's monthly slot and a segment-entry trigger's daily
  check are database facts, not Celery countdowns. ``UNIQUE (mailing, scheduled_for)``
  means two schedulers running at once create a run once.
* **Recipients** are inserted set-based, ``INSERT … SELECT`` from the segment's query
  with suppressed addresses marked ``suppressed``, customers who opted out left out and the
  control group marked ``held_out`` (:func:`held_out_bucket`). ``UNIQUE (run, customer)``
  makes a customer a recipient of a run once.
* **Sending** (:func:`send_due`) claims a batch with ``SELECT … FOR UPDATE SKIP LOCKED``,
  marks it ``sending`` with a lease, commits, sends each message over one SMTP
  connection and marks each ``sent`` in its own short transaction (with the
  ``mailing.sent`` event). A worker killed mid-batch leaves its rows ``sending``; when the
  lease expires another worker claims and sends them. The one window that can repeat a
  message is between the SMTP server's "250 accepted" and the commit of ``sent`` — a few
  milliseconds per message; the repeat carries the same Message-ID (docs/mailings.md).
"""

import logging
import mailbox
import smtplib
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.mail import get_connection
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Exists, OuterRef, Value
from django.db.models.functions import Lower
from django.template import TemplateDoesNotExist, TemplateSyntaxError

from ringup.billing.models import Subscription
from ringup.customers.models import Customer
from ringup.events.services import Emission, emit, emit_many
from ringup.marketing.segments.selectors import members

from . import rendering
from .models import Click, Consent, Mailing, Recipient, Run, Suppression

log = logging.getLogger(__name__)

# The control-group hash: (customer × K + mailing × M) mod P, then mod 100. P is prime
# and K ≈ P × 0.618, so consecutive customer ids spread evenly over the buckets; the same
# arithmetic runs in SQL (the recipient insert) and in Python (held_out_bucket).
HASH_P, HASH_K, HASH_M = 1_000_003, 618_034, 7_919
MAX_ATTEMPTS = 5
# Failures of one message (refused address, a template that does not render): that
# recipient fails, the batch goes on.
MESSAGE_ERRORS = (
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPSenderRefused,
    LookupError,
    TemplateSyntaxError,
    TemplateDoesNotExist,
)


class MailingError(ValueError):
    """A command that does not fit the mailing's state; ``errors`` maps field → message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def held_out_bucket(mailing_id: int, customer_id: int) -> int:
    """The customer's bucket 0–99 for this mailing; buckets below the hold-out percentage
    form the control group, the same on every run of the mailing."""
    return ((customer_id % HASH_P) * HASH_K + mailing_id * HASH_M) % HASH_P % 100


# ---- state ---------------------------------------------------------------------------


def validate(mailing: Mailing) -> None:
    """Raise :class:`MailingError` when the mailing cannot be activated as configured."""
    errors = {}
    if mailing.kind == Mailing.Kind.RECURRING:
        if not mailing.day_of_month or not 1 <= mailing.day_of_month <= 28:
            errors["day_of_month"] = "a recurring mailing needs a day of the month 1–28"
        if mailing.time_of_day is None:
            errors["time_of_day"] = "a recurring mailing needs a time of day"
    if mailing.kind == Mailing.Kind.TRIGGERED:
        if not mailing.trigger_kind:
            errors["trigger_kind"] = "a triggered mailing needs an event kind"
        elif mailing.trigger_kind == SEGMENT_ENTERED:
            if mailing.segment_id is None:
                errors["segment"] = "segment.entered needs a segment"
            if mailing.time_of_day is None:
                errors["time_of_day"] = "segment.entered is checked daily at a time of day"
        elif mailing.trigger_kind not in TRIGGER_KINDS:
            errors["trigger_kind"] = f"unknown event kind {mailing.trigger_kind!r}"
    if not 0 <= mailing.holdout_percent <= 50:
        errors["holdout_percent"] = "between 0 and 50"
    if not mailing.template.variants.exists():
        errors["template"] = "the template has no language variant"
    if errors:
        raise MailingError(errors)


def activate(mailing: Mailing, *, at: datetime) -> Mailing:
    """Start the mailing: a draft becomes active (its schedule counts from ``at``); a
    paused one resumes with its remaining recipients."""
    validate(mailing)
    if mailing.status == Mailing.Status.DRAFT:
        mailing.active_since = at
    mailing.status = Mailing.Status.ACTIVE
    mailing.save(update_fields=["status", "active_since"])
    return mailing


def pause(mailing: Mailing) -> Mailing:
    """Stop sending: no new batch of its recipients is claimed until :func:`activate`.
    A batch already claimed finishes (at most ``RINGUP_MAILINGS_BATCH`` messages)."""
    Mailing.objects.filter(pk=mailing.pk, status=Mailing.Status.ACTIVE).update(
        status=Mailing.Status.PAUSED
    )
    mailing.refresh_from_db(fields=["status"])
    return mailing


# ---- runs and recipients ----------------------------------------------------------------

SEGMENT_ENTERED = "segment.entered"
TRIGGER_KINDS = [
    "customer.registered",
    "customer.email_verified",
    "customer.inactive",
    "trial.started",
    "trial.ending",
    "trial.expired",
    "subscription.started",
    "subscription.changed",
    "option.added",
    "option.removed",
    "subscription.suspended",
    "subscription.resumed",
    "subscription.cancelled",
    "subscription.ended",
    "invoice.issued",
    "invoice.paid",
    "payment.failed",
    "referral.converted",
]


def _audience(mailing: Mailing, *, at: datetime) -> models.QuerySet:
    customers = members(mailing.segment, at=at) if mailing.segment_id else Customer.objects.all()
    customers = customers.exclude(email="")
    if mailing.requires_consent:
        opted_out = Consent.objects.filter(customer=OuterRef("pk"), product_news=False)
        customers = customers.exclude(Exists(opted_out))
    return customers


def add_recipients(
    run: Run, customers: models.QuerySet, *, due_at: datetime, context: dict | None = None
) -> int:
    """Insert a recipient row for each of ``customers`` not yet in ``run``, with one
    ``INSERT … SELECT``; returns how many rows were inserted."""
    mailing = run.mailing
    suppressed = Suppression.objects.filter(address=OuterRef("address"))
    bucket = (models.F("pk") % HASH_P * HASH_K + mailing.pk * HASH_M) % HASH_P % 100
    status = models.Case(
        models.When(Exists(suppressed), then=Value(Recipient.Status.SUPPRESSED)),
        models.When(
            models.Q(bucket__lt=mailing.holdout_percent), then=Value(Recipient.Status.HELD_OUT)
        ),
        default=Value(Recipient.Status.PENDING),
        output_field=models.CharField(),
    )
    rows = (
        customers.order_by()
        .annotate(address=Lower("email"), bucket=bucket)
        .annotate(
            r_run=Value(run.pk, output_field=models.BigIntegerField()),
            r_status=status,
            r_due=Value(due_at, output_field=models.DateTimeField()),
        )
        .values_list("r_run", "pk", "address", "r_status", "r_due")
    )
    sql, params = rows.query.sql_with_params()
    table = connection.ops.quote_name(Recipient._meta.db_table)
    columns = ", ".join(
        connection.ops.quote_name(c) for c in ["run_id", "customer_id", "email", "status", "due_at"]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) {sql} ON CONFLICT (run_id, customer_id) DO NOTHING",
            params,
        )
        inserted = cursor.rowcount
    if context and inserted:
        Recipient.objects.filter(run=run, customer__in=customers).filter(
            context__isnull=True
        ).update(context=context)
    return inserted


def _create_run(mailing: Mailing, scheduled_for: datetime, *, at: datetime) -> Run | None:
    """The run of this slot with its recipients, or ``None`` when it already exists."""
    if Run.objects.filter(mailing=mailing, scheduled_for=scheduled_for).exists():
        return None  # the usual case each minute; the unique constraint decides a race
    try:
        with transaction.atomic():
            run = Run.objects.create(mailing=mailing, scheduled_for=scheduled_for, created_at=at)
            add_recipients(run, _audience(mailing, at=at), due_at=scheduled_for)
    except IntegrityError:
        return None
    return run


def standing_run(mailing: Mailing, *, at: datetime) -> Run:
    """The one run a triggered mailing adds its recipients to (once per customer)."""
    slot = mailing.created_at
    run = Run.objects.filter(mailing=mailing, scheduled_for=slot).first()
    if run is None:
        try:
            with transaction.atomic():
                run = Run.objects.create(mailing=mailing, scheduled_for=slot, created_at=at)
        except IntegrityError:
            run = Run.objects.get(mailing=mailing, scheduled_for=slot)
    return run


def latest_monthly_slot(mailing: Mailing, *, at: datetime) -> datetime | None:
    """The newest ``day_of_month`` + ``time_of_day`` in the operator's time zone not
    after ``at`` and not before the mailing became active."""
    zone = ZoneInfo(settings.TIME_ZONE)
    local = at.astimezone(zone)
    year, month = local.year, local.month
    for _ in range(2):
        slot = datetime(
            year,
            month,
            mailing.day_of_month,
            mailing.time_of_day.hour,
            mailing.time_of_day.minute,
            tzinfo=zone,
        )
        if slot <= local:
            break
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    slot_utc = slot.astimezone(UTC)
    if mailing.active_since and slot_utc < mailing.active_since:
        return None
    return slot_utc


def _daily_slot(mailing: Mailing, *, at: datetime) -> tuple[datetime, object] | None:
    zone = ZoneInfo(settings.TIME_ZONE)
    local = at.astimezone(zone)
    slot = local.replace(
        hour=mailing.time_of_day.hour, minute=mailing.time_of_day.minute, second=0, microsecond=0
    )
    return (slot, local.date()) if slot <= local else None


def schedule(*, at: datetime) -> dict[str, int]:
    """Create the runs due at ``at`` and close finished ones; returns counts. Safe to run
    from several schedulers at once."""
    created = entered = 0
    active = Mailing.objects.filter(status=Mailing.Status.ACTIVE).select_related("segment")
    for mailing in active.filter(kind=Mailing.Kind.ONE_OFF):
        slot = mailing.send_at or mailing.active_since
        if slot and slot <= at and _create_run(mailing, slot, at=at):
            created += 1
    for mailing in active.filter(kind=Mailing.Kind.RECURRING):
        slot = latest_monthly_slot(mailing, at=at)
        if slot and _create_run(mailing, slot, at=at):
            created += 1
    for mailing in active.filter(kind=Mailing.Kind.TRIGGERED, trigger_kind=SEGMENT_ENTERED):
        entered += _segment_entries(mailing, at=at)
    announce()
    return {"runs": created, "entered": entered, "finished": _finish_runs(at=at)}


def _segment_entries(mailing: Mailing, *, at: datetime) -> int:
    daily = _daily_slot(mailing, at=at)
    if daily is None:
        return 0
    _, today = daily
    with transaction.atomic():
        # The conditional update claims today's check: a second scheduler updates nothing.
        claimed = (
            Mailing.objects.filter(pk=mailing.pk)
            .filter(
                models.Q(entries_checked_on__isnull=True) | models.Q(entries_checked_on__lt=today)
            )
            .update(entries_checked_on=today)
        )
        if not claimed:
            return 0
        run = standing_run(mailing, at=at)
        return add_recipients(
            run, _audience(mailing, at=at), due_at=at + timedelta(minutes=mailing.delay_minutes)
        )


def _finish_runs(*, at: datetime) -> int:
    busy = Recipient.objects.filter(
        run=OuterRef("pk"), status__in=[Recipient.Status.PENDING, Recipient.Status.SENDING]
    )
    finished = (
        Run.objects.filter(status=Run.Status.SENDING)
        .exclude(mailing__kind=Mailing.Kind.TRIGGERED)
        .exclude(Exists(busy))
        .update(status=Run.Status.DONE, finished_at=at)
    )
    Mailing.objects.filter(kind=Mailing.Kind.ONE_OFF, status=Mailing.Status.ACTIVE).filter(
        Exists(Run.objects.filter(mailing=OuterRef("pk"), status=Run.Status.DONE))
    ).update(status=Mailing.Status.FINISHED)
    return finished


def on_event(event) -> int:
    """Make the event's customer a recipient of every active mailing it triggers;
    returns how many recipient rows were added."""
    if event.customer_id is None:
        return 0
    payload = event.payload or {}
    subscription = payload.get("subscription") or {}
    changes = set(payload.get("changes") or [])
    added = 0
    triggered = Mailing.objects.filter(
        kind=Mailing.Kind.TRIGGERED, status=Mailing.Status.ACTIVE, trigger_kind=event.kind
    ).select_related("segment")
    for mailing in triggered:
        if mailing.trigger_changes and not changes.intersection(mailing.trigger_changes):
            continue
        if mailing.trigger_plans and subscription.get("plan") not in mailing.trigger_plans:
            continue
        customers = _audience(mailing, at=event.at).filter(pk=event.customer_id)
        run = standing_run(mailing, at=event.at)
        context = {
            "plan": subscription.get("plan") or "",
            "trial_ends_at": subscription.get("trial_ends_at"),
        }
        added += add_recipients(
            run,
            customers,
            due_at=event.at + timedelta(minutes=mailing.delay_minutes),
            context=context,
        )
    return added


# ---- sending ------------------------------------------------------------------------------


def lease() -> timedelta:
    return timedelta(seconds=settings.RINGUP_MAILINGS_LEASE_SECONDS)


def claim(*, at: datetime, limit: int) -> list[Recipient]:
    """Lock up to ``limit`` due recipients of active mailings (and ``sending`` ones whose
    lease has expired), mark them ``sending`` until ``at`` + lease, and commit."""
    due = models.Q(status=Recipient.Status.PENDING, due_at__lte=at) | models.Q(
        status=Recipient.Status.SENDING, lease_until__lt=at
    )
    with transaction.atomic():
        ids = list(
            Recipient.objects.filter(due, run__mailing__status=Mailing.Status.ACTIVE)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("due_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return []
        Recipient.objects.filter(pk__in=ids).update(
            status=Recipient.Status.SENDING,
            lease_until=at + lease(),
            attempts=models.F("attempts") + 1,
        )
        # Unsubscribed or opted out since the run was made: never mailed.
        Recipient.objects.filter(pk__in=ids).filter(
            Exists(Suppression.objects.filter(address=OuterRef("email")))
            | (
                Exists(Consent.objects.filter(customer=OuterRef("customer"), product_news=False))
                & models.Q(run__mailing__requires_consent=True)
            )
        ).update(status=Recipient.Status.SUPPRESSED, lease_until=None)
    return list(
        Recipient.objects.filter(pk__in=ids, status=Recipient.Status.SENDING)
        .select_related("customer", "run__mailing__template")
        .prefetch_related("run__mailing__template__variants")
        .order_by("due_at", "id")
    )


class _Pace:
    """At most ``rate`` messages a second from this worker (0: no limit)."""

    def __init__(self, rate: float):
        self.interval = 1 / rate if rate > 0 else 0.0
        self.next = time.monotonic()

    def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        if self.next > now:
            time.sleep(self.next - now)  # pacing the SMTP server, not synchronising
        self.next = max(self.next, now) + self.interval


def send_due(*, at: datetime, limit: int | None = None) -> dict[str, int]:
    """Send the recipients due at ``at``, batch by batch over one SMTP connection, until
    none is due or ``limit`` were handled; returns ``{"sent", "failed", "retried"}``."""
    counts = {"sent": 0, "failed": 0, "retried": 0}
    pace = _Pace(settings.RINGUP_MAILINGS_RATE)
    batch_size = settings.RINGUP_MAILINGS_BATCH
    smtp = get_connection()
    try:
        with _commits_without_flush():
            while limit is None or sum(counts.values()) < limit:
                size = (
                    batch_size if limit is None else min(batch_size, limit - sum(counts.values()))
                )
                batch = claim(at=at, limit=size)
                if not batch:
                    break
                if not _send_batch(batch, smtp, at=at, pace=pace, counts=counts):
                    break
    finally:
        smtp.close()
        announce()
    return counts


@contextmanager
def _commits_without_flush():
    """On PostgreSQL, ``sent`` marks commit without waiting for the WAL flush: a killed
    worker's commits are already on the server (it applies them), and only a crash of the
    database server itself can lose the last fraction of a second of marks, whose messages
    are then sent again with the same Message-ID. It turns a disk flush per message into a
    round trip."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def _send_batch(batch: list[Recipient], smtp, *, at: datetime, pace: _Pace, counts: dict) -> bool:
    """Send a claimed batch; False when the server failed and the rest was given back."""
    people = _people(batch)
    for position, recipient in enumerate(batch):
        pace.wait()
        try:
            smtp.open()  # a no-op while the connection is open
            _message(recipient, people[recipient.pk], smtp).send()
        except MESSAGE_ERRORS as error:
            _failed(recipient, error, at=at)
            counts["failed"] += 1
            continue
        except (OSError, smtplib.SMTPException) as error:
            # The server or the network: give this and the rest of the batch back.
            smtp.close()
            for rest in batch[position:]:
                _retry_later(rest, error, at=at)
                counts["retried"] += 1
            return False
        _sent(recipient, at=at)
        counts["sent"] += 1
    return True


def _people(batch: list[Recipient]) -> dict[int, rendering.Personal]:
    customer_ids = [recipient.customer_id for recipient in batch]
    plans = dict(
        Subscription.objects.filter(customer_id__in=customer_ids, ended_at__isnull=True)
        .order_by("customer_id", "started_at")
        .values_list("customer_id", "plan__name")
    )
    trials = dict(
        Subscription.objects.filter(
            customer_id__in=customer_ids, status=Subscription.Status.TRIALING
        ).values_list("customer_id", "trial_ends_at")
    )
    people = {}
    for recipient in batch:
        customer, context = recipient.customer, recipient.context or {}
        trial = trials.get(customer.pk) or context.get("trial_ends_at")
        if isinstance(trial, str):
            trial = datetime.fromisoformat(trial)
        people[recipient.pk] = rendering.Personal(
            customer_name=customer.name,
            email=recipient.email,
            language=customer.language,
            plan=plans.get(customer.pk) or context.get("plan") or "",
            trial_ends_at=trial,
        )
    return people


def _message(recipient: Recipient, person: rendering.Personal, smtp):
    mailing = recipient.run.mailing
    variant = rendering.variant_for(mailing.template, person.language)
    rendered = rendering.render(
        variant, person, recipient_id=recipient.pk, track_opens=mailing.track_opens
    )
    return rendering.email_message(
        rendered, recipient.email, recipient_id=recipient.pk, connection=smtp
    )


def _sent(recipient: Recipient, *, at: datetime) -> None:
    # One short autocommitted UPDATE per message keeps the accept-to-commit window small;
    # written as SQL because compiling the ORM's UPDATE costs more than running it.
    table = connection.ops.quote_name(Recipient._meta.db_table)
    sent_at = Recipient._meta.get_field("sent_at").get_db_prep_value(at, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, sent_at = %s, lease_until = NULL"
            " WHERE id = %s AND status = %s",
            [Recipient.Status.SENT.value, sent_at, recipient.pk, Recipient.Status.SENDING.value],
        )


def announce(*, limit: int = 5000) -> int:
    """Emit ``mailing.sent`` for sent rows not announced yet, in one transaction (the
    event key makes a repeat harmless); returns how many."""
    with transaction.atomic():
        rows = list(
            Recipient.objects.filter(status=Recipient.Status.SENT, announced=False)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("run")
            .order_by("id")[:limit]
        )
        if not rows:
            return 0
        emit_many(
            Emission(
                "mailing.sent",
                row.sent_at,
                {"mailing": row.run.mailing_id, "run": row.run_id, "recipient": row.pk},
                customer_id=row.customer_id,
                key=f"mailing.sent:{row.pk}",
            )
            for row in rows
        )
        Recipient.objects.filter(pk__in=[row.pk for row in rows]).update(announced=True)
    return len(rows)


def _failed(recipient: Recipient, error: Exception, *, at: datetime) -> None:
    Recipient.objects.filter(pk=recipient.pk, status=Recipient.Status.SENDING).update(
        status=Recipient.Status.FAILED, lease_until=None, error=str(error)[:2000]
    )


def _retry_later(recipient: Recipient, error: Exception, *, at: datetime) -> None:
    status = (
        Recipient.Status.FAILED if recipient.attempts >= MAX_ATTEMPTS else Recipient.Status.PENDING
    )
    Recipient.objects.filter(pk=recipient.pk, status=Recipient.Status.SENDING).update(
        status=status,
        lease_until=None,
        due_at=at + timedelta(minutes=2**recipient.attempts),
        error=str(error)[:2000],
    )


# ---- previews and test sends ----------------------------------------------------------------


def preview(template, customer: Customer) -> rendering.Rendered:
    """The template as ``customer`` would receive it (links not personal)."""
    variant = rendering.variant_for(template, customer.language)
    person = _person_now(customer)
    return rendering.render(variant, person, recipient_id=None)


def send_test(template, customer: Customer, to: str) -> int:
    """Send the preview for ``customer`` to ``to`` (subject marked as a test)."""
    rendered = preview(template, customer)
    rendered = rendering.Rendered(
        f"[TEST] {rendered.subject}", rendered.text, rendered.html, rendered.language
    )
    return rendering.email_message(rendered, to, recipient_id=None).send()


def _person_now(customer: Customer) -> rendering.Personal:
    live = (
        Subscription.objects.filter(customer=customer, ended_at__isnull=True)
        .select_related("plan")
        .order_by("-started_at")
        .first()
    )
    return rendering.Personal(
        customer_name=customer.name,
        email=customer.email,
        language=customer.language,
        plan=live.plan.name if live else "",
        trial_ends_at=live.trial_ends_at if live and live.status == "trialing" else None,
    )


# ---- consent, suppressions, tracking ---------------------------------------------------------


def suppress(address: str, *, reason: str, at: datetime, note: str = "") -> bool:
    """Never mail ``address`` again (insert-or-nothing); True when it was new."""
    address = address.strip().lower()
    if reason not in Suppression.Reason.values:
        raise MailingError({"reason": f"one of {', '.join(Suppression.Reason.values)}"})
    if "@" not in address:
        raise MailingError({"address": "an e-mail address"})
    with transaction.atomic():
        _, created = Suppression.objects.get_or_create(
            address=address, defaults={"reason": reason, "at": at, "note": note}
        )
    return created


def record_bounce(address: str, *, kind: str = "bounced", at: datetime, note: str = "") -> bool:
    """A hard bounce or a spam complaint (``kind`` ``bounced`` / ``complaint``) from the
    mail server or the operator's ESP: the address is suppressed."""
    if kind not in (Suppression.Reason.BOUNCED, Suppression.Reason.COMPLAINT):
        raise MailingError({"kind": "bounced or complaint"})
    return suppress(address, reason=kind, at=at, note=note)


def unsubscribe(recipient: Recipient, *, at: datetime) -> bool:
    """The one-click unsubscribe of RFC 8058: the recipient's address is suppressed."""
    return suppress(
        recipient.email,
        reason=Suppression.Reason.UNSUBSCRIBED,
        at=at,
        note=f"recipient {recipient.pk}",
    )


def read_unsubscribe_mailbox(path: str | Path, *, at: datetime) -> dict[str, int]:
    """Unsubscribe the senders of the mails in the Maildir at ``path`` — where the
    operator's mail server delivers the ``List-Unsubscribe`` mailto — and remove them.

    A mail client sends the mailto's subject, ``unsubscribe <token>``: the token names the
    recipient, whose address is suppressed as by the one-click POST. A subject edited
    without a (valid) token still asks to stop: its ``From`` address is suppressed. A
    mail with neither is removed and counted as ``ignored``. Suppressing is
    insert-or-nothing, so a mail read twice (a crash before its removal) changes nothing.
    Raises :class:`MailingError` naming ``mailbox`` when ``path`` is not a Maildir.
    """
    folder = Path(path)
    if not all((folder / sub).is_dir() for sub in ("new", "cur", "tmp")):
        raise MailingError({"mailbox": f"{folder} is not a Maildir (new/, cur/, tmp/)"})
    box = mailbox.Maildir(folder, create=False)
    counts = {"unsubscribed": 0, "ignored": 0}
    for key in list(box.iterkeys()):
        message = box.get_message(key)
        outcome = _unsubscribe_by_mail(message, at=at)
        counts[outcome] += 1
        box.remove(key)
    return counts


def _unsubscribe_by_mail(message, *, at: datetime) -> str:
    words = str(message.get("Subject", "")).split()
    if len(words) == 2 and words[0].lower() == "unsubscribe":
        try:
            recipient = Recipient.objects.filter(
                pk=rendering.read_unsubscribe_token(words[1])
            ).first()
        except signing.BadSignature:
            recipient = None
        if recipient is not None:
            unsubscribe(recipient, at=at)
            return "unsubscribed"
    sender = parseaddr(str(message.get("From", "")))[1]
    if "@" not in sender:
        return "ignored"
    suppress(sender, reason=Suppression.Reason.UNSUBSCRIBED, at=at, note="unsubscribe mail")
    return "unsubscribed"


def set_consent(customer: Customer, *, product_news: bool, at: datetime) -> Consent:
    """Record the customer's choice about marketing mail ("product news"). Opting out
    stops every mailing that requires consent from the next claimed batch on."""
    consent, _ = Consent.objects.update_or_create(
        customer=customer, defaults={"product_news": product_news, "updated_at": at}
    )
    return consent


def record_click(recipient: Recipient, url: str, *, at: datetime) -> Click:
    """Store the click and emit ``mailing.clicked``."""
    with transaction.atomic():
        click = Click.objects.create(recipient=recipient, url=url, at=at)
        emit(
            "mailing.clicked",
            at=at,
            payload={"mailing": recipient.run.mailing_id, "run": recipient.run_id, "url": url},
            customer_id=recipient.customer_id,
        )
    return click


def record_open(recipient: Recipient, *, at: datetime) -> None:
    Recipient.objects.filter(pk=recipient.pk, opened_at__isnull=True).update(opened_at=at)
