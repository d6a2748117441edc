"""The demo operator's invoices and payments: every period of the generated history is
invoiced by the real bill run, then customers pay the way customers do — most on time,
some late, a few stop paying — and dunning sets the statuses that follows from it."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings

from ringup.billing.models import BillingAccount, Invoice
from ringup.billing.services.dunning import run_dunning
from ringup.billing.services.invoicing import bill
from ringup.billing.services.payments import NewPayment, record_payments
from ringup.customers.models import Customer
from ringup.engine.periods import local_midnight

DAY = 86_400
PREPAID = {"micro": 0.5, "smb": 0.2, "enterprise": 0.0}  # share of customers paying ahead
PROMPT, LATE = 0.85, 0.11  # the rest stop paying at some point
LATE_DAYS = 8.0  # mean delay past the due date of a late payer
STOPPED_DAYS = (12, 60)  # a defaulter's last payment was this many days before the end


@dataclass(frozen=True)
class Billed:
    invoices: int
    payments: int
    statuses: dict[str, int]


def bill_history(*, until: date, seed: int) -> Billed:
    """Invoice the history's periods that ended before ``until`` (local midnight) and pay
    them; deterministic for a seed."""
    zone = ZoneInfo(settings.TIME_ZONE)
    end = local_midnight(until, zone)
    rng = np.random.default_rng(seed)
    _prepaid_accounts(rng)
    # The history is the past: its invoices and payments tell nobody anything now.
    report = bill(until=end, at=end, announce=False)
    payments = _payments(rng, end)
    record_payments(payments, at=end, announce=False)
    # Dunning as it stood when the history ends.
    statuses = run_dunning(at=end - timedelta(seconds=1))
    return Billed(report.invoices_created, len(payments), statuses)


def _prepaid_accounts(rng: np.random.Generator) -> None:
    customers = list(Customer.objects.order_by("pk").values_list("pk", "tier"))
    share = np.array([PREPAID.get(tier, 0.0) for _, tier in customers])
    prepaid = rng.random(len(customers)) < share
    BillingAccount.objects.bulk_create(
        [
            BillingAccount(customer_id=pk, kind=BillingAccount.Kind.PREPAID)
            for (pk, _), chosen in zip(customers, prepaid.tolist(), strict=True)
            if chosen
        ],
        ignore_conflicts=True,
    )


def _payments(rng: np.random.Generator, end) -> list[NewPayment]:
    rows = list(
        Invoice.objects.filter(status=Invoice.Status.FINALISED, total__gt=0)
        .order_by("pk")
        .values_list("customer_id", "number", "total", "currency", "issued_at", "due_at")
    )
    if not rows:
        return []
    customer, number, total, currency, issued, due = zip(*rows, strict=True)
    customers, owner = np.unique(np.array(customer), return_inverse=True)
    issued_s = np.array([moment.timestamp() for moment in issued])
    due_s = np.array([moment.timestamp() for moment in due])

    habit = rng.random(len(customers))[owner]
    prepaid = set(
        BillingAccount.objects.filter(kind=BillingAccount.Kind.PREPAID).values_list(
            "customer_id", flat=True
        )
    )
    ahead = np.isin(np.array(customer), list(prepaid))
    on_time = issued_s + rng.random(len(rows)) * np.maximum(due_s - issued_s, DAY)
    # A prepaid customer tops up a few days before the period's invoice.
    on_time = np.where(ahead, issued_s - rng.random(len(rows)) * 4 * DAY, on_time)
    late = due_s + rng.exponential(LATE_DAYS * DAY, len(rows))
    paid_at = np.where(habit < PROMPT, on_time, late)
    stopped = end.timestamp() - rng.uniform(*STOPPED_DAYS, len(customers))[owner] * DAY
    paid = (paid_at < end.timestamp()) & ((habit < PROMPT + LATE) | (issued_s < stopped))

    zone = end.tzinfo
    return [
        NewPayment(
            customer_id=customer[i],
            amount=total[i],
            currency=currency[i],
            received_at=_instant(paid_at[i], zone),
            reference=f"demo:{number[i]}",
            note=f"Bank transfer for invoice {number[i]}",
        )
        for i in np.flatnonzero(paid).tolist()
    ]


def _instant(seconds: float, zone) -> datetime:
    return datetime.fromtimestamp(int(seconds), tz=zone)
