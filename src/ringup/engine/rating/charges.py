"""Billed seconds and exact call costs, for whole arrays of calls.

The rules:

* a call of 0 seconds is billed 0 seconds and costs 0 (no connection fee either);
* otherwise ``billed = first_increment`` when ``duration ≤ first_increment``, else
  ``first_increment + ceil((duration − first_increment) / increment) × increment``, and
  at least ``min_duration``;
* ``cost = connect_fee + rate × billed / 60``, rounded half-up to 6 decimals.

Money is int64 micro-units (millionths), so the arithmetic is exact integer arithmetic:
``rate_µ × billed`` stays below 2⁶³ because the deck caps amounts at 10⁷ (10¹³ µ) and
settings at 86,400 s, and the caller caps durations at :data:`MAX_DURATION` (a week):
10¹³ × (604,800 + 86,400) ≈ 6.9 × 10¹⁸ < 9.2 × 10¹⁸.
"""

import numpy as np
import numpy.typing as npt

Int64s = npt.NDArray[np.int64]

#: Longest billable call accepted (a week). Longer ones are rejected as bad durations: they
#: are almost always a broken clock, and the bound keeps the cost arithmetic in int64.
MAX_DURATION = 7 * 86_400

_SECONDS_PER_MINUTE = 60


def billed_seconds(
    duration: Int64s, first_increment: Int64s, increment: Int64s, min_duration: Int64s
) -> Int64s:
    """Seconds billed for calls of ``duration`` seconds (all arrays of equal length)."""
    # In place on one new array: these run for every call of a file, and each temporary
    # array would cost a pass over memory.
    billed = np.subtract(duration, first_increment)
    np.maximum(billed, 0, out=billed)  # seconds beyond the first increment
    billed += increment - 1
    billed //= increment  # ceiling division of non-negative integers: the further steps
    billed *= increment
    billed += first_increment
    np.maximum(billed, min_duration, out=billed)
    billed[duration == 0] = 0
    return billed


def cost_micros(billed: Int64s, rate_micros: Int64s, connect_fee_micros: Int64s) -> Int64s:
    """Exact cost in micro-units of calls billed ``billed`` seconds.

    ``rate × billed / 60`` is rounded half-up: for n ≥ 0, ⌊n / 60 + ½⌋ = (n + 30) // 60.
    """
    cost = np.multiply(rate_micros, billed)
    cost += _SECONDS_PER_MINUTE // 2
    cost //= _SECONDS_PER_MINUTE
    cost += connect_fee_micros
    cost[billed == 0] = 0
    return cost
