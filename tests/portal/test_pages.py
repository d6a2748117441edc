"""Dashboard, invoices, usage, profile, help, trial conversion and the e-mails sent from
events, for the customers of ``conftest``."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from types import SimpleNamespace

import pytest
from django.core import mail
from django.urls import reverse

from ringup.billing.services.subscriptions import StartRequest, start_subscription
from ringup.marketing.mailings.models import Consent
from ringup.marketing.referrals.models import ReferralCode
from ringup.portal import selectors
from ringup.portal.consumers import on_event
from ringup.portal.models import HelpArticle, NotificationSettings

from .conftest import NOW


def test_the_dashboard_shows_service_balance_next_invoice_and_usage(alice_client, alice):
    """Office PBX, 10 employees: 1,640.00 a month. March so far: 1.5 min to a mobile
    (90 s × 1.90/60 = 2.85) and 3 min local (125 s billed by the minute: 3 × 0.90 = 2.70),
    5.55 at call rates; the next invoice is the month's fee plus those calls."""
    page = alice_client.get(reverse("portal:dashboard"))
    html = page.content.decode()
    assert "Office PBX" in html and "₽1,640.00" in html
    usage = page.context["usage"]
    assert (usage.calls, usage.seconds, usage.cost) == (2, 90 + 180, D("5.550000"))
    ((_, upcoming),) = page.context["services"]
    assert upcoming.total == D("1640.00") + D("2.85") + D("2.70")
    assert f"₽{upcoming.total:,}" in html
    account = page.context["account"]
    assert account.balance == sum(i.total for i in alice.invoices.all())
    assert 'aria-label="Offers"' not in html  # no banner targets her
    code = ReferralCode.objects.get(customer=alice).code
    assert f"?ref={code}" in html


