"""Bill analysis: profile, categories, re-rating and the monthly saving, worked by hand."""

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringup.engine.bills import (
    BillAnalysisError,
    Category,
    MonthlySummary,
    OurPrice,
    call_records,
    category_rates,
    current_costs_from_file,
    current_costs_from_rates,
    current_costs_from_summary,
    our_costs,
    our_costs_from_summary,
    peak_concurrency,
    profile,
    read_call_records,
    rerate,
    saving,
)
from ringup.engine.rating import load_deck, read_cdrs

HEADER = "id,account,src,dst,start,duration"


def generic(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "calls.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def records_of(path: Path, **kwargs: object):
    kwargs.setdefault("home_country", "RU")
    return read_call_records(path, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def deck(tmp_path: Path):
    path = tmp_path / "deck.csv"
    path.write_text(
        "prefix,rate,connect_fee,first_increment,increment\n"
        "7,2.50,0,60,60\n"
        "7495,0.90,0,60,60\n"
        "7499,0.90,0,60,60\n"
        "79,1.90,0,1,1\n"
        "7800,0,0,60,60\n"
        "44,10.00,0,60,60\n"
    )
    return load_deck(path)


# --- concurrency ----------------------------------------------------------------------


def test_a_call_ending_when_another_starts_does_not_overlap_it(tmp_path):
    # A holds [09:00:00, 09:01:00), B starts at 09:01:00: one channel is enough.
    path = generic(
        tmp_path,
        "a,x,74951110000,74951234567,2025-03-03T09:00:00,60",
        "b,x,74951110000,74951234568,2025-03-03T09:01:00,60",
    )
    assert profile(records_of(path)).peak_concurrent_calls == 1


def test_a_call_starting_a_second_earlier_needs_a_second_channel(tmp_path):
    # B starts at 09:00:59, while A (until 09:01:00) still talks: two channels.
    path = generic(
        tmp_path,
        "a,x,74951110000,74951234567,2025-03-03T09:00:00,60",
        "b,x,74951110000,74951234568,2025-03-03T09:00:59,60",
    )
    result = profile(records_of(path))
    assert result.peak_concurrent_calls == 2
    assert result.peak_at == datetime(2025, 3, 3, 9, 0, 59)


def test_unanswered_generic_calls_hold_no_channel(tmp_path):
    path = generic(
        tmp_path,
        "a,x,74951110000,74951234567,2025-03-03T09:00:00,0",
        "b,x,74951110000,74951234568,2025-03-03T09:00:00,0",
    )
    result = profile(records_of(path))
    assert (result.peak_concurrent_calls, result.peak_at) == (0, None)


def brute_force_peak(calls: list[tuple[int, int]]) -> int:
    """At every second, count the calls with start <= t < start + held."""
    if not calls:
        return 0
    last = max(start + held for start, held in calls)
    return max(
        sum(1 for start, held in calls if start <= t < start + held) for t in range(last + 1)
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 20)), max_size=25))
def test_peak_concurrency_equals_a_brute_force_count(calls):
    base = datetime(2025, 1, 1)
    starts = pl.Series([base + timedelta(seconds=s) for s, _ in calls], dtype=pl.Datetime("us"))
    held = pl.Series([h for _, h in calls], dtype=pl.Int64)
    peak, _ = peak_concurrency(starts, held)
    assert peak == brute_force_peak(calls)


# --- ACD, ASR, volumes ------------------------------------------------------------------


