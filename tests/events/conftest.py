"""Fixtures for the outbox: throw-away consumers, a real Celery worker on Redis."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from ringup.events import registry

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("RINGUP_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


@pytest.fixture
def register():
    """``register(name, kinds, handler)``: a consumer for the test's duration only."""
    names = []

    def add(name, kinds, handler):
        registry.consumer(name, kinds=kinds)(handler)
        names.append(name)
        return handler

    yield add
    for name in names:
        registry.unregister(name)


def wait_until(condition, *, timeout: float, what: str, process=None):
    """Poll ``condition`` until it is true (work happening in another process)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the worker exited early while waiting for {what}")
        if condition():
            return
        time.sleep(0.1)  # a polling interval, not a synchronisation
    raise AssertionError(f"timed out waiting for {what}")


def postgres_url() -> str:
    """The URL of the test database this process uses (PostgreSQL only)."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): a worker process shares its database")


@pytest.fixture
def redis_broker():
    """The Celery app of this process sends to a Redis database of its own, emptied."""
    import redis

    from ringup.config.celery import app

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is not reachable at {REDIS_URL}: CI requires it")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    client.flushdb()
    old = app.conf.broker_url
    _use_broker(app, REDIS_URL)
    yield REDIS_URL
    _use_broker(app, old)
    client.flushdb()


def _use_broker(app, url: str) -> None:
    """Point the app at ``url``, dropping the pooled connections and producers of the old
    broker (what Celery itself does after a fork)."""
    from kombu import pools

    app.conf.broker_url = url
    pools.reset()  # kombu's process-wide pools, keyed by connection
    app._pool = None
    if "amqp" in app.__dict__:
        app.amqp._producer_pool = None


@pytest.fixture
def start_worker(redis_broker, tmp_path):
    """``start_worker(*extra_args, env=...)``: a real ``celery worker`` subprocess on the
    test database and the Redis broker; stopped (or already killed) at the end."""
    processes = []

    def start(*args, env=None):
        environment = {
            **os.environ,
            "DATABASE_URL": postgres_url(),
            "RINGUP_BROKER_URL": redis_broker,
            "RINGUP_DATA_DIR": str(tmp_path / "worker"),
            "RINGUP_TASKS_EAGER": "0",
            **(env or {}),
        }
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "ringup.config.celery",
                "worker",
                "--pool",
                "solo",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "INFO",
                *args,
            ],
            cwd=ROOT,
            env=environment,
            stdout=open(tmp_path / f"worker-{len(processes)}.log", "w"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
