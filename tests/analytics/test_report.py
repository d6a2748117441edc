"""The monthly report: one template for the page, the PDF and the e-mail; sent on the 1st
exactly once, with the PDF attached."""

import shutil
import subprocess
from datetime import UTC, date, datetime

import pytest

from ringup.analytics import report
from ringup.analytics.models import MonthlyReport, RecomputeRun
from ringup.analytics.services.recompute import recompute

# 1 June 2025, 10:00 in Moscow: the report of May is due.
JUNE_1_MORNING = datetime(2025, 6, 1, 7, tzinfo=UTC)


@pytest.fixture
def history(make_customer, start_sub):
    start_sub(make_customer("Office"))
    start_sub(make_customer("Kiosk", tier="micro"), plan="virtual-number", employees=1)


def test_the_report_is_sent_once_with_its_pdf(history, settings, mailoutbox):
    settings.RINGUP_REPORT_RECIPIENTS = ["cfo@example.com", "ceo@example.com"]
    sent = report.send_monthly_report(at=JUNE_1_MORNING)
    assert sent.month == date(2025, 5, 1)
    # No run covered May yet: the report recomputed the history before 1 June first.
    assert RecomputeRun.objects.get().until == date(2025, 6, 1)
    assert report.send_monthly_report(at=JUNE_1_MORNING) is None
    assert MonthlyReport.objects.count() == 1
    [message] = mailoutbox
    assert message.to == ["cfo@example.com", "ceo@example.com"]
    assert "May 2025" in message.subject
    # MRR of May: 1,366.67 + 408.33 = 1,775.00.
    assert "₽1,775" in message.body
    [(name, content, kind)] = message.attachments
    assert (name, kind) == ("ringup-report-2025-05.pdf", "application/pdf")
    assert content.startswith(b"%PDF")


def test_recipients_default_to_the_admins_then_the_staff(db, settings, django_user_model):
    settings.RINGUP_REPORT_RECIPIENTS = []
    settings.ADMINS = [("Staff", "ops@example.com")]
    assert report.recipients() == ["ops@example.com"]
    settings.ADMINS = []
    django_user_model.objects.create_user("anna", "anna@example.com", "pw", is_staff=True)
    django_user_model.objects.create_user("bob", "bob@example.com", "pw")
    assert report.recipients() == ["anna@example.com"]


def test_a_failed_send_leaves_the_month_unclaimed(history, settings, mailoutbox):
    settings.RINGUP_REPORT_RECIPIENTS = ["cfo@example.com"]
    settings.EMAIL_BACKEND = "ringup.analytics.tests_only_missing_backend"
    with pytest.raises(ImportError):
        report.send_monthly_report(at=JUNE_1_MORNING)
    assert not MonthlyReport.objects.exists()


def test_the_report_page_and_pdf(history, analytics_staff, artifacts):
    recompute(at=JUNE_1_MORNING, until=date(2025, 6, 1))
    page = analytics_staff.get("/admin/analytics/dashboard/report/2025-05/")
    assert page.status_code == 200
    assert "Monthly report: May 2025" in page.content.decode()
    assert analytics_staff.get("/admin/analytics/dashboard/report/2025-13/").status_code == 404
    assert analytics_staff.get("/admin/analytics/dashboard/report/2024-01/").status_code == 404
    pdf = analytics_staff.get("/admin/analytics/dashboard/report/2025-05/pdf/")
    assert pdf["Content-Type"] == "application/pdf"
    path = artifacts / "analytics-report.pdf"
    path.write_bytes(pdf.content)
    if shutil.which("pdftoppm"):
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "50",
                "-f",
                "1",
                "-l",
                "1",
                str(path),
                str(path.with_suffix("")),
            ],
            check=True,
        )
        assert path.with_name("analytics-report-1.png").stat().st_size > 10_000
