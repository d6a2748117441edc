"""Quote API throughput: ``POST /api/v1/quotes`` on the production web server, over loopback.

Creates a fresh database (PostgreSQL ``ringup_bench_quotes``, or a temporary SQLite file
with ``--sqlite``), migrates it, loads the demo catalog, starts gunicorn exactly as
``ringup run`` does and drives it with ``wrk`` (Debian: ``apt-get install -y wrk``).

Runs, in order, after a short sequential warm-up:

* ``baseline_read`` – ``GET /api/v1/quotes/<token>``: the same stack (gunicorn, Django,
  ninja, one indexed SELECT, a small JSON body) without pricing or a write;
* ``baseline_catalog`` – ``GET /api/v1/catalog``: the public price list;
* ``quotes`` – ``POST /api/v1/quotes`` with a rotating set of realistic selections, as
  fast as the connections allow (closed loop: latency grows with the connection count);
* ``quotes_paced`` – the same POSTs offered at ``--rate`` per second, so p99 is read at
  the target load rather than at saturation.

Human-readable progress goes to stderr; stdout gets one JSON line. ``errors`` counts answers
other than 201 (200 for the reads: ``bad_status``), socket errors and timeouts (5 s).
``cpu_cores`` splits the machine's two cores between the server, PostgreSQL, wrk and other
work (a shared machine makes throughput noisy; ``cpu_ms_per_quote`` is the steadier figure).
Afterwards the number of Quote rows is checked against the 201 responses counted by wrk (no
lost writes): every 201 must have its row, and the only extra rows allowed are requests wrk
abandoned in flight when its time ran out (the server still completes them). The database
is left for inspection and re-created by the next run.

    .venv/bin/python bench/quote_api.py                 # PostgreSQL, 2 workers, 30 s runs
    .venv/bin/python bench/quote_api.py --sqlite --duration 10
"""

import argparse
import http.client
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from ringup.cli import gunicorn_command

DB_NAME = "ringup_bench_quotes"
QUOTES_PATH = "/api/v1/quotes"
TARGET_PER_S, TARGET_P99_MS = 300, 50

# Valid selections on the demo catalog, per plan: employees range, options, packages.
PLAN_CHOICES = {
    "virtual-number": (
        (1, 4),
        ["call-recording", "crm-basic", "missed-call-sms"],
        ["min-300", "min-1000"],
    ),
    "office-pbx": (
        (2, 120),
        ["call-recording-pro", "crm-integration", "missed-call-sms", "callback-widget"],
        ["min-1000", "min-3000"],
    ),
    "contact-centre": (
        (5, 400),
        ["callback-widget", "speech-analytics", "wallboard", "archive-3y"],
        ["min-3000", "min-10000"],
    ),
}

