"""A real Celery worker on Redis, killed with SIGKILL mid-campaign and restarted: every
recipient arrives exactly once at a real SMTP server."""

import asyncio
import email
import email.policy
import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller
from django.db import connection

from ringup.marketing.mailings import services
from ringup.marketing.mailings.models import Recipient
from tests.events.conftest import needs_postgres, postgres_url, wait_until
from tests.notifications.smtp import _free_port

from .conftest import make_customers

RECIPIENTS = 40
STALL_AT = 12  # the server holds the 12th message until the worker is dead


class StallingInbox:
    """Accepts messages, except that it holds message ``STALL_AT`` without answering
    until released, and then refuses it: the worker is killed while that send is open."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()
        self.stalled = threading.Event()
        self.release = threading.Event()
        self.seen = 0

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.seen += 1
            stall = self.seen == STALL_AT
        if stall:
            self.stalled.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)  # inside the server's loop: keep it serving
            return "451 try again later"
        with self.lock:
            self.messages.append(
                email.message_from_bytes(envelope.content, policy=email.policy.default)
            )
        return "250 Message accepted for delivery"


@pytest.fixture
def stalling_smtp():
    inbox = StallingInbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    inbox.release.set()
    controller.stop()


@pytest.fixture
def start_beat(redis_broker, tmp_path):
    processes = []

    def start(env):
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "ringup.config.celery",
                "beat",
                "-s",
                str(tmp_path / "beat-schedule"),
                "--loglevel",
                "INFO",
            ],
            env=env,
            stdout=open(tmp_path / "beat.log", "w"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=20)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_campaign_and_restarted_mails_everyone_once(
    start_worker, start_beat, stalling_smtp, mailing_of, redis_broker, tmp_path
):
    needs_postgres()
    inbox, port = stalling_smtp
    env = {
        "RINGUP_EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "RINGUP_PUBLIC_URL": "https://ringup.example",
        "RINGUP_MAILINGS_RATE": "50",
        "RINGUP_MAILINGS_BATCH": "5",
        "RINGUP_MAILINGS_LEASE_SECONDS": "3",
        "RINGUP_MAILINGS_TICK_SECONDS": "1",
    }
    make_customers(RECIPIENTS)
    mailing = mailing_of()
    services.activate(mailing, at=datetime.now(UTC))
    beat_env = {
        **os.environ,
        "DATABASE_URL": postgres_url(),
        "RINGUP_BROKER_URL": redis_broker,
        "RINGUP_DATA_DIR": str(tmp_path / "beat"),
        **env,
    }
    start_beat(beat_env)
    first = start_worker(env=env)
    assert inbox.stalled.wait(timeout=90), "the campaign never reached the stalled message"
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=20)
    inbox.release.set()
    # Killed while the 12th send was open and with the rest of its batch claimed.
    assert Recipient.objects.filter(status="sending").exists()

    second = start_worker(env=env)
    wait_until(
        lambda: Recipient.objects.filter(status="sent").count() == RECIPIENTS,
        timeout=120,
        what="every recipient to be sent",
        process=second,
    )
    addresses = sorted(str(m["To"]) for m in inbox.messages)
    assert addresses == sorted(f"c{n}@example.com" for n in range(RECIPIENTS))
    assert len({str(m["Message-ID"]) for m in inbox.messages}) == RECIPIENTS
    stalled = Recipient.objects.filter(attempts__gt=1)
    assert stalled.exists()  # the rows the dead worker held were claimed again
    connection.close()
