"""The `ringup` command: Django commands pass through, `run` serves web + worker."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import psutil
import pytest

RINGUP = [sys.executable, "-m", "ringup.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def fresh_env(tmp_path):
    env = {**os.environ, "RINGUP_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)  # an embedded SQLite of its own, whatever the suite uses
    return env


def test_django_commands_pass_through_with_hyphens(fresh_env):
    result = subprocess.run(
        [*RINGUP, "show-urls"], env=fresh_env, capture_output=True, text=True, check=False
    )
    # show_urls is not a Django command: the hyphen was turned into an underscore and
    # Django answered with its own one-line error.
    assert result.returncode == 1
    assert "Unknown command: 'show_urls'" in result.stderr
    check = subprocess.run([*RINGUP, "check"], env=fresh_env, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_run_rejects_a_bad_port(fresh_env):
    result = subprocess.run(
        [*RINGUP, "run", "--port", "70000"], env=fresh_env, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "--port" in result.stderr


def wait_for_http(url: str, process: subprocess.Popen, deadline: float) -> bytes:
    """Poll until the server answers (it is starting in another process)."""
    while time.monotonic() < deadline:
        assert process.poll() is None, "ringup run exited early"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (http only)
                return response.read()
        except OSError:
            time.sleep(0.2)  # a retry interval while polling readiness, not a synchronisation
    raise AssertionError(f"{url} did not answer in time")


@pytest.mark.slow
def test_run_serves_the_web_app_and_runs_the_worker(fresh_env):
    subprocess.run(
        [*RINGUP, "migrate", "--noinput"], env=fresh_env, check=True, capture_output=True
    )
    port = free_port()
    process = subprocess.Popen(
        [*RINGUP, "run", "--port", str(port)],
        env=fresh_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        body = wait_for_http(
            f"http://127.0.0.1:{port}/api/v1/catalog", process, time.monotonic() + 60
        )
        assert json.loads(body) == {"plans": []}
        commands = [" ".join(child.cmdline()) for child in psutil.Process(process.pid).children()]
        assert any("gunicorn" in command for command in commands)
        assert any("celery" in command and "worker" in command for command in commands)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0


def test_run_reports_a_web_server_that_cannot_start(fresh_env):
    """A port already taken makes gunicorn exit with an error; `ringup run` must pass
    that failure on instead of exiting 0."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*RINGUP, "run", "--port", str(port), "--no-worker"],
            env=fresh_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode != 0