LUA = r"""
local bodies = {%(bodies)s}
local method, path = "%(method)s", "%(path)s"
local headers = {["Content-Type"] = "application/json", ["Accept"] = "application/json"}
local interval_ms = %(interval_ms)f
local threads = {}

sent, answered, created, failed = 0, 0, 0, 0
local counter, next_ms = 0, nil

function setup(thread)
    thread:set("id", #threads)
    table.insert(threads, thread)
end

function init(args)
    counter = id * 7919
end

function request()
    counter = counter + 1
    sent = sent + 1
    if #bodies == 0 then
        return wrk.format(method, path, headers)
    end
    return wrk.format(method, path, headers, bodies[(counter %% #bodies) + 1])
end

function response(status, headers, body)
    answered = answered + 1
    if status == %(ok_status)d then
        created = created + 1
    else
        failed = failed + 1
    end
end

%(pacing)s

function done(summary, latency, requests)
    local t = {sent = 0, answered = 0, ok = 0, failed = 0}
    for _, thread in ipairs(threads) do
        t.sent = t.sent + thread:get("sent")
        t.answered = t.answered + thread:get("answered")
        t.ok = t.ok + thread:get("created")
        t.failed = t.failed + thread:get("failed")
    end
    local e = summary.errors
    io.write(string.format(
        'RINGUP_WRK {"requests": %%d, "duration_us": %%d, "sent": %%d, "answered": %%d, ' ..
        '"ok": %%d, "failed": %%d, "socket_errors": %%d, "timeouts": %%d, ' ..
        '"p50_us": %%d, "p90_us": %%d, "p99_us": %%d, "max_us": %%d}\n',
        summary.requests, summary.duration, t.sent, t.answered, t.ok, t.failed,
        e.connect + e.read + e.write, e.timeout,
        latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""

# wrk has no clock for scripts; LuaJIT's FFI reaches gettimeofday. Each thread keeps a
# schedule of one request per interval and its connections take the next free slot, so the
# offered rate holds as long as some connection is idle.
PACING = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_usec; } ringup_timeval;
int gettimeofday(ringup_timeval *tv, void *tz);
]]
local tv = ffi.new("ringup_timeval")

function delay()
    ffi.C.gettimeofday(tv, nil)
    local now = tonumber(tv.tv_sec) * 1000 + tonumber(tv.tv_usec) / 1000
    if next_ms == nil or next_ms < now then
        next_ms = now
    end
    local wait = next_ms - now
    next_ms = next_ms + interval_ms
    return wait
end
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def quote_bodies(count: int, seed: int = 7) -> list[dict]:
    """``count`` distinct, valid quote selections spread over the demo plans."""
    rng = random.Random(seed)
    plans = list(PLAN_CHOICES)
    bodies = []
    for i in range(count):
        plan = plans[i % len(plans)]
        (low, high), options, packages = PLAN_CHOICES[plan]
        body = {
            "plan": plan,
            "employees": rng.randint(low, high),
            "numbers": rng.randint(0, 6),
            "options": rng.sample(options, rng.randint(0, len(options))),
            "period": rng.choice(["monthly", "annual"]),
        }
        if rng.random() < 0.7:
            body["traffic_package"] = rng.choice(packages)
        if plan == "contact-centre" and rng.random() < 0.5:
            body["tollfree_numbers"] = rng.randint(1, 2)
        bodies.append(body)
    return bodies


def lua_script(
    method: str, path: str, bodies: list[dict], ok_status: int, rate: float, threads: int
) -> str:
    def lua_string(text: str) -> str:
        return "[==[" + text + "]==]"

    return LUA % {
        "bodies": ", ".join(lua_string(json.dumps(b, separators=(",", ":"))) for b in bodies),
        "method": method,
        "path": path,
        "ok_status": ok_status,
        "interval_ms": 1000.0 * threads / rate if rate else 0.0,
        "pacing": PACING if rate else "",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request_json(port: int, path: str, body: dict | None = None) -> tuple[int, dict]:
    """One request to the server on loopback; the status and the decoded JSON answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        if body is None:
            conn.request("GET", path)
        else:
            conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")
    finally:
        conn.close()


