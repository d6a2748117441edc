"""Re-costing a hand-made month of calls at a new carrier version.

The traffic (conftest ``traffic``), worked by hand, target 30 %:

    Alpha, mobile 120 s   retail 3.80   v1 0.85 × 2 = 1.70   v2 1.60 × 2 = 3.20
    Alpha, Moscow  90 s   retail 1.80   v1 0.25 × 1.5 = 0.375  v2 unchanged 0.375
    Beta,  mobile  60 s   retail 1.90   v1 0.85          v2 1.60

Russia mobile: retail 5.70, carrier 2.55 → 4.80; margin (5.70 − 2.55) / 5.70 = 55.3 %
→ (5.70 − 4.80) / 5.70 = 15.8 % < 30 %: a finding. Loss over 30 days 4.80 − 2.55 = 2.25,
per month 2.25 × 30 / 30 = 2.25. The new carrier rate is 4.80 per 3 carrier minutes =
1.60/min; restoring retail rate 1.60 / (1 − 0.30) = 2.285714… → rounded up to the retail
deck's 2 decimals: 2.29.
Moscow: 1.80 vs 0.375 both times: 79.2 %, no finding.
Alpha: retail 5.60, carrier 2.075 → 3.575: 62.9 % → 36.2 %, still above the target.
Beta: 1.90, 0.85 → 1.60: 55.3 % → 15.8 %: a finding (loss 0.75 a month).
Plans: office-pbx is Alpha's 36.2 %; contact-centre is Beta's 15.8 %: a finding.
"""

from decimal import Decimal

from ringup.sales.margins import costing
from ringup.sales.margins.services import compute_impact, impact_of
from ringup.usage.services import configured_decks

from .conftest import NOW


def test_recosting_lists_what_falls_below_the_target(versions, traffic):
    _, v2 = versions
    _, beta = traffic
    impact = impact_of(v2, days=30, at=NOW, retail=configured_decks().retail)
    [mobile] = impact.findings["destinations"]
    assert (mobile["prefix"], mobile["description"]) == ("79", "Russia mobile")
    assert mobile["retail"] == "5.70"
    assert (mobile["old_carrier"], mobile["new_carrier"]) == ("2.55", "4.80")
    assert (mobile["old_margin_percent"], mobile["new_margin_percent"]) == (55.3, 15.8)
    assert mobile["loss_per_month"] == "2.25"
    assert mobile["new_carrier_rate"] == "1.60"
    assert mobile["restoring_rate"] == "2.29"
    assert [row["customer_id"] for row in impact.findings["customers"]] == [beta.pk]
    assert impact.findings["customers"][0]["loss_per_month"] == "0.75"
    assert [row["plan"] for row in impact.findings["plans"]] == ["contact-centre"]
    assert impact.summary["calls"] == 3
    assert impact.summary["totals"]["retail"] == "7.50"
    # The diff, sorted by impact: 79 carries the window's whole change (+2.25).
    first = impact.findings["diff"][0]
    assert (first["prefix"], first["change"], first["impact"]) == ("79", "raised", "2.25")
    assert (first["old_rate"], first["new_rate"], first["percent"]) == (
        "0.85",
        "1.60",
        88.2,
    )
    assert {row["prefix"] for row in impact.findings["diff"]} == {"79", "7", "7499", "7812"}


def test_the_90_day_window_takes_the_older_call_and_scales_the_monthly_loss(versions, traffic):
    _, v2 = versions
    impact = impact_of(v2, days=90, at=NOW, retail=configured_decks().retail)
    [mobile] = impact.findings["destinations"]
    # One more 60 s Beta call: loss 2.25 + 0.75 = 3.00. The history starts with that call,
    # 45 days back, so the 90-day window covers 45 days: 3.00 × 30 / 45 = 2.00 a month.
    assert impact.summary["days_covered"] == 45
    assert mobile["loss_per_month"] == "2.00"
    assert impact.summary["calls"] == 4


def test_a_first_version_is_compared_with_the_stored_carrier_cost(versions, traffic):
    v1, _ = versions
    impact = impact_of(v1, days=30, at=NOW, retail=configured_decks().retail)
    # v1 prices exactly what the calls were rated with: nothing changes.
    assert impact.findings["destinations"] == []
    assert impact.summary["totals"]["old_carrier"] == impact.summary["totals"]["new_carrier"]


def test_restoring_rate_rounds_up_to_the_deck_precision():
    # 1.00/min over (1 − 0.30) = 1.428571… → 1.43 (2 places), 1.4286 (4 places)
    assert costing.restoring_rate(1_000_000, 60, Decimal(30), 2) == Decimal("1.43")
    assert costing.restoring_rate(1_000_000, 60, Decimal(30), 4) == Decimal("1.4286")
    # Exactly representable: 0.70 / 0.70 = 1.00, not rounded further up.
    assert costing.restoring_rate(700_000, 60, Decimal(30), 2) == Decimal("1.00")
    assert costing.restoring_rate(1, 0, Decimal(30), 2) is None


def test_compute_impact_replaces_the_stored_tables(versions, traffic):
    _, v2 = versions
    retail = configured_decks().retail
    first = compute_impact(v2, days=30, at=NOW, retail=retail)
    again = compute_impact(v2, days=30, at=NOW, retail=retail)
    assert first.pk == again.pk
    assert again.below_target == 1
