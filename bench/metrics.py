"""Benchmark the metrics engine: a full recompute of every analytics table.

Generates, seeded, the three frames of the analytics data contract for ``--customers``
customers (1,000,000 by default) over a history of ``--months`` months (24 by default),
the customers registering over its first two thirds — so ``months`` holds 16.5 M rows at
1 M customers over 24 months, 24.5 M (about 24 rows per customer) over 36: states follow
a monthly Markov chain (trial → paid or gone, 95 % of payers renewing, some coming back),
MRR moves up and down, three currencies, options held while paying, and the funnel
stages derived from those months. Then it times ``ringup.engine.metrics.recompute`` (the
twelve tables the analytics app stores) ``--repeat`` times and prints a JSON line: wall
and CPU seconds (user + system of the process, every thread: the figure to compare on a
loaded machine) of each run, rows of each input frame, peak RSS, the machine's load
average before and after. Target: ≤ 10 s on 2 cores.

    .venv/bin/python bench/metrics.py                      # 1,000,000 customers, 24 months
    .venv/bin/python bench/metrics.py --months 36          # 24.5 M rows of months
    .venv/bin/python bench/metrics.py --customers 100000   # a quick look
    .venv/bin/python bench/metrics.py --data /tmp/frames   # keep (or reuse) the frames

The frames are written to Parquet (as the analytics app's export would be) and a fresh
process reads them and recomputes, so the peak RSS printed is the engine's alone.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from ringup.engine.metrics import STAGES, recompute

START = date(2023, 7, 1)
TIERS = np.array(["micro", "smb", "large"])
CURRENCIES = np.array(["RUB", "EUR", "USD"])
PLAN_MRR = np.array([990_00, 2_990_00, 9_990_00])  # minor units per tier
OPTIONS = [("call-recording", 0.30), ("crm", 0.15), ("ivr", 0.10), ("analytics", 0.05)]
NONE, TRIALING, PAYING = 0, 1, 2
STATES = np.array(["none", "trialing", "paying"])
FRAMES = ("months", "products", "funnel")


def _states(rng: np.random.Generator, signup: np.ndarray, history: int) -> np.ndarray:
    """Month-end state per customer and month (N × history), NONE before signup."""
    n = len(signup)
    states = np.zeros((n, history), dtype=np.int8)
    current = np.zeros(n, dtype=np.int8)
    for month in range(history):  # one step per month for every customer at once
        draw = rng.random(n)
        joining = signup == month
        nxt = current.copy()
        nxt[(current == TRIALING) & (draw < 0.5)] = PAYING
        nxt[(current == TRIALING) & (draw >= 0.5)] = NONE
        nxt[(current == PAYING) & (draw < 0.05)] = NONE
        nxt[(current == NONE) & (draw < 0.01)] = PAYING
        nxt[joining] = np.where(
            draw[joining] < 0.6, TRIALING, np.where(draw[joining] < 0.8, PAYING, NONE)
        )
        nxt[signup > month] = NONE
        states[:, month] = nxt
        current = nxt
    return states


def _mrr(rng: np.random.Generator, states: np.ndarray, tier: np.ndarray) -> np.ndarray:
    """MRR per customer and month: the tier's plan, upgraded ×1.5 or cut ×0.8 now and then."""
    n = len(tier)
    level = PLAN_MRR[tier].astype(np.float64)
    mrr = np.zeros(states.shape, dtype=np.int64)
    for month in range(states.shape[1]):
        draw = rng.random(n)
        level = np.where(draw < 0.03, level * 1.5, np.where(draw > 0.98, level * 0.8, level))
        mrr[:, month] = np.where(states[:, month] == PAYING, np.round(level), 0)
    return mrr