def test_acd_and_asr(tmp_path):
    # 4 attempts of 60, 0, 30 and 90 billable seconds: 3 answered, 180 s.
    # ACD = 180 / 3 = 60.0 s; ASR = 3 / 4 = 0.7500; minutes = 180 / 60 = 3.00.
    # Short calls (< 10 s): the unanswered one.
    path = generic(
        tmp_path,
        "a,x,74951110000,74951234567,2025-03-03T09:00:00,60",
        "b,x,74951110000,74951234567,2025-03-03T09:10:00,0",
        "c,x,74951110000,74951234567,2025-03-03T10:00:00,30",
        "d,x,74951110000,74951234567,2025-03-04T10:30:00,90",
    )
    result = profile(records_of(path))
    assert (result.calls, result.answered, result.seconds) == (4, 3, 180)
    assert result.acd_seconds == Decimal("60.0")
    assert result.asr == Decimal("0.7500")
    assert result.minutes == Decimal("3.00")
    assert result.short_calls == 1
    # 09:00 and 09:10 on the 3rd, 10:00 on the 3rd, 10:30 on the 4th: three clock hours.
    assert result.active_hours == 3
    # Hours 9 and 10 both have 2 attempts: the earlier wins.
    assert result.busiest_hour == 9


def test_an_empty_file_has_zero_ratios(tmp_path):
    result = profile(records_of(generic(tmp_path)))
    assert (result.calls, result.acd_seconds, result.asr) == (0, Decimal("0.0"), Decimal("0.0000"))
    assert (result.busiest_hour, result.peak_month, result.lowest_month) == (None, None, None)


def test_rows_without_a_start_or_seconds_are_skipped_and_counted(tmp_path):
    path = generic(
        tmp_path,
        "a,x,74951110000,74951234567,2025-03-03T09:00:00,60",
        "b,x,74951110000,74951234567,yesterday,60",
        "c,x,74951110000,74951234567,2025-03-03T09:00:00,1.5",
        "a,x,74951110000,74951234567,2025-03-03T09:00:00,60",  # logged twice: once
    )
    result = profile(records_of(path))
    assert (result.calls, result.skipped) == (1, 3)


# --- destination categories -------------------------------------------------------------


def test_russian_destinations_from_a_moscow_office(tmp_path):
    path = generic(
        tmp_path,
        "1,x,74951110000,+74951234567,2025-03-03T09:00:00,60",  # Moscow (495): local
        "2,x,74951110000,84991234567,2025-03-03T09:00:00,60",  # Moscow (499): local too
        "3,x,74951110000,+78121234567,2025-03-03T09:00:00,60",  # St Petersburg: long distance
        "4,x,74951110000,89161234567,2025-03-03T09:00:00,60",  # mobile
        "5,x,74951110000,88001234567,2025-03-03T09:00:00,60",  # 8-800: toll free
        "6,x,74951110000,+441234567890,2025-03-03T09:00:00,60",  # UK: international
        "7,x,74951110000,+77012345678,2025-03-03T09:00:00,60",  # +7 701: Kazakhstan
        "8,x,74951110000,102,2025-03-03T09:00:00,60",  # an extension: other
    )
    records = records_of(path, home_area="7495")
    assert records.home_area == "Moscow"
    assert records.calls["category"].to_list() == [
        "local",
        "local",
        "long_distance",
        "mobile",
        "toll_free",
        "international",
        "international",
        "other",
    ]
    by_category = profile(records).by_category
    assert list(by_category) == list(Category)
    assert by_category[Category.LOCAL].calls == 2
    assert by_category[Category.INTERNATIONAL].minutes == Decimal("2.00")


def test_the_home_area_is_the_callers_most_common_area(tmp_path):
    # Two callers in St Petersburg, one in Moscow: St Petersburg is home, Moscow far.
    path = generic(
        tmp_path,
        "1,x,78121110000,74951234567,2025-03-03T09:00:00,60",
        "2,x,78121110001,78121234567,2025-03-03T09:00:00,60",
        "3,x,74951110000,78121234568,2025-03-03T09:00:00,60",
    )
    records = records_of(path)
    assert records.home_area == "St Petersburg"
    assert records.calls["category"].to_list() == ["long_distance", "local", "local"]


