"""The referrer's notice through a real SMTP server (aiosmtpd): it arrives once, in the
referrer's language, with their name and the friend's address masked."""

import pytest

from ringup.marketing.referrals.services import code_for
from tests.notifications.smtp import smtp_server

from .conftest import REGISTERED, deliver
from .helpers import sign_up

pytestmark = pytest.mark.django_db


def test_the_joined_notice_arrives_once_in_russian(client, referrer, program, settings):
    from ringup.notifications.conf import email_settings

    sign_up(client, "boris@example.com", "+79167654321", code_for(referrer, at=REGISTERED).code)
    with smtp_server() as (inbox, port):
        for name, value in email_settings(f"smtp://127.0.0.1:{port}").items():
            setattr(settings, name, value)
        assert deliver()["done"] >= 2
        (message,) = inbox.wait_for(1)
        deliver()  # nothing is due any more: the notice is not sent again
        assert len(inbox.messages) == 1
    assert message["To"] == referrer.email
    assert "зарегистрировался" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert "Ирина Соколова" in text and "b***@example.com" in text
    assert message.get_body(("html",)) is not None
