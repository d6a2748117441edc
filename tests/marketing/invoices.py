"""A finalised invoice as billing stores it, for campaign outcome tests (lift reports
count a customer's invoiced revenue in the window after the send or assignment)."""

from datetime import timedelta
from decimal import Decimal

from ringup.billing.models import Invoice


def finalised_invoice(customer, total: Decimal, at, number: str) -> Invoice:
    return Invoice.objects.create(
        customer=customer,
        period_start=at - timedelta(days=30),
        period_end=at,
        status="finalised",
        number=number,
        currency="RUB",
        issued_at=at,
        due_at=at + timedelta(days=10),
        net_amount=total,
        vat_amount=Decimal("0.00"),
        total=total,
        vat_rate=Decimal("0"),
        vat_included=True,
        buyer={},
        created_at=at,
    )