def test_the_invoice_page_shows_what_is_owed_and_how_to_pay(alice_client, alice):
    invoice = alice.invoices.order_by("issued_at").last()
    html = alice_client.get(reverse("portal:invoice", args=[invoice.pk])).content.decode()
    assert f"Invoice {invoice.number}, customer {alice.pk}" in html  # the transfer reference
    assert "40702810000000000000" in html  # the operator's account
    document = alice_client.get(reverse("portal:invoice_document", args=[invoice.pk]))
    assert invoice.number in document.content.decode()
    pdf = alice_client.get(reverse("portal:invoice_pdf", args=[invoice.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_usage_of_the_previous_month_and_its_csv(alice_client, alice):
    page = alice_client.get(reverse("portal:usage") + "?month=2025-02")
    (group,) = page.context["summary"].destinations
    assert (group.description, group.calls, group.cost) == ("Moscow local", 1, D("4.500000"))
    body = b"".join(
        alice_client.get(reverse("portal:usage_csv") + "?month=2025-02").streaming_content
    ).decode()
    assert body.splitlines()[1].startswith("2025-02-20T10:00:00+03:00,84951234567,Moscow local")


def test_usage_lists_the_customers_numbers_with_their_incoming_calls(alice_client, alice):
    from datetime import UTC, datetime

    from ringup.usage.models import CdrFile, RatedCall
    from ringup.usage.numbers import assign_number

    assign_number(alice, "+74951112233", at=datetime(2025, 1, 1, tzinfo=UTC))
    cdr_file = CdrFile.objects.create(
        source="trunk", path="in.csv", sha256="2" * 64, token="t", claimed_at=datetime.now(UTC)
    )
    # Two incoming calls in February: 125 + 55 = 180 s, 3 minutes.
    for n, seconds in enumerate((125, 55)):
        RatedCall.objects.create(
            source="trunk",
            cdr_id=f"in{n}",
            cdr_file=cdr_file,
            customer=alice,
            dst="74951112233",
            did="74951112233",
            reason="inbound",
            duration=seconds,
            start=datetime(2025, 2, 10 + n, 9, tzinfo=UTC),
        )
    page = alice_client.get(reverse("portal:usage") + "?month=2025-02")
    assert page.context["numbers"] == [{"number": "74951112233", "calls": 2, "minutes": 3}]
    assert "+74951112233" in page.content.decode()


def test_the_profile_saves_contact_details_and_email_choices(alice_client, alice):
    response = alice_client.post(
        reverse("portal:profile"),
        {"name": "Alpha Trading", "phone": "8 (495) 765-43-21", "language": "ru", "invoices": "on"},
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.name, alice.phone, alice.language) == ("Alpha Trading", "+74957654321", "ru")
    chosen = NotificationSettings.objects.get(customer=alice)
    assert (chosen.invoices, chosen.trial_reminders, chosen.product_news) == (True, False, False)
    # Unticking product news opts the customer out of marketing mailings too.
    assert Consent.objects.get(customer=alice).product_news is False
    bad = alice_client.post(
        reverse("portal:profile"), {"name": "A", "phone": "12", "language": "en"}
    )
    assert bad.status_code == 200 and "not a valid phone number" in bad.content.decode()


def test_help_pages_in_the_customers_language_escape_their_text(alice_client, alice):
    HelpArticle.objects.create(
        title="Softphone", slug="softphone", body="First <script>x</script>.\n\nSecond."
    )
    HelpArticle.objects.create(title="Софтфон", slug="softphone", language="ru", body="Текст.")
    HelpArticle.objects.create(title="Draft", slug="draft", body="x", published=False)
    index = alice_client.get(reverse("portal:help")).content.decode()
    assert "Softphone" in index and "Софтфон" not in index and "Draft" not in index
    page = alice_client.get(reverse("portal:help_article", args=["softphone"])).content.decode()
    assert "<p>First &lt;script&gt;x&lt;/script&gt;.</p>" in page and "<p>Second.</p>" in page
    russian = alice_client.get(reverse("portal:help_article", args=["softphone"]) + "?lang=ru")
    assert "Софтфон" in russian.content.decode()
    assert alice_client.get(reverse("portal:help_article", args=["draft"])).status_code == 404


@pytest.fixture
def trial(alice):
    return start_subscription(alice, StartRequest(plan="office-pbx", employees=3), at=NOW)


def test_a_trial_shows_its_days_left_and_converts_now(alice_client, trial):
    html = alice_client.get(reverse("portal:dashboard")).content.decode()
    assert "Free trial · 14 days left" in html
    response = alice_client.post(reverse("portal:convert", args=[trial.pk]), {"start_now": "1"})
    assert response.status_code == 302
    trial.refresh_from_db()
    assert trial.status == "active" and str(trial.billing_starts_on) == "2025-03-22"


def event(kind, customer, **fields):
    return SimpleNamespace(kind=kind, customer_id=customer.pk, at=NOW, **fields)


def test_trial_and_invoice_mails_follow_the_choices_and_the_language(alice, trial, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    ending = event("trial.ending", alice, subscription_id=trial.pk, payload={})
    ending.at = trial.trial_ends_at - timedelta(days=3)
    on_event(ending)
    assert mail.outbox[-1].subject == "Your Office PBX trial ends in 3 days"
    assert f"/portal/subscriptions/{trial.pk}/change/" in mail.outbox[-1].body

    alice.language = "ru"
    alice.save()
    invoice = alice.invoices.first()
    on_event(
        event(
            "invoice.issued", alice, subscription_id=None, payload={"invoice": {"id": invoice.pk}}
        )
    )
    # Russian writes the amount its own way: "1 644,50 ₽".
    subject = mail.outbox[-1].subject
    assert subject.startswith(f"Счёт {invoice.number} на ") and subject.endswith(",50 ₽")

    NotificationSettings.objects.create(
        customer=alice, invoices=False, trial_reminders=False, updated_at=NOW
    )
    sent = len(mail.outbox)
    on_event(event("trial.expired", alice, subscription_id=trial.pk, payload={}))
    on_event(
        event(
            "invoice.issued", alice, subscription_id=None, payload={"invoice": {"id": invoice.pk}}
        )
    )
    assert len(mail.outbox) == sent


def test_months_run_back_from_this_one():
    from datetime import date

    assert selectors.previous_months(date(2025, 3, 21), 3) == [
        date(2025, 3, 1),
        date(2025, 2, 1),
        date(2025, 1, 1),
    ]
    # Moscow midnights in UTC.
    assert selectors.month_bounds(date(2025, 3, 1)) == (
        datetime(2025, 2, 28, 21, tzinfo=UTC),
        datetime(2025, 3, 31, 21, tzinfo=UTC),
    )


def test_an_undecided_trial_has_no_next_invoice_until_the_customer_keeps_it(alice_client, alice):
    trial = start_subscription(
        alice, StartRequest(plan="office-pbx", employees=3, trial_converts=False), at=NOW
    )
    assert selectors.next_invoice(trial, NOW) is None
    assert b"Keep Office PBX" in alice_client.get(reverse("portal:dashboard")).content
    alice_client.post(reverse("portal:convert", args=[trial.pk]))
    trial.refresh_from_db()
    first = selectors.next_invoice(trial, NOW)
    # The trial ends 4 April 12:00 in Moscow; paid from the next midnight, 5 April.
    assert first.period_start == datetime(2025, 4, 4, 21, tzinfo=UTC)
