"""Follow-up tasks as the managers' queue and the API list them."""

from datetime import date

from django.db.models import Q, QuerySet

from ..models import FollowUpTask


def tasks(
    *,
    assignee_id: int | None = None,
    unassigned: bool = False,
    status: str | None = None,
    customer_id: int | None = None,
) -> QuerySet[FollowUpTask]:
    """Tasks, soonest due first, filtered by assignee (or those with none), status and
    customer."""
    found = FollowUpTask.objects.select_related("customer", "assignee").order_by("due_on", "id")
    if unassigned:
        found = found.filter(assignee__isnull=True)
    elif assignee_id is not None:
        found = found.filter(assignee_id=assignee_id)
    if status is not None:
        found = found.filter(status=status)
    if customer_id is not None:
        found = found.filter(customer_id=customer_id)
    return found


def queue(user_id: int, *, today: date) -> list[FollowUpTask]:
    """A manager's open tasks and the unassigned ones, overdue first (soonest due first);
    snoozed tasks come back on their ``snoozed_until`` day."""
    due = Q(status=FollowUpTask.Status.OPEN) | Q(
        status=FollowUpTask.Status.SNOOZED, snoozed_until__lte=today
    )
    mine = Q(assignee_id=user_id) | Q(assignee__isnull=True)
    return list(
        FollowUpTask.objects.filter(due, mine)
        .select_related("customer", "assignee")
        .order_by("due_on", "id")
    )


def get_task(pk: int) -> FollowUpTask | None:
    return FollowUpTask.objects.select_related("customer", "assignee").filter(pk=pk).first()
