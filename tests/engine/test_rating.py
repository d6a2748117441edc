"""Call rating: worked examples with the arithmetic written out, and properties checked
against a plain Decimal reference implementation."""

from decimal import ROUND_HALF_UP, Decimal
from decimal import Decimal as D

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringup.engine.rating import (
    MAX_DURATION,
    IdLedger,
    Numbering,
    RateDeck,
    UnratedReason,
    deck_from_frame,
    normalise,
    parse_duration,
    rate,
)
from ringup.engine.rating.numbers import normalised_keys
from ringup.engine.rating.prefixes import digit_keys
from ringup.engine.rating.rate import price_batch

DECK_COLUMNS = ("prefix", "rate", "connect_fee", "first_increment", "increment", "min_duration")


def make_deck(*lines: tuple[str, ...]) -> RateDeck:
    """A deck from (prefix, rate, connect_fee, first_increment, increment[, min_duration])."""
    rows = [(*line, "")[: len(DECK_COLUMNS)] for line in lines]
    return deck_from_frame(pl.DataFrame(rows, schema=list(DECK_COLUMNS), orient="row"))


def make_calls(*calls: tuple[str, str, str]) -> pl.DataFrame:
    """Generic CDRs from (id, dst, duration)."""
    return pl.DataFrame(
        {
            "id": [c[0] for c in calls],
            "account": ["acc-1"] * len(calls),
            "src": ["74950000000"] * len(calls),
            "dst": [c[1] for c in calls],
            "start": ["2025-03-03T09:00:00"] * len(calls),
            "duration": [c[2] for c in calls],
        },
        schema={name: pl.String for name in ("id", "account", "src", "dst", "start", "duration")},
    )


def rate_one(deck: RateDeck, dst: str, duration: str | int, **options) -> dict:
    return rate(make_calls(("c1", dst, str(duration))), deck, **options).row(0, named=True)


# --- increments, one worked example per scheme and edge ---------------------------------

PER_MINUTE = make_deck(("44", "1.20", "0", "60", "60"))
PER_SECOND = make_deck(("44", "1.20", "0", "1", "1"))
THIRTY_SIX = make_deck(("44", "1.20", "0", "30", "6"))


@pytest.mark.parametrize(
    ("deck", "duration", "billed", "cost"),
    [
        # 60/60: every started minute is a minute. 61 s → 120 s × 1.20/60 = 2.40
        (PER_MINUTE, 61, 120, "2.400000"),
        (PER_MINUTE, 60, 60, "1.200000"),  # exactly one increment: no second minute
        (PER_MINUTE, 1, 60, "1.200000"),  # a 1-second call pays the first increment
        (PER_MINUTE, 0, 0, "0.000000"),  # a call that did not connect costs nothing
        # 1/1: per second. 61 s × 1.20/60 = 1.22
        (PER_SECOND, 61, 61, "1.220000"),
        (PER_SECOND, 1, 1, "0.020000"),
        # 30/6: 30 s first, then 6-second steps. 66 s = 30 + 6 × 6 exactly
        (THIRTY_SIX, 66, 66, "1.320000"),
        (THIRTY_SIX, 67, 72, "1.440000"),  # 30 + ⌈37/6⌉ × 6 = 72
        (THIRTY_SIX, 10, 30, "0.600000"),
        (THIRTY_SIX, 31, 36, "0.720000"),
    ],
)
def test_billing_increments(deck, duration, billed, cost):
    row = rate_one(deck, "442071234567", duration)
    assert row["reason"] is None
    assert (row["billed_seconds"], row["cost"]) == (billed, D(cost))


def test_min_duration_is_billed_at_least():
    deck = make_deck(("49", "0.60", "0", "1", "1", "60"))
    assert rate_one(deck, "49301234567", 10)["billed_seconds"] == 60  # 10 s → min 60 s
    assert rate_one(deck, "49301234567", 61)["billed_seconds"] == 61
    assert rate_one(deck, "49301234567", 0)["billed_seconds"] == 0  # not connected: 0


def test_connect_fee_is_added_once_per_connected_call():
    deck = make_deck(("49", "0.60", "0.15", "60", "60"))
    # 0.15 + 0.60 × 120 / 60 = 1.35
    assert rate_one(deck, "49301234567", 90)["cost"] == D("1.350000")
    assert rate_one(deck, "49301234567", 0)["cost"] == D("0.000000")


