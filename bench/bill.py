"""Benchmark ``ringup bill``: one month's run for N active subscriptions on PostgreSQL.

For each size the script recreates the database ``ringup_bench_bill``, loads a demo
history with ``ringup demo-data --no-invoices`` (about two customers per subscription
still paying at the end), bills that history (the warm-up, timed apart), imports the
following month's calls the way the demo does (``ringup.demo.calls``: outbound calls by
each customer's staff, inbound calls to their numbers, rated by the CDR import), then times
the run that bills that month: one invoice per live subscription, its calls as usage lines.
It prints one line per size and a JSON summary; the target is ≤ 60 s for 100,000, growing
linearly.

    .venv/bin/python bench/bill.py                      # 25,000, 50,000 and 100,000
    .venv/bin/python bench/bill.py --sizes 10000        # a quick look
    .venv/bin/python bench/bill.py --sizes 25000 --events-ablation --profile bill.prof

``--events-ablation`` also times the measured month without announcing (no
``invoice.issued`` / ``invoice.paid`` events), on a copy of the same database state taken
after the warm-up, and prints the ratio: the cost of the events, measured in one run.
``--profile PATH`` runs the announcing measured month under cProfile (slower; its time is
then not comparable with runs without it).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

SERVER = "postgres://postgres@127.0.0.1:5432"
DATABASE = "ringup_bench_bill"
QUIET_DATABASE = "ringup_bench_bill_quiet"  # the ablation's copy
# demo-data over four months leaves about one paying subscription per two customers.
CUSTOMERS_PER_SUBSCRIPTION = 2.0
HISTORY_UNTIL = "2025-03-01"
WARM_UNTIL = "2025-02-28"  # the history's last day
MEASURED_UNTIL = "2025-03-31"  # the month after: one period per live subscription
CALLS_UNTIL = "2025-04-01"  # the measured month's calls: import_demo_calls takes the month before


# ``ringup bill --until MEASURED_UNTIL`` without announcing: the command has no such
# option (a real run must always announce), so the bench calls the service the same way.
QUIET_BILL = f"""
from datetime import date, timedelta
from django.utils import timezone
from ringup.billing.conf import billing_settings
from ringup.billing.services.invoicing import bill
from ringup.engine.periods import local_midnight
last_day = date.fromisoformat({MEASURED_UNTIL!r})
cutoff = local_midnight(last_day + timedelta(days=1), billing_settings().zone)
print(bill(until=cutoff, at=timezone.now(), announce=False).as_dict()["invoices_created"])
"""

# The measured month's calls, as the demo imports them (prints how many were imported).
IMPORT_CALLS = f"""
from datetime import date
from ringup.demo.calls import import_demo_calls
print(import_demo_calls(until=date.fromisoformat({CALLS_UNTIL!r}), seed=42).result.imported)
"""


def ringup(*argv: str, env: dict, profile: str | None = None) -> tuple[str, float]:
    command = str(Path(sys.executable).with_name("ringup"))
    prefix = [sys.executable, "-m", "cProfile", "-o", profile] if profile else []
    started = time.perf_counter()
    done = subprocess.run(
        [*prefix, command, *argv],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout, time.perf_counter() - started


def psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", sql],
        check=True,
        capture_output=True,
    )


def quiet_bill(env: dict) -> tuple[int, float]:
    """The measured month billed without events, on a copy of the current state."""
    psql(f"DROP DATABASE IF EXISTS {QUIET_DATABASE}")
    psql(f"CREATE DATABASE {QUIET_DATABASE} TEMPLATE {DATABASE}")
    quiet_env = {**env, "DATABASE_URL": f"{SERVER}/{QUIET_DATABASE}"}
    out, seconds = ringup("shell", "-c", QUIET_BILL, env=quiet_env)
    psql(f"DROP DATABASE {QUIET_DATABASE}")
    return int(out.split()[-1]), seconds


def measure(size: int, data_dir: Path, *, ablation: bool, profile: str | None) -> dict:
    psql(f"DROP DATABASE IF EXISTS {DATABASE}")
    psql(f"CREATE DATABASE {DATABASE}")
    env = {
        **os.environ,
        "DATABASE_URL": f"{SERVER}/{DATABASE}",
        "RINGUP_DATA_DIR": str(data_dir),
        "RINGUP_LOG_LEVEL": "WARNING",
    }
    ringup("migrate", "-v0", env=env)
    customers = int(size * CUSTOMERS_PER_SUBSCRIPTION)
    _, load = ringup(
        "demo-data",
        "--customers",
        str(customers),
        "--months",
        "4",
        "--until",
        HISTORY_UNTIL,
        "--no-invoices",
        env=env,
    )
    warm_out, warm = ringup("bill", "--until", WARM_UNTIL, "--json", env=env)
    calls_out, calls_seconds = ringup("shell", "-c", IMPORT_CALLS, env=env)
    quiet = quiet_bill(env) if ablation else None
    out, seconds = ringup("bill", "--until", MEASURED_UNTIL, "--json", env=env, profile=profile)
    report = json.loads(out)
    again_out, again = ringup("bill", "--until", MEASURED_UNTIL, "--json", env=env)
    assert json.loads(again_out)["invoices_created"] == 0
    invoices = report["invoices_created"]
    extra = {}
    if quiet is not None:
        quiet_invoices, quiet_seconds = quiet
        assert quiet_invoices == invoices, (quiet_invoices, invoices)
        extra = {
            "quiet_seconds": round(quiet_seconds, 1),
            "events_ratio": round(seconds / quiet_seconds, 2),
        }
    return {
        "customers": customers,
        "history_invoices": json.loads(warm_out)["invoices_created"],
        "history_seconds": round(warm, 1),
        "invoices": invoices,
        "lines": report["lines_created"],
        "calls": int(calls_out.split()[-1]),
        "calls_import_seconds": round(calls_seconds, 1),
        "seconds": round(seconds, 1),
        "invoices_per_second": round(invoices / seconds),
        "rerun_seconds": round(again, 1),
        "load_seconds": round(load, 1),
        **extra,
        "load_average": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="25000,50000,100000")
    parser.add_argument("--keep", action="store_true", help="keep the last database")
    parser.add_argument(
        "--events-ablation",
        action="store_true",
        help="also time the measured month without events, on a copy of the same state",
    )
    parser.add_argument("--profile", metavar="PATH", help="cProfile the measured month")
    args = parser.parse_args()
    data_dir = Path("var/bench-bill").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    results = {}
    for size in (int(s) for s in args.sizes.split(",")):
        result = measure(size, data_dir, ablation=args.events_ablation, profile=args.profile)
        results[size] = result
        print(
            f"{size:>7,} wanted: {result['invoices']:>7,} invoices, {result['lines']:>7,} lines, "
            f"{result['calls']:,} calls in {result['seconds']:6.1f} s "
            f"({result['invoices_per_second']:,}/s); "
            f"re-run {result['rerun_seconds']} s; history {result['history_invoices']:,} "
            f"invoices in {result['history_seconds']} s",
            flush=True,
        )
        if "quiet_seconds" in result:
            print(
                f"{'':>7} without events: {result['quiet_seconds']:6.1f} s; with them "
                f"{result['events_ratio']}× as long (load average {result['load_average']:.1f})",
                flush=True,
            )
    if not args.keep:
        psql(f"DROP DATABASE IF EXISTS {DATABASE}")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
