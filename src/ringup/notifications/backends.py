"""Django e-mail backend of the embedded default: messages go to the mail folder."""

from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from . import mailfolder


class MailFolderBackend(BaseEmailBackend):
    """Writes each message as an .eml file into ``RINGUP_MAIL_DIR``."""

    def send_messages(self, email_messages) -> int:
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            mailfolder.store(message.message().as_bytes(linesep="\r\n"), at=timezone.now())
            sent += 1
        return sent
