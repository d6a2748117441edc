"""``ringup bill --until YYYY-MM-DD``: invoice every billing period whose last day is that
date or earlier. Running it again creates nothing new; ``--dry-run`` prints what a run
would create and writes nothing."""

import json
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ringup.billing.conf import billing_settings
from ringup.billing.services.invoicing import bill
from ringup.engine.periods import local_midnight

USAGE_ERROR = 2


class Command(BaseCommand):
    help = (
        "Invoice every billing period whose last day is --until or earlier and that has no "
        "invoice yet (recurring fees, prorations, usage, credits, VAT), number the invoices "
        "and post them to the ledger."
    )
    # A nightly batch job: the system checks (about a second, spent loading every URLconf)
    # belong to deployment (`ringup check --deploy`), not to each run.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("--until", required=True, help="YYYY-MM-DD, the last day billed")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument(
            "--dry-run", action="store_true", help="compute and report, write nothing"
        )

    def handle(self, *args, until: str, dry_run: bool, **options):
        zone = billing_settings().zone
        try:
            last_day = date.fromisoformat(until)
        except ValueError:
            raise CommandError(
                f"--until must be a date YYYY-MM-DD, not {until!r}", returncode=USAGE_ERROR
            ) from None
        now = timezone.now()
        # Periods ending by the end of the last day: the next day's local midnight.
        cutoff = local_midnight(last_day + timedelta(days=1), zone)
        if cutoff > now:
            raise CommandError(
                f"--until {until}: that day is not over yet in {zone.key}",
                returncode=USAGE_ERROR,
            )
        report = bill(until=cutoff, at=now, dry_run=dry_run)
        if options["json"]:
            self.stdout.write(_json(report.as_dict()))
        else:
            self.stdout.write(_text(report.as_dict(), last_day))
        if report.refused:
            raise CommandError(
                f"{len(report.refused)} invoice(s) refused: see the report", returncode=1
            )


def _json(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


def _text(data: dict, last_day: date) -> str:
    verb = "would create" if data["dry_run"] else "created"
    lines = [f"Billing periods ending by {last_day}: {verb} {data['invoices_created']} invoices"]
    if data["invoices_created"]:
        lines.append(f"  numbers {data['first_number']} … {data['last_number']}")
    for currency, sums in data["totals"].items():
        lines.append(f"  {currency}: net {sums['net']}, VAT {sums['vat']}, total {sums['total']}")
    for refusal in data["refused"]:
        lines.append(
            f"  refused: subscription {refusal['subscription']} period from "
            f"{refusal['period_start']}: {refusal['reason']}"
        )
    return "\n".join(lines)
