"""Benchmark the revenue dashboard page from stored aggregates.

The script builds the demo operator in a scratch data directory (SQLite by default, or
``DATABASE_URL``): ``ringup migrate`` and ``ringup demo-data --customers N``, whose last step
is the analytics recompute. It times that recompute again on its own, then requests
/admin/analytics/dashboard/ through Django's test client as the demo's back-office user:

- ``default``: the page a manager opens after the nightly run (charts rendered by the run);
- ``tiers``: each tier's page (also rendered by the run);
- ``first``: each plan's page and a six-month range, the first time (charts rendered on
  the request, then cached);
- ``cached``: those pages again.

Each figure is printed as p50/p95 in milliseconds over ``--repeat`` requests, then a JSON
summary. Target: ≤ 1 s per page.

    .venv/bin/python bench/dashboard.py                     # 2,000 demo customers
    .venv/bin/python bench/dashboard.py --customers 20000
    .venv/bin/python bench/dashboard.py --reuse /tmp/dir    # time again, keep the data
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed(client, url: str) -> float:
    clock = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - clock
    if response.status_code != 200:
        sys.exit(f"{url} answered {response.status_code}")
    return elapsed * 1000


def report(name: str, values: list[float]) -> dict:
    figures = {
        "requests": len(values),
        "p50_ms": round(statistics.median(values), 1),
        "p95_ms": round(percentile(values, 0.95), 1),
    }
    print(
        f"{name:>9}: p50 {figures['p50_ms']:8.1f} ms   p95 {figures['p95_ms']:8.1f} ms   "
        f"({figures['requests']} requests)"
    )
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--reuse", help="a data directory built by an earlier run")
    args = parser.parse_args()

    data_dir = args.reuse or tempfile.mkdtemp(prefix="ringup-bench-dashboard-")
    os.environ["RINGUP_DATA_DIR"] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ringup.config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from ringup.analytics import selectors
    from ringup.analytics.services.recompute import recompute

    settings.ALLOWED_HOSTS = ["*"]
    if not args.reuse:
        call_command("migrate", verbosity=0)
        clock = time.perf_counter()
        call_command("demo_data", customers=args.customers)
        print(f"demo data with {args.customers:,} customers: {time.perf_counter() - clock:.1f} s")
    run = selectors.latest_run()
    clock = time.perf_counter()
    run = recompute(at=timezone.now(), until=run.until)
    recompute_s = time.perf_counter() - clock
    print(
        f"recompute (extract, engine for every slice, store, scores, charts): {recompute_s:.1f} s"
    )

    client = Client()
    client.force_login(get_user_model().objects.get(username="admin"))
    page = "/admin/analytics/dashboard/"
    default = [timed(client, page) for _ in range(args.repeat)]
    tiers = [timed(client, f"{page}?tier={tier}") for tier in selectors.TIERS for _ in range(3)]
    queries = [f"?plan={plan}" for plan in selectors.plans(run)]
    months = sorted({f.month for f in selectors.monthly(run, selectors.parse_filters(run, {}))})
    if len(months) >= 6:
        queries.append(f"?from={months[-6]:%Y-%m}&to={months[-1]:%Y-%m}")
    first = [timed(client, page + query) for query in queries]
    cached = [timed(client, page + query) for query in queries for _ in range(2)]

    summary = {
        "customers": run.customers,
        "until": run.until.isoformat(),
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "recompute_s": round(recompute_s, 2),
        "default": report("default", default),
        "tiers": report("tiers", tiers),
        "first": report("first", first),
        "cached": report("cached", cached),
        "data_dir": data_dir,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