def frames(
    customers: int, history: int = 24, seed: int = 8
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The ``months``, ``products`` and ``funnel`` frames over ``history`` months, the
    customers registering over its first two thirds (seeded: same data every run)."""
    rng = np.random.default_rng(seed)
    signup = rng.integers(0, max(1, history * 2 // 3), customers)
    tier = rng.choice(3, customers, p=[0.7, 0.25, 0.05])
    currency = rng.choice(3, customers, p=[0.9, 0.07, 0.03])
    states = _states(rng, signup, history)
    mrr = _mrr(rng, states, tier)
    seconds = np.where(states > NONE, rng.poisson(3000, states.shape), 0)
    kept = np.arange(history)[None, :] >= signup[:, None]
    ids = np.broadcast_to(np.arange(1, customers + 1)[:, None], states.shape)[kept]
    month_no = np.broadcast_to(np.arange(history)[None, :], states.shape)[kept]
    revenue = mrr + seconds * 2  # usage at 1.20 a minute
    months = pl.DataFrame(
        {
            "customer_id": ids.astype(np.int64),
            "month": pl.Series(month_no).cast(pl.Int32),
            "currency": CURRENCIES[np.broadcast_to(currency[:, None], states.shape)[kept]],
            "tier": TIERS[np.broadcast_to(tier[:, None], states.shape)[kept]],
            "state": STATES[states[kept]],
            "mrr": mrr[kept],
            "revenue": revenue[kept],
            "margin": (revenue[kept] * 6) // 10,
            "seconds": seconds[kept].astype(np.int64),
        }
    ).with_columns(
        month=pl.lit(START).dt.offset_by(pl.format("{}mo", pl.col("month"))),
        plan=pl.when(pl.col("state") != "none").then(pl.col("tier") + "-plan"),
    )
    return months, _products(rng, months, customers), _funnel(months)


def _products(rng: np.random.Generator, months: pl.DataFrame, customers: int) -> pl.DataFrame:
    """The plan of every customer with service, and the options each payer holds."""
    holdings = pl.DataFrame(
        {"customer_id": np.arange(1, customers + 1, dtype=np.int64)}
        | {code: rng.random(customers) < share for code, share in OPTIONS}
    )
    served = months.filter(pl.col("state") != "none").select(
        "customer_id", "month", "plan", "state"
    )
    plans = served.select("customer_id", "month", product="plan", kind=pl.lit("plan"))
    options = (
        served.filter(pl.col("state") == "paying")
        .join(holdings, on="customer_id")
        .unpivot(
            index=["customer_id", "month"],
            on=[code for code, _ in OPTIONS],
            variable_name="product",
        )
        .filter(pl.col("value"))
        .select("customer_id", "month", "product", kind=pl.lit("option"))
    )
    return pl.concat([plans, options])


def _funnel(months: pl.DataFrame) -> pl.DataFrame:
    """First time at each circle, derived from the months (reach at signup, warm at the
    first trial month, sell at the first paid month, upsell at the first MRR rise…)."""
    base = months.sort("customer_id", "month").with_columns(
        rise=pl.col("mrr") > pl.col("mrr").shift().over("customer_id")
    )
    firsts = base.group_by("customer_id").agg(
        reach=pl.col("month").min(),
        warm=pl.col("month").filter(pl.col("state") == "trialing").min(),
        sell=pl.col("month").filter(pl.col("state") == "paying").min(),
        upsell=pl.col("month").filter(pl.col("rise")).min(),
    )
    with_days = firsts.with_columns(
        capture=pl.when(pl.col("customer_id") % 5 != 0).then(pl.col("reach")),
        loyalty=pl.when(pl.col("customer_id") % 10 == 0).then(pl.col("sell")),
        recommendation=pl.when(pl.col("customer_id") % 30 == 0).then(pl.col("upsell")),
    )
    offsets = {
        "reach": 0,
        "capture": 1,
        "warm": 2,
        "sell": 20,
        "upsell": 25,
        "loyalty": 27,
        "recommendation": 28,
    }
    return (
        with_days.unpivot(
            index="customer_id", on=list(STAGES), variable_name="stage", value_name="day"
        )
        .drop_nulls("day")
        .with_columns(
            at=(
                pl.col("day").cast(pl.Datetime("us"))
                + pl.duration(days=pl.col("stage").replace_strict(offsets, return_dtype=pl.Int64))
                + pl.duration(hours=pl.col("customer_id") % 24)
            ).dt.replace_time_zone("UTC")
        )
        .select("customer_id", "stage", "at")
    )


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def cpu_seconds() -> float:
    """User + system CPU time of this process so far, all its threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(folder: Path, repeat: int) -> dict[str, object]:
    """Read the Parquet frames in ``folder`` and recompute every table ``repeat`` times
    (this process only does that, so its peak RSS is the engine's, not the generator's)."""
    load = os.getloadavg()
    started = time.perf_counter()
    inputs = {name: pl.read_parquet(folder / f"{name}.parquet") for name in FRAMES}
    read = time.perf_counter() - started
    walls, cpus = [], []
    for _ in range(repeat):
        cpu_before, started = cpu_seconds(), time.perf_counter()
        tables = recompute(inputs["months"], inputs["products"], inputs["funnel"])
        walls.append(round(time.perf_counter() - started, 2))
        cpus.append(round(cpu_seconds() - cpu_before, 2))
    return {
        "rows": {name: frame.height for name, frame in inputs.items()},
        "input_mib": round(sum(frame.estimated_size() for frame in inputs.values()) / 2**20),
        "read_parquet_s": round(read, 2),
        "recompute_s": walls,
        "recompute_cpu_s": cpus,
        "peak_rss_mib": round(peak_rss_mib()),
        "output_rows": {name: table.height for name, table in tables.items()},
        "load_average_before": [round(value, 2) for value in load],
        "load_average_after": [round(value, 2) for value in os.getloadavg()],
        "threads": pl.thread_pool_size(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=24, help="months of history")
    parser.add_argument("--repeat", type=int, default=1, help="recompute this many times")
    parser.add_argument("--data", type=Path, help="keep the Parquet frames in this folder")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the child run
    args = parser.parse_args()
    if args.months < 2 or args.repeat < 1:
        parser.error("--months must be at least 2 and --repeat at least 1")
    if args.measure:
        print(json.dumps(measure(args.measure, args.repeat)))
        return
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.data or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        if not all((folder / f"{name}.parquet").exists() for name in FRAMES):
            started = time.perf_counter()
            generated = frames(args.customers, args.months)
            for name, frame in zip(FRAMES, generated, strict=True):
                frame.write_parquet(folder / f"{name}.parquet")
            took = time.perf_counter() - started
            print(f"generated {args.customers:,} customers × {args.months} months in {took:.0f} s")
        child = subprocess.run(
            [sys.executable, __file__, "--measure", str(folder), "--repeat", str(args.repeat)],
            check=True,
            capture_output=True,
            text=True,
        )
        print(child.stdout, end="")


if __name__ == "__main__":
    main()
