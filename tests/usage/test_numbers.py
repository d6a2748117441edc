"""Customers' phone numbers: the inventory, holding one number once, and inbound calls
told apart by the CDR import (stored with the number, never charged)."""

import io
import json
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command

from ringup.customers.models import Customer
from ringup.engine.rating import Numbering
from ringup.usage import numbers
from ringup.usage.models import PhoneNumber, RatedCall
from ringup.usage.selectors import billable_calls
from ringup.usage.services import import_cdr_file

ASSIGNED = datetime(2025, 3, 1, 9, tzinfo=UTC)
RELEASED = datetime(2025, 3, 4, 9, tzinfo=UTC)  # 12:00 in Moscow


@pytest.fixture
def romashka(db):
    return Customer.objects.create(
        name="Romashka",
        email="office@romashka.example",
        tier="smb",
        account="acc-1",
        registered_at=ASSIGNED,
    )


@pytest.fixture
def vasilek(db):
    return Customer.objects.create(
        name="Vasilek",
        email="office@vasilek.example",
        tier="smb",
        account="acc-2",
        registered_at=ASSIGNED,
    )


def run(*args: str) -> dict:
    stdout = io.StringIO()
    call_command(*args, stdout=stdout)
    return json.loads(stdout.getvalue())


def test_the_inventory_assigns_numbers_once_and_refuses_bad_rows(romashka, vasilek, tmp_path):
    inventory = tmp_path / "numbers.csv"
    inventory.write_text(
        "account,number\n"
        "acc-1,+7 495 111-22-33\n"  # line 2: formatted, becomes 74951112233
        "acc-1,84951112244\n"  # national, as RINGUP_CDR_COUNTRY (RU) dials it
        "acc-2,74951112233\n"  # line 4: Romashka's number
        "acc-9,74951112255\n"  # line 5: nobody's account
        "acc-2,call me\n"  # line 6: not a number
        "acc-2,74951112266\n"
    )
    first = run("import_numbers", str(inventory), "--on", "2025-03-01")
    assert first == {
        "rows": 6,
        "assigned": 3,
        "unchanged": 0,
        "refused": 3,
        "errors": [
            "line 4: +74951112233 is held by another customer",
            "line 5: no customer has account code 'acc-9'",
            "line 6: 'call me' is not a phone number",
        ],
    }
    assert numbers.held_numbers(ASSIGNED) == {
        romashka.pk: ["74951112233", "74951112244"],
        vasilek.pk: ["74951112266"],
    }
    again = run("import_numbers", str(inventory), "--on", "2025-03-01")
    assert (again["assigned"], again["unchanged"], again["refused"]) == (0, 3, 3)
    assert PhoneNumber.objects.count() == 3


def test_a_missing_inventory_or_column_exits_2(db, tmp_path):
    with pytest.raises(CommandError) as missing:
        call_command("import_numbers", str(tmp_path / "none.csv"))
    assert missing.value.returncode == 2 and "does not exist" in str(missing.value)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("customer,did\nacc-1,74951112233\n")
    with pytest.raises(CommandError) as column:
        call_command("import_numbers", str(wrong))
    assert column.value.returncode == 2 and "missing column account, number" in str(column.value)


def test_a_held_number_goes_to_another_customer_only_after_release(romashka, vasilek):
    numbers.assign_number(romashka, "+74951112233", at=ASSIGNED)
    with pytest.raises(numbers.NumberError, match="held by Romashka"):
        numbers.assign_number(vasilek, "74951112233", at=ASSIGNED)
    with pytest.raises(numbers.NumberError, match="was assigned at"):
        numbers.release_number("74951112233", at=ASSIGNED)
    numbers.release_number("74951112233", at=RELEASED)
    numbers.assign_number(vasilek, "74951112233", at=RELEASED)
    assert numbers.held_numbers(RELEASED) == {vasilek.pk: ["74951112233"]}
    assert numbers.held_numbers(ASSIGNED) == {romashka.pk: ["74951112233"]}


