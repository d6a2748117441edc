"""Risk signals at, just below and just above their thresholds."""

from datetime import date
from decimal import Decimal

from ringup.engine.risk import (
    AccountFacts,
    RiskCode,
    RiskThresholds,
    Severity,
    TrafficFacts,
    risk_flags,
)

D = Decimal


def traffic(**changes: int) -> TrafficFacts:
    # A calm office: 200 calls, 180 answered, 90 s each, 10 short, 5 channels, 40 hours.
    # ACD 90 s; short share 20/200 = 10 %; 200 / (5 × 40) = 1 call per channel-hour.
    facts = {
        "calls": 200,
        "answered": 180,
        "seconds": 180 * 90,
        "short_calls": 20,
        "peak_concurrent_calls": 5,
        "active_hours": 40,
    }
    facts.update(changes)
    return TrafficFacts(**facts)


def codes(flags: tuple) -> list[RiskCode]:
    return [flag.code for flag in flags]


def test_a_calm_office_raises_nothing():
    assert risk_flags(traffic(), AccountFacts()) == ()


def test_short_acd_at_and_around_the_threshold():
    # 100 answered: 2,000 s → ACD 20.0 s = the threshold: flagged; 2,001 s → 20.01: not.
    at = risk_flags(traffic(answered=100, short_calls=100, seconds=2000), None)
    assert codes(at) == [RiskCode.DIALER_SHORT_ACD]
    assert at[0].params["acd"] == "20.0"
    assert at[0].severity is Severity.WARNING
    assert risk_flags(traffic(answered=100, short_calls=100, seconds=2001), None) == ()


def test_few_calls_say_nothing_about_a_dialer():
    # 99 calls of 5 s is below min_calls = 100.
    assert risk_flags(traffic(calls=99, answered=99, seconds=495, short_calls=99), None) == ()


def test_unanswered_or_short_share_at_the_threshold():
    # 200 calls, 120 unanswered or under 10 s: 120 / 200 = 60 % = the threshold.
    flags = risk_flags(traffic(answered=100, short_calls=120), None)
    assert codes(flags) == [RiskCode.DIALER_SHORT_CALLS]
    assert flags[0].text() == (
        "120 of 200 calls (60.0%) are unanswered or under 10 seconds (threshold 60%)."
    )
    assert risk_flags(traffic(answered=100, short_calls=119), None) == ()  # 59.5 %


def test_calls_per_channel_hour_at_the_threshold():
    # 1,200 calls on 2 channels in 10 hours: 1,200 / 20 = 60 per channel-hour.
    flag = risk_flags(
        traffic(
            calls=1200,
            answered=1100,
            seconds=1100 * 60,
            short_calls=100,
            peak_concurrent_calls=2,
            active_hours=10,
        ),
        None,
    )
    assert codes(flag) == [RiskCode.DIALER_CALL_RATE]
    assert flag[0].params["rate"] == "60.0"
    below = traffic(
        calls=1199,
        answered=1099,
        seconds=1099 * 60,
        short_calls=100,
        peak_concurrent_calls=2,
        active_hours=10,
    )
    assert risk_flags(below, None) == ()  # 59.95


def test_two_dialer_signals_together_are_critical():
    # 1,000 calls, 300 answered of 12 s: ACD 12 s; 700 unanswered = 70 %; 1 channel, 10 h.
    flags = risk_flags(
        traffic(
            calls=1000,
            answered=300,
            seconds=3600,
            short_calls=700,
            peak_concurrent_calls=1,
            active_hours=10,
        ),
        None,
    )
    assert codes(flags) == [
        RiskCode.DIALER_SHORT_ACD,
        RiskCode.DIALER_SHORT_CALLS,
        RiskCode.DIALER_CALL_RATE,
    ]
    assert {flag.severity for flag in flags} == {Severity.CRITICAL}


def test_idle_dids():
    # 10 DIDs; 7 listed under 10 minutes and 1 not listed (no traffic): 8 / 10 = 80 %.
    minutes = [D(0), D(1), D(2), D(3), D(4), D(5), D("9.99"), D(10), D(50)]
    flags = risk_flags(None, AccountFacts(dids=10, inbound_minutes_per_did=minutes))
    assert codes(flags) == [RiskCode.IDLE_DIDS]
    assert flags[0].params["quiet"] == 8
    fewer = AccountFacts(dids=10, inbound_minutes_per_did=[*minutes[:6], D(10), D(10), D(10)])
    assert risk_flags(None, fewer) == ()  # 6 + 1 unlisted = 70 %
    assert risk_flags(None, AccountFacts(dids=9, inbound_minutes_per_did=[])) == ()


