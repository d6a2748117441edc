"""``ringup import-numbers FILE``: load the switch's number inventory (``account,number``)
so inbound calls to those numbers are recognised (``ringup.usage.numbers``).

Prints one JSON object: rows, numbers assigned, numbers already held by the same
customer, and the refused rows with their line numbers. A missing file or column, or an
unreadable ``--on``, exits 2 with one line on stderr.
"""

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ringup.engine.periods import local_midnight

from ...numbers import InventoryFileError, import_inventory

USAGE_ERROR = 2


class Command(BaseCommand):
    help = "Assign customers their phone numbers from a CSV inventory (account,number)."

    def add_arguments(self, parser):
        parser.add_argument("inventory", help="CSV file with the columns account,number")
        parser.add_argument(
            "--on", help="YYYY-MM-DD, the day the numbers are held from (default: now)"
        )

    def handle(self, *args, inventory, on, **_):
        at = self._at(on)
        try:
            result = import_inventory(inventory, at=at)
        except InventoryFileError as error:
            raise CommandError(str(error), returncode=USAGE_ERROR) from None
        self.stdout.write(json.dumps(result.as_dict()))

    def _at(self, on: str | None):
        if on is None:
            return timezone.now()
        try:
            day = date.fromisoformat(on)
        except ValueError:
            raise CommandError(
                f"--on {on!r} is not a date YYYY-MM-DD", returncode=USAGE_ERROR
            ) from None
        return local_midnight(day, timezone.get_default_timezone())
