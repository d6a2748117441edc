"""The invoice document: staff HTML in the back office and a PDF a billing team would
send. The first page is rendered to tests/artifacts/invoice-page-1.png to look at."""

import shutil
import subprocess
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.urls import reverse

from ringup.billing.models import AccountCredit, Invoice, UsageCharge
from ringup.billing.services.invoicing import bill, issue_credit_note
from ringup.billing.services.payments import record_payment
from ringup.billing.services.subscriptions import ChangeRequest, change_subscription
from ringup.billing.views import invoice_pdf_bytes

from .conftest import APRIL_1, MARCH_1

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(subscribe, customer):
    subscription = subscribe(
        plan="contact-centre", employees=24, options=("wallboard",), traffic_package="min-3000"
    )
    change_subscription(
        subscription,
        ChangeRequest(employees=30, options=("wallboard", "speech-analytics")),
        at=MARCH_1 + timedelta(days=17, hours=11, minutes=42),
    )
    for key, (destination, calls, seconds, amount) in enumerate(
        [
            ("Moscow mobile", 412, 61_320, "1839.600000"),
            ("Russia, long distance", 97, 14_880, "669.600000"),
            ("Kazakhstan", 8, 1_740, "348.000000"),
        ]
    ):
        UsageCharge.objects.create(
            subscription=subscription,
            at=MARCH_1 + timedelta(days=3 + key),
            destination=destination,
            calls=calls,
            seconds=seconds,
            amount=D(amount),
            currency="RUB",
            source_key=f"pdf-{key}",
        )
    AccountCredit.objects.create(
        customer=customer,
        description="Referral reward: ООО «Вектор» joined",
        amount=D("1500"),
        granted_at=MARCH_1,
    )
    bill(until=APRIL_1, at=APRIL_1)
    invoice = Invoice.objects.get()
    record_payment(customer, amount=D("10000"), currency="RUB", reference="PP-311", at=APRIL_1)
    return invoice


def test_the_pdf_is_a_real_invoice(invoice, artifacts):
    pdf = invoice_pdf_bytes(invoice)
    assert pdf.startswith(b"%PDF")
    path = artifacts / "invoice.pdf"
    path.write_bytes(pdf)
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm is missing (apt-get install poppler-utils)")
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "70",
            "-f",
            "1",
            "-l",
            "1",
            str(path),
            str(artifacts / "invoice-page"),
        ],
        check=True,
    )
    page = artifacts / "invoice-page-1.png"
    assert page.stat().st_size > 20_000
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True
    ).stdout
    for expected in (
        invoice.number,
        "ООО «Ромашка»",
        "Contact Centre: monthly fee",
        "Calls to Moscow mobile",
        "Referral reward",
        "Unused time",
        "Payment details",
        f"{invoice.total:,.2f}",
    ):
        assert expected in text, expected


def test_staff_see_the_invoice_in_the_back_office(invoice, admin_client, client):
    url = reverse("admin:billing_invoice_document", args=[invoice.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert invoice.number in page.content.decode()
    assert "Amount due" in page.content.decode()
    pdf = admin_client.get(reverse("admin:billing_invoice_pdf", args=[invoice.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    assert client.get(url).status_code == 302  # to the login page


def test_a_credited_and_paid_invoice_says_so(invoice, admin_client, customer):
    issue_credit_note(invoice, reason="Outage on 12 March", amount=D("500"), at=APRIL_1)
    record_payment(customer, amount=D("50000"), currency="RUB", reference="PP-312", at=APRIL_1)
    html = admin_client.get(reverse("admin:billing_invoice_document", args=[invoice.pk])).content
    assert b"Paid" in html
    assert b"CN-000001" in html
