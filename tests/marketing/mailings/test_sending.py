"""Mailings end to end against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from datetime import timedelta

import pytest
from django.db import connection

from ringup.events.models import Event
from ringup.marketing.mailings import services
from ringup.marketing.mailings.models import Mailing, Recipient, Run, Suppression
from ringup.marketing.mailings.rendering import unsubscribe_token

from .conftest import AT, make_customers


def _send_now(mailing, at=AT):
    services.activate(mailing, at=at)
    services.schedule(at=at)
    return services.send_due(at=at)


def test_each_recipient_gets_one_message_with_unsubscribe_headers(db, smtp, mailing_of):
    make_customers(3)
    mailing = mailing_of()
    assert _send_now(mailing) == {"sent": 3, "failed": 0, "retried": 0}
    messages = smtp.wait_for(3)
    assert sorted(m["To"] for m in messages) == [f"c{n}@example.com" for n in range(3)]
    for message in messages:
        unsubscribe = str(message["List-Unsubscribe"]).strip()
        # The one-click URL only: no mailto is offered while no mailbox is read for it.
        assert unsubscribe.startswith("<https://ringup.example/u/") and "mailto:" not in unsubscribe
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["Message-ID"].startswith("<mailing.r")
        html = message.get_body(("html",)).get_content()
        text = message.get_body(("plain",)).get_content()
        assert "Unsubscribe from these e-mails" in html and "https://ringup.example/u/" in text
    assert services.send_due(at=AT + timedelta(minutes=1))["sent"] == 0
    assert len(smtp.messages) == 3
    assert Event.objects.filter(kind="mailing.sent").count() == 3


def test_language_and_personalisation(db, smtp, mailing_of):
    make_customers(1, language="ru")
    make_customers(1, language="de", start=1)  # no German variant: the default (English)
    _send_now(mailing_of())
    by_to = {m["To"]: m for m in smtp.wait_for(2)}
    russian, fallback = by_to["c0@example.com"], by_to["c1@example.com"]
    assert russian["Subject"] == "Новости для Customer 0"
    assert "Здравствуйте, Customer 0!" in russian.get_body(("plain",)).get_content()
    assert "Отписаться" in russian.get_body(("html",)).get_content()
    assert fallback["Subject"] == "News for Customer 1"
    html = fallback.get_body(("html",)).get_content()
    assert "your plan is none" in html
    # The template's link is tracked, the visible unsubscribe link is not.
    assert (
        "https://ringup.example/m/c/" in html
        and 'href="https://ringup.example/pricing/"' not in html
    )


def test_templates_cannot_reach_models_or_load_other_templates(db, template, smtp, mailing_of):
    variant = template.variants.get(language="en")
    variant.text = "{{ customer.user.password }}|{{ customer.email }}|{{ links.portal }}"
    variant.save()
    make_customers(1)
    _send_now(mailing_of())
    text = smtp.wait_for(1)[0].get_body(("plain",)).get_content()
    assert text.startswith("||https://ringup.example/portal/")


def test_get_changes_nothing_and_one_click_post_stops_the_next_mailing(
    db, client, smtp, mailing_of
):
    make_customers(2)
    first = mailing_of()
    _send_now(first)
    smtp.wait_for(2)
    recipient = Recipient.objects.get(run__mailing=first, email="c0@example.com")
    url = f"/u/{unsubscribe_token(recipient.pk)}/"

    page = client.get(url)
    assert page.status_code == 200 and b"c0@example.com" in page.content
    assert not Suppression.objects.exists()

    # RFC 8058: a POST with no cookie, no session and no CSRF token.
    client.cookies.clear()
    client.handler.enforce_csrf_checks = True
    answer = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    assert Suppression.objects.get().address == "c0@example.com"

    second = mailing_of(name="April news")
    _send_now(second, at=AT + timedelta(days=1))
    assert [m["To"] for m in smtp.wait_for(3)][2:] == ["c1@example.com"]
    assert Recipient.objects.get(run__mailing=second, email="c0@example.com").status == "suppressed"


def test_a_forged_token_is_404(db, client):
    assert client.get("/u/12:forged/").status_code == 404
    assert client.get("/m/c/forged/").status_code == 404


def test_click_redirects_only_to_signed_links_and_counts(db, client, smtp, mailing_of):
    make_customers(1)
    _send_now(mailing_of())
    html = smtp.wait_for(1)[0].get_body(("html",)).get_content()
    tracked = html.split('href="https://ringup.example')[2].split('"')[0]
    assert tracked.startswith("/m/c/")
    answer = client.get(tracked)
    assert answer.status_code == 302 and answer["Location"] == "https://ringup.example/pricing/"
    assert Event.objects.filter(kind="mailing.clicked").count() == 1
    assert client.get(tracked.replace("/m/c/", "/m/c/x")).status_code == 404


def test_opted_out_customers_and_bounced_addresses_are_never_mailed(db, smtp, mailing_of):
    customers = make_customers(3)
    services.set_consent(customers[0], product_news=False, at=AT)
    services.record_bounce("C1@Example.com", at=AT)
    _send_now(mailing_of())
    assert [m["To"] for m in smtp.wait_for(1)] == ["c2@example.com"]
    statuses = dict(Recipient.objects.values_list("email", "status"))
    assert statuses == {"c1@example.com": "suppressed", "c2@example.com": "sent"}


def test_the_control_group_is_held_out_deterministically(db, smtp, mailing_of):
    make_customers(200)
    mailing = mailing_of(holdout_percent=10)
    _send_now(mailing)
    held = set(Recipient.objects.filter(status="held_out").values_list("customer_id", flat=True))
    expected = {
        pk
        for pk in Recipient.objects.values_list("customer_id", flat=True)
        if services.held_out_bucket(mailing.pk, pk) < 10
    }
    assert held == expected and 8 <= len(held) <= 35
    assert len(smtp.wait_for(200 - len(held))) == 200 - len(held)


def test_pause_change_resume_sends_each_remaining_recipient_once(db, smtp, mailing_of, template):
    make_customers(50)
    mailing = mailing_of()
    services.activate(mailing, at=AT)
    services.schedule(at=AT)
    assert services.send_due(at=AT, limit=20)["sent"] == 20
    services.pause(mailing)
    assert services.send_due(at=AT)["sent"] == 0
    variant = template.variants.get(language="en")
    variant.subject = "Changed for {{ customer_name }}"
    variant.save()
    services.activate(mailing, at=AT + timedelta(minutes=5))
    assert services.send_due(at=AT + timedelta(minutes=5))["sent"] == 30
    messages = smtp.wait_for(50)
    assert sorted(m["To"] for m in messages) == sorted(f"c{n}@example.com" for n in range(50))
    assert sum(m["Subject"].startswith("Changed") for m in messages) == 30
    assert services.schedule(at=AT + timedelta(minutes=6))["finished"] == 1
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.FINISHED


def test_a_scheduled_mailing_waits_for_its_time(db, smtp, mailing_of):
    make_customers(1)
    mailing = mailing_of(send_at=AT + timedelta(hours=2))
    services.activate(mailing, at=AT)
    assert services.schedule(at=AT + timedelta(hours=1))["runs"] == 0
    assert services.schedule(at=AT + timedelta(hours=2))["runs"] == 1
    assert services.schedule(at=AT + timedelta(hours=2, minutes=1))["runs"] == 0
    assert services.send_due(at=AT + timedelta(hours=2))["sent"] == 1


def test_an_expired_lease_is_claimed_again_with_the_same_message_id(db, smtp, mailing_of, settings):
    """A worker claimed the row and died: after the lease the next worker sends it."""
    settings.RINGUP_MAILINGS_LEASE_SECONDS = 60
    make_customers(1)
    mailing = mailing_of()
    services.activate(mailing, at=AT)
    services.schedule(at=AT)
    [claimed] = services.claim(at=AT, limit=10)
    assert services.send_due(at=AT + timedelta(seconds=30))["sent"] == 0  # still leased
    assert services.send_due(at=AT + timedelta(seconds=61))["sent"] == 1
    [message] = smtp.wait_for(1)
    assert message["Message-ID"].startswith(f"<mailing.r{claimed.pk}@")
    assert Recipient.objects.get().attempts == 2


def test_recurring_newsletter_makes_one_run_per_month_in_local_time(db, smtp, mailing_of, settings):
    from datetime import time

    settings.TIME_ZONE = "Europe/Moscow"
    make_customers(2)
    mailing = mailing_of(kind="recurring", day_of_month=1, time_of_day=time(10, 0))
    services.activate(mailing, at=AT)  # 2 March: the 1 March issue is before activation
    assert services.schedule(at=AT)["runs"] == 0
    # 1 April 10:00 Moscow = 07:00 UTC.
    april = AT.replace(month=4, day=1, hour=6, minute=59)
    assert services.schedule(at=april)["runs"] == 0
    assert services.schedule(at=april + timedelta(minutes=1))["runs"] == 1
    assert services.schedule(at=april + timedelta(days=3))["runs"] == 0
    make_customers(1, start=2)  # joins before the May issue
    assert services.schedule(at=april.replace(month=5) + timedelta(minutes=1))["runs"] == 1
    counts = [run.recipients.count() for run in Run.objects.order_by("scheduled_for")]
    assert counts == [2, 3]
    services.send_due(at=april.replace(month=5, day=2))
    assert len(smtp.wait_for(5)) == 5


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_once_create_one_run(mailing_of, smtp):
    """Two threads schedule the same slot; on PostgreSQL the second waits on the unique
    index and gets nothing."""
    import threading

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers anyway")
    make_customers(30)
    mailing = mailing_of()
    services.activate(mailing, at=AT)
    barrier = threading.Barrier(2, timeout=20)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(services.schedule(at=AT)["runs"])
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and sorted(results) == [0, 1]
    assert Run.objects.count() == 1 and Recipient.objects.count() == 30
    services.send_due(at=AT)
    assert len(smtp.wait_for(30)) == 30


def test_the_open_pixel_records_the_first_open(db, client, smtp, mailing_of):
    make_customers(1)
    _send_now(mailing_of(track_opens=True))
    html = smtp.wait_for(1)[0].get_body(("html",)).get_content()
    pixel = html.split('<img src="https://ringup.example')[1].split('"')[0]
    answer = client.get(pixel)
    assert answer.status_code == 200 and answer["Content-Type"] == "image/gif"
    assert Recipient.objects.get().opened_at is not None


def test_an_unreachable_server_gives_the_batch_back_for_later(db, settings, mailing_of):
    from tests.notifications.smtp import _free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _free_port()  # nobody listens
    make_customers(3)
    mailing = mailing_of()
    services.activate(mailing, at=AT)
    services.schedule(at=AT)
    assert services.send_due(at=AT) == {"sent": 0, "failed": 0, "retried": 3}
    assert set(Recipient.objects.values_list("status", flat=True)) == {"pending"}
    assert services.send_due(at=AT + timedelta(minutes=1))["retried"] == 0  # not due yet
    assert Recipient.objects.filter(due_at=AT + timedelta(minutes=2)).count() == 3


def test_the_rate_limit_paces_one_worker(db, smtp, mailing_of, settings):
    """20 messages/s: five messages need at least four intervals of 50 ms."""
    import time

    settings.RINGUP_MAILINGS_RATE = 20
    make_customers(5)
    mailing = mailing_of()
    services.activate(mailing, at=AT)
    services.schedule(at=AT)
    started = time.monotonic()
    assert services.send_due(at=AT)["sent"] == 5
    assert time.monotonic() - started >= 0.2
