"""``ringup analyze-bill``: the profile and saving as JSON; bad input exits 2 with one line.
Figures: the worked example of test_bills."""

import json
import os
import subprocess
import sys
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from ringup.catalog.services import QuoteRequest, price

from .conftest import ASTERISK


def analyse(*args) -> dict:
    out = StringIO()
    call_command("analyze_bill", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_profile_without_a_current_cost_has_no_saving(cdr_file):
    result = analyse("--cdrs", str(cdr_file()), "--country", "ru", "--home-area", "7495")
    assert {
        k: result[k]
        for k in ("calls", "answered", "minutes", "acd_seconds", "asr", "peak_concurrent_calls")
    } == {
        "calls": 4,
        "answered": 3,
        "minutes": "8.10",
        "acd_seconds": "162.0",
        "asr": "0.7500",
        "peak_concurrent_calls": 2,
    }
    assert result["by_category"]["long_distance"]["minutes"] == "5.00"
    assert list(result["by_month"]) == ["2025-03", "2025-04"]
    assert result["rerated_cost"] == "15.258333"  # 1.80 + 3.958333 + 9.50
    assert result["monthly_saving"] is None


def test_saving_against_the_cost_column(cdr_file):
    result = analyse("--cdrs", str(cdr_file()), "--home-area", "7495", "--cost-column", "cost")
    assert result["monthly_saving"] == "6.67"
    assert result["saving"]["by_month"]["2025-04"]["saving"] == "8.00"


@pytest.mark.django_db
def test_saving_against_a_plan_adds_its_monthly_fee(catalog, cdr_file):
    """Now: 5000 line rental + the calls; ours: the plan's fee + the re-rated calls.
    Average saving = 5000 + (11.10 + 17.50) / 2 − fee − (5.76 + 9.50) / 2 = 5006.67 − fee."""
    fee = price(QuoteRequest(plan="office-pbx", employees=8))[1].monthly_total
    result = analyse(
        "--cdrs",
        str(cdr_file()),
        "--home-area",
        "7495",
        "--cost-column",
        "cost",
        "--line-rental",
        "5000",
        "--plan",
        "office-pbx",
        "--employees",
        "8",
    )
    assert (result["plan"], Decimal(result["plan_monthly_fee"])) == ("office-pbx", fee)
    assert Decimal(result["monthly_saving"]) == Decimal("5006.67") - fee


def test_asterisk_format(cdr_file):
    result = analyse("--cdrs", str(cdr_file(ASTERISK)), "--format", "asterisk")
    assert (result["calls"], result["answered"]) == (3, 2)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--cdrs", "/nonexistent/cdrs.csv"],
            "file: CDR file /nonexistent/cdrs.csv does not exist",
        ),
        (["--employees", "5"], "--employees needs --plan"),
        (["--plan", "no-such-plan"], "plan: unknown plan 'no-such-plan'"),
        (["--country", "XX"], "home_country"),
    ],
)
def test_bad_input_is_exit_2(catalog, cdr_file, args, message):
    if "--cdrs" not in args:
        args = ["--cdrs", str(cdr_file()), *args]
    with pytest.raises(CommandError) as error:
        call_command("analyze_bill", *args, "--json")
    assert error.value.returncode == 2
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_the_ringup_command_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,account,dst\nc1,a,74951234567\n")
    run = subprocess.run(
        [sys.executable, "-m", "ringup.cli", "analyze-bill", "--cdrs", str(bad), "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "RINGUP_DATA_DIR": str(tmp_path)},
        check=False,
    )
    assert run.returncode == 2, run.stderr
    assert run.stdout == ""
    assert len(run.stderr.strip().splitlines()) == 1
