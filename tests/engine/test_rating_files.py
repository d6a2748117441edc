"""CDR files: the three layouts, and rating a file in batches into rated/unrated files."""

from decimal import Decimal as D
from pathlib import Path

import polars as pl
import pytest

from ringup.engine.rating import (
    CdrFileError,
    Numbering,
    load_deck,
    rate,
    rate_file,
    read_cdrs,
    scan_cdrs,
    unrated_path_for,
)
from ringup.engine.rating.files import needs_no_quotes

SAMPLES = Path(__file__).parent.parent / "usage" / "samples"
RU = Numbering(country="RU")


@pytest.fixture(scope="module")
def retail():
    return load_deck(SAMPLES / "retail.csv")


@pytest.fixture(scope="module")
def carrier():
    return load_deck(SAMPLES / "carrier.csv")


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# --- layouts ---------------------------------------------------------------------------------


def test_asterisk_master_csv_uses_billsec_and_uniqueid():
    calls = read_cdrs(SAMPLES / "Master.csv", "asterisk")
    assert calls.columns[:3] == ["accountcode", "src", "dst"]
    assert calls.columns[-3:] == ["uniqueid", "userfield", "id"]
    first = calls.row(0, named=True)
    assert (first["id"], first["billsec"], first["clid"]) == (
        "1740982502.1",
        "125",
        '"Alice Petrova" <101>',
    )


def test_asterisk_without_uniqueid_gets_a_stable_id_from_the_row():
    calls = read_cdrs(SAMPLES / "Master-16.csv", "asterisk")
    assert "uniqueid" not in calls.columns
    ids = calls["id"].to_list()
    assert ids[0].startswith("acc-100|101|84951234567|from-internal|")
    assert ids[0] == ids[2] != ids[1]  # the repeated row is the same call
    assert read_cdrs(SAMPLES / "Master-16.csv", "asterisk")["id"].to_list() == ids


def test_freeswitch_default_template_uses_uuid_and_billsec():
    calls = read_cdrs(SAMPLES / "freeswitch.csv", "freeswitch")
    assert len(calls.columns) == 15
    first = calls.row(0, named=True)
    assert first["uuid"] == "5c7e0c4e-8a9b-4f5e-9a51-0d2f4b1d7a01"
    assert (first["destination_number"], first["billsec"]) == ("+79161234567", "65")


def test_unknown_column_counts_and_missing_columns_are_file_errors(tmp_path):
    with pytest.raises(CdrFileError, match="has 3 columns; expected 16, 17, 18, 19, 20, 21"):
        scan_cdrs(write(tmp_path / "m.csv", '"a","b","c"\n'), "asterisk")
    with pytest.raises(CdrFileError, match=r"lacks the column.*account, start, duration"):
        scan_cdrs(write(tmp_path / "g.csv", "id,src,dst\n1,2,3\n"))
    with pytest.raises(CdrFileError, match="does not exist"):
        scan_cdrs(tmp_path / "nothing.csv")
    with pytest.raises(CdrFileError, match="is empty"):
        scan_cdrs(write(tmp_path / "empty.csv", ""))
    with pytest.raises(CdrFileError, match="unknown CDR format 'cisco'"):
        scan_cdrs(SAMPLES / "Master.csv", "cisco")


def test_ragged_and_blank_lines_never_stop_a_read(tmp_path):
    path = write(
        tmp_path / "ragged.csv",
        "id,account,src,dst,start,duration\n"
        "1,a,1,79161234567,2025-03-03,60\n"
        "\n"
        "2,a,1,79161234567\n"
        "3,a,1,79161234567,2025-03-03,60,surplus\n",
    )
    calls = read_cdrs(path)
    assert calls["id"].to_list() == ["1", "2", "3"]
    assert calls["duration"].to_list() == ["60", None, "60"]


# --- whole files --------------------------------------------------------------------------


def test_rate_file_writes_rated_and_unrated_calls_and_sums_exactly(tmp_path, retail, carrier):
    out = tmp_path / "rated.csv"
    summary = rate_file(
        SAMPLES / "Master.csv",
        retail,
        out,
        format="asterisk",
        numbering=RU,
        carrier_deck=carrier,
    )
    rated = pl.read_csv(out, infer_schema=False)
    unrated = pl.read_csv(tmp_path / "rated.unrated.csv", infer_schema=False)
    assert (summary.cdrs, summary.rated, summary.unrated) == (7, 5, 2)
    assert rated.height + unrated.height == summary.cdrs
    assert dict(zip(unrated["id"], unrated["reason"], strict=True)) == {
        "1740990600.9": "bad_number",  # an internal call to extension 102
        "1740982502.1": "duplicate_id",
    }
    assert summary.unrated_by_reason == {"bad_number": 1, "duplicate_id": 1}
    assert summary.total_cost == sum(D(c) for c in rated["cost"])
    assert summary.total_carrier_cost == sum(D(c) for c in rated["carrier_cost"])
    assert summary.margin == sum(D(c) for c in rated["margin"])
    assert summary.seconds == sum(int(s) for s in rated["billed_seconds"])
    first = rated.row(0, named=True)
    # 84951234567 in RU → 74951234567 → prefix 7495, 0.50/min 60/60: 125 s → 180 s → 1.50
    assert (first["prefix"], first["rate"], first["billed_seconds"], first["cost"]) == (
        "7495",
        "0.500000",
        "180",
        "1.500000",
    )
    assert summary.as_json() == {
        "cdrs": 7,
        "rated": 5,
        "unrated": 2,
        "total_cost": "5.715000",
        "seconds": 302,
        "total_carrier_cost": "2.866666",
        "margin": "2.848334",
    }


