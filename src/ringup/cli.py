"""The ``ringup`` command.

``ringup run`` serves the web application and runs the background worker in one process
tree; ``ringup rate`` rates call records offline. Every other word is a Django management
command (``ringup migrate``,
``ringup demo-data …``); hyphens in command names stand for underscores.
"""

import argparse
import os
import signal
import subprocess
import sys


def _run(argv: list[str]) -> int:
    """Serve the web application and run the background worker in one process tree."""
    parser = argparse.ArgumentParser(prog="ringup run", description=_run.__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--host", default=os.environ.get("RINGUP_BIND_HOST", "127.0.0.1"))
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("RINGUP_WEB_WORKERS", "2")),
        help="web server processes",
    )
    parser.add_argument("--no-worker", action="store_true", help="do not start the worker")
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error("--port must be between 1 and 65535")
    python = sys.executable
    children = [subprocess.Popen(gunicorn_command(args.host, args.port, args.workers))]
    if not args.no_worker:
        worker = [
            python,
            "-m",
            "celery",
            "-A",
            "ringup.config",
            "worker",
            "--beat",
            "--concurrency",
            os.environ.get("RINGUP_WORKER_CONCURRENCY", "1"),
            "--loglevel",
            "INFO",
            "--schedule",
            _beat_schedule_path(),
        ]
        children.append(subprocess.Popen(worker))
    print(f"Ringup is serving on http://{args.host}:{args.port}/  (Ctrl+C stops)", flush=True)

    def stop(signum=None, frame=None):
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # The tree lives as long as every part of it: when the web server or the worker exits,
    # stop the other rather than serve half a product.
    # os.wait() reaps the first child to exit, so its status is taken from here: Popen
    # would see it as already reaped and report 0, hiding a crash.
    pid, status = os.wait()
    stop()
    codes = [os.waitstatus_to_exitcode(status)]
    codes += [child.wait() for child in children if child.pid != pid]
    return next((code for code in codes if code not in (0, -signal.SIGTERM)), 0)


def gunicorn_command(host: str, port: int, workers: int) -> list[str]:
    """The web server as ``ringup run`` starts it (``bench/quote_api.py`` measures this)."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "ringup.config.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "10",
    ]


def _beat_schedule_path() -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ringup.config.settings")
    from django.conf import settings

    return str(settings.DATA_DIR / "celerybeat-schedule")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "run":
        return _run(argv[1:])
    if argv and argv[0] == "rate":  # offline rating needs no Django: skip its start-up
        from ringup.usage.offline import main as rate

        return rate(argv[1:])
    if argv and argv[0] == "retention":  # a model fit, no database: no Django either
        from ringup.analytics.retention_cli import main as retention

        return retention(argv[1:])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ringup.config.settings")
    from django.core.management import execute_from_command_line

    if argv and not argv[0].startswith("-"):
        argv[0] = argv[0].replace("-", "_")
    execute_from_command_line(["ringup", *argv])
    return 0


if __name__ == "__main__":
    sys.exit(main())