def fresh_postgres(server_url: str) -> str:
    import psycopg

    with psycopg.connect(server_url.rstrip("/") + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    return server_url.rstrip("/") + "/" + DB_NAME


def _serves_the_bench(cmdline: Path) -> bool:
    """Whether a PostgreSQL process works for the bench: a background process (WAL writer,
    checkpointer …) or a backend connected to the bench database, not another one's."""
    try:
        title = cmdline.read_bytes().decode(errors="replace")
    except OSError:
        return False
    return "(" not in title or f" {DB_NAME} " in title


def cpu_ticks() -> dict:
    """Every process's name and CPU time so far (user + system, in clock ticks), and the
    machine's total, idle and stolen time, and when they were read."""
    cpu = [int(field) for field in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    ticks: dict = {
        "at": time.monotonic(),
        "total": sum(cpu),
        "idle": cpu[3] + cpu[4],
        "steal": cpu[7],
    }
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, rest = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :]
        if name == "postgres" and not _serves_the_bench(stat.parent / "cmdline"):
            name = "postgres (other databases)"
        fields = rest.split()
        ticks[int(stat.parent.name)] = (name, int(fields[11]) + int(fields[12]))
    return ticks


def cpu_cores(before: dict, after: dict, server_pids: set[int], wrk_seconds: float) -> dict:
    """Cores used between two :func:`cpu_ticks` by the web server, PostgreSQL, wrk and other
    processes, and left idle or stolen by the hypervisor; ``unattributed`` is the rest (the
    kernel's network work, processes that came and went in between).

    The machine is shared with the load generator and the database, and sometimes with
    other people's work: ``other`` shows whether a figure was measured on a quiet machine.
    """
    hz = os.sysconf("SC_CLK_TCK")
    used = {"server": 0.0, "postgres": 0.0, "wrk": wrk_seconds * hz, "other": 0.0}
    for pid, entry in after.items():
        if not isinstance(pid, int) or pid == os.getpid():
            continue
        name, ticks = entry
        kind = "server" if pid in server_pids else "postgres" if name == "postgres" else "other"
        used[kind] += ticks - before.get(pid, (name, 0))[1]
    used["idle"] = after["idle"] - before["idle"]
    used["steal"] = after["steal"] - before["steal"]
    total = after["total"] - before["total"]
    used["unattributed"] = max(0.0, total - sum(used.values()))
    seconds = (after["at"] - before["at"]) or 1.0
    return {kind: round(ticks / hz / seconds, 2) for kind, ticks in used.items()}


def run_wrk(
    name: str,
    base_url: str,
    *,
    method: str,
    path: str,
    bodies: list[dict],
    ok_status: int,
    args: argparse.Namespace,
    duration: int,
    workdir: Path,
    rate: float = 0,
    server_pids: set[int],
) -> dict:
    script = workdir / f"{name}.lua"
    script.write_text(lua_script(method, path, bodies, ok_status, rate, args.threads))
    command = [
        "wrk",
        "--threads",
        str(args.threads),
        "--connections",
        str(args.connections),
        "--duration",
        f"{duration}s",
        "--timeout",
        "5s",
        "--latency",
        "--script",
        str(script),
        base_url,
    ]
    log(f"== {name}: {method} {path}" + (f" offered at {rate:g}/s" if rate else ""))
    log("   " + " ".join(command))
    cpu_before, wrk_before = cpu_ticks(), resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    cpu_after, wrk_after = cpu_ticks(), resource.getrusage(resource.RUSAGE_CHILDREN)
    (workdir / f"{name}.wrk.txt").write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stderr.strip()}")
    text = result.stdout
    match = re.search(r"^RINGUP_WRK (\{.*\})$", text, re.MULTILINE)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.MULTILINE)
    if not match or not rps:
        raise RuntimeError(f"could not read wrk's output:\n{text}")
    raw = json.loads(match.group(1))
    seconds = raw["duration_us"] / 1e6
    figures = {
        "requests_per_s": round(float(rps.group(1)), 1),
        "ok_per_s": round(raw["ok"] / seconds, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p90_ms": round(raw["p90_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
        "ok": raw["ok"],
        "errors": raw["failed"] + raw["socket_errors"] + raw["timeouts"],
        "bad_status": raw["failed"],
        "socket_errors": raw["socket_errors"],
        "timeouts": raw["timeouts"],
        "unanswered": raw["sent"] - raw["answered"],
        "seconds": round(seconds, 2),
    }
    wrk_seconds = (wrk_after.ru_utime + wrk_after.ru_stime) - (
        wrk_before.ru_utime + wrk_before.ru_stime
    )
    cores = cpu_cores(cpu_before, cpu_after, server_pids, wrk_seconds)
    figures["cpu_cores"] = cores
    # CPU per request is steadier than throughput on a shared machine: it hardly moves
    # when other work slows the run down.
    figures["cpu_ms_per_request"] = {
        kind: round(cores[kind] * 1000 / max(figures["requests_per_s"], 0.1), 2)
        for kind in ("server", "postgres")
    }
    log(
        f"   {figures['requests_per_s']} req/s, p50 {figures['p50_ms']} ms, "
        f"p99 {figures['p99_ms']} ms, errors {figures['errors']}; cores used {figures['cpu_cores']}"
    )
    return figures


def worker_pids(master: int) -> list[int]:
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return []
    return [int(pid) for pid in children]


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM), in MiB; 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    # gunicorn's graceful stop lets in-flight requests finish; the group kill is the
    # fallback for a stuck server, so nothing is left listening after the bench.
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def wait_until_up(server: subprocess.Popen, port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode} before answering")
        try:
            if request_json(port, "/api/v1/catalog")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer on port {port} within {timeout:g} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"),
        help=f"PostgreSQL server; the database {DB_NAME} on it is dropped and re-created",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--duration", type=int, default=30, help="seconds per quote run")
    parser.add_argument("--baseline-duration", type=int, default=10, help="seconds per GET run")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument(
        "--rate", type=float, default=300, help="offered quotes/s of the paced run (0: skip)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, Lua)")
    args = parser.parse_args(argv)

    # A plain SIGTERM would skip the clean-up below and leave gunicorn serving.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if not shutil.which("wrk"):
        log("wrk is not installed: on Debian/Ubuntu run  apt-get install -y wrk")
        return 2

    with ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="ringup-bench-"))
        if not args.keep:
            stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        else:
            log(f"work folder: {workdir}")

        if args.sqlite:
            database_url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        else:
            import psycopg

            try:
                database_url = fresh_postgres(args.pg_url)
            except psycopg.OperationalError as exc:
                log(f"PostgreSQL at {args.pg_url} is not usable ({exc}); try --sqlite")
                return 2
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "RINGUP_DATA_DIR": str(workdir / "data"),
            "DJANGO_SETTINGS_MODULE": "ringup.config.settings",
            "RINGUP_DEBUG": "0",
        }
        os.environ.update(env)
        log(f"== database {database_url}: migrate, load the demo catalog")
        subprocess.run(
            [sys.executable, "-m", "ringup.cli", "migrate", "--noinput", "-v", "0"],
            env=env,
            check=True,
        )
        import django

        django.setup()
        from django.db import connection

        from ringup.catalog.models import Quote
        from ringup.demo.catalog import load_catalog

        load_catalog()
        connection.close()

        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        server_log = (workdir / "gunicorn.log").open("w")
        stack.callback(server_log.close)
        command = gunicorn_command("127.0.0.1", port, args.workers)
        log("== " + " ".join(command[1:]))
        server = subprocess.Popen(
            command, env=env, stdout=server_log, stderr=subprocess.STDOUT, start_new_session=True
        )
        stack.callback(stop_server, server)
        wait_until_up(server, port)
        server_pids = {server.pid, *worker_pids(server.pid)}

        bodies = quote_bodies(48)
        # Warm-up, sequential so its writes are counted exactly; it also proves each body
        # is a valid selection (201) before wrk repeats it thousands of times.
        token = ""
        for body in bodies * 2:
            status, answer = request_json(port, QUOTES_PATH, body)
            if status != 201:
                raise RuntimeError(f"warm-up quote {body} answered {status}: {answer}")
            token = answer["token"]
        rows_before = Quote.objects.count()
        connection.close()

        results = {}
        for name, path in (
            ("baseline_read", f"{QUOTES_PATH}/{token}"),
            ("baseline_catalog", "/api/v1/catalog"),
        ):
            results[name] = run_wrk(
                name,
                base_url,
                method="GET",
                path=path,
                bodies=[],
                ok_status=200,
                args=args,
                duration=args.baseline_duration,
                workdir=workdir,
                server_pids=server_pids,
            )
        quote_runs = [("quotes", 0.0)] + ([("quotes_paced", args.rate)] if args.rate else [])
        for name, rate in quote_runs:
            results[name] = run_wrk(
                name,
                base_url,
                method="POST",
                path=QUOTES_PATH,
                bodies=bodies,
                ok_status=201,
                args=args,
                duration=args.duration,
                workdir=workdir,
                rate=rate,
                server_pids=server_pids,
            )

        pids = [server.pid, *worker_pids(server.pid)]
        if set(pids) != server_pids:
            log(f"gunicorn replaced workers during the run: {server_pids} -> {set(pids)}")
        rss = {pid: peak_rss_mb(pid) for pid in pids}
        stop_server(server)

        rows = Quote.objects.count() - rows_before
        created = sum(results[name]["ok"] for name, _ in quote_runs)
        in_flight = sum(results[name]["unanswered"] for name, _ in quote_runs)
        rows_ok = created <= rows <= created + in_flight
        connection.close()

    quotes = results["quotes"]
    summary = {
        "database": "sqlite" if args.sqlite else "postgresql",
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "connections": args.connections,
        "threads": args.threads,
        "gunicorn_cmd_args": os.environ.get("GUNICORN_CMD_ARGS", ""),
        "quotes_per_s": quotes["ok_per_s"],
        "p50_ms": quotes["p50_ms"],
        "p99_ms": quotes["p99_ms"],
        "errors": quotes["errors"],
        "bad_status": quotes["bad_status"],
        "cpu_cores": quotes["cpu_cores"],
        "cpu_ms_per_quote": quotes["cpu_ms_per_request"],
        "paced": (
            {
                "offered_per_s": args.rate,
                **{
                    k: results["quotes_paced"][k]
                    for k in ("ok_per_s", "p50_ms", "p99_ms", "errors", "cpu_cores")
                },
            }
            if args.rate
            else None
        ),
        **{
            name: {
                k: results[name][k]
                for k in ("requests_per_s", "p50_ms", "p99_ms", "errors", "cpu_ms_per_request")
            }
            for name in ("baseline_read", "baseline_catalog")
        },
        "quote_to_read_ratio": round(
            quotes["ok_per_s"] / max(results["baseline_read"]["requests_per_s"], 0.1), 3
        ),
        "rows": {"quote_rows": rows, "responses_201": created, "abandoned_in_flight": in_flight},
        "rows_check": "ok" if rows_ok else "MISMATCH",
        "targets": {
            f"quotes_per_s>={TARGET_PER_S}": quotes["ok_per_s"] >= TARGET_PER_S,
            f"p99_ms<={TARGET_P99_MS}_saturated": quotes["p99_ms"] <= TARGET_P99_MS,
            f"p99_ms<={TARGET_P99_MS}_at_rate": (
                results["quotes_paced"]["p99_ms"] <= TARGET_P99_MS if args.rate else None
            ),
        },
        "peak_rss_mb": {
            "max_worker": round(max((rss[p] for p in pids[1:]), default=0.0), 1),
            "total": round(sum(rss.values()), 1),
        },
    }
    print(json.dumps(summary), flush=True)
    if not rows_ok:
        log(f"rows check failed: {rows} Quote rows for {created} 201 responses")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
