"""Rate decks: what a deck file may contain, and the one-line errors for what it may not."""

from decimal import Decimal as D

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringup.engine.rating import DeckEntry, DeckError, load_deck
from ringup.engine.rating.prefixes import PrefixIndex, digit_keys, is_digit_string

HEADER = "prefix,rate,connect_fee,first_increment,increment,description,min_duration\n"


def write_deck(tmp_path, text: str, header: str = HEADER):
    path = tmp_path / "deck.csv"
    path.write_text(header + text)
    return path


def test_a_deck_keeps_exact_amounts_and_settings(tmp_path):
    deck = load_deck(
        write_deck(
            tmp_path,
            '7,0.95,0,60,60,Russia,\n7916,1.234567,0.5,30,6,"MTS, mobile",60\n\n',
        )
    )
    assert len(deck) == 2
    assert deck.entry("7916") == DeckEntry(
        prefix="7916",
        rate=D("1.234567"),
        connect_fee=D("0.500000"),
        first_increment=30,
        increment=6,
        min_duration=60,
        description="MTS, mobile",
    )
    assert deck.longest_match("79161234567").prefix == "7916"
    assert deck.longest_match("74951234567").prefix == "7"
    assert deck.longest_match("441234") is None


def test_optional_columns_may_be_absent_and_header_case_is_free(tmp_path):
    path = write_deck(
        tmp_path, "44,1,,1,1\n", header="Prefix,RATE,connect_fee,first_increment,increment\n"
    )
    entry = load_deck(path).entry("44")
    assert (entry.rate, entry.connect_fee, entry.min_duration) == (D(1), D(0), 0)


def test_trailing_zeros_beyond_six_decimals_are_harmless(tmp_path):
    assert load_deck(write_deck(tmp_path, "44,0.01000000,0,1,1,,\n")).entry("44").rate == D("0.01")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("44,0.0000001,0,60,60,,", "line 3: rate '0.0000001' has more than 6 decimals"),
        ("44,1,0.1234567,60,60,,", "line 3: connect_fee '0.1234567' has more than 6 decimals"),
        ("44,-1,0,60,60,,", "line 3: rate '-1' is not a non-negative decimal number"),
        ("44,1.2.3,0,60,60,,", "line 3: rate '1.2.3' is not a non-negative decimal number"),
        ("44,,0,60,60,,", "line 3: rate is empty"),
        ("44,99999999,0,60,60,,", "line 3: rate '99999999' is above 10000000"),
        ("+44,1,0,60,60,,", "line 3: prefix '+44' is not 1–15 digits (no +)"),
        ("1234567890123456,1,0,60,60,,", "is not 1–15 digits"),
        ("44,1,0,60,0,,", "line 3: increment '0' is not whole seconds between 1 and 86400"),
        ("44,1,0,6.5,6,,", "line 3: first_increment '6.5' is not whole seconds"),
        ("44,1,0,60,60,,-1", "line 3: min_duration '-1' is not whole seconds"),
        ("7,2,0,60,60,,", "line 3: prefix '7' already appears on line 2"),
    ],
)
def test_bad_lines_are_deck_errors_naming_the_line(tmp_path, line, message):
    with pytest.raises(DeckError, match=r"deck .*deck\.csv") as error:
        load_deck(write_deck(tmp_path, f"7,1,0,60,60,,\n{line}\n"))
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_the_count_of_further_bad_lines_is_given(tmp_path):
    with pytest.raises(DeckError, match=r"line 2: .* \(and 2 more bad lines\)"):
        load_deck(write_deck(tmp_path, "7,x,0,60,60,,\n8,y,0,60,60,,\n9,z,0,60,60,,\n"))


def test_missing_columns_files_and_empty_decks_are_deck_errors(tmp_path):
    with pytest.raises(DeckError, match=r"lacks the column.*connect_fee, first_increment"):
        load_deck(write_deck(tmp_path, "7,1,60\n", header="prefix,rate,increment\n"))
    with pytest.raises(DeckError, match="does not exist"):
        load_deck(tmp_path / "missing.csv")
    with pytest.raises(DeckError, match="has no prefixes"):
        load_deck(write_deck(tmp_path, ""))


def test_prefix_index_finds_the_longest_prefix_with_zeros_and_nesting():
    # Zero digits share their nibble with the padding: "70" and "7" must stay apart.
    prefixes = ["7", "70", "700", "7000", "701", "1", "10", "0", "00"]
    index = PrefixIndex.build(pl.Series(prefixes))
    numbers = ["7", "70", "7001", "70000", "7012", "702", "71", "100", "0", "000", "2", None]
    expected = ["7", "70", "700", "7000", "701", "70", "7", "10", "0", "00", None, None]
    found = [prefixes[i] if i >= 0 else None for i in index.match(pl.Series(numbers))]
    assert found == expected


@pytest.mark.parametrize(
    "text",
    [
        *("+7", "-7", "-0", "-00", "+0", "0x7", "7a", "ab", " 7", "7 ", "", "7_1", "١٢", "１２"),
        *("1234567890123456", "8000000000000000", "ffffffffffffffff"),
    ],
)
def test_only_ascii_digits_get_a_key(text):
    # Keys read the digits as hexadecimal: a sign, a letter or a space must not slip through.
    keys, valid = digit_keys(pl.Series([text, "79"]))
    assert valid.tolist() == [False, True]
    assert keys[0] == 0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text("0123456789abf+- ", max_size=17)), max_size=30))
def test_digit_keys_accept_exactly_the_digit_strings(values):
    digits = pl.Series(values, dtype=pl.String)
    _, valid = digit_keys(digits)
    assert valid.tolist() == pl.select(is_digit_string(pl.lit(digits))).to_series().to_list()
