"""``ringup demo-data``: the demo operator's catalog, a back-office login and a customer
history, so that every page of a fresh installation has something real to show."""

import time
from datetime import date

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ringup.customers.models import Customer
from ringup.demo.analytics import load_analytics
from ringup.demo.billing import bill_history
from ringup.demo.calls import import_demo_calls
from ringup.demo.catalog import load_catalog
from ringup.demo.deals import load_deals
from ringup.demo.engagement import load_engagement
from ringup.demo.history import generate_history, months_before, plan_specs, write_history
from ringup.demo.mailings import load_mailings
from ringup.demo.margins import load_margins
from ringup.demo.portal import load_portal_demo
from ringup.demo.promotions import load_promotions
from ringup.demo.provisioning import provision_demo_accounts
from ringup.demo.referrals import load_referrals
from ringup.demo.winback import load_win_backs
from ringup.engine.periods import local_midnight

MAX_MONTHS = 120
ADMIN_USERNAME, ADMIN_EMAIL, ADMIN_PASSWORD = "admin", "admin@example.com", "ringup-demo"


class Command(BaseCommand):
    help = (
        "Load the demo operator: its catalog, a back-office superuser and a generated "
        "history of customers, subscriptions and their changes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=2000, help="firms (default 2000)")
        parser.add_argument(
            "--months", type=int, default=24, help=f"months of history, 1–{MAX_MONTHS} (24)"
        )
        parser.add_argument("--seed", type=int, default=42, help="the same seed, the same data")
        parser.add_argument(
            "--until",
            help="YYYY-MM-DD the history ends before (default: the first day of this month "
            "in the operator's time zone)",
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when customers already exist"
        )
        parser.add_argument(
            "--no-invoices",
            dest="invoices",
            action="store_false",
            help="leave the history unbilled (no invoices, payments or dunning)",
        )

    def handle(self, *args, customers, months, seed, until, if_empty, invoices=True, **options):
        until = _until(until)
        if customers < 1:
            raise CommandError("--customers must be at least 1", returncode=2)
        if not 1 <= months <= MAX_MONTHS:
            raise CommandError(f"--months must be between 1 and {MAX_MONTHS}", returncode=2)
        if seed < 0:
            raise CommandError("--seed must not be negative", returncode=2)
        if if_empty and Customer.objects.exists():
            self.stdout.write("Customers already exist: demo data left as it is.")
            return

        clock = time.perf_counter()
        load_catalog()
        history = generate_history(
            plan_specs(),
            customers=customers,
            months=months,
            seed=seed,
            until=until,
            tz=timezone.get_default_timezone(),
        )
        counts = write_history(history)
        counts["win_backs"] = load_win_backs(until=until, seed=seed)
        rows = ", ".join(f"{count:,} {name.replace('_', ' ')}" for name, count in counts.items())
        self.stdout.write(
            f"Demo operator loaded: {rows}; "
            f"{months_before(until, months)} to {until} (exclusive), seed {seed}, "
            f"in {time.perf_counter() - clock:.1f} s."
        )
        if invoices:
            clock = time.perf_counter()
            calls = import_demo_calls(until=until, seed=seed).result
            self.stdout.write(
                f"Imported the last month's calls: {calls.imported:,} calls, "
                f"{sum(calls.unrated.values()):,} unrated, {calls.customers:,} customers, "
                f"retail {calls.cost:.2f}, margin {calls.margin:.2f}; "
                f"in {time.perf_counter() - clock:.1f} s."
            )
            clock = time.perf_counter()
            billed = bill_history(until=until, seed=seed)
            statuses = ", ".join(f"{count} {kind}" for kind, count in billed.statuses.items())
            self.stdout.write(
                f"Billed the history: {billed.invoices:,} invoices, {billed.payments:,} "
                f"payments; dunning: {statuses}; in {time.perf_counter() - clock:.1f} s."
            )
            self.stdout.write(load_referrals().message)

        users = get_user_model().objects
        if users.filter(username=ADMIN_USERNAME).exists():
            login = f"user {ADMIN_USERNAME} (already existed, password unchanged)"
        else:
            users.create_superuser(ADMIN_USERNAME, ADMIN_EMAIL, ADMIN_PASSWORD)
            login = f"user {ADMIN_USERNAME}, password {ADMIN_PASSWORD}"
        self.stdout.write(f"Back office: {settings.PUBLIC_URL}/admin/ — {login}")
        self.stdout.write(load_portal_demo().message)
        # At the end of the history, where its subscriptions stand as generated.
        end = local_midnight(until, timezone.get_default_timezone())
        # Before provisioning: the won demo deal has a live subscription to provision.
        self.stdout.write(load_deals(at=end, seed=seed).message)
        clock = time.perf_counter()
        provisioned = provision_demo_accounts(at=end)
        self.stdout.write(f"{provisioned.message} In {time.perf_counter() - clock:.1f} s.")
        promotions = load_promotions(at=end)
        self.stdout.write(f"Promotions: {', '.join(p.name for p in promotions)}.")
        self.stdout.write(load_engagement(at=end).message)
        self.stdout.write(load_margins(until=until, at=end, seed=seed).message)
        self.stdout.write(load_mailings(at=end).message)
        # Last: the analytics report on everything loaded above (campaign lift included).
        self.stdout.write(load_analytics(until=until, at=end))


def _until(value: str | None) -> date:
    if value is None:
        return timezone.localdate().replace(day=1)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"--until must be a date YYYY-MM-DD, not {value!r}", returncode=2
        ) from None
