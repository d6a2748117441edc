"""``ringup rate``: the JSON summary, the files it writes, and exit status 2 with one line
for a file it cannot use."""

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

SAMPLES = Path(__file__).parent / "samples"
RINGUP = [sys.executable, "-m", "ringup.cli"]
GENERIC = (
    "id,account,src,dst,start,duration\n"
    "c1,acc-1,74950000001,79161234567,2025-03-03T09:00:00,61\n"
    "c2,acc-1,74950000001,+74951234567,2025-03-03T09:05:00,0\n"
    "c3,acc-2,74950000002,0049301234567,2025-03-03T09:10:00,abc\n"
    "c1,acc-1,74950000001,79161234567,2025-03-03T09:00:00,61\n"
    "c4,acc-2,74950000002,12025550100,2025-03-03T09:15:00,30\n"
)


def ringup_rate(*args: str) -> dict:
    stdout = io.StringIO()
    call_command("rate", *args, stdout=stdout)
    lines = stdout.getvalue().splitlines()
    assert len(lines) == 1
    return json.loads(lines[0])


@pytest.fixture
def cdrs(tmp_path) -> Path:
    path = tmp_path / "cdrs.csv"
    path.write_text(GENERIC)
    return path


def test_rates_a_generic_file_and_prints_one_json_object(tmp_path, cdrs):
    out = tmp_path / "rated.csv"
    summary = ringup_rate(
        "--deck", str(SAMPLES / "retail.csv"), "--cdrs", str(cdrs), "--out", str(out)
    )
    # c1: 7916 at 1.50/min 1/1 + 0.10 fee: 0.10 + 1.50 × 61 / 60 = 1.625; c2: 0 s costs 0
    assert summary == {
        "cdrs": 5,
        "rated": 2,
        "unrated": 3,
        "total_cost": "1.625000",
        "seconds": 61,
    }
    assert out.read_text().splitlines() == [
        "id,account,src,dst,start,duration,prefix,rate,billed_seconds,cost",
        "c1,acc-1,74950000001,79161234567,2025-03-03T09:00:00,61,7916,1.500000,61,1.625000",
        "c2,acc-1,74950000001,+74951234567,2025-03-03T09:05:00,0,7495,0.500000,0,0.000000",
    ]
    assert (tmp_path / "rated.unrated.csv").read_text().splitlines() == [
        "id,account,src,dst,start,duration,reason",
        "c3,acc-2,74950000002,0049301234567,2025-03-03T09:10:00,abc,bad_duration",
        "c1,acc-1,74950000001,79161234567,2025-03-03T09:00:00,61,duplicate_id",
        "c4,acc-2,74950000002,12025550100,2025-03-03T09:15:00,30,no_match",
    ]


def test_carrier_deck_adds_costs_and_margin(tmp_path, cdrs):
    summary = ringup_rate(
        *("--deck", str(SAMPLES / "retail.csv"), "--carrier-deck", str(SAMPLES / "carrier.csv")),
        *("--cdrs", str(cdrs), "--out", str(tmp_path / "r.csv")),
        *("--unrated", str(tmp_path / "elsewhere.csv")),
    )
    # c1 carrier: 79 at 0.90/min 1/1 → 0.90 × 61 / 60 = 0.915
    assert summary["total_carrier_cost"] == "0.915000"
    assert summary["margin"] == "0.710000"
    header = (tmp_path / "r.csv").read_text().splitlines()[0]
    assert header.endswith("prefix,rate,billed_seconds,cost,carrier_prefix,carrier_cost,margin")
    assert (tmp_path / "elsewhere.csv").exists()
    assert not (tmp_path / "r.unrated.csv").exists()


@pytest.mark.parametrize(
    ("sample", "fmt", "expected"),
    [
        ("Master.csv", "asterisk", {"cdrs": 7, "rated": 5, "unrated": 2}),
        ("freeswitch.csv", "freeswitch", {"cdrs": 5, "rated": 3, "unrated": 2}),
    ],
)
def test_pbx_formats_with_a_country(tmp_path, sample, fmt, expected):
    summary = ringup_rate(
        *("--deck", str(SAMPLES / "retail.csv"), "--cdrs", str(SAMPLES / sample)),
        *("--out", str(tmp_path / "rated.csv"), "--format", fmt, "--country", "RU"),
    )
    assert {key: summary[key] for key in expected} == expected


def test_the_international_prefix_option(tmp_path):
    cdrs = tmp_path / "cdrs.csv"
    cdrs.write_text("id,account,src,dst,start,duration\nc1,a,1,81079161234567,2025-03-03,60\n")
    summary = ringup_rate(
        *("--deck", str(SAMPLES / "retail.csv"), "--cdrs", str(cdrs)),
        *("--out", str(tmp_path / "rated.csv"), "--intl-prefix", "810"),
    )
    assert summary["rated"] == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--deck": "missing.csv"}, "deck missing.csv does not exist"),
        ({"--cdrs": "missing.csv"}, "CDR file missing.csv does not exist"),
        ({"--country": "XX"}, "unknown country code 'XX'"),
        ({"--intl-prefix": "+"}, "international prefix '+' is not digits"),
        ({"--out": "no-such-folder/rated.csv"}, "no-such-folder is not a folder"),
    ],
)
def test_unusable_arguments_raise_a_command_error_with_status_2(tmp_path, cdrs, change, message):
    args = {
        "--deck": str(SAMPLES / "retail.csv"),
        "--cdrs": str(cdrs),
        "--out": str(tmp_path / "r.csv"),
    }
    args.update(change)
    with pytest.raises(CommandError, match=re.escape(message)) as error:
        ringup_rate(*(item for pair in args.items() for item in pair))
    assert error.value.returncode == 2


def test_refuses_to_write_over_its_input(tmp_path, cdrs):
    with pytest.raises(CommandError, match="is an input") as error:
        ringup_rate("--deck", str(SAMPLES / "retail.csv"), "--cdrs", str(cdrs), "--out", str(cdrs))
    assert error.value.returncode == 2
    assert cdrs.read_text() == GENERIC


@pytest.fixture
def cli_env(tmp_path):
    env = {**os.environ, "RINGUP_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    return env


@pytest.mark.parametrize(
    ("cdrs_text", "message"),
    [
        (None, "ringup rate: CDR file {cdrs} does not exist"),
        ("id,account,src,dst,start\nc1,a,1,7916,2025\n", "lacks the column(s) duration"),
    ],
)
def test_the_command_line_exits_2_with_one_line(tmp_path, cli_env, cdrs_text, message):
    cdrs = tmp_path / "cdrs.csv"
    if cdrs_text is not None:
        cdrs.write_text(cdrs_text)
    result = subprocess.run(
        [
            *RINGUP,
            "rate",
            "--deck",
            str(SAMPLES / "retail.csv"),
            "--cdrs",
            str(cdrs),
            "--out",
            str(tmp_path / "r.csv"),
        ],
        env=cli_env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert message.format(cdrs=cdrs) in result.stderr


def test_the_command_line_prints_json(tmp_path, cli_env, cdrs):
    result = subprocess.run(
        [
            *RINGUP,
            "rate",
            "--deck",
            str(SAMPLES / "retail.csv"),
            "--cdrs",
            str(cdrs),
            "--out",
            str(tmp_path / "r.csv"),
        ],
        env=cli_env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout)["cdrs"] == 5
    assert result.stderr == ""