def test_cost_is_rounded_half_up_to_six_decimals():
    deck = make_deck(("1", "0.000001", "0", "1", "1"))
    # 0.000001 × 30 / 60 = 0.0000005 → 0.000001 (half up); × 29 s = 0.00000048 → 0
    assert rate_one(deck, "12025550100", 30)["cost"] == D("0.000001")
    assert rate_one(deck, "12025550100", 29)["cost"] == D("0.000000")
    # 1/3 of a cent stays exact to the micro-unit: 0.01 × 20 / 60 = 0.003333…
    cent = make_deck(("1", "0.01", "0", "1", "1"))
    assert rate_one(cent, "12025550100", 20)["cost"] == D("0.003333")


# --- prefixes and numbers -----------------------------------------------------------------

RUSSIA = make_deck(
    ("7", "1.00", "0", "60", "60"),
    ("79", "2.00", "0", "60", "60"),
    ("7916", "1.50", "0", "60", "60"),
)


@pytest.mark.parametrize(
    ("dst", "prefix"),
    [("79161234567", "7916"), ("79031234567", "79"), ("74951234567", "7")],
)
def test_longest_prefix_wins(dst, prefix):
    assert rate_one(RUSSIA, dst, 60)["prefix"] == prefix


@pytest.mark.parametrize(
    "dst", ["+79161234567", "0079161234567", "+7 (916) 123-45-67", " 007-916-123-45-67 "]
)
def test_plus_and_international_prefix_are_stripped(dst):
    assert rate_one(RUSSIA, dst, 60)["prefix"] == "7916"


def test_the_international_prefix_can_be_changed():
    numbering = Numbering(intl_prefix="810")
    assert rate_one(RUSSIA, "81079161234567", 60, numbering=numbering)["prefix"] == "7916"
    # With 810 as the international prefix, 00… is a national number taken as E.164 digits.
    assert rate_one(RUSSIA, "0079161234567", 60, numbering=numbering)["reason"] == "no_match"


@pytest.mark.parametrize(
    ("dst", "prefix"),
    [
        ("84951234567", "7"),  # national trunk prefix 8 → country code 7
        ("8 916 123-45-67", "7916"),
        ("8 (916) 123-45-67", "7916"),
        ("+79161234567", "7916"),  # international numbers are left alone
        ("79161234567", "7916"),  # already carrying the country code
    ],
)
def test_country_turns_national_numbers_into_e164(dst, prefix):
    row = rate_one(RUSSIA, dst, 60, numbering=Numbering(country="RU"))
    assert row["reason"] is None
    assert row["prefix"] == prefix


@pytest.mark.parametrize("dst", ["100", "s", "", "*97", "1234567"])
def test_what_is_not_a_number_is_unrated(dst):
    row = rate_one(RUSSIA, dst, 60, numbering=Numbering(country="RU"))
    assert row["reason"] == UnratedReason.BAD_NUMBER
    assert row["cost"] is None


def test_no_matching_prefix_is_unrated():
    row = rate_one(RUSSIA, "442071234567", 60)
    assert row["reason"] == "no_match"
    assert (row["prefix"], row["rate"], row["billed_seconds"], row["cost"]) == (None,) * 4


def test_numbers_longer_than_e164_are_bad_numbers():
    assert rate_one(RUSSIA, "7916123456789012", 60)["reason"] == "bad_number"


# --- bad rows and duplicates -------------------------------------------------------------


@pytest.mark.parametrize(
    "duration",
    ["abc", "-5", "", "12.5", "1e3", str(MAX_DURATION + 1), "+5", "-0", "+0", " -0 ", " +5"],
)
def test_malformed_durations_are_unrated(duration):
    assert rate_one(RUSSIA, "79161234567", duration)["reason"] == "bad_duration"


def test_durations_may_carry_spaces():
    assert rate_one(RUSSIA, "79161234567", " 61 ")["billed_seconds"] == 120


@pytest.mark.parametrize(
    ("duration", "seconds"), [("0", 0), ("007", 7), ("604800", MAX_DURATION), ("\t61", 61)]
)
def test_whole_seconds_may_have_leading_zeros_and_reach_a_week(duration, seconds):
    assert parse_duration(pl.Series([duration])).to_list() == [seconds]


