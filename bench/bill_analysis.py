"""Bill analysis throughput: a year of a large company's calls, profiled and re-rated.

Generates (seeded) a generic CSV of ``--calls`` calls (default 1,000,000) of a 300-line
Moscow company over a year — business hours, 15 % unanswered, destinations dialled the
Russian way (``8 495 …``, ``8 9xx …``, ``8 800 …``, ``810 …`` abroad, some ``+7 …``) from a
pool of ``--numbers`` distinct numbers (default 200,000) — and then, in a fresh
subprocess so that its peak RSS is the analysis' own, times each step:

1. reading the file (``engine.rating.read_cdrs``);
2. ``bills.call_records`` (start times, answered, E.164 numbers, categories);
3. ``bills.profile`` (totals, ACD/ASR, peak concurrent calls, months, categories, hours);
4. ``bills.rerate`` on the demo retail deck plus ``bills.our_costs`` (included minutes).

Prints one JSON line: the seconds of each step, the total, the peak RSS in MB and a few
figures of the profile (so two runs can be compared).

    .venv/bin/python bench/bill_analysis.py                     # 1 M calls
    .venv/bin/python bench/bill_analysis.py --calls 3000000     # a 300-line year
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl

DECK = Path(__file__).resolve().parent.parent / "src/ringup/usage/decks/retail.csv"
LINES = 300
YEAR_START = np.datetime64("2025-01-01T00:00:00")

# (share of calls, national prefix as dialled, digits after it)
DESTINATIONS = [
    (0.40, "8495", 7),  # Moscow, local
    (0.08, "8499", 7),  # Moscow, local
    (0.12, "8812", 7),  # St Petersburg, long distance
    (0.05, "8343", 7),  # Yekaterinburg, long distance
    (0.25, "89", 9),  # mobile
    (0.04, "8800", 7),  # toll free
    (0.03, "81049", 10),  # Germany, international (810 = Russia's old international prefix)
    (0.03, "+7916", 7),  # mobile written in E.164
]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def number_pool(count: int, rng: np.random.Generator) -> np.ndarray:
    shares = np.array([share for share, _, _ in DESTINATIONS])
    kinds = rng.choice(len(DESTINATIONS), size=count, p=shares / shares.sum())
    pool = np.empty(count, dtype=object)
    for kind, (_, prefix, digits) in enumerate(DESTINATIONS):
        rows = np.flatnonzero(kinds == kind)
        tails = rng.integers(0, 10**digits, size=len(rows))
        pool[rows] = [f"{prefix}{tail:0{digits}d}" for tail in tails]
    return pool


def generate(path: Path, calls: int, numbers: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    pool = number_pool(numbers, rng)
    # Popular numbers are called often: a Zipf-like pick from the pool.
    picks = np.minimum(rng.zipf(1.3, size=calls) - 1, numbers - 1)
    destinations = pool[rng.permutation(numbers)][picks]
    days = rng.integers(0, 365, size=calls)
    # Working hours 9:00–19:00 with a midday bump.
    seconds_of_day = np.clip(rng.normal(14 * 3600, 2.5 * 3600, size=calls), 9 * 3600, 19 * 3600)
    starts = YEAR_START + (days * 86_400 + seconds_of_day.astype(np.int64)).astype("timedelta64[s]")
    durations = np.where(
        rng.random(calls) < 0.15, 0, np.maximum(1, rng.exponential(150, size=calls)).astype(int)
    )
    callers = 74_951_230_000 + rng.integers(0, LINES, size=calls)
    frame = pl.DataFrame(
        {
            "id": [f"c{i}" for i in range(calls)],
            "account": "acme",
            "src": callers.astype(str),
            "dst": destinations.astype(str),
            "start": np.datetime_as_string(starts, unit="s"),
            "duration": durations,
        }
    )
    frame.write_csv(path)


def analyse(path: Path) -> dict[str, object]:
    from ringup.engine import bills
    from ringup.engine.rating import load_deck, read_cdrs

    timings: dict[str, float] = {}

    def step(name: str, started: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - started, 3)
        return now

    t = time.perf_counter()
    began = t
    cdrs = read_cdrs(path)
    t = step("read", t)
    records = bills.call_records(cdrs, home_country="RU")
    t = step("call_records", t)
    usage = bills.profile(records)
    t = step("profile", t)
    rerating = bills.rerate(records, load_deck(DECK))
    bills.our_costs(rerating, bills.OurPrice(Decimal("45000"), included_minutes=30_000))
    t = step("rerate", t)
    timings["total"] = round(t - began, 3)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "calls": usage.calls,
        "seconds": timings,
        "peak_rss_mb": round(peak_kb / 1024),
        "peak_concurrent_calls": usage.peak_concurrent_calls,
        "acd_seconds": str(usage.acd_seconds),
        "asr": str(usage.asr),
        "home_area": usage.home_area,
        "by_category_calls": {str(c): u.calls for c, u in usage.by_category.items()},
        "unrated": rerating.unrated,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--numbers", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--analyse", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.analyse:
        print(json.dumps(analyse(args.analyse)))
        return 0
    with tempfile.TemporaryDirectory(prefix="bill-bench-") as folder:
        path = Path(folder) / "calls.csv"
        log(f"generating {args.calls:,} calls to {args.numbers:,} numbers …")
        generate(path, args.calls, args.numbers, args.seed)
        log(f"{path.stat().st_size / 1e6:.0f} MB; analysing in a fresh process …")
        done = subprocess.run(
            [sys.executable, __file__, "--analyse", str(path)],
            check=True,
            capture_output=True,
            text=True,
        )
        print(done.stdout.strip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
