"""Call rating throughput: ``ringup rate`` against a per-row Python rater and the I/O floor.

Generates, into a temporary folder, a 50,000-prefix rate deck and ``--cdrs`` generic CDRs
(default 5,000,000; realistic mix: nested prefixes, 20 % unanswered calls, ``+``/``00``
numbers, and about 0.1 % each of duplicate ids, malformed durations and unknown
destinations), then times in the same run:

1. ``ringup rate`` as a subprocess under ``/usr/bin/time -v`` (so the figure includes
   the interpreter's start-up and the command's own checks, and the peak RSS is the whole
   command's), and the engine's ``rate_file()`` alone, also as a subprocess under
   ``/usr/bin/time -v``; both must print the same summary;
2. a straightforward per-row Python rater, in this process: the ``csv`` module, a dict
   lookup of the longest prefix trying lengths from longest to shortest, ``Decimal``
   arithmetic, the same rated and unrated output (skip with ``--skip-python``);
3. the I/O floor: DuckDB reading the CDR CSV and writing it back out
   (``COPY (SELECT * FROM read_csv(...)) TO ...``), in this process.

(1) and (2) must agree on every count and on the exact total; the script fails otherwise.
With ``--repeat N``, (3), (1) and the engine run in N interleaved rounds (each round's load
average, wall and CPU seconds and ratios are logged) and the best of each is reported.
Human-readable progress goes to stderr; stdout gets one JSON line.

Needs DuckDB (``.venv/bin/pip install duckdb``) and GNU time (Debian: ``apt-get install
-y time``).

    .venv/bin/python bench/rate_cdrs.py                          # 5 M calls, all three
    .venv/bin/python bench/rate_cdrs.py --cdrs 20000000 --skip-python
    .venv/bin/python bench/rate_cdrs.py --repeat 3               # on a shared machine
"""

import argparse
import csv
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import polars as pl

DECK_PREFIXES = 50_000
CHUNK_ROWS = 1_000_000
MAX_DURATION = 7 * 86_400  # as ringup.engine.rating.charges.MAX_DURATION
TIME = "/usr/bin/time"
RINGUP = Path(sys.executable).with_name("ringup")

# Increment schemes (first, step, min_duration) and how often decks use them.
SCHEMES = [(60, 60, 0), (1, 1, 0), (30, 6, 0), (60, 1, 0), (1, 1, 60)]
SCHEME_WEIGHTS = [0.4, 0.3, 0.15, 0.1, 0.05]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- data ---------------------------------------------------------------------------------


def generate_deck(path: Path, rng: np.random.Generator) -> list[str]:
    """50,000 distinct, nested prefixes under ~220 country codes; none matches 99…"""
    countries = {str(c) for c in rng.integers(1, 90, 60)} | {
        str(c) for c in rng.integers(200, 900, 160)
    }
    countries |= {"1", "7", "44", "49", "33", "86"}
    prefixes = set(countries)
    while len(prefixes) < 2 * DECK_PREFIXES:
        parents = rng.choice(sorted(prefixes), 20_000)
        extra_digits = rng.integers(1, 5, len(parents))
        for parent, extra in zip(parents, extra_digits, strict=True):
            tail = str(rng.integers(0, 10**extra)).zfill(extra)
            prefixes.add((parent + tail)[:12])
    # A random half keeps the nesting irregular, as in real decks; every country stays.
    others = sorted(prefixes - countries)
    picked = rng.choice(others, DECK_PREFIXES - len(countries), replace=False).tolist()
    chosen = sorted(countries | set(picked))
    n = len(chosen)
    schemes = rng.choice(len(SCHEMES), n, p=SCHEME_WEIGHTS)
    rates = rng.integers(1, 500_000, n)  # 0.0001 … 50.0000 per minute, 4 decimals
    fees = np.where(rng.random(n) < 0.2, rng.integers(1, 2_000, n), 0)
    pl.DataFrame(
        {
            "prefix": chosen,
            "rate": [f"{r // 10_000}.{r % 10_000:04d}" for r in rates.tolist()],
            "connect_fee": [f"{f // 10_000}.{f % 10_000:04d}" for f in fees.tolist()],
            "first_increment": [SCHEMES[s][0] for s in schemes],
            "increment": [SCHEMES[s][1] for s in schemes],
            "description": [f"destination {i}" for i in range(n)],
            "min_duration": [SCHEMES[s][2] for s in schemes],
        }
    ).write_csv(path)
    return chosen


