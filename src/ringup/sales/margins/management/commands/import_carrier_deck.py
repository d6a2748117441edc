"""``ringup import-carrier-deck FILE --carrier NAME --effective YYYY-MM-DD [--days 30|90]``:
store a carrier deck version and re-cost the window's traffic at it (``services``).

Prints one JSON object: the version, what changed and how many destinations, plans and
customers fall below the target. A bad file, date or a version that exists already exits
with status 2 and one line on stderr.
"""

import json
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ringup.engine.rating import DeckError
from ringup.usage.services import configured_decks

from ...services import WINDOWS, VersionRefused, compute_impact, import_version

USAGE_ERROR = 2


class Command(BaseCommand):
    help = "Import a carrier deck version and show its margin impact as JSON."

    def add_arguments(self, parser):
        parser.add_argument("file", help="deck CSV (docs/cdr-formats.md)")
        parser.add_argument("--carrier", required=True, help="the carrier's name")
        parser.add_argument(
            "--effective", required=True, help="YYYY-MM-DD the version applies from"
        )
        parser.add_argument("--days", type=int, choices=WINDOWS, default=WINDOWS[0])

    def handle(self, *args, file, carrier, effective, days, **options):
        try:
            effective_from = date.fromisoformat(effective)
        except ValueError:
            raise CommandError(
                f"--effective {effective!r} is not a date YYYY-MM-DD", returncode=USAGE_ERROR
            ) from None
        path = Path(file)
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(
                f"cannot read {path}: {error.strerror}", returncode=USAGE_ERROR
            ) from None
        at = timezone.now()
        try:
            retail = configured_decks().retail
            version = import_version(
                content, carrier=carrier, effective_from=effective_from, at=at, file_name=path.name
            )
        except (VersionRefused, DeckError) as error:
            raise CommandError(str(error), returncode=USAGE_ERROR) from None
        impact = compute_impact(version, days=days, at=at, retail=retail)
        findings = impact.findings
        self.stdout.write(
            json.dumps(
                {
                    "version": version.pk,
                    "carrier": version.carrier,
                    "effective_from": str(version.effective_from),
                    "prefixes": version.rates.count(),
                    "previous": impact.summary["previous"] or None,
                    "changes": impact.summary["changes"],
                    "days": days,
                    "calls": impact.summary["calls"],
                    "below_target": {
                        section: len(findings[section])
                        for section in ("destinations", "plans", "customers")
                    },
                    "totals": impact.summary["totals"],
                }
            )
        )