def test_duplicate_ids_are_rated_once_first_occurrence_wins():
    calls = make_calls(
        ("a", "79161234567", "60"),
        ("b", "79161234567", "60"),
        ("a", "74951234567", "30"),
        ("a", "79161234567", "60"),
    )
    result = rate(calls, RUSSIA)
    assert result["reason"].to_list() == [None, None, "duplicate_id", "duplicate_id"]
    assert result["prefix"].to_list() == ["7916", "7916", None, None]


def test_missing_ids_are_unrated_but_never_duplicates_of_each_other():
    calls = make_calls(("", "79161234567", "60"), (" ", "79161234567", "60"))
    assert rate(calls, RUSSIA)["reason"].to_list() == ["missing_id", "missing_id"]


def test_the_first_failing_check_names_the_reason():
    calls = make_calls(("a", "x", "abc"), ("a", "79161234567", "60"), ("b", "x", "60"))
    assert rate(calls, RUSSIA)["reason"].to_list() == [
        "bad_duration",
        "duplicate_id",  # the first "a" was unrated, but it was there first
        "bad_number",
    ]


def test_a_ledger_finds_duplicates_across_batches():
    ids = [f"c{i}" for i in range(10)] + ["c3", "c9", "c10", "c10"]
    batches = [pl.Series("id", ids[:6]), pl.Series("id", ids[6:11]), pl.Series("id", ids[11:])]
    ledger = IdLedger.from_census(batches)
    repeats = [flag for batch in batches for flag in ledger.repeats(batch).to_list()]
    assert repeats == [False] * 10 + [True, True, False, True]


def test_rating_keeps_rows_order_and_input_columns_and_replaces_old_rating_columns():
    calls = make_calls(("a", "79161234567", "60"), ("b", "nope", "60")).with_columns(
        extra=pl.lit("kept"), cost=pl.lit("999")
    )
    result = rate(calls, RUSSIA)
    assert result.columns == [
        *("id", "account", "src", "dst", "start", "duration", "extra"),
        *("prefix", "rate", "billed_seconds", "cost", "reason"),
    ]
    assert result["id"].to_list() == ["a", "b"]
    assert result["cost"].to_list() == [D("1.500000"), None]


def test_a_carrier_deck_gives_cost_and_margin_per_call():
    carrier = make_deck(("7", "0.40", "0", "1", "1"), ("79", "0.90", "0", "1", "1"))
    calls = make_calls(("a", "79161234567", "61"), ("b", "74951234567", "59"))
    result = rate(calls, RUSSIA, carrier_deck=carrier)
    # a: retail 7916 60/60 → 120 s × 1.50/60 = 3.00; carrier 79 1/1 → 61 × 0.90/60 = 0.915
    # b: retail 7 → 60 s × 1.00/60 = 1.00; carrier 7 → 59 × 0.40/60 = 0.393333
    assert result.select("carrier_prefix", "carrier_cost", "margin").rows() == [
        ("79", D("0.915000"), D("2.085000")),
        ("7", D("0.393333"), D("0.606667")),
    ]


def test_no_carrier_prefix_leaves_the_call_unrated():
    carrier = make_deck(("79", "0.90", "0", "1", "1"))
    result = rate(make_calls(("b", "74951234567", "59")), RUSSIA, carrier_deck=carrier)
    assert result["reason"].to_list() == ["no_carrier_match"]


# --- properties ----------------------------------------------------------------------------

QUANTUM = D("0.000001")


def amounts(max_value: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=0, max_value=max_value, places=6)


deck_lines = st.lists(
    st.tuples(
        st.text("0123", min_size=1, max_size=4),
        amounts(50),
        amounts(2),
        st.integers(0, 90),
        st.integers(1, 60),
        st.integers(0, 120),
    ),
    min_size=1,
    max_size=12,
    unique_by=lambda line: line[0],
)
calls_strategy = st.lists(
    st.tuples(st.text("0123", min_size=1, max_size=7), st.integers(0, 20_000)),
    min_size=1,
    max_size=30,
)


def deck_of(lines) -> RateDeck:
    return make_deck(*((p, str(r), str(f), str(a), str(b), str(m)) for p, r, f, a, b, m in lines))


