"""``ringup retention``: the sBG fit from the command line, without Django."""

import json
import subprocess
import sys

import pytest

RINGUP = [sys.executable, "-m", "ringup.cli"]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*RINGUP, "retention", *args], capture_output=True, text=True)


def test_fits_and_projects_the_published_cohort():
    result = run("--alive", "1000,631,468,382,326,289,262,241", "--horizon", "12")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) == {"alpha", "beta", "survival"}
    assert (answer["alpha"], answer["beta"]) == (
        pytest.approx(0.704, abs=1e-3),
        pytest.approx(1.182, abs=1e-3),
    )
    assert len(answer["survival"]) == 13
    # Percent alive: 100 at t = 0, then close to the observed 63.1, 46.8, 38.2, ….
    assert answer["survival"][0] == 100.0
    assert answer["survival"][1:4] == pytest.approx([62.67, 47.38, 38.80], abs=0.01)


def test_the_discount_rate_adds_the_derl():
    result = run("--alive", "1000,869,743,653,593,551,517,491", "--discount-rate", "0.1")
    assert json.loads(result.stdout)["derl"] == pytest.approx(5.4146, abs=1e-4)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--alive", "1000,x"], "whole numbers"),
        (["--alive", "1000,1200"], "cannot grow"),
        (["--alive", "1000"], "at least one later"),
        (["--alive", "1000,900", "--horizon", "-1"], "--horizon"),
        (["--horizon", "5"], "--alive"),
        (["--alive", "1000,900", "--discount-rate", "0"], "discount rate"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, message):
    result = run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("ringup retention: ")
    assert message in result.stderr


def test_django_is_not_started():
    code = (
        "import sys, contextlib, io\n"
        "from ringup.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['retention', '--alive', '100,60,40'])\n"
        "assert 'django' not in sys.modules, 'django was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
