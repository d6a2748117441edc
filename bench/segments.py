"""Benchmark segment counts on PostgreSQL: 1,000,000 customers with subscriptions,
options and six months of invoices.

The script recreates the database ``ringup_bench_segments``, migrates it, loads the demo
catalog and generates the rows set-based (``INSERT … SELECT generate_series``; seeded, so
every run builds the same data), then ANALYZEs and VACUUMs. It times, in the same run and
on the same warm cache:

- the baseline ``SELECT count(*) FROM customers_customer``;
- the count of a 3-condition segment with a revenue aggregate: tier in (smb, enterprise)
  AND invoiced ≥ 10,000.00 over the last 12 months AND lacks the option call-recording
  (through ``ringup.marketing.segments.selectors.count``, the code the back office and
  the API run);
- the same with "invoiced ≤ 10,000.00".

It measures twice in the same run: as Ringup reads revenue on PostgreSQL, from billing's
per-customer revenue timelines (one row per customer, kept by triggers while the invoices
are inserted), then as it reads it on SQLite, summing each candidate's invoices in the
window through the covering index ``invoice_revenue_by_customer`` — the form used on
PostgreSQL too until the timelines, so the baseline for the change.

Each is run ``--repeat`` times after one warm-up; it prints the fastest and the median,
the plan of the segment query with ``--explain``, and a JSON summary. Target: ≤ 1 s.

    .venv/bin/python bench/segments.py                    # 1,000,000 customers
    .venv/bin/python bench/segments.py --customers 100000 # a quick look
    .venv/bin/python bench/segments.py --reuse            # time again, keep the data
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

SERVER = "postgres://postgres@127.0.0.1:5432"
DATABASE = "ringup_bench_segments"
# The instant every segment is evaluated at; the generated history ends just before it.
AT = datetime(2025, 7, 1, tzinfo=UTC)
MONTHS = 6
THREE_CONDITIONS = {
    "all": [
        {"field": "tier", "op": "in", "value": ["smb", "enterprise"]},
        {"field": "revenue", "op": "gte", "value": {"months": 12, "amount": "10000.00"}},
        {"field": "lacks_option", "op": "eq", "value": "call-recording"},
    ]
}
AT_MOST = {
    "all": [
        {"field": "tier", "op": "in", "value": ["smb", "enterprise"]},
        {"field": "revenue", "op": "lte", "value": {"months": 12, "amount": "10000.00"}},
        {"field": "lacks_option", "op": "eq", "value": "call-recording"},
    ]
}

# Tiers: 50% micro, 35% smb, 15% enterprise; 90% have a subscription on their tier's plan
# (5% of those cancelled), 30% of subscriptions carry call-recording; one invoice a month
# for six months per subscription, sized by tier.
GENERATE = """
SELECT setseed(0.42);
INSERT INTO customers_customer
  (id, name, is_company, email, phone, country, language, tier, employees, source,
   registered_at, email_verified_at, account, user_id, vertical)
SELECT i, 'Customer ' || i, true, 'c' || i || '@example.com', '+7495' || lpad(i::text, 7, '0'),
       CASE WHEN i %% 10 = 0 THEN 'KZ' ELSE 'RU' END,
       CASE WHEN i %% 10 = 0 THEN 'kk' ELSE 'ru' END,
       CASE WHEN r1 < 0.50 THEN 'micro' WHEN r1 < 0.85 THEN 'smb' ELSE 'enterprise' END,
       1 + (r2 * 50)::int,
       (ARRAY['website', 'calculator', 'quote', 'advisor', 'referral', 'promo', 'sales'])
         [1 + i %% 7],
       %(at)s::timestamptz - interval '1 day' - r2 * interval '730 days',
       CASE WHEN i %% 3 = 0 THEN NULL ELSE %(at)s::timestamptz - r2 * interval '700 days' END,
       NULL, NULL, ''
FROM (SELECT i, random() AS r1, random() AS r2 FROM generate_series(1, %(n)s) AS i) AS g;

INSERT INTO billing_subscription
  (id, status, period, employees, numbers, started_at, trial_ends_at, ended_at, customer_id,
   plan_id, billing_starts_on, discount_percent, traffic_package_id, trial_converts)
SELECT c.id,
       CASE WHEN c.id %% 20 = 0 THEN 'cancelled' ELSE 'active' END,
       'monthly', c.employees, 1, c.registered_at, NULL,
       CASE WHEN c.id %% 20 = 0 THEN %(at)s::timestamptz - interval '3 days' END,
       c.id, p.id, c.registered_at::date, 0, NULL, true
FROM customers_customer c
JOIN catalog_plan p ON p.code = CASE c.tier WHEN 'micro' THEN 'virtual-number'
                                            WHEN 'smb' THEN 'office-pbx'
                                            ELSE 'contact-centre' END
WHERE c.id %% 10 <> 9;