def reference_rating(lines, dst: str, duration: int) -> tuple:
    """(prefix, billed, cost, reason): every line tried; billing in Decimal arithmetic."""
    if dst.startswith("00"):  # the international prefix
        dst = dst[2:]
    if not dst:
        return None, None, None, "bad_number"
    matches = [line for line in lines if dst.startswith(line[0])]
    if not matches:
        return None, None, None, "no_match"
    prefix, rate_, fee, first, step, minimum = max(matches, key=lambda line: len(line[0]))
    if duration == 0:
        return prefix, 0, D(0), None
    steps = -(-(duration - first) // step) if duration > first else 0  # ceiling division
    billed = max(first + steps * step, minimum)
    cost = (fee + rate_ * billed / 60).quantize(QUANTUM, rounding=ROUND_HALF_UP)
    return prefix, billed, cost, None


@settings(max_examples=60, deadline=None)
@given(deck_lines, calls_strategy)
def test_cost_equals_a_decimal_reference(lines, calls):
    result = rate(
        make_calls(*((f"c{i}", dst, str(d)) for i, (dst, d) in enumerate(calls))), deck_of(lines)
    )
    for (dst, duration), row in zip(calls, result.iter_rows(named=True), strict=True):
        expected = reference_rating(lines, dst, duration)
        assert (row["prefix"], row["billed_seconds"], row["cost"], row["reason"]) == expected


@settings(max_examples=40, deadline=None)
@given(deck_lines, st.text("0123", min_size=1, max_size=7), st.lists(st.integers(0, 20_000)))
def test_cost_is_monotone_in_duration(lines, dst, durations):
    durations = sorted(durations)
    calls = make_calls(*((f"c{i}", dst, str(d)) for i, d in enumerate(durations)))
    costs = rate(calls, deck_of(lines))["cost"].to_list()
    if costs and costs[0] is not None:
        assert costs == sorted(costs)


@settings(max_examples=40, deadline=None)
@given(deck_lines, calls_strategy)
def test_re_rating_the_rated_output_changes_nothing(lines, calls):
    deck = deck_of(lines)
    first = rate(make_calls(*((f"c{i}", d, str(s)) for i, (d, s) in enumerate(calls))), deck)
    rated = first.filter(pl.col("reason").is_null()).drop("reason")
    # As the CLI writes and reads it: text columns.
    again = rate(rated.with_columns(pl.all().cast(pl.String)), deck)
    assert again["reason"].null_count() == again.height
    assert again["cost"].to_list() == rated["cost"].to_list()
    assert again["billed_seconds"].to_list() == rated["billed_seconds"].to_list()


@settings(max_examples=60, deadline=None)
@given(
    deck_lines,
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "", " "]),
            st.text("0123+ x", max_size=7),
            st.sampled_from(["0", "1", "59", "61", "600", "-1", "+5", "x", ""]),
        ),
        max_size=30,
    ),
    st.booleans(),
)
def test_rated_and_unrated_files_get_the_rows_rate_gives(lines, calls, with_carrier):
    # ``rate_file`` writes PricedBatch.split(); it must be exactly rate()'s frame split by
    # reason, rating columns dropped from the unrated half.
    deck = deck_of(lines)
    carrier = make_deck(("0", "0.5", "0", "1", "1"), ("1", "0.7", "0", "60", "60"))
    options = {"carrier_deck": carrier if with_carrier else None}
    frame = make_calls(*calls)
    whole = rate(frame, deck, **options)
    priced = price_batch(frame, deck, **options)
    rated, unrated, totals = priced.split(IdLedger(None).repeats(priced.ids).to_numpy())
    is_rated = pl.col("reason").is_null()
    assert rated.equals(whole.filter(is_rated).drop("reason"))
    rating_columns = [c for c in rated.columns if c not in frame.columns]
    assert unrated.equals(whole.filter(~is_rated).drop(rating_columns))
    assert totals.rated == rated.height
    assert totals.cost_micros == sum(int(cost.scaleb(6)) for cost in rated["cost"])
    assert totals.unrated_by_reason == dict(unrated["reason"].value_counts().iter_rows())


dialled_numbers = st.lists(
    st.one_of(st.none(), st.text("0123456789+-()8 ", max_size=17), st.text(max_size=4)),
    max_size=40,
)


@settings(max_examples=80, deadline=None)
@given(dialled_numbers, st.sampled_from([Numbering(), Numbering("810"), Numbering(country="RU")]))
def test_numbers_are_matched_by_the_keys_of_their_normalised_digits(numbers, numbering):
    dialled = pl.Series(numbers, dtype=pl.String)
    keys, has_number = normalised_keys(dialled, numbering)
    expected_keys, expected = digit_keys(normalise(dialled, numbering))
    assert has_number.tolist() == expected.tolist()
    assert keys.tolist() == expected_keys.tolist()
