"""``ringup create-api-key``: prints a working token once; exit 2 with one line for bad
input."""

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from ringup.apikeys.models import ApiKey
from ringup.cli import main

from .conftest import bearer

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)


def create(*argv) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_api_key", *argv, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_printed_token_works_and_is_not_stored(owner, client):
    out, err = create("--name", "1C", "--user", "integrations")
    token = out.strip()
    assert out.count("\n") == 1 and token.startswith("rk_")
    assert "shown only now" in err and token not in err
    key = ApiKey.objects.get()
    assert (key.name, key.owner, key.expires_at) == ("1C", owner, None)
    assert token.startswith(f"rk_{key.prefix}_")
    assert token not in key.token_hash
    assert client.get("/api/v1/invoices", **bearer(token)).status_code == 200


def test_expires_at_the_start_of_that_day_in_the_operators_zone(owner):
    create("--name", "website", "--user", "integrations", "--expires", "2026-04-01")
    # Moscow is UTC+3: 1 April 2026 begins at 31 March 21:00 UTC.
    assert ApiKey.objects.get().expires_at == datetime(2026, 3, 31, 21, tzinfo=UTC)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--user", "nobody"], "--user 'nobody': no such user"),
        (["--user", "customer"], "--user 'customer': not an active staff user"),
        (["--user", "retired"], "--user 'retired': not an active staff user"),
        (["--user", "integrations", "--expires", "2026-02-30"], "--expires must be a date"),
        (["--user", "integrations", "--expires", "2026-03-02"], "that day has already begun"),
        (["--user", "integrations", "--name", "  "], "--name must be 1 to 100 characters"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, message, owner, django_user_model, capsys):
    django_user_model.objects.create_user("customer", "c@example.com", "pw-12345!")
    django_user_model.objects.create_user(
        "retired", "r@example.com", is_staff=True, is_active=False
    )
    argv = ["--name", "CRM", *argv] if "--name" not in argv else argv
    with pytest.raises(CommandError, match=message) as error:
        create(*argv)
    assert error.value.returncode == 2
    assert not ApiKey.objects.exists()
    # The command line proper; it closes the database connection when it is done, so
    # nothing below touches the database.
    with pytest.raises(SystemExit) as exit_:
        main(["create-api-key", *argv])
    assert exit_.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and message in err


def test_the_command_line_prints_the_token_alone_on_stdout(owner, capsys):
    # The command line closes the database connection when it is done: this goes last.
    assert main(["create-api-key", "--name", "website", "--user", "integrations"]) == 0
    out, err = capsys.readouterr()
    assert out.count("\n") == 1 and out.startswith("rk_") and len(out.strip()) == 55
    assert "shown only now" in err
