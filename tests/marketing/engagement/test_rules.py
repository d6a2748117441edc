"""Follow-up rules: each with a worked example, and each idempotent (run twice → one task)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from ringup.billing.models import Subscription
from ringup.billing.services.payments import Collection, PaymentRefused, collect_payment
from ringup.billing.services.subscriptions import advance_subscriptions, cancel_subscription
from ringup.events.models import Event
from ringup.events.services import dispatch
from ringup.marketing.engagement.models import FollowUpTask
from ringup.marketing.engagement.services import rules
from ringup.marketing.engagement.services.tasks import add_months, complete_task, create_task

from .conftest import NOW, STARTED, days_before

CONSUMER = ["engagement-follow-ups"]


def run_consumer(at):
    return dispatch(at=at, consumers=CONSUMER)


# "No, not now" → ask again in 3 and 6 months ------------------------------------------


def test_add_months_keeps_the_day_or_takes_the_months_last():
    assert add_months(date(2025, 11, 30), 3) == date(2026, 2, 28)
    assert add_months(date(2025, 11, 30), 6) == date(2026, 5, 30)
    assert add_months(date(2024, 11, 30), 3) == date(2025, 2, 28)
    assert add_months(date(2023, 11, 30), 3) == date(2024, 2, 29)
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2025, 10, 15), 3) == date(2026, 1, 15)


def test_not_now_makes_two_follow_ups_once(customer, staff):
    """Said no on 30 November 2025 at 15:00 Moscow: ask again on 28 February 2026 (3
    months; February has no 30th) and on 30 May 2026 (6 months), for the same manager."""
    manager = staff()
    said_at = datetime(2025, 11, 30, 12, tzinfo=UTC)
    task = create_task(
        customer.pk,
        title="Offer call recording",
        due_on=date(2025, 11, 30),
        at=STARTED,
        assignee_id=manager.pk,
    )

    complete_task(task, at=said_at, outcome=FollowUpTask.Outcome.NOT_NOW, by=manager)
    complete_task(task, at=said_at + timedelta(hours=1), outcome="not_now", by=manager)

    task.refresh_from_db()
    assert (task.status, task.outcome, task.done_at) == ("done", "not_now", said_at)
    again = FollowUpTask.objects.filter(reason="said_no").order_by("due_on")
    assert [(t.due_on, t.assignee_id, t.status) for t in again] == [
        (date(2026, 2, 28), manager.pk, "open"),
        (date(2026, 5, 30), manager.pk, "open"),
    ]
    assert [t.rule_key for t in again] == [f"said_no:{task.pk}:3m", f"said_no:{task.pk}:6m"]
    assert "Offer call recording" in again[0].note


def test_a_plain_done_makes_nothing_more(customer):
    task = create_task(customer.pk, title="Call", due_on=date(2025, 6, 1), at=STARTED)
    complete_task(task, at=NOW)
    assert FollowUpTask.objects.count() == 1


# Calls dropped sharply ------------------------------------------------------------------


@pytest.fixture
def call_history(make_customer, subscribe, calls):
    """At 1 June 2025 09:00 UTC the last 30 days are [2 May 09:00, 1 June 09:00) and the
    90 days before them [1 Feb 09:00, 2 May 09:00). Each customer below made 3 calls of
    60 min in those 90 days (10 800 s: an average of 60 min a month), except where said.

    dropped  20 min recently: 300 × 1 200 = 360 000 < 40 × 10 800 = 432 000 → dropped
    edge     24 min (exactly 40 %): 300 × 1 440 = 432 000, not below → kept
    steady   60 min → kept
    silent   no call recently: 0 < 432 000 → dropped
    new      only 30 recent minutes, none before (previous 0) → kept
    old      a 1 000-min call 130 days ago (outside) and 20 recent minutes → kept
    gone     like "dropped", but cancelled on 1 May → no live subscription → kept
    """
    previous = [(days_before(NOW, d), 3600) for d in (100, 70, 40)]
    recent = {"dropped": 1200, "edge": 1440, "steady": 3600, "silent": None, "gone": 1200}
    made = {}
    for name, seconds in recent.items():
        who = make_customer(name)
        subscription = subscribe(who)
        calls(who, *previous, *([(days_before(NOW, 10), seconds)] if seconds else []))
        made[name] = who
        if name == "gone":
            cancel_subscription(subscription, at=datetime(2025, 5, 1, tzinfo=UTC), immediately=True)
    made["new"] = make_customer("new")
    subscribe(made["new"])
    calls(made["new"], (days_before(NOW, 5), 1800))
    made["old"] = make_customer("old")
    subscribe(made["old"])
    calls(made["old"], (days_before(NOW, 130), 60_000), (days_before(NOW, 10), 1200))
    # Calls exactly at the window's edges: at − 30 d belongs to the recent window.
    return made


def test_dropped_calls_is_one_query(call_history, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = list(rules.dropped_calls(NOW).values_list("customer", "recent", "previous"))
    assert rows == [
        (call_history["dropped"].pk, 1200, 10800),
        (call_history["silent"].pk, 0, 10800),
    ]


def test_calls_dropped_makes_a_task_once_a_month(call_history):
    assert rules.calls_dropped_tasks(NOW) == 2
    assert rules.calls_dropped_tasks(NOW) == 0
    assert rules.calls_dropped_tasks(NOW + timedelta(days=5)) == 0  # still June

    tasks = FollowUpTask.objects.filter(reason="calls_dropped").order_by("customer_id")
    assert [t.customer.name for t in tasks] == ["dropped", "silent"]
    first = tasks[0]
    assert first.rule_key == f"calls_dropped:{call_history['dropped'].pk}:2025-06"
    assert first.due_on == date(2025, 6, 2)  # the day after, Moscow date of 1 June 12:00
    assert first.note == "20 min in the last 30 days against an average of 60 min a month before."


def test_the_recent_window_starts_exactly_30_days_before(make_customer, subscribe, calls):
    """A 20-min call at exactly at − 30 d is recent; one a second earlier is previous."""
    who = make_customer("edge-time")
    subscribe(who)
    calls(who, (days_before(NOW, 30), 1200), (days_before(NOW, 30) - timedelta(seconds=1), 10800))
    assert list(rules.dropped_calls(NOW).values_list("recent", "previous")) == [(1200, 10800)]


# Trial ended without purchase, payment failed ------------------------------------------


def test_trial_expired_makes_a_call_task(make_customer, subscribe, staff):
    """A self-service trial of 14 days from 10 January 2025 09:00 UTC ends undecided;
    billing emits trial.expired and the rule makes one task, due the next day, for the
    manager who last had a task about the prospect."""
    manager = staff()
    prospect = make_customer("Prospect")
    create_task(
        prospect.pk,
        title="Welcome call",
        due_on=date(2025, 1, 11),
        at=STARTED,
        assignee_id=manager.pk,
    )
    trial = subscribe(prospect, trial=True, trial_converts=False)
    advance_subscriptions(at=trial.trial_ends_at + timedelta(hours=1))
    expired = Event.objects.get(kind="trial.expired")

    assert run_consumer(NOW)["done"] == 1
    task = FollowUpTask.objects.get(reason="trial_expired")
    assert task.rule_key == f"trial_expired:{trial.pk}"
    assert task.customer == prospect and task.assignee == manager
    assert task.due_on == date(2025, 1, 25)  # ends 24 Jan 12:00 Moscow → the 25th
    # The same event handled again (a retried delivery) makes nothing more.
    assert rules.on_trial_expired(expired) is None
    assert FollowUpTask.objects.filter(reason="trial_expired").count() == 1


class Declines:
    code = "test-gateway"

    def collect(self, *, customer_id, amount, currency, reference):
        return Collection(succeeded=False, reference=reference, message="insufficient funds")


def test_payment_failed_makes_one_call_task_a_day(customer):
    at = datetime(2025, 6, 1, 9, tzinfo=UTC)
    for attempt, when in enumerate([at, at + timedelta(hours=2), at + timedelta(days=1)]):
        with pytest.raises(PaymentRefused):
            collect_payment(
                Declines(),
                customer,
                amount=Decimal("1490.00"),
                currency="RUB",
                reference=f"try-{attempt}",
                at=when,
            )
    assert run_consumer(at + timedelta(days=2))["done"] == 3

    tasks = FollowUpTask.objects.filter(reason="payment_failed").order_by("due_on")
    assert [(t.rule_key, t.due_on) for t in tasks] == [
        (f"payment_failed:{customer.pk}:2025-06-01", date(2025, 6, 2)),
        (f"payment_failed:{customer.pk}:2025-06-02", date(2025, 6, 3)),
    ]
    assert tasks[0].note == "1490.00 RUB: insufficient funds"


# customer.inactive ----------------------------------------------------------------------


def test_inactive_is_emitted_once_per_quiet_spell(make_customer, subscribe, calls):
    """With N = 30 days at 1 June 09:00 UTC: "quiet" last called 40 days ago → inactive;
    "busy" called 3 days ago → not; "never" subscribed in January and never called →
    inactive; "fresh" subscribed 10 days ago, no call yet → not (not 30 days yet);
    "ended" is quiet but cancelled → not; "held" is quiet but suspended (it cannot call)
    → not."""
    quiet, busy, never = make_customer("quiet"), make_customer("busy"), make_customer("never")
    fresh, ended = make_customer("fresh"), make_customer("ended")
    for who in (quiet, busy, never):
        subscribe(who)
    subscribe(fresh, at=days_before(NOW, 10))
    cancel_subscription(subscribe(ended), at=days_before(NOW, 20), immediately=True)
    calls(quiet, (days_before(NOW, 40), 60))
    calls(busy, (days_before(NOW, 3), 60))
    calls(ended, (days_before(NOW, 40), 60))
    held = make_customer("held")
    Subscription.objects.filter(pk=subscribe(held).pk).update(status="suspended")
    calls(held, (days_before(NOW, 40), 60))

    assert rules.emit_inactive(NOW) == 2
    assert rules.emit_inactive(NOW + timedelta(days=1)) == 0  # the same spells

    events = {e.customer_id: e for e in Event.objects.filter(kind="customer.inactive")}
    assert set(events) == {quiet.pk, never.pk}
    assert events[never.pk].key == f"customer.inactive:{never.pk}:never"
    last = days_before(NOW, 40)
    assert events[quiet.pk].payload["inactive"] == {
        "days": 30,
        "last_call_at": last.isoformat().replace("+00:00", "Z"),
    }
    assert events[quiet.pk].payload["customer"]["name"] == "quiet"

    # "quiet" calls again on 2 June, then goes quiet: a new spell, a new event on 3 July,
    # when "busy" (last call 29 May) and "fresh" (subscribed 22 May) are quiet too.
    calls(quiet, (NOW + timedelta(days=1), 60))
    assert rules.emit_inactive(NOW + timedelta(days=20)) == 0
    assert rules.emit_inactive(NOW + timedelta(days=32)) == 3
    spells = Event.objects.filter(kind="customer.inactive", customer_id=quiet.pk)
    assert spells.count() == 2

    # Each event makes one call task (five events: five tasks).
    assert run_consumer(NOW + timedelta(days=33))["done"] == 5
    assert FollowUpTask.objects.filter(reason="inactive").count() == 5
    for event in Event.objects.filter(kind="customer.inactive"):
        assert rules.on_inactive(event) is None


def test_the_daily_job_reopens_snoozed_tasks_and_is_idempotent(call_history):
    from ringup.marketing.engagement.services.tasks import snooze_task

    task = create_task(
        call_history["steady"].pk, title="Call", due_on=date(2025, 5, 20), at=STARTED
    )
    snooze_task(task, until=date(2025, 6, 1), at=datetime(2025, 5, 25, tzinfo=UTC))
    first = rules.run_daily(NOW)
    again = rules.run_daily(NOW)
    assert first == {"reopened": 1, "calls_dropped": 2, "inactive": 1}  # "gone": cancelled
    assert again == {"reopened": 0, "calls_dropped": 0, "inactive": 0}
    task.refresh_from_db()
    assert (task.status, task.due_on, task.snoozed_until) == ("open", date(2025, 6, 1), None)