def test_with_extensions_as_callers_the_most_called_area_is_home(tmp_path):
    path = generic(
        tmp_path,
        "1,x,101,74951234567,2025-03-03T09:00:00,60",
        "2,x,102,74991234567,2025-03-03T09:00:00,60",
        "3,x,103,78121234567,2025-03-03T09:00:00,60",
    )
    assert records_of(path).home_area == "Moscow"


def test_a_home_area_can_be_named(tmp_path):
    path = generic(tmp_path, "1,x,101,78121234567,2025-03-03T09:00:00,60")
    assert records_of(path, home_area="St Petersburg").calls["category"][0] == "local"


def test_bad_settings_name_their_field(tmp_path):
    path = generic(tmp_path, "1,x,101,78121234567,2025-03-03T09:00:00,60")
    with pytest.raises(BillAnalysisError) as error:
        records_of(path, home_country="XX")
    assert set(error.value.errors) == {"home_country"}
    with pytest.raises(BillAnalysisError) as error:
        records_of(path, home_area="79")  # a mobile code is no area
    assert set(error.value.errors) == {"home_area"}
    with pytest.raises(BillAnalysisError) as error:
        records_of(path, cost_column="charge")
    assert set(error.value.errors) == {"cost_column"}


# --- months and the prospect's own cost ------------------------------------------------------


def test_months_peak_and_lowest_and_the_cost_column(tmp_path):
    # March: 120 + 60 s = 3.00 min, cost 2.50 + 1.20; April: 30 s, cost 0.60; May: 300 s.
    path = generic(
        tmp_path,
        "1,x,74951110000,74951234567,2025-03-03T09:00:00,120,2.50",
        "2,x,74951110000,79161234567,2025-03-20 18:00:00,60,1.20",
        "3,x,74951110000,74951234567,2025-04-01T00:00:00+03:00,30,0.60",
        "4,x,74951110000,74951234567,2025-05-31T23:59:59,300,6.00",
        header=HEADER + ",cost",
    )
    result = profile(records_of(path, cost_column="cost"))
    assert list(result.by_month) == ["2025-03", "2025-04", "2025-05"]
    march = result.by_month["2025-03"]
    assert (march.calls, march.minutes, march.cost) == (2, Decimal("3.00"), Decimal("3.70"))
    assert result.by_month_category["2025-03"][Category.MOBILE].seconds == 60
    assert (result.peak_month, result.lowest_month) == ("2025-05", "2025-04")
    # 10.30 over 4 answered calls: 2.575 → 2.58 per call.
    assert (result.cost, result.cost_per_call) == (Decimal("10.30"), Decimal("2.58"))
    document = result.to_json()
    assert document["by_month"]["2025-04"] == {  # type: ignore[index]
        "calls": 1,
        "answered": 1,
        "minutes": "0.50",
        "cost": "0.600000",
    }


def test_asterisk_answered_by_disposition_and_ringing_holds_a_channel(tmp_path):
    def row(uid: str, start: str, duration: int, billsec: int, disposition: str) -> str:
        return (
            f'"acc","74951110000","74951234567","from-internal","","SIP/1","SIP/2","Dial",'
            f'"","{start}","","","{duration}","{billsec}","{disposition}","DOCUMENTATION",'
            f'"{uid}"'
        )

    path = tmp_path / "Master.csv"
    path.write_text(
        "\n".join(
            [
                # rang 20 s unanswered, from 09:00:00 to 09:00:20
                row("u1", "2025-03-03 09:00:00", 20, 0, "NO ANSWER"),
                # answered at once, billsec 0 but answered; holds 09:00:10 – 09:00:15
                row("u2", "2025-03-03 09:00:10", 5, 0, "ANSWERED"),
                row("u3", "2025-03-03 09:00:30", 70, 60, "ANSWERED"),
                row("u4", "2025-03-03 09:02:00", 5, 0, "BUSY"),
            ]
        )
        + "\n"
    )
    result = profile(records_of(path, format="asterisk"))
    assert (result.calls, result.answered, result.seconds) == (4, 2, 60)
    assert result.asr == Decimal("0.5000")
    assert result.acd_seconds == Decimal("30.0")  # 60 s / 2 answered
    assert result.peak_concurrent_calls == 2  # u1 still ringing when u2 starts