@pytest.mark.parametrize(
    ("sample", "fmt"),
    [("Master.csv", "asterisk"), ("Master-16.csv", "asterisk"), ("freeswitch.csv", "freeswitch")],
)
def test_re_rating_a_rated_file_gives_the_same_file(tmp_path, retail, sample, fmt):
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    once = rate_file(SAMPLES / sample, retail, first, format=fmt, numbering=RU)
    twice = rate_file(first, retail, second, format=fmt, numbering=RU)
    assert second.read_text() == first.read_text()
    assert (twice.total_cost, twice.rated, twice.unrated) == (once.total_cost, once.rated, 0)


def test_duplicates_are_exact_across_batches(tmp_path, retail):
    ids = [f"c{i % 700}" for i in range(1000)]  # c0…c299 appear twice, in other batches
    lines = "".join(f"{i},acc,1,79161234567,2025-03-03,60\n" for i in ids)
    path = write(tmp_path / "cdrs.csv", "id,account,src,dst,start,duration\n" + lines)
    summary = rate_file(path, retail, tmp_path / "out.csv", batch_rows=128)
    assert (summary.rated, summary.unrated_by_reason) == (700, {"duplicate_id": 300})
    rated = pl.read_csv(tmp_path / "out.csv", infer_schema=False)
    assert rated["id"].to_list() == [f"c{i}" for i in range(700)]  # input order kept


def test_an_input_without_calls_gives_files_with_headers(tmp_path, retail):
    path = write(tmp_path / "cdrs.csv", "id,account,src,dst,start,duration\n")
    summary = rate_file(path, retail, tmp_path / "out.csv")
    assert summary.as_json() == {
        "cdrs": 0,
        "rated": 0,
        "unrated": 0,
        "total_cost": "0.000000",
        "seconds": 0,
    }
    assert (tmp_path / "out.csv").read_text() == (
        "id,account,src,dst,start,duration,prefix,rate,billed_seconds,cost\n"
    )
    assert (tmp_path / "out.unrated.csv").read_text() == (
        "id,account,src,dst,start,duration,reason\n"
    )


def test_a_failed_run_leaves_no_output_behind(tmp_path, retail):
    out = tmp_path / "out.csv"
    with pytest.raises(CdrFileError):
        rate_file(tmp_path / "missing.csv", retail, out)
    assert list(tmp_path.iterdir()) == []


def test_the_default_unrated_path():
    assert unrated_path_for("x/RATED.csv") == Path("x/RATED.unrated.csv")
    assert unrated_path_for("rated.out") == Path("rated.out.unrated.csv")


def test_bytes_that_are_not_utf8_do_not_stop_a_run(tmp_path, retail):
    path = tmp_path / "cdrs.csv"
    path.write_bytes(
        b"id,account,src,dst,start,duration\n"
        b"c1,acc-\xff,1,79161234567,2025-03-03,60\n"
        b"c2,acc-2,1,79161234567,2025-03-03,60\n"
    )
    summary = rate_file(path, retail, tmp_path / "out.csv")
    assert summary.rated == 2
    rated = pl.read_csv(tmp_path / "out.csv", infer_schema=False)
    assert rated["account"].to_list() == ["acc-\ufffd", "acc-2"]


# --- writing without quoting ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("id,x\nc1,a\n", True),
        ('id,x\nc1,""\n', True),  # an empty quoted field is written "" either way
        ('"",a\nb,""', True),  # at the start of a line, and at the end of a file
        ('c1,"",""\n', True),
        ('c1,"a,b"\n', False),
        ('c1,"a"\n', False),
        ('c1,""""\n', False),  # an escaped quote
        ('c1,a"b\n', False),
        ('c1,"""\n', False),
        ("id,x\r\nc1,a\r\n", False),
    ],
)
def test_files_whose_values_need_no_quotes_are_recognised(tmp_path, text, plain):
    assert needs_no_quotes(write(tmp_path / "cdrs.csv", text)) is plain


@pytest.mark.parametrize(
    "lines",
    [
        ['c1,"",1,79161234567,"",60', 'c2,acc,1,79161234567,x,""', '"",acc,1,79161234567,x,60'],
        ['c1,"acc, the first",1,79161234567,x,60', 'c2,"say ""hi""",1,79161234567,x,60'],
        ["c1,acc,1,79161234567,x,60", "c2,acc,1,74951234567,,61"],
    ],
)
def test_the_rated_file_is_the_rated_rows_as_csv_writes_them(tmp_path, retail, lines):
    # Files whose values need no quotes are written without checking each value: the bytes
    # must be those of the usual writer.
    path = write(tmp_path / "cdrs.csv", "id,account,src,dst,start,duration\n" + "\n".join(lines))
    rate_file(path, retail, tmp_path / "out.csv", batch_rows=2)
    rated = rate(read_cdrs(path), retail).filter(pl.col("reason").is_null()).drop("reason")
    assert (tmp_path / "out.csv").read_text() == rated.write_csv()