INSERT INTO billing_subscriptionoption (quantity, added_at, removed_at, option_id, subscription_id)
SELECT 1, s.started_at, NULL, o.id, s.id
FROM billing_subscription s, catalog_option o
WHERE o.code = 'call-recording' AND s.id %% 10 < 3;

INSERT INTO billing_invoice
  (reason, period_start, period_end, status, number, currency, issued_at, due_at,
   net_amount, vat_amount, total, vat_rate, vat_included, included_minutes, buyer,
   created_at, customer_id, subscription_id)
SELECT 'period', issued - interval '1 month', issued, 'finalised',
       'B' || lpad(s.id::text, 8, '0') || '-' || m, 'RUB', issued, issued + interval '10 days',
       amount, 0, amount, 0, true, 0, '{}'::jsonb, issued, s.customer_id, s.id
FROM billing_subscription s
JOIN customers_customer c ON c.id = s.customer_id
CROSS JOIN generate_series(1, %(months)s) AS m
CROSS JOIN LATERAL (
  SELECT %(at)s::timestamptz - m * interval '1 month' AS issued,
         round((CASE c.tier WHEN 'micro' THEN 300 + random() * 1200
                            WHEN 'smb' THEN 800 + random() * 2400
                            ELSE 2000 + random() * 18000 END)::numeric, 2) AS amount
) AS x;
SELECT setval(pg_get_serial_sequence('customers_customer', 'id'), %(n)s);
SELECT setval(pg_get_serial_sequence('billing_subscription', 'id'), %(n)s);
"""


def psql(sql: str, database: str = "postgres") -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-q", "-c", sql],
        check=True,
        capture_output=True,
    )


def ringup(*argv: str, env: dict) -> None:
    command = [str(Path(sys.executable).with_name("ringup")), *argv]
    subprocess.run(command, env=env, check=True, capture_output=True)


def prepare(customers: int, env: dict) -> float:
    """Recreate and fill the database; returns the seconds it took."""
    started = time.perf_counter()
    psql(f"DROP DATABASE IF EXISTS {DATABASE}")
    psql(f"CREATE DATABASE {DATABASE}")
    ringup("migrate", "-v0", env=env)
    from django.db import connection

    from ringup.demo.catalog import load_catalog

    load_catalog()
    with connection.cursor() as cursor:
        for statement in GENERATE.split(";\n"):
            if statement.strip():
                cursor.execute(statement, {"n": customers, "at": AT, "months": MONTHS})
    connection.close()
    # Fresh visibility maps and statistics, as autovacuum leaves a settled database.
    psql("VACUUM (ANALYZE)", DATABASE)
    return time.perf_counter() - started


def timed(run, repeat: int) -> tuple[list[float], object]:
    result = run()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return times, result


def summary(name: str, times: list[float], result) -> dict:
    best, median = min(times), statistics.median(times)
    print(f"{name:<44} {result:>9}  best {best * 1000:7.1f} ms  median {median * 1000:7.1f} ms")
    return {"name": name, "result": result, "best_s": round(best, 4), "median_s": round(median, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="keep the existing database")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="ringup-bench-segments-"))
    env = {
        **os.environ,
        "DATABASE_URL": f"{SERVER}/{DATABASE}",
        "RINGUP_DATA_DIR": str(data_dir),
        "RINGUP_LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ringup.config.settings")
    import django

    django.setup()
    from django.db import connection

    from ringup.marketing.segments import conditions
    from ringup.marketing.segments.selectors import count, members

    built = None if args.reuse else prepare(args.customers, env)
    if built is not None:
        print(f"generated {args.customers:,} customers in {built:.1f} s")

    def baseline():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM customers_customer")
            return cursor.fetchone()[0]

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM billing_invoice")
        invoices = cursor.fetchone()[0]
    print(f"{invoices:,} invoices")

    def measure(label: str) -> list[dict]:
        print(f"-- {label}")
        return [
            summary("baseline: SELECT count(*) customers", *timed(baseline, args.repeat)),
            summary(
                "tier + revenue ≥ 10,000/12 mo + lacks option",
                *timed(lambda: count(THREE_CONDITIONS, at=AT), args.repeat),
            ),
            summary(
                "tier + revenue ≤ 10,000/12 mo + lacks option",
                *timed(lambda: count(AT_MOST, at=AT), args.repeat),
            ),
        ]

    results = {"revenue from the timelines": measure("revenue from the timelines")}
    with mock.patch.object(conditions, "reads_revenue_timelines", return_value=False):
        results["revenue summed from the invoices"] = measure("revenue summed from the invoices")
    if args.explain:
        for conditions in (THREE_CONDITIONS, AT_MOST):
            sql, params = members(conditions, at=AT).order_by().values("pk").query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM ({sql}) q", params)
                print("\n".join(row[0] for row in cursor.fetchall()))
    print(json.dumps({"customers": args.customers, "invoices": invoices, "results": results}))


if __name__ == "__main__":
    main()