def test_freeswitch_answered_by_answer_stamp_or_billsec(tmp_path):
    def row(uid: str, answer: str, billsec: int, cause: str) -> str:
        return (
            f'"Office","74951110000","74951234567","default","2025-03-03 09:00:00",'
            f'"{answer}","2025-03-03 09:01:00","60","{billsec}","{cause}","{uid}","",'
            f'"acc","PCMA","PCMA"'
        )

    path = tmp_path / "Master.csv"
    path.write_text(
        "\n".join(
            [
                row("u1", "2025-03-03 09:00:05", 55, "NORMAL_CLEARING"),
                row("u2", "", 0, "NO_ANSWER"),
                row("u3", "2025-03-03 09:00:05", 0, "NORMAL_CLEARING"),
            ]
        )
        + "\n"
    )
    result = profile(records_of(path, format="freeswitch"))
    assert (result.calls, result.answered) == (3, 2)
    assert result.peak_concurrent_calls == 3  # each attempt holds 60 s from 09:00:00


# --- re-rating and the saving ------------------------------------------------------------


def test_rerating_reuses_the_rating_engine_month_by_month(tmp_path, deck):
    path = generic(
        tmp_path,
        "1,x,74951110000,74951234567,2025-03-03T09:00:00,61",  # 120 s × 0.90 = 1.80
        "2,x,74951110000,79161234567,2025-03-03T09:05:00,45",  # 45 s × 1.90 = 1.425
        "3,x,74951110000,102,2025-04-03T09:00:00,30",  # extension: bad number
    )
    rerating = rerate(records_of(path), deck)
    assert rerating.by_month["2025-03"].cost == Decimal("3.225")
    assert rerating.by_month["2025-03"].billed_seconds == 165
    assert (rerating.by_month["2025-04"].calls, rerating.by_month["2025-04"].rated) == (1, 0)
    assert rerating.unrated == {"bad_number": 1}
    assert rerating.cost == Decimal("3.225")


def test_included_minutes_cover_the_earliest_domestic_calls(tmp_path, deck):
    # 2 included minutes = 120 s. In start order: local 60 s (0.90) free, mobile 45 s
    # (1.425) free, +44 600 s (100.00) is international: never covered; long distance
    # 120 s (5.00) gets the last 15 s free and pays 5.00 × 105 / 120 = 4.375.
    # Usage = 100.00 + 4.375 = 104.375 → 104.38; fee 1000.00.
    path = generic(
        tmp_path,
        "1,x,74951110000,74951234567,2025-03-03T09:00:00,60",
        "2,x,74951110000,79161234567,2025-03-03T09:00:30,45",
        "3,x,74951110000,+441234567890,2025-03-03T09:00:40,600",
        "4,x,74951110000,78121234567,2025-03-03T09:01:00,120",
    )
    ours = our_costs(
        rerate(records_of(path, home_area="7495"), deck),
        OurPrice(Decimal("1000"), included_minutes=2),
    )
    assert ours["2025-03"].usage == Decimal("104.38")
    assert ours["2025-03"].total == Decimal("1104.38")


