"""Reads: run counts and the lift report (treated against held-out)."""

from django.db.models import Count, Q

from ringup.marketing import outcomes

from .models import Click, Mailing, Recipient, Run

STATUSES = [status.value for status in Recipient.Status]


def run_counts(run: Run) -> dict[str, int]:
    """Recipients of the run by status, plus ``clicks`` and ``opens``."""
    totals = dict(
        Recipient.objects.filter(run=run)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    counts = {status: totals.get(status, 0) for status in STATUSES}
    counts["clicks"] = Click.objects.filter(recipient__run=run).count()
    counts["opens"] = Recipient.objects.filter(run=run, opened_at__isnull=False).count()
    return counts


def _groups(mailing: Mailing, run: Run | None):
    recipients = Recipient.objects.filter(run__mailing=mailing)
    if run is not None:
        recipients = recipients.filter(run=run)
    return {
        "treated": list(
            recipients.filter(status=Recipient.Status.SENT).values_list("customer_id", "due_at")
        ),
        "held_out": list(
            recipients.filter(status=Recipient.Status.HELD_OUT).values_list("customer_id", "due_at")
        ),
    }


def lift_report(mailing: Mailing, *, run: Run | None = None) -> dict:
    """Conversion (``mailing.conversion_kind`` within ``conversion_window_days`` of each
    recipient's send time) and revenue per customer, treated (sent) against held out,
    with the differences and their 95 % intervals (:func:`outcomes.lift_report`)."""
    groups = _groups(mailing, run)
    return outcomes.lift_report(
        groups["treated"],
        groups["held_out"],
        conversion_kind=mailing.conversion_kind,
        conversion_changes=mailing.conversion_changes,
        window_days=mailing.conversion_window_days,
    )


def runs_with_counts(mailing: Mailing) -> list[tuple[Run, dict]]:
    return [(run, run_counts(run)) for run in mailing.runs.all()]


def sent_count(mailing: Mailing) -> int:
    return Recipient.objects.filter(run__mailing=mailing).aggregate(
        n=Count("pk", filter=Q(status=Recipient.Status.SENT))
    )["n"]
