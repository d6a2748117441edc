"""``ringup rate`` through Django's command machinery (``call_command("rate", …)``); the
``ringup`` command itself runs :mod:`ringup.usage.offline` without starting Django."""

import json

from django.core.management.base import BaseCommand, CommandError

from ringup.usage import offline


class Command(BaseCommand):
    help = offline.HELP
    # Rating touches neither the database nor the project's models.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        offline.add_arguments(parser)

    def handle(self, *args, **options):
        try:
            summary = offline.rate(**{name: options[name] for name in offline.OPTIONS})
        except offline.UsageError as error:
            raise CommandError(str(error), returncode=offline.USAGE_ERROR) from None
        self.stdout.write(json.dumps(summary.as_json()))