CDRS = (
    "id,account,src,dst,start,duration\n"
    # From the trunk (no customer's account) to Romashka's number: inbound.
    "in1,trunk,79161234567,74951112233,2025-03-02T10:00:00,300\n"
    # The switch tags Romashka's own inbound calls with its account: inbound too.
    "in2,acc-1,79031234567,84951112233,2025-03-02T11:00:00,60\n"
    # Vasilek calls Romashka's number: Vasilek's outbound call, charged to Vasilek.
    "out1,acc-2,74951112266,74951112233,2025-03-02T12:00:00,61\n"
    # Before the number was Romashka's (held from 2025-03-01 12:00 Moscow): nobody's.
    "early,trunk,79161234567,74951112233,2025-03-01T08:00:00,30\n"
    # After it was released (2025-03-04 12:00 Moscow): nobody's.
    "late,trunk,79161234567,74951112233,2025-03-04T13:00:00,30\n"
    # Romashka's own outbound call.
    "out2,acc-1,74951112233,+79161234567,2025-03-02T13:00:00,30\n"
)


def test_inbound_calls_are_the_holders_and_never_charged(romashka, vasilek, tmp_path):
    numbers.assign_number(romashka, "74951112233", at=ASSIGNED)
    numbers.release_number("74951112233", at=RELEASED)
    path = tmp_path / "pbx.csv"
    path.write_text(CDRS)
    result = import_cdr_file(path, source="pbx", numbering=Numbering(country="RU"))
    assert (result.imported, result.inbound, result.unrated) == (
        6,
        2,
        {"unknown_account": 2},
    )
    calls = {call.cdr_id: call for call in RatedCall.objects.all()}
    for cdr_id, seconds in (("in1", 300), ("in2", 60)):
        call = calls[cdr_id]
        assert (call.customer, call.reason, call.did, call.duration) == (
            romashka,
            "inbound",
            "74951112233",
            seconds,
        )
        assert (call.cost, call.billed_seconds, call.prefix) == (None, None, "")
    assert (calls["out1"].customer, calls["out1"].reason, calls["out1"].did) == (vasilek, "", "")
    assert calls["out1"].cost is not None
    assert [calls[c].reason for c in ("early", "late")] == ["unknown_account"] * 2
    # Billing reads Romashka's outbound call only.
    billable = billable_calls([romashka.pk], ASSIGNED, RELEASED)
    assert [row[0] for row in billable[romashka.pk]] == [calls["out2"].pk]
    # 300 + 60 inbound seconds on the one number.
    assert numbers.inbound_seconds(ASSIGNED, RELEASED) == {romashka.pk: {"74951112233": 360}}
    assert numbers.numbers_summary(romashka, ASSIGNED, RELEASED - (RELEASED - ASSIGNED) / 2) == [
        {"number": "74951112233", "calls": 2, "minutes": 6}
    ]


def test_without_numbers_the_import_is_unchanged(romashka, tmp_path):
    path = tmp_path / "pbx.csv"
    path.write_text(CDRS)
    result = import_cdr_file(path, source="pbx", numbering=Numbering(country="RU"))
    assert result.inbound == 0
    assert not RatedCall.objects.filter(reason="inbound").exists()


def test_the_back_office_assigns_and_releases_numbers(admin_client, romashka, vasilek):
    add = "/admin/usage/phonenumber/add/"
    form = {
        "customer": romashka.pk,
        "number": "8 (495) 111-22-33",
        "assigned_at_0": "2025-03-01",
        "assigned_at_1": "12:00:00",
    }
    answer = admin_client.post(add, form)
    assert answer.status_code == 302, answer.context["adminform"].form.errors
    held = PhoneNumber.objects.get()
    assert (held.customer, held.number) == (romashka, "74951112233")
    taken = admin_client.post(add, {**form, "customer": vasilek.pk})
    assert taken.status_code == 200
    assert "+74951112233 is held by Romashka: release it first" in taken.content.decode()
    listing = admin_client.get("/admin/usage/phonenumber/?held=yes").content.decode()
    assert "+74951112233" in listing
    admin_client.post(
        "/admin/usage/phonenumber/", {"action": "release", "_selected_action": [held.pk]}
    )
    held.refresh_from_db()
    assert held.released_at is not None
    assert (
        "+74951112233"
        not in admin_client.get("/admin/usage/phonenumber/?held=yes").content.decode()
    )
