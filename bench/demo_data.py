"""How long ``ringup demo-data`` takes for a large operator, and how much memory it needs.

    .venv/bin/python bench/demo_data.py [--customers 100000] [--months 24]

Runs ``ringup migrate`` and ``ringup demo-data`` in a fresh temporary data folder (so on a
fresh SQLite database) and prints the wall-clock seconds, the rows per table and, where
``/usr/bin/time`` exists, the peak resident memory. With ``DATABASE_URL`` set it runs against
that database instead, after EMPTYING it with ``ringup flush``.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RINGUP = str(Path(sys.executable).with_name("ringup"))
GNU_TIME = "/usr/bin/time"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="ringup-bench-") as data_dir:
        os.environ["RINGUP_DATA_DIR"] = data_dir
        database = os.environ.get("DATABASE_URL", "SQLite in a fresh temporary folder")
        subprocess.run([RINGUP, "migrate", "--no-input", "-v", "0"], check=True)
        if "DATABASE_URL" in os.environ:
            subprocess.run([RINGUP, "flush", "--no-input", "-v", "0"], check=True)

        command = [RINGUP, "demo-data", "--customers", str(args.customers)]
        command += ["--months", str(args.months)]
        usage = Path(data_dir) / "time.txt"
        if Path(GNU_TIME).exists():
            command = [GNU_TIME, "-v", "-o", str(usage), *command]
        clock = time.perf_counter()
        subprocess.run(command, check=True)
        seconds = time.perf_counter() - clock

        print(f"\ndatabase: {database}")
        print(f"demo-data --customers {args.customers} --months {args.months}: {seconds:.1f} s")
        if usage.exists():
            peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", usage.read_text())
            print(f"peak RSS: {int(peak[1]) / 1024:.0f} MiB")
        for table, rows in row_counts().items():
            print(f"{table:>32} {rows:>10,}")


def row_counts() -> dict[str, int]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ringup.config.settings")
    import django

    django.setup()
    from django.db import connection

    from ringup.billing.models import Subscription, SubscriptionChange, SubscriptionOption
    from ringup.customers.models import Contact, Customer

    models = (Customer, Contact, Subscription, SubscriptionOption, SubscriptionChange)
    counts = {model._meta.db_table: model.objects.count() for model in models}
    connection.close()
    return counts


if __name__ == "__main__":
    if not shutil.which(RINGUP):
        sys.exit(f"{RINGUP} not found: run this with the project's .venv/bin/python")
    main()