def test_revenue_below_cost_to_serve():
    # Revenue 1,000, carrier 800 + support 250: margin −50 (−5.0 %) → critical.
    flags = risk_flags(
        None, AccountFacts(revenue=D(1000), carrier_cost=D(800), support_cost=D(250))
    )
    assert codes(flags) == [RiskCode.BELOW_COST_TO_SERVE]
    assert flags[0].severity is Severity.CRITICAL
    assert (flags[0].params["margin"], flags[0].params["percent"]) == ("-50", "-5.0")
    # Exactly break-even is no loss; a 10 % floor makes 5 % margin a warning.
    even = AccountFacts(revenue=D(1000), carrier_cost=D(750), support_cost=D(250))
    assert risk_flags(None, even) == ()
    thin = AccountFacts(revenue=D(1000), carrier_cost=D(700), support_cost=D(250))
    warned = risk_flags(None, thin, RiskThresholds(min_margin_percent=D(10)))
    assert [(f.code, f.severity) for f in warned] == [
        (RiskCode.BELOW_COST_TO_SERVE, Severity.WARNING)
    ]
    # Without a support figure the thresholds' estimate stands in: 1,000 − 800 − 200 = 0.
    estimated = AccountFacts(revenue=D(1000), carrier_cost=D(800))
    assert risk_flags(None, estimated, RiskThresholds(support_cost=D(200))) == ()
    assert codes(risk_flags(None, estimated, RiskThresholds(support_cost=D(201)))) == [
        RiskCode.BELOW_COST_TO_SERVE
    ]


def test_price_shopping_counts_changes_in_the_window():
    # Window for 6 months before 2026-12-01: (2026-06-01, 2026-12-01].
    at = date(2026, 12, 1)
    three = [date(2026, 6, 2), date(2026, 9, 1), date(2026, 12, 1)]
    flags = risk_flags(None, AccountFacts(plan_changes=three, at=at))
    assert codes(flags) == [RiskCode.PRICE_SHOPPING]
    assert flags[0].params["since"] == "2026-06-01"
    outside = [date(2026, 6, 1), date(2026, 9, 1), date(2026, 12, 1)]
    assert risk_flags(None, AccountFacts(plan_changes=outside, at=at)) == ()


def test_the_window_ends_on_a_shorter_month():
    # Six months before 31 August is 31 February: the window starts on 28 February.
    flags = risk_flags(
        None,
        AccountFacts(plan_changes=[date(2027, 3, 1)] * 3, at=date(2027, 8, 31)),
    )
    assert flags[0].params["since"] == "2027-02-28"


def test_minimum_commitment_not_met():
    # Commitment 5,000: March 4,000 and May 4,999.99 are below (shortfall 1,000.01).
    spend = {"2025-03": D(4000), "2025-04": D(5000), "2025-05": D("4999.99")}
    flags = risk_flags(None, AccountFacts(commitment=D(5000), spend_by_month=spend))
    assert codes(flags) == [RiskCode.COMMITMENT_NOT_MET]
    assert flags[0].params["months"] == "2025-03, 2025-05"
    assert flags[0].params["shortfall"] == "1000.01"
    one_month = {"2025-03": D(4000), "2025-04": D(5000)}
    assert risk_flags(None, AccountFacts(commitment=D(5000), spend_by_month=one_month)) == ()


def test_facts_from_a_bill_analysis_profile(tmp_path):
    from ringup.engine.bills import profile, read_call_records

    path = tmp_path / "calls.csv"
    path.write_text(
        "id,account,src,dst,start,duration\n"
        "1,x,74951110000,74951234567,2025-03-03T09:00:00,5\n"
        "2,x,74951110000,74951234567,2025-03-03T09:00:00,0\n"
    )
    facts = TrafficFacts.from_profile(profile(read_call_records(path, home_country="RU")))
    assert facts == TrafficFacts(
        calls=2, answered=1, seconds=5, short_calls=2, peak_concurrent_calls=1, active_hours=1
    )