def generate_cdrs(path: Path, count: int, prefixes: list[str], rng: np.random.Generator) -> None:
    """Generic CDRs, written in chunks so that 20 M of them need little memory."""
    deck = np.array(prefixes)
    with path.open("wb") as handle:
        for start in range(0, count, CHUNK_ROWS):
            rows = min(CHUNK_ROWS, count - start)
            _cdr_chunk(start, rows, deck, rng).write_csv(handle, include_header=start == 0)


def _cdr_chunk(start: int, rows: int, deck: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    index = np.arange(start, start + rows)
    # 0.1 % repeat an earlier call's id (a CDR exported twice).
    repeat = (rng.random(rows) < 0.001) & (index > 0)
    index = np.where(repeat, rng.integers(0, np.maximum(index, 1)), index)
    national = pl.Series(deck[rng.integers(0, len(deck), rows)]) + pl.Series(
        rng.integers(0, 10**11, rows)
    ).cast(pl.String).str.zfill(11)
    national = national.str.slice(0, 11 + int(rng.integers(0, 2)))
    style = rng.random(rows)
    dst = (
        pl.DataFrame({"n": national, "style": style})
        .select(
            pl.when(pl.col("style") < 0.001)
            .then(pl.lit("99") + pl.col("n").str.slice(2))  # no deck prefix starts with 99
            .when(pl.col("style") < 0.05)
            .then(pl.lit("+") + pl.col("n"))
            .when(pl.col("style") < 0.10)
            .then(pl.lit("00") + pl.col("n"))
            .otherwise(pl.col("n"))
        )
        .to_series()
    )
    seconds = np.where(rng.random(rows) < 0.2, 0, rng.exponential(150, rows).astype(np.int64))
    duration = pl.Series(seconds).cast(pl.String)
    bad = rng.random(rows)
    duration = (
        pl.DataFrame({"d": duration, "bad": bad})
        .select(
            pl.when(pl.col("bad") < 0.0004)
            .then(pl.lit("abc"))
            .when(pl.col("bad") < 0.0007)
            .then(pl.lit("-5"))
            .when(pl.col("bad") < 0.001)
            .then(pl.lit(""))
            .otherwise(pl.col("d"))
        )
        .to_series()
    )
    # One call a second, spread over March 2025.
    start = np.datetime64("2025-03-01T00:00:00") + (index % (31 * 86_400)).astype("m8[s]")
    return pl.DataFrame(
        {
            "id": "cdr-" + pl.Series(index).cast(pl.String).str.zfill(10),
            "account": "acc-" + pl.Series(rng.integers(1, 20_000, rows)).cast(pl.String),
            "src": "7495" + pl.Series(rng.integers(0, 10**7, rows)).cast(pl.String).str.zfill(7),
            "dst": dst,
            "start": pl.Series(start.astype("M8[ms]")).dt.strftime("%Y-%m-%dT%H:%M:%S"),
            "duration": duration,
        }
    )


# --- (1) ringup rate, and the engine alone --------------------------------------------------

# rate_file() as ``ringup rate`` calls it, minus the command's argument and file checks.
ENGINE = """
import json, sys
from ringup.engine.rating import load_deck, rate_file
deck, cdrs, out = sys.argv[1:4]
print(json.dumps(rate_file(cdrs, load_deck(deck), out).as_json()))
"""


def measure(command: list[str], folder: Path) -> tuple[float, int, dict, float]:
    """Wall seconds, peak RSS (bytes), the JSON summary and the CPU seconds (user + system)
    of a rating subprocess."""
    env = {**os.environ, "RINGUP_DATA_DIR": str(folder / "data")}
    clock = time.perf_counter()
    result = subprocess.run(
        [TIME, "-v", *command], capture_output=True, text=True, env=env, check=False
    )
    seconds = time.perf_counter() - clock
    if result.returncode:
        raise SystemExit(f"{command[0]} failed ({result.returncode}):\n{result.stderr}")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    if not peak:
        raise SystemExit(f"no peak RSS in /usr/bin/time output:\n{result.stderr}")
    cpu = sum(
        float(value)
        for value in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", result.stderr)
    )
    return seconds, int(peak.group(1)) * 1024, json.loads(result.stdout), cpu


# --- (2) the per-row Python rater -------------------------------------------------------------

MICRO = Decimal("0.000001")
SEPARATORS = re.compile(r"[\s\-./()]")


def python_rate(deck_path: Path, cdrs_path: Path, out: Path, unrated: Path) -> dict:
    """Rate row by row with the same rules as the engine; returns the same summary."""
    deck = {}
    with deck_path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            deck[row["prefix"]] = (
                Decimal(row["rate"]),
                Decimal(row["connect_fee"] or 0),
                int(row["first_increment"]),
                int(row["increment"]),
                int(row["min_duration"] or 0),
            )
    lengths = sorted({len(prefix) for prefix in deck}, reverse=True)
    seen: set[str] = set()
    cdrs = rated = 0
    seconds = 0
    total = Decimal(0)
    with (
        cdrs_path.open(newline="") as source,
        out.open("w", newline="") as rated_file,
        unrated.open("w", newline="") as unrated_file,
    ):
        reader = csv.reader(source)
        header = next(reader)
        rated_writer = csv.writer(rated_file, lineterminator="\n")
        unrated_writer = csv.writer(unrated_file, lineterminator="\n")
        rated_writer.writerow([*header, "prefix", "rate", "billed_seconds", "cost"])
        unrated_writer.writerow([*header, "reason"])
        for row in reader:
            cdrs += 1
            call_id, dst, duration = row[0], row[3], row[5].strip()
            reason = None
            if call_id in seen:
                reason = "duplicate_id"
            elif not call_id.strip():
                reason = "missing_id"
            else:
                seen.add(call_id)
            if reason is None and not (duration.isascii() and duration.isdigit()):
                reason = "bad_duration"
            if reason is None and int(duration) > MAX_DURATION:
                reason = "bad_duration"
            number = SEPARATORS.sub("", dst)
            if number.startswith("+"):
                number = number[1:]
            elif number.startswith("00"):
                number = number[2:]
            if reason is None and not (number.isascii() and number.isdigit()):
                reason = "bad_number"
            if reason is None and len(number) > 15:
                reason = "bad_number"
            prefix = None
            if reason is None:
                for length in lengths:
                    if length <= len(number) and number[:length] in deck:
                        prefix = number[:length]
                        break
                else:
                    reason = "no_match"
            if reason is not None:
                unrated_writer.writerow([*row, reason])
                continue
            rate, fee, first, step, minimum = deck[prefix]
            answered = int(duration)
            if answered == 0:
                billed, cost = 0, Decimal(0)
            else:
                steps = -(-(answered - first) // step) if answered > first else 0
                billed = max(first + steps * step, minimum)
                cost = (fee + rate * billed / 60).quantize(MICRO, rounding=ROUND_HALF_UP)
            rated += 1
            seconds += billed
            total += cost
            rated_writer.writerow([*row, prefix, f"{rate:.6f}", billed, f"{cost:.6f}"])
    return {
        "cdrs": cdrs,
        "rated": rated,
        "unrated": cdrs - rated,
        "total_cost": f"{total.quantize(MICRO)}",
        "seconds": seconds,
    }


# --- (3) the I/O floor -----------------------------------------------------------------------


def io_floor(cdrs: Path, out: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, all threads) of DuckDB's read + write."""
    import duckdb

    before = resource.getrusage(resource.RUSAGE_SELF)
    clock = time.perf_counter()
    duckdb.sql(f"COPY (SELECT * FROM read_csv('{cdrs}', all_varchar = true)) TO '{out}' (HEADER)")
    seconds = time.perf_counter() - clock
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return seconds, cpu


# --- main ----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cdrs", type=int, default=5_000_000, help="calls (default 5 M)")
    parser.add_argument("--skip-python", action="store_true", help="skip the per-row rater")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="time (1), the engine and (3) in this many interleaved rounds, keep the best of each",
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--dir", help="folder for the temporary files (default: system temp)")
    args = parser.parse_args()
    if not Path(TIME).exists():
        parser.error(f"{TIME} is missing (Debian: apt-get install -y time)")

    folder = Path(tempfile.mkdtemp(prefix="ringup-bench-rate-", dir=args.dir))
    try:
        return _run(args, folder)
    finally:
        if args.keep:
            log(f"files kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def _run(args: argparse.Namespace, folder: Path) -> int:
    rng = np.random.default_rng(args.seed)
    deck, cdrs = folder / "deck.csv", folder / "cdrs.csv"
    clock = time.perf_counter()
    prefixes = generate_deck(deck, rng)
    generate_cdrs(cdrs, args.cdrs, prefixes, rng)
    size = cdrs.stat().st_size
    log(
        f"generated {len(prefixes):,} prefixes and {args.cdrs:,} CDRs ({size / 1e6:,.0f} MB) "
        f"in {time.perf_counter() - clock:.1f} s"
    )

    out = folder / "rated.csv"
    cli = [str(RINGUP), "rate", "--deck", str(deck), "--cdrs", str(cdrs), "--out", str(out)]
    engine_cli = [sys.executable, "-c", ENGINE, str(deck), str(cdrs), str(out)]
    # Rounds interleave (3), (1) and the engine, so that a neighbour's burst of work slows
    # one round of all three rather than all runs of one; the best of each is reported.
    loads, floors, ringups, engines = [], [], [], []
    for round_number in range(1, args.repeat + 1):
        load = os.getloadavg()[0]
        loads.append(load)
        floors.append(io_floor(cdrs, folder / "floor.csv"))
        ringups.append(measure(cli, folder))
        engines.append(measure(engine_cli, folder))
        (floor_s, floor_cpu), ringup_run, engine_run = floors[-1], ringups[-1], engines[-1]
        log(
            f"round {round_number}, load average {load:.2f} on {os.cpu_count()} CPUs: "
            f"floor {floor_s:.2f} s (CPU {floor_cpu:.2f} s), ringup rate {ringup_run[0]:.2f} s "
            f"(CPU {ringup_run[3]:.2f} s, {ringup_run[0] / floor_s:.2f}×), rate_file() "
            f"{engine_run[0]:.2f} s (CPU {engine_run[3]:.2f} s, {engine_run[0] / floor_s:.2f}×)"
        )
    floor = min(seconds for seconds, _ in floors)
    log(f"(3) I/O floor, DuckDB read + write:    {floor:7.2f} s")
    ringup, peak, summary, _ = min(ringups, key=lambda result: result[0])
    log(
        f"(1) ringup rate, subprocess:           {ringup:7.2f} s   peak RSS {peak / 2**20:,.0f} MiB"
    )
    log(f"    {json.dumps(summary)}")
    engine, engine_peak, _, _ = min(engines, key=lambda result: result[0])
    log(
        f"    rate_file() alone, subprocess:     {engine:7.2f} s   "
        f"peak RSS {engine_peak / 2**20:,.0f} MiB (the engine alone)"
    )
    if any(run[2] != summary for run in (*ringups, *engines)):
        log("MISMATCH: the runs of ringup rate and rate_file() do not all print the same summary")
        return 1
    report = {
        "cdrs": args.cdrs,
        "deck_prefixes": len(prefixes),
        "input_mb": round(size / 1e6),
        "ringup_seconds": round(ringup, 2),
        "ringup_peak_rss_mib": round(peak / 2**20),
        "engine_seconds": round(engine, 2),
        "engine_peak_rss_mib": round(engine_peak / 2**20),
        "io_floor_seconds": round(floor, 2),
        "ringup_vs_io_floor": round(ringup / floor, 2),
        "engine_vs_io_floor": round(engine / floor, 2),
        "rounds": [
            {
                "load_average": round(load, 2),
                "io_floor_seconds": round(floor_run[0], 2),
                "ringup_seconds": round(ringup_run[0], 2),
                "engine_seconds": round(engine_run[0], 2),
            }
            for load, floor_run, ringup_run, engine_run in zip(
                loads, floors, ringups, engines, strict=True
            )
        ],
        "summary": summary,
    }
    if not args.skip_python:
        clock = time.perf_counter()
        reference = python_rate(
            deck, cdrs, folder / "python.rated.csv", folder / "python.unrated.csv"
        )
        python = time.perf_counter() - clock
        log(f"(2) per-row Python rater, in-process:  {python:7.2f} s")
        if reference != summary:
            log(f"MISMATCH: the Python rater says {json.dumps(reference)}")
            return 1
        report |= {
            "python_seconds": round(python, 2),
            "python_vs_ringup": round(python / ringup, 1),
        }
        log(f"    ringup rate is {python / ringup:.1f}× faster than the per-row rater")
    log(
        f"    ringup rate takes {ringup / floor:.2f}× the I/O floor "
        f"(rate_file() alone {engine / floor:.2f}×)"
    )
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
