"""``ringup analytics-recompute [--until YYYY-MM-DD]``: recompute and store the revenue
aggregates of the history before that day (default: today, the operator's zone). Running
it again for the same day replaces that day's figures."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ringup.analytics.services.recompute import RecomputeRefused, recompute

USAGE_ERROR = 2


class Command(BaseCommand):
    help = (
        "Recompute the revenue analytics (monthly figures, MRR movements, cohorts, "
        "products, funnel) of the history before --until and store them for the dashboard."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--until", help="YYYY-MM-DD, the history before this day (default: today)"
        )

    def handle(self, *args, until: str | None, **options):
        day = None
        if until is not None:
            try:
                day = date.fromisoformat(until)
            except ValueError:
                raise CommandError(
                    f"--until must be a date YYYY-MM-DD, not {until!r}", returncode=USAGE_ERROR
                ) from None
        try:
            run = recompute(at=timezone.now(), until=day)
        except RecomputeRefused as exc:
            raise CommandError(f"--{exc.field}: {exc}", returncode=USAGE_ERROR) from None
        self.stdout.write(
            f"Revenue analytics of the history before {run.until}: {run.customers:,} "
            f"customers, in {run.duration.total_seconds():.1f} s"
            + (f"; {run.unpriced:,} subscription-months not priced" if run.unpriced else "")
            + "."
        )
