"""Benchmark: how soon a verified trial is usable on the PBX platform.

Each of N visitors signs up through ``POST /api/v1/signup``; the script then confirms
their e-mail address and phone (the services the confirmation pages call) and measures
the time from that commit until the operator's platform receives the signed
``account.create`` webhook — through the events outbox, a real Celery worker on Redis
and the webhook adapter. Baseline in the same run: the same signed POST sent straight
to the same receiver (the HTTP floor). Prints one line per figure and a JSON summary.

    .venv/bin/python bench/trial_provisioning.py --trials 30

Needs PostgreSQL (database ``ringup_bench_trial``, recreated) and Redis (database 13).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SERVER = "postgres://postgres@127.0.0.1:5432"
DATABASE = "ringup_bench_trial"
BROKER = "redis://127.0.0.1:6379/13"
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class Receiver:
    """The operator's platform: records when each account.create arrives."""

    def __init__(self):
        from standardwebhooks.webhooks import Webhook

        self.verifier = Webhook(SECRET)
        self.arrived: dict[int, float] = {}
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                payload = receiver.verifier.verify(body, dict(self.headers))
                if payload["event"] == "account.create":
                    with receiver.changed:
                        receiver.arrived.setdefault(payload["customer"]["id"], time.perf_counter())
                        receiver.changed.notify_all()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/pbx"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, customer_id: int, timeout: float) -> float:
        with self.changed:
            if not self.changed.wait_for(lambda: customer_id in self.arrived, timeout):
                raise SystemExit(f"customer {customer_id}'s account never arrived")
            return self.arrived[customer_id]


def psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", sql],
        check=True,
        capture_output=True,
    )


def setup(receiver: Receiver, data_dir: Path) -> dict:
    psql(f"DROP DATABASE IF EXISTS {DATABASE}")
    psql(f"CREATE DATABASE {DATABASE}")
    env = {
        "DATABASE_URL": f"{SERVER}/{DATABASE}",
        "RINGUP_DATA_DIR": str(data_dir),
        "RINGUP_BROKER_URL": BROKER,
        "RINGUP_PROVISIONING": f"webhook:{receiver.url}",
        "RINGUP_PROVISIONING_SECRET": SECRET,
        "RINGUP_RATE_SIGNUP": "100000/m/ip",
        "RINGUP_RATE_SIGNUP_PREFIX": "100000/m/key",
    }
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ringup.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from ringup.demo.catalog import load_catalog

    load_catalog()
    return env


def start_worker(env: dict, data_dir: Path) -> subprocess.Popen:
    celery = str(Path(sys.executable).with_name("celery"))
    log = open(data_dir / "worker.log", "w")  # noqa: SIM115 (lives as long as the worker)
    return subprocess.Popen(
        [celery, "-A", "ringup.config.celery", "worker", "-c", "2", "-l", "WARNING"],
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def signups(receiver: Receiver, trials: int, first: int = 0) -> list[float]:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from ringup.site.signup import email_verified, phone_verified

    client = Client()
    latencies = []
    for number in range(first, first + trials):
        email = f"visitor{number}@firm{number}.example"
        answer = client.post(
            "/api/v1/signup",
            {
                "email": email,
                "phone": f"+7916{5550000 + number:07d}",
                "password": "Kraken-Lamp-4581",
                "plan": "office-pbx",
                "employees": 6,
            },
            content_type="application/json",
        )
        if answer.status_code != 201:
            raise SystemExit(f"signup answered {answer.status_code}: {answer.content[:300]!r}")
        user = get_user_model().objects.get(email=email)
        email_verified(user, at=timezone.now())
        signup = phone_verified(user, at=timezone.now())  # the trial starts on this commit
        started = time.perf_counter()
        latencies.append(receiver.wait_for(signup.customer_id, timeout=60) - started)
    return latencies


def floor(receiver: Receiver, trials: int) -> list[float]:
    """The same signed POST sent straight to the receiver: what no outbox can beat."""
    import requests
    from django.utils import timezone
    from standardwebhooks.webhooks import Webhook

    signer = Webhook(SECRET)
    times = []
    for number in range(trials):
        customer = 10_000_000 + number
        body = json.dumps({"event": "account.create", "customer": {"id": customer}})
        at = timezone.now()
        started = time.perf_counter()
        requests.post(
            receiver.url,
            data=body,
            headers={
                "webhook-id": f"msg_floor_{number}",
                "webhook-timestamp": str(int(at.timestamp())),
                "webhook-signature": signer.sign(f"msg_floor_{number}", at, body),
                "content-type": "application/json",
            },
            timeout=30,
        )
        times.append(receiver.wait_for(customer, timeout=30) - started)
    return times


def summary(name: str, seconds: list[float]) -> dict:
    ordered = sorted(seconds)
    figures = {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[max(0, round(0.95 * len(ordered)) - 1)] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }
    print(f"{name}: " + ", ".join(f"{key} {value}" for key, value in figures.items()))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=30, help="sign-ups to time (30)")
    args = parser.parse_args()
    if args.trials < 1:
        parser.error("--trials must be at least 1")
    receiver = Receiver()
    with tempfile.TemporaryDirectory(prefix="ringup-bench-trial-") as folder:
        data_dir = Path(folder)
        env = setup(receiver, data_dir)
        worker = start_worker(env, data_dir)
        try:
            signups(receiver, 2)  # the worker's first tasks import everything: not timed
            result = {
                "trials": args.trials,
                "verified_to_account_create": summary(
                    "verified → account.create received",
                    signups(receiver, args.trials, first=2),
                ),
                "direct_post_floor": summary("signed POST straight to it", floor(receiver, 30)),
            }
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
