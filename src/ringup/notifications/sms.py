"""Text messages through a pluggable provider (``RINGUP_SMS_PROVIDER``).

A provider is a class with ``send(phone: str, text: str) -> None`` that raises on failure.
The embedded default writes each text into the mail folder, marked as an SMS, so the
codes a try-out sends can be read in the back office.
"""

from email.message import EmailMessage
from email.utils import formatdate

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from . import mailfolder


class MailFolderSMS:
    """Stores the text as a message "to" the phone number in the mail folder."""

    def send(self, phone: str, text: str) -> None:
        message = EmailMessage()
        message["Subject"] = f"SMS to {phone}"
        message["From"] = settings.OPERATOR_NAME
        message["To"] = phone
        message["Date"] = formatdate(localtime=True)
        message["X-Ringup-Kind"] = "sms"
        message.set_content(text)
        mailfolder.store(message.as_bytes(), at=timezone.now())


def provider():
    return import_string(settings.RINGUP_SMS_PROVIDER)()


def send_sms(phone: str, text: str) -> None:
    """Send ``text`` to ``phone`` (E.164) through the configured provider."""
    provider().send(phone, text)
