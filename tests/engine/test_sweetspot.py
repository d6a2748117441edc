"""The sweet-spot report on four hand-made customers over 3 months (amounts in kopecks).

  A  revenue   3,000.00  carrier    600.00    400 min/month   4 lines  1 site  -          retail
  B  revenue   9,000.00  carrier  3,000.00  1,500 min/month  10 lines  2 sites 1,500.00   retail
  C  revenue       0.00  carrier    120.00    100 min/month   2 lines  1 site  -          unknown
  D  revenue  30,000.00  carrier 24,000.00 20,000 min/month  60 lines  5 sites 20,000.00  logistics

Volume under 500 min: A and C, revenue 3,000.00, margin 2,400.00 − 120.00 = 2,280.00 = 76.0 %;
per customer per month 3,000.00 / (2 × 3) = 500.00 and 2,280.00 / 6 = 380.00.
"""

import polars as pl
import pytest

from ringup.engine.sweetspot import DIMENSIONS, sweet_spot

CUSTOMERS = pl.DataFrame(
    {
        "revenue": [300_000, 900_000, 0, 3_000_000],
        "carrier": [60_000, 300_000, 12_000, 2_400_000],
        "seconds": [3 * 60 * 400, 3 * 60 * 1_500, 3 * 60 * 100, 3 * 60 * 20_000],
        "lines": [4, 10, 2, 60],
        "sites": [1, 2, 1, 5],
        "min_spend": [0, 150_000, 0, 2_000_000],
        "vertical": ["retail", "retail", "", "logistics"],
    }
)


def figures(dimension):
    return [
        (
            b.label,
            b.customers,
            b.revenue,
            b.margin,
            b.margin_percent,
            b.revenue_per_customer,
            b.margin_per_customer,
        )
        for b in sweet_spot(CUSTOMERS, dimension, months=3)
    ]


def test_call_volume_bands_with_the_arithmetic_of_the_docstring():
    assert figures("volume") == [
        ("0–499", 2, 300_000, 228_000, 76.0, 50_000, 38_000),
        ("500–1999", 1, 900_000, 600_000, 66.7, 300_000, 200_000),
        ("2000–9999", 0, 0, 0, None, 0, 0),
        ("10000–49999", 1, 3_000_000, 600_000, 20.0, 1_000_000, 200_000),
        ("50000+", 0, 0, 0, None, 0, 0),
    ]


def test_lines_sites_and_minimum_spend_bands():
    assert [(label, n) for label, n, *_ in figures("lines")] == [
        ("0–5", 2),
        ("6–20", 1),
        ("21–50", 0),
        ("51–200", 1),
        ("201+", 0),
    ]
    assert [(label, n) for label, n, *_ in figures("sites")] == [
        ("1", 2),
        ("2–3", 1),
        ("4–9", 1),
        ("10+", 0),
    ]
    # Minimum spend in kopecks a month: none, under 1,000.00, under 5,000.00, under 20,000.00.
    assert [(label, n) for label, n, *_ in figures("min_spend")] == [
        ("0", 2),
        ("1–99999", 0),
        ("100000–499999", 1),
        ("500000–1999999", 0),
        ("2000000+", 1),
    ]


def test_verticals_as_found_and_a_loss_making_band():
    # C alone has no vertical: no revenue, 120.00 of carrier cost, −40.00 a month.
    assert figures("vertical") == [
        ("", 1, 0, -12_000, None, 0, -4_000),
        ("logistics", 1, 3_000_000, 600_000, 20.0, 1_000_000, 200_000),
        ("retail", 2, 1_200_000, 840_000, 70.0, 200_000, 140_000),
    ]


def test_every_dimension_covers_every_customer_once():
    for dimension in DIMENSIONS:
        assert sum(b.customers for b in sweet_spot(CUSTOMERS, dimension, months=3)) == 4


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"dimension": "colour", "months": 3}, "dimension"),
        ({"dimension": "lines", "months": 0}, "months"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sweet_spot(CUSTOMERS, **kwargs)
