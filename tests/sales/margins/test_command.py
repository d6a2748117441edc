"""``ringup import-carrier-deck``: JSON on success, exit 2 with one line on bad input."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from .conftest import DECK_V1, DECK_V2


@pytest.fixture
def decks(tmp_path):
    (tmp_path / "v1.csv").write_bytes(DECK_V1)
    (tmp_path / "v2.csv").write_bytes(DECK_V2)
    (tmp_path / "bad.csv").write_bytes(
        b"prefix,rate,connect_fee,first_increment,increment\n7,1,0,0,0\n"
    )
    return tmp_path


def test_import_prints_the_impact(decks, traffic, capsys):
    call_command(
        "import_carrier_deck",
        str(decks / "v1.csv"),
        "--carrier",
        "Transit",
        "--effective",
        "2025-01-01",
    )
    call_command(
        "import_carrier_deck",
        str(decks / "v2.csv"),
        "--carrier",
        "Transit",
        "--effective",
        "2025-05-01",
    )
    out = capsys.readouterr().out.strip().splitlines()
    second = json.loads(out[-1])
    assert second["previous"] == "Transit · 2025-01-01"
    assert second["changes"] == {"raised": 1, "lowered": 1, "added": 1, "removed": 1}
    assert second["prefixes"] == 4


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["bad.csv", "--effective", "2025-01-01"], "line 2: increment '0'"),
        (["v1.csv", "--effective", "2025-13-01"], "is not a date"),
        (["missing.csv", "--effective", "2025-01-01"], "cannot read"),
    ],
)
def test_bad_input_exits_2_with_one_line(decks, db, arguments, message):
    name, *rest = arguments
    with pytest.raises(CommandError) as error:
        call_command("import_carrier_deck", str(decks / name), "--carrier", "Transit", *rest)
    assert error.value.returncode == 2
    assert message in str(error.value) and "\n" not in str(error.value)


def test_the_same_version_twice_exits_2(decks, db):
    call_command(
        "import_carrier_deck", str(decks / "v1.csv"), "--carrier", "T", "--effective", "2025-01-01"
    )
    with pytest.raises(CommandError) as error:
        call_command(
            "import_carrier_deck",
            str(decks / "v1.csv"),
            "--carrier",
            "T",
            "--effective",
            "2025-01-01",
        )
    assert error.value.returncode == 2 and "already has a version" in str(error.value)
