"""The sweet-spot report from the database: who counts, what each figure reads.

At 1 June 2025 over 90 days (from 3 March), two paying customers:

    Alpha  retail   won deal: 25 lines, 3 sites   invoiced 2,000.00 + 1,000.00 in the window
           (5,000.00 in February: outside)        calls: carrier 500.00, 90,000 s
    Beta   —        no deal: 10 extensions, 1 site  invoiced 600.00, no calls

Alpha talks 90,000 / 60 / 3 = 500 minutes a month, Beta none; margins 3,000.00 − 500.00 =
2,500.00 and 600.00. Gamma has no subscription: not in the report.
"""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.urls import reverse

from ringup.analytics import sweetspot
from ringup.sales.deals.models import Deal
from ringup.usage.models import CdrFile, RatedCall

from ..marketing.invoices import finalised_invoice
from .conftest import DAY, JUNE_1, MARCH_1


@pytest.fixture
def firms(make_customer, start_sub):
    alpha, beta, gamma = (make_customer(name) for name in ("Alpha", "Beta", "Gamma"))
    alpha.vertical = "retail"
    alpha.save()
    for firm in (alpha, beta):
        start_sub(firm, MARCH_1)
    Deal.objects.create(
        customer=alpha,
        title="Alpha",
        tier="smb",
        lines=25,
        sites=3,
        stage="won",
        created_at=MARCH_1,
        stage_changed_at=MARCH_1,
    )
    finalised_invoice(alpha, D("2000.00"), JUNE_1 - 40 * DAY, "A-1")
    finalised_invoice(alpha, D("1000.00"), JUNE_1 - 10 * DAY, "A-2")
    finalised_invoice(alpha, D("5000.00"), JUNE_1 - 120 * DAY, "A-0")  # before the window
    finalised_invoice(beta, D("600.00"), JUNE_1 - 5 * DAY, "B-1")
    finalised_invoice(gamma, D("900.00"), JUNE_1 - 5 * DAY, "G-1")
    source = CdrFile.objects.create(
        source="pbx", path="x.csv", sha256="0" * 64, token="t", claimed_at=MARCH_1
    )
    RatedCall.objects.bulk_create(
        RatedCall(
            source="pbx",
            cdr_id=f"c{n}",
            cdr_file=source,
            customer=alpha,
            dst="+79161234567",
            prefix="79",
            description="Russia mobile",
            start=JUNE_1 - timedelta(days=20 + n),
            duration=45_000,
            billed_seconds=45_000,
            cost=D("900.00"),
            carrier_cost=D("250.00"),
            margin=D("650.00"),
            reason="",
        )
        for n in range(2)
    )
    return alpha, beta


def test_each_paying_customer_once_with_its_figures(firms):
    frame = sweetspot.customers(at=JUNE_1, days=90, currency="RUB").sort("revenue")
    assert frame.select("revenue", "carrier", "seconds", "lines", "sites", "vertical").rows() == [
        (60_000, 0, 0, 10, 1, ""),
        (300_000, 50_000, 90_000, 25, 3, "retail"),
    ]
    volume = sweetspot.report(at=JUNE_1, days=90, currency="RUB")["volume"]
    assert [(b.label, b.customers, b.revenue, b.margin) for b in volume[:2]] == [
        ("0–499", 1, 60_000, 60_000),
        ("500–1999", 1, 300_000, 250_000),
    ]


def test_the_page_and_its_csv(firms, admin_client, time_machine):
    time_machine.move_to(JUNE_1)
    url = reverse("admin:analytics_sweet_spot")
    page = admin_client.get(url, {"days": 90}).content.decode()
    assert "2 paying customers over the last 90 days" in page
    assert "Call volume, minutes a month" in page and "Retail" in page and "Not known" in page
    response = admin_client.get(url, {"days": 90, "format": "csv"})
    lines = response.content.decode().splitlines()
    assert lines[0] == (
        "dimension,band,customers,revenue,margin,margin_percent,revenue_per_customer,"
        "margin_per_customer,currency"
    )
    assert "vertical,Retail,1,3000.00,2500.00,83.300000,1000.00,833.33,RUB" in lines
    assert admin_client.get(url, {"days": 7}).status_code == 400
