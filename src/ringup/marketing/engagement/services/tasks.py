"""Follow-up tasks: made by managers or by rules, done, snoozed, assigned."""

import calendar
from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from ringup.customers.models import Customer
from ringup.engine.pricing import SelectionError

from ..models import FollowUpTask

# "No, not now" is asked again after these many months.
ASK_AGAIN_MONTHS = (3, 6)


class TaskRefused(SelectionError):
    """A task change that cannot be made; ``errors`` names the field (API: 422)."""


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it is shorter
    (30 November + 3 months = 28 or 29 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _staff(user_id: int | None):
    if user_id is None:
        return None
    user = get_user_model().objects.filter(pk=user_id, is_staff=True, is_active=True).first()
    if user is None:
        raise TaskRefused({"assignee": "no active staff user with this id"})
    return user


def create_task(
    customer_id: int,
    *,
    title: str,
    due_on: date,
    at: datetime,
    assignee_id: int | None = None,
    note: str = "",
    created_by=None,
) -> FollowUpTask:
    """A task a manager enters by hand."""
    if not Customer.objects.filter(pk=customer_id).exists():
        raise TaskRefused({"customer": "no customer with this id"})
    if not title.strip():
        raise TaskRefused({"title": "must not be empty"})
    return FollowUpTask.objects.create(
        customer_id=customer_id,
        title=title.strip(),
        due_on=due_on,
        assignee=_staff(assignee_id),
        note=note,
        created_by=created_by,
        created_at=at,
    )


def last_assignee_id(customer_id: int) -> int | None:
    """Who last had a task about the customer: rules give their tasks to that manager."""
    return (
        FollowUpTask.objects.filter(customer_id=customer_id, assignee__isnull=False)
        .order_by("-created_at", "-id")
        .values_list("assignee_id", flat=True)
        .first()
    )


@dataclass(frozen=True)
class RuleTask:
    """A task a rule wants: ``key`` says which rule and subject, once ever."""

    customer_id: int
    key: str
    reason: str
    title: str
    due_on: date
    note: str = ""
    assignee_id: int | None = None


def task_from_rule(wanted: RuleTask, *, at: datetime) -> FollowUpTask | None:
    """Insert the task unless one with its key exists (insert-or-nothing on the unique
    ``rule_key``); returns the new task or ``None``. Without an assignee, the customer's
    last manager gets it."""
    assignee = wanted.assignee_id or last_assignee_id(wanted.customer_id)
    try:
        with transaction.atomic():  # a savepoint: a duplicate key undoes only this insert
            return FollowUpTask.objects.create(
                customer_id=wanted.customer_id,
                title=wanted.title,
                reason=wanted.reason,
                note=wanted.note,
                due_on=wanted.due_on,
                assignee_id=assignee,
                rule_key=wanted.key,
                created_at=at,
            )
    except IntegrityError:
        if FollowUpTask.objects.filter(rule_key=wanted.key).exists():
            return None
        raise


def tasks_from_rule(wanted: list[RuleTask], *, at: datetime) -> int:
    """Insert many rule tasks at once, skipping keys that exist; returns how many are new."""
    if not wanted:
        return 0
    keys = [item.key for item in wanted]
    before = FollowUpTask.objects.filter(rule_key__in=keys).count()
    FollowUpTask.objects.bulk_create(
        [
            FollowUpTask(
                customer_id=item.customer_id,
                title=item.title,
                reason=item.reason,
                note=item.note,
                due_on=item.due_on,
                assignee_id=item.assignee_id,
                rule_key=item.key,
                created_at=at,
            )
            for item in wanted
        ],
        ignore_conflicts=True,
    )
    return FollowUpTask.objects.filter(rule_key__in=keys).count() - before


def _locked(task: FollowUpTask) -> FollowUpTask:
    return FollowUpTask.objects.select_for_update().select_related("customer").get(pk=task.pk)


@transaction.atomic
def complete_task(
    task: FollowUpTask,
    *,
    at: datetime,
    outcome: str = FollowUpTask.Outcome.DONE,
    note: str = "",
    by=None,
) -> FollowUpTask:
    """Mark the task done at ``at``. The outcome "not_now" (the customer said no, not now)
    also makes the tasks to ask again in 3 and 6 months, due on those days counted from
    ``at``'s local date, for the same manager. Done twice, it stays done as the first time
    and makes nothing more."""
    if outcome not in FollowUpTask.Outcome.values:
        raise TaskRefused({"outcome": f"one of {', '.join(FollowUpTask.Outcome.values)}"})
    task = _locked(task)
    if task.status == FollowUpTask.Status.DONE:
        return task
    task.status, task.done_at, task.outcome = FollowUpTask.Status.DONE, at, outcome
    task.snoozed_until = None
    if note:
        task.note = f"{task.note}\n{note}".strip()
    task.save(update_fields=["status", "done_at", "outcome", "snoozed_until", "note"])
    if outcome == FollowUpTask.Outcome.NOT_NOW:
        _ask_again(task, at=at, by=by)
    return task


def _ask_again(task: FollowUpTask, *, at: datetime, by) -> None:
    said_on = timezone.localdate(at)
    manager = task.assignee_id or (by.pk if by is not None else None)
    for months in ASK_AGAIN_MONTHS:
        task_from_rule(
            RuleTask(
                customer_id=task.customer_id,
                key=f"said_no:{task.pk}:{months}m",
                reason=FollowUpTask.Reason.SAID_NO,
                title=f"Ask {task.customer} again ({months} months after a no)",
                due_on=add_months(said_on, months),
                note=f"Said no, not now on {said_on.isoformat()} to: {task.title}",
                assignee_id=manager,
            ),
            at=at,
        )


@transaction.atomic
def snooze_task(task: FollowUpTask, *, until: date, at: datetime) -> FollowUpTask:
    """Put the task aside until ``until`` (a later day than ``at``'s local date): it leaves
    the queue and comes back on that day."""
    if until <= timezone.localdate(at):
        raise TaskRefused({"until": "must be a later day than today"})
    task = _locked(task)
    if task.status == FollowUpTask.Status.DONE:
        raise TaskRefused({"status": "the task is done"})
    task.status, task.snoozed_until = FollowUpTask.Status.SNOOZED, until
    task.save(update_fields=["status", "snoozed_until"])
    return task


@transaction.atomic
def assign_task(task: FollowUpTask, *, assignee_id: int | None) -> FollowUpTask:
    """Give the task to an active staff user (``None``: to nobody, back to the pool)."""
    user = _staff(assignee_id)
    task = _locked(task)
    task.assignee = user
    task.save(update_fields=["assignee"])
    return task


def reopen_due(at: datetime) -> int:
    """Snoozed tasks whose day has come are open again, due that day (one UPDATE);
    returns how many."""
    today = timezone.localdate(at)
    return FollowUpTask.objects.filter(
        status=FollowUpTask.Status.SNOOZED, snoozed_until__lte=today
    ).update(status=FollowUpTask.Status.OPEN, due_on=F("snoozed_until"), snoozed_until=None)
