"""The List-Unsubscribe mailto: offered once its Maildir is read, and reading it
suppresses the senders."""

import io
import json
import mailbox
from email.message import EmailMessage

import pytest
from django.core.management import CommandError, call_command

from ringup.marketing.mailings import rendering, services
from ringup.marketing.mailings.models import Recipient, Run, Suppression

from .conftest import AT, make_customers


def _mail(subject: str, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "unsubscribe@op.example", subject
    message.set_content("")
    return message


@pytest.fixture
def recipient(db, mailing_of):
    [customer] = make_customers(1)
    run = Run.objects.create(mailing=mailing_of(), scheduled_for=AT, created_at=AT)
    return Recipient.objects.create(
        run=run, customer=customer, email=customer.email, status="sent", due_at=AT
    )


@pytest.fixture
def maildir(tmp_path):
    box = mailbox.Maildir(tmp_path / "unsubscribe", create=True)
    box.folder = str(tmp_path / "unsubscribe")  # where the reader is pointed
    return box


def test_the_header_offers_the_mailto_once_an_address_is_set(settings, recipient):
    settings.RINGUP_MAILINGS_UNSUBSCRIBE_MAILTO = "unsubscribe@op.example"
    rendered = rendering.Rendered(subject="News", text="Hello", html="<p>Hello</p>", language="en")
    message = rendering.email_message(rendered, recipient.email, recipient_id=recipient.pk)
    token = rendering.unsubscribe_token(recipient.pk)
    assert message.extra_headers["List-Unsubscribe"].endswith(
        f", <mailto:unsubscribe@op.example?subject=unsubscribe%20{token}>"
    )


def test_the_mailbox_suppresses_by_token_or_sender_and_empties(recipient, maildir):
    token = rendering.unsubscribe_token(recipient.pk)
    maildir.add(_mail(f"unsubscribe {token}", "Someone Else <forwarder@example.com>"))
    maildir.add(_mail("please stop", "Ivan <Ivan@Example.com>"))  # the subject was edited
    maildir.add(_mail("unsubscribe forged:token", "<>"))  # no token, no sender
    counts = services.read_unsubscribe_mailbox(maildir.folder, at=AT)

    assert counts == {"unsubscribed": 2, "ignored": 1}
    # The token names the recipient: their address, not the forwarding sender's.
    assert set(Suppression.objects.values_list("address", "reason")) == {
        (recipient.email, "unsubscribed"),
        ("ivan@example.com", "unsubscribed"),
    }
    assert maildir.keys() == []
    assert services.read_unsubscribe_mailbox(maildir.folder, at=AT) == {
        "unsubscribed": 0,
        "ignored": 0,
    }


def test_the_command_prints_counts_and_refuses_a_folder_that_is_no_maildir(
    recipient, maildir, tmp_path
):
    maildir.add(_mail("unsubscribe", "a@example.com"))
    out = io.StringIO()
    call_command("read_unsubscribe_mailbox", maildir.folder, stdout=out)
    assert json.loads(out.getvalue()) == {"unsubscribed": 1, "ignored": 0}
    with pytest.raises(CommandError, match="is not a Maildir") as refused:
        call_command("read_unsubscribe_mailbox", str(tmp_path))
    assert refused.value.returncode == 2