def test_saving_from_the_cost_column_month_by_month(tmp_path, deck):
    # March: they paid 40.00 for calls + 500.00 line rental = 540.00; we charge 100.00
    # + 2 × 2 min × 0.90 = 3.60 → 103.60: saving 436.40.
    # April: they paid 10.00 + 500.00; we charge 100.00 + 0.90: saving 409.10.
    # Average (436.40 + 409.10) / 2 = 422.75; current average 525.00; 422.75 / 525 = 80.5 %.
    path = generic(
        tmp_path,
        "1,x,74951110000,74951234567,2025-03-03T09:00:00,120,20.00",
        "2,x,74951110000,74951234567,2025-03-04T09:00:00,100,20.00",
        "3,x,74951110000,74951234567,2025-04-03T09:00:00,60,10.00",
        header=HEADER + ",cost",
    )
    records = records_of(path, cost_column="cost")
    current = current_costs_from_file(profile(records), line_rental=Decimal(500))
    ours = our_costs(rerate(records, deck), OurPrice(Decimal(100)))
    result = saving(current, ours)
    assert [m.saving for m in result.months] == [Decimal("436.40"), Decimal("409.10")]
    assert (result.total, result.average) == (Decimal("845.50"), Decimal("422.75"))
    assert result.current_average == Decimal("525.00")
    assert result.percent == Decimal("80.5")
    assert result.to_json()["average"] == "422.75"


def test_current_cost_from_rates_per_category(tmp_path):
    # March: local 90 s at 1.20/min = 1.80; mobile 30 s at 3.00/min = 1.50; fixed 300.
    path = generic(
        tmp_path,
        "1,x,74951110000,74951234567,2025-03-03T09:00:00,90",
        "2,x,74951110000,79161234567,2025-03-03T09:00:00,30",
    )
    usage = profile(records_of(path))
    rates = {Category.LOCAL: Decimal("1.20"), Category.MOBILE: Decimal("3.00")}
    current = current_costs_from_rates(usage, rates, fixed_fees=Decimal(300))
    assert current["2025-03"].usage == Decimal("3.30")
    assert current["2025-03"].total == Decimal("303.30")
    with pytest.raises(BillAnalysisError) as error:
        current_costs_from_rates(usage, {Category.LOCAL: Decimal(1)})
    assert error.value.errors == {"rates.mobile": "needed for 0.50 minutes of calls"}


def test_current_cost_from_rates_rounds_the_exact_amount(tmp_path):
    # 29 s at 4.50/min = 130.50 / 60 = 2.175 exactly, half-up 2.18 (rounding 29/60 minutes
    # first would give 0.48333… × 4.50 = 2.17499… and 2.17).
    path = generic(tmp_path, "1,x,74951110000,74951234567,2025-03-03T09:00:00,29")
    current = current_costs_from_rates(profile(records_of(path)), {Category.LOCAL: Decimal("4.50")})
    assert current["2025-03"].usage == Decimal("2.18")


def test_the_monthly_summary_form(deck):
    # Their invoice: 1,000 local and 200 mobile minutes, calls 2,100.00 + rental 1,500.00.
    # Ours at 0.90 local and 1.90 mobile: 900.00 + 380.00 = 1,280.00; 500 included minutes
    # cover the cheapest first (local 0.90): 1,280.00 − 450.00 = 830.00; fee 1,000.00.
    summary = [
        MonthlySummary(
            "2025-03",
            {Category.LOCAL: Decimal(1000), Category.MOBILE: Decimal(200)},
            usage_charges=Decimal("2100.00"),
            line_rental=Decimal("1500.00"),
        )
    ]
    rates = category_rates(deck, {Category.LOCAL: "74951234567", Category.MOBILE: "79161234567"})
    assert rates == {Category.LOCAL: Decimal("0.9"), Category.MOBILE: Decimal("1.9")}
    current = current_costs_from_summary(summary)
    ours = our_costs_from_summary(summary, rates, OurPrice(Decimal(1000), included_minutes=500))
    assert current["2025-03"].total == Decimal("3600.00")
    assert ours["2025-03"].usage == Decimal("830.00")
    assert saving(current, ours).average == Decimal("1770.00")  # 3,600 − 1,830


def test_summary_errors_name_the_month():
    bad = [MonthlySummary("2025-13", {}, usage_charges=Decimal(-1))]
    with pytest.raises(BillAnalysisError) as error:
        current_costs_from_summary(bad)
    assert list(error.value.errors) == ["months.2025-13"]


