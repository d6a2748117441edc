"""The lift report: treated against held-out over a window after the send."""

from datetime import timedelta
from decimal import Decimal

from ringup.engine import lift
from ringup.events.models import Event
from ringup.marketing.mailings.models import Recipient, Run
from ringup.marketing.mailings.selectors import lift_report

from ..invoices import finalised_invoice
from .conftest import AT, make_customers


def test_conversion_and_revenue_of_treated_against_held_out(db, mailing_of):
    """Treated: 4 customers, 2 convert within 30 days (a third only on day 31); revenue
    1000, 500, 0, 0. Held out: 3 customers, 0 convert; revenue 100, 0, 0.
    Conversion 2/4 − 0/3 = 0.5 with Newcombe's interval of (2, 4, 0, 3); revenue per
    customer 375 − 33.33 = 341.67 with Welch's interval of the two lists."""
    customers = make_customers(7)
    mailing = mailing_of(conversion_kind="subscription.changed", conversion_changes=["plan_up"])
    run = Run.objects.create(mailing=mailing, scheduled_for=AT, created_at=AT)
    for customer in customers[:4]:
        Recipient.objects.create(
            run=run, customer=customer, email=customer.email, status="sent", due_at=AT
        )
    for customer in customers[4:]:
        Recipient.objects.create(
            run=run, customer=customer, email=customer.email, status="held_out", due_at=AT
        )
    for customer, day, changes in [
        (customers[0], 3, ["plan_up"]),
        (customers[1], 29, ["plan_up", "employees"]),
        (customers[2], 31, ["plan_up"]),  # after the window
        (customers[3], 5, ["plan_down"]),  # not the conversion asked for
        (customers[4], 2, ["employees"]),
    ]:
        Event.objects.create(
            kind="subscription.changed",
            at=AT + timedelta(days=day),
            payload={"changes": changes},
            customer_id=customer.pk,
            created_at=AT,
        )
    finalised_invoice(customers[0], Decimal("1000.00"), AT + timedelta(days=10), "I-1")
    finalised_invoice(customers[1], Decimal("500.00"), AT + timedelta(days=20), "I-2")
    finalised_invoice(
        customers[2], Decimal("700.00"), AT - timedelta(days=1), "I-3"
    )  # before the send
    finalised_invoice(customers[4], Decimal("100.00"), AT + timedelta(days=1), "I-4")

    report = lift_report(mailing)
    assert report["treated"] == {"customers": 4, "converted": 2, "revenue": "1500.00"}
    assert report["held_out"] == {"customers": 3, "converted": 0, "revenue": "100.00"}
    expected = lift.proportion_difference(2, 4, 0, 3)
    assert report["conversion_lift"] == {
        "estimate": 0.5,
        "low": expected.low,
        "high": expected.high,
    }
    revenue = lift.mean_difference([1000, 500, 0, 0], [100, 0, 0])
    assert report["revenue_lift"]["estimate"] == "341.67"
    assert Decimal(report["revenue_lift"]["low"]) == Decimal(repr(revenue.low)).quantize(
        Decimal("0.01")
    )
