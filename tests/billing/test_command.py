"""``ringup bill``: JSON report, dry run, idempotency, exit codes."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from ringup.billing.models import Invoice
from ringup.cli import main

from .conftest import MARCH_1

pytestmark = pytest.mark.django_db


def run(*argv) -> dict:
    out = StringIO()
    call_command("bill", *argv, stdout=out)
    return json.loads(out.getvalue())


def test_bill_dry_run_then_for_real_then_again(subscribe):
    subscribe()
    subscribe(MARCH_1, plan="contact-centre", employees=12)
    dry = run("--until", "2025-04-30", "--json", "--dry-run")
    assert Invoice.objects.count() == 0
    real = run("--until", "2025-04-30", "--json")
    assert dry == {**real, "dry_run": True}
    assert real["invoices_created"] == 4
    assert (real["first_number"], real["last_number"]) == ("INV-000001", "INV-000004")
    assert real["until"] == "2025-04-30T21:00:00+00:00"  # the end of 30 April in Moscow
    again = run("--until", "2025-04-30", "--json")
    assert again["invoices_created"] == 0


def test_the_text_report(subscribe):
    subscribe()
    out = StringIO()
    call_command("bill", "--until", "2025-03-31", stdout=out)
    assert "created 1 invoices" in out.getvalue()
    assert "INV-000001" in out.getvalue()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--until", "2025-02-30"], "--until must be a date YYYY-MM-DD"),
        (["--until", "2999-01-01"], "is not over yet"),
    ],
)
def test_bad_arguments_exit_with_code_2_and_one_line(argv, message, capsys):
    with pytest.raises(CommandError, match=message) as error:
        call_command("bill", *argv)
    assert error.value.returncode == 2
    with pytest.raises(SystemExit) as exit_:
        main(["bill", *argv])
    assert exit_.value.code == 2
    stderr = capsys.readouterr().err
    assert stderr.count("\n") == 1
    assert message in stderr
