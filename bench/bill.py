"""Benchmark ``ringup bill``: one month's run for N active subscriptions on PostgreSQL.

For each size the script recreates the database ``ringup_bench_bill``, loads a demo
history with ``ringup demo-data --no-invoices`` (about two customers per subscription
still paying at the end), bills that history (the warm-up, timed apart), then times the
run that bills the following month: one invoice per live subscription. It prints one line
per size and a JSON summary; the target is ≤ 60 s for 100,000, growing linearly.

    .venv/bin/python bench/bill.py                      # 25,000, 50,000 and 100,000
    .venv/bin/python bench/bill.py --sizes 10000        # a quick look
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
# demo-data over four months leaves about one paying subscription per two customers.
CUSTOMERS_PER_SUBSCRIPTION = 2.0
HISTORY_UNTIL = "2025-03-01"
WARM_UNTIL = "2025-02-28"  # the history's last day
MEASURED_UNTIL = "2025-03-31"  # the month after: one period per live subscription


def ringup(*argv: str, env: dict) -> tuple[str, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).with_name("ringup")), *argv],
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


def measure(size: int, data_dir: Path) -> dict:
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
    out, seconds = ringup("bill", "--until", MEASURED_UNTIL, "--json", env=env)
    report = json.loads(out)
    again_out, again = ringup("bill", "--until", MEASURED_UNTIL, "--json", env=env)
    assert json.loads(again_out)["invoices_created"] == 0
    invoices = report["invoices_created"]
    return {
        "customers": customers,
        "history_invoices": json.loads(warm_out)["invoices_created"],
        "history_seconds": round(warm, 1),
        "invoices": invoices,
        "lines": report["lines_created"],
        "seconds": round(seconds, 1),
        "invoices_per_second": round(invoices / seconds),
        "rerun_seconds": round(again, 1),
        "load_seconds": round(load, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="25000,50000,100000")
    parser.add_argument("--keep", action="store_true", help="keep the last database")
    args = parser.parse_args()
    data_dir = Path("var/bench-bill").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    results = {}
    for size in (int(s) for s in args.sizes.split(",")):
        result = measure(size, data_dir)
        results[size] = result
        print(
            f"{size:>7,} wanted: {result['invoices']:>7,} invoices, {result['lines']:>7,} lines "
            f"in {result['seconds']:6.1f} s ({result['invoices_per_second']:,}/s); "
            f"re-run {result['rerun_seconds']} s; history {result['history_invoices']:,} "
            f"invoices in {result['history_seconds']} s",
            flush=True,
        )
    if not args.keep:
        psql(f"DROP DATABASE IF EXISTS {DATABASE}")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
