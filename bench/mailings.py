"""Benchmark mailing throughput: one worker sending a campaign to a local SMTP sink.

The sink is aiosmtpd in a subprocess (``aiosmtpd.handlers.Sink``: accepts and discards),
so the server does not share the sender's interpreter. The script creates a fresh
database (PostgreSQL ``ringup_bench_mailings`` by default, ``--sqlite`` for the embedded
one), N customers, a two-language template with personalisation and a tracked link, then
times:

* ``schedule`` — the run and its N recipient rows (one ``INSERT … SELECT``);
* ``send_due`` — claim, render, send and mark each recipient (the real sender, with the
  unsubscribe headers, click tracking, per-recipient Message-ID and ``mailing.sent``);
* the baseline — the same rendered messages sent with raw ``smtplib`` over one
  connection, nothing else: the floor the SMTP link sets.

The target is ≥ 200 messages/s for one worker.

    .venv/bin/python bench/mailings.py                  # 5,000 recipients on PostgreSQL
    .venv/bin/python bench/mailings.py --recipients 1000 --sqlite
"""

import argparse
import json
import os
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

SERVER = "postgres://postgres@127.0.0.1:5432"
DATABASE = "ringup_bench_mailings"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_sink(port: int) -> subprocess.Popen:
    sink = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=2) as probe:
                probe.noop()
            return sink
        except OSError:
            time.sleep(0.1)  # polling for the sink to listen
    sink.kill()
    raise SystemExit("the SMTP sink did not start")


def configure(args, data_dir: Path, port: int) -> None:
    if args.sqlite:
        os.environ.pop("DATABASE_URL", None)
    else:
        subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-q",
                "-c",
                f"DROP DATABASE IF EXISTS {DATABASE}",
            ],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-q",
                "-c",
                f"CREATE DATABASE {DATABASE}",
            ],
            check=True,
            capture_output=True,
        )
        os.environ["DATABASE_URL"] = f"{SERVER}/{DATABASE}"
    os.environ.update(
        {
            "RINGUP_DATA_DIR": str(data_dir),
            "RINGUP_EMAIL_URL": f"smtp://127.0.0.1:{port}",
            "RINGUP_PUBLIC_URL": "https://ringup.example",
            "RINGUP_LOG_LEVEL": "WARNING",
            "RINGUP_MAILINGS_RATE": "0",
            "RINGUP_MAILINGS_BATCH": str(args.batch),
            "DJANGO_SETTINGS_MODULE": "ringup.config.settings",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def populate(recipients: int):
    from ringup.customers.models import Customer
    from ringup.marketing.mailings.models import Mailing, Template, TemplateVariant

    at = datetime.now(UTC)
    Customer.objects.bulk_create(
        (
            Customer(
                name=f"Customer {n}",
                email=f"c{n}@bench.example",
                language="ru" if n % 3 == 0 else "en",
                tier="micro",
                registered_at=at,
            )
            for n in range(recipients)
        ),
        batch_size=5000,
    )
    template = Template.objects.create(name="Bench news", default_language="en")
    for language, hello in [("en", "Hello"), ("ru", "Здравствуйте")]:
        TemplateVariant.objects.create(
            template=template,
            language=language,
            subject=hello + ", {{ customer_name }}",
            html=f"<p>{hello}, {{{{ customer_name }}}}!</p>"
            '<p style="margin:0 0 12px;">This month: call recording for every plan.</p>'
            '<p><a href="https://ringup.example/pricing/">See the prices</a></p>',
            text=hello + ", {{ customer_name }}!\nThis month: call recording.\n{{ links.pricing }}",
        )
    return Mailing.objects.create(name="Bench", template=template, holdout_percent=0)


def raw_baseline(port: int, limit: int) -> dict:
    """The same messages (rendered by the real renderer, outside the timing) sent with
    plain smtplib over one connection."""
    from django.conf import settings

    from ringup.marketing.mailings import services
    from ringup.marketing.mailings.models import Recipient

    recipients = list(
        Recipient.objects.select_related("customer", "run__mailing__template").order_by("id")[
            :limit
        ]
    )
    people = services._people(recipients)
    messages = [
        (r.email, services._message(r, people[r.pk], None).message().as_bytes(linesep="\r\n"))
        for r in recipients
    ]
    started, cpu = time.perf_counter(), time.process_time()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for to, data in messages:
            smtp.sendmail(settings.DEFAULT_FROM_EMAIL, [to], data)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    return {
        "messages": len(messages),
        "seconds": round(seconds, 3),
        "per_second": round(len(messages) / seconds),
        "cpu_seconds": round(cpu_seconds, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--sqlite", action="store_true", help="the embedded SQLite database")
    args = parser.parse_args()
    port = free_port()
    sink = start_sink(port)
    try:
        with tempfile.TemporaryDirectory(prefix="ringup-bench-mailings-") as data_dir:
            configure(args, Path(data_dir), port)
            from django.db import connection

            from ringup.marketing.mailings import services
            from ringup.marketing.mailings.models import Recipient

            mailing = populate(args.recipients)
            at = datetime.now(UTC)
            services.activate(mailing, at=at)
            started = time.perf_counter()
            services.schedule(at=at)
            schedule_seconds = time.perf_counter() - started
            started, cpu = time.perf_counter(), time.process_time()
            counts = services.send_due(at=at)
            send_seconds = time.perf_counter() - started
            cpu_seconds = time.process_time() - cpu
            assert counts["sent"] == args.recipients, counts
            assert Recipient.objects.filter(status="sent").count() == args.recipients
            baseline = raw_baseline(port, args.recipients)
            result = {
                "database": connection.vendor,
                "recipients": args.recipients,
                "batch": args.batch,
                "schedule_seconds": round(schedule_seconds, 3),
                "send_seconds": round(send_seconds, 3),
                "per_second": round(args.recipients / send_seconds),
                # The sender's own CPU: what one worker would reach on a core of its own.
                "cpu_seconds": round(cpu_seconds, 3),
                "per_cpu_second": round(args.recipients / cpu_seconds),
                "load_average": round(os.getloadavg()[0], 1),
                "raw_smtplib": baseline,
            }
            connection.close()
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    print(
        f"{result['database']}: {args.recipients} recipients, run created in "
        f"{result['schedule_seconds']} s, sent in {result['send_seconds']} s = "
        f"{result['per_second']} messages/s, {result['per_cpu_second']} per CPU second "
        f"(raw smtplib: {baseline['per_second']} messages/s; load {result['load_average']})"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