def test_call_records_of_a_frame_in_memory(tmp_path):
    # The same as reading the file, for callers that read it themselves.
    path = generic(tmp_path, "1,x,74951110000,74951234567,2025-03-03T09:00:00,60")
    records = call_records(read_cdrs(path), home_country="ru")
    assert (records.home_country, records.calls.height) == ("RU", 1)


def test_a_prefix_group_whose_ends_disagree_is_split_finer():
    from ringup.engine.bills.categories import _by_prefix

    # value_of looks at the 7th digit: the 6-digit group 749512… has ends "…0…" and
    # "…9…" that disagree, so it is valued per 8-digit group; 749900… agrees throughout.
    asked: list[str] = []

    def value_of(number: str) -> str:
        asked.append(number)
        return "high" if number[6] >= "5" else "low"

    numbers = pl.Series(
        ["74951201111", "74951291111", "74951251111", "74990011111", "74990021111", None]
    )
    assert _by_prefix(numbers, value_of).to_list() == ["low", "high", "high", "low", "low", None]
    # Ends of the two groups (4 lookups), then one per 8-digit part of the split one (3).
    assert len(asked) == 7


@settings(max_examples=40, deadline=None)
@given(
    calls=st.lists(
        st.tuples(
            st.integers(0, 3600),  # start, seconds into the month
            st.integers(0, 900),  # billed seconds
            st.integers(0, 5_000_000),  # cost in micro-units
            st.booleans(),  # international
        ),
        max_size=20,
    ),
    minutes=st.integers(0, 200),
)
def test_included_minutes_never_raise_the_price_and_spare_international_calls(calls, minutes):
    from ringup.engine.bills import RatedMonth, Rerating

    # Rating bills a 0-second call nothing.
    calls = [(s, b, c if b else 0, i) for s, b, c, i in calls]
    base = datetime(2025, 3, 1)
    frame = pl.DataFrame(
        {
            "start": [base + timedelta(seconds=s) for s, _, _, _ in calls],
            "month": ["2025-03"] * len(calls),
            "category": ["international" if i else "local" for *_, i in calls],
            "billed_seconds": [b for _, b, _, _ in calls],
            "cost": [Decimal(c).scaleb(-6) for _, _, c, _ in calls],
            "reason": [None] * len(calls),
        },
        schema_overrides={
            "start": pl.Datetime("us"),
            "billed_seconds": pl.Int64,
            "cost": pl.Decimal(38, 6),
            "reason": pl.String,
        },
    )
    total = sum((Decimal(c).scaleb(-6) for _, _, c, _ in calls), Decimal(0))
    rerating = Rerating(frame, {"2025-03": RatedMonth(len(calls), len(calls), 0, total)}, {}, total)
    international = sum((Decimal(c).scaleb(-6) for _, _, c, i in calls if i), Decimal(0))
    usage = our_costs(rerating, OurPrice(Decimal(0), included_minutes=minutes))["2025-03"].usage
    full = our_costs(rerating, OurPrice(Decimal(0)))["2025-03"].usage
    everything = our_costs(rerating, OurPrice(Decimal(0), included_minutes=10**6))["2025-03"]
    assert full == total.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    assert everything.usage == international.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    assert everything.usage <= usage <= full


def test_the_json_the_command_prints(tmp_path):
    path = generic(tmp_path, "1,x,74951110000,79161234567,2025-03-03T09:00:00,90")
    document = profile(records_of(path)).to_json()
    assert {
        "calls": 1,
        "answered": 1,
        "minutes": "1.50",
        "acd_seconds": "90.0",
        "asr": "1.0000",
        "peak_concurrent_calls": 1,
    }.items() <= document.items()
    assert document["by_category"]["mobile"] == {  # type: ignore[index]
        "calls": 1,
        "answered": 1,
        "minutes": "1.50",
        "cost": None,
    }
    assert list(document["by_month"]) == ["2025-03"]  # type: ignore[call-overload]
