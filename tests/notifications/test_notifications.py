"""E-mail and SMS: the delivery settings, the mail folder, branded rendering, real SMTP."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.core import mail as django_mail

from ringup.notifications import mailfolder, services, sms
from ringup.notifications.conf import MAIL_FOLDER_BACKEND, SMTP_BACKEND, email_settings


def test_no_email_url_means_the_mail_folder():
    assert email_settings("") == {"EMAIL_BACKEND": MAIL_FOLDER_BACKEND}


def test_smtp_urls():
    assert email_settings("smtp://mail.local:2525") == {
        "EMAIL_BACKEND": SMTP_BACKEND,
        "EMAIL_HOST": "mail.local",
        "EMAIL_PORT": 2525,
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "EMAIL_USE_TLS": False,
        "EMAIL_USE_SSL": False,
    }
    tls = email_settings("smtp+tls://robot%40ringup.example:p%3Ass@smtp.example.com:587")
    assert (tls["EMAIL_HOST_USER"], tls["EMAIL_HOST_PASSWORD"]) == ("robot@ringup.example", "p:ss")
    assert tls["EMAIL_USE_TLS"] and not tls["EMAIL_USE_SSL"] and tls["EMAIL_PORT"] == 587
    ssl = email_settings("smtp+ssl://smtp.example.com")
    assert ssl["EMAIL_USE_SSL"] and ssl["EMAIL_PORT"] == 465


@pytest.mark.parametrize("url", ["http://mail.example.com", "smtp://", "mail.example.com:25"])
def test_a_wrong_email_url_stops_start_up(url):
    with pytest.raises(ValueError, match="RINGUP_EMAIL_URL"):
        email_settings(url)


def test_send_writes_a_branded_html_and_a_text_part_to_the_mail_folder(mail_folder, settings):
    settings.RINGUP_BRAND_COLOUR = "#0a7d5a"
    sent = services.send(
        "anna@example.com",
        "account/email/password_reset_key",
        {"password_reset_url": "http://testserver/reset/abc/"},
        language="en",
    )
    assert sent == 1
    [stored] = mailfolder.messages()
    assert stored.subject == "Reset your password" and stored.to == "anna@example.com"
    assert "http://testserver/reset/abc/" in stored.text and "Ringup Telecom" in stored.text
    assert "#0a7d5a" in stored.html and 'href="http://testserver/reset/abc/"' in stored.html
    assert "<style" not in stored.html  # mail clients strip it: the CSS is inline
    assert [p.suffix for p in mail_folder.iterdir()] == [".eml"]


def test_send_renders_in_the_customers_language(mail_folder):
    services.send(
        "anna@example.com",
        "account/email/password_reset_key",
        {"password_reset_url": "http://testserver/reset/abc/"},
        language="ru",
    )
    [stored] = mailfolder.messages()
    assert stored.subject == "Смена пароля"
    assert "Здравствуйте" in stored.text and 'lang="ru"' in stored.html


def test_a_text_only_template_is_laid_out_in_the_branded_frame(mail_folder):
    services.send(
        "anna@example.com",
        "account/email/email_confirmation",
        {"activate_url": "http://testserver/confirm/k/", "expiration_days": 3},
        language="en",
    )
    [stored] = mailfolder.messages()
    assert "<table" in stored.html and 'href="http://testserver/confirm/k/"' in stored.html
    assert stored.subject in stored.html


def test_the_mail_folder_lists_newest_first_and_refuses_other_paths(mail_folder):
    first = mailfolder.store(b"Subject: one\r\n\r\nfirst", at=datetime(2026, 1, 1, tzinfo=UTC))
    mailfolder.store(b"Subject: two\r\n\r\nsecond", at=datetime(2026, 1, 2, tzinfo=UTC))
    assert [m.subject for m in mailfolder.messages()] == ["two", "one"]
    assert mailfolder.message(first.name).text.strip() == "first"
    assert mailfolder.message("../secret_key") is None
    assert mailfolder.message("missing.eml") is None


def test_the_builtin_sms_provider_writes_into_the_mail_folder(mail_folder):
    sms.send_sms("+79161234567", "123456 is your code.")
    [stored] = mailfolder.messages()
    assert stored.is_sms and stored.to == "+79161234567"
    assert stored.text.strip() == "123456 is your code."


class RecordingSMS:
    sent: list = []

    def send(self, phone, text):
        self.sent.append((phone, text))


def test_the_sms_provider_is_pluggable(settings, mail_folder):
    settings.RINGUP_SMS_PROVIDER = f"{__name__}.RecordingSMS"
    sms.send_sms("+79161234567", "hello")
    assert RecordingSMS.sent[-1] == ("+79161234567", "hello")
    assert mailfolder.messages() == []


def test_send_through_a_real_smtp_server(smtp):
    services.send(
        ["anna@example.com", "boris@example.com"],
        "account/email/password_reset_key",
        {"password_reset_url": "http://testserver/reset/abc/"},
        language="en",
    )
    [message] = smtp.wait_for(1)
    assert message["Subject"] == "Reset your password"
    assert message["To"] == "anna@example.com, boris@example.com"
    assert "http://testserver/reset/abc/" in message.get_body(("plain",)).get_content()
    assert "<table" in message.get_body(("html",)).get_content()


@pytest.mark.django_db
def test_the_back_office_mail_folder(client, mail_folder):
    services.send(
        "anna@example.com",
        "account/email/password_reset_key",
        {"password_reset_url": "http://x/r/"},
        language="en",
    )
    sms.send_sms("+79161234567", "654321 is your code.")
    staff = get_user_model().objects.create_superuser("boss", "boss@example.com", "x")
    client.force_login(staff)
    html = client.get("/admin/notifications/mailmessage/").content.decode()
    assert html.index("SMS to +79161234567") < html.index("Reset your password")  # newest first
    [name] = [m.name for m in mailfolder.messages() if not m.is_sms]
    page = client.get(f"/admin/notifications/mailmessage/{name}/").content.decode()
    assert "HTML part" in page and "Text part" in page and "http://x/r/" in page
    assert 'sandbox srcdoc="' in page
    assert client.get("/admin/notifications/mailmessage/nope.eml/").status_code == 404
    assert "Mail folder" in client.get("/admin/").content.decode()


@pytest.mark.django_db
def test_the_mail_folder_is_for_staff_only(client, mail_folder):
    user = get_user_model().objects.create_user("anna", "anna@example.com", "x")
    client.force_login(user)
    response = client.get("/admin/notifications/mailmessage/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_django_mail_uses_the_mail_folder_by_default(mail_folder):
    django_mail.send_mail("Hi", "Body", "a@example.com", ["b@example.com"])
    assert [m.subject for m in mailfolder.messages()] == ["Hi"]
