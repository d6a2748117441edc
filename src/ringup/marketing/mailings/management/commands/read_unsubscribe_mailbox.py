"""``ringup read-unsubscribe-mailbox [MAILDIR]``: unsubscribe the senders of the mails
delivered to the ``List-Unsubscribe`` mailto (``services.read_unsubscribe_mailbox``);
prints ``{"unsubscribed": N, "ignored": N}``. Beat runs the same every tick when
``RINGUP_MAILINGS_UNSUBSCRIBE_MAILDIR`` is set."""

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ...services import MailingError, read_unsubscribe_mailbox


class Command(BaseCommand):
    help = "Unsubscribe the senders of the mails in the unsubscribe Maildir."

    def add_arguments(self, parser):
        parser.add_argument(
            "maildir",
            nargs="?",
            default=settings.RINGUP_MAILINGS_UNSUBSCRIBE_MAILDIR,
            help="the Maildir (default RINGUP_MAILINGS_UNSUBSCRIBE_MAILDIR)",
        )

    def handle(self, *args, **options):
        if not options["maildir"]:
            raise CommandError(
                "name the Maildir or set RINGUP_MAILINGS_UNSUBSCRIBE_MAILDIR", returncode=2
            )
        try:
            counts = read_unsubscribe_mailbox(options["maildir"], at=timezone.now())
        except MailingError as error:
            raise CommandError(str(error), returncode=2) from None
        self.stdout.write(json.dumps(counts))
