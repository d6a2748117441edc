"""ringup.sql's bulk update: each row set to its own value, only where still unset."""

from datetime import UTC, datetime

import pytest
from django.db import DataError, connection

from ringup import sql
from ringup.usage.models import CdrFile, RatedCall

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls():
    """Five unbilled calls; returns their ids in order."""
    cdr_file = CdrFile.objects.create(
        source="pbx",
        path="hand-made.csv",
        sha256="0" * 64,
        token="t",
        claimed_at=datetime(2025, 3, 1, tzinfo=UTC),
    )
    RatedCall.objects.bulk_create(
        RatedCall(source="pbx", cdr_id=f"c{n}", cdr_file=cdr_file, account="") for n in range(5)
    )
    return list(RatedCall.objects.order_by("pk").values_list("pk", flat=True))


def billed() -> list[int | None]:
    return list(RatedCall.objects.order_by("pk").values_list("billed_invoice_id", flat=True))


def test_each_row_gets_its_own_value(calls):
    """Calls 1–3 to invoices 10, 10, 11: three set, the other two left unset."""
    pairs = [(calls[0], 10), (calls[1], 10), (calls[2], 11)]
    assert sql.assign_unset(RatedCall, "billed_invoice_id", pairs) == 3
    assert billed() == [10, 10, 11, None, None]


def test_rows_already_set_are_left_alone_and_not_counted(calls):
    """Call 2 was billed by invoice 7 meanwhile: asking for calls 1–3 sets two (the caller
    sees 2 ≠ 3 and rolls back) and leaves invoice 7 on call 2."""
    sql.assign_unset(RatedCall, "billed_invoice_id", [(calls[1], 7)])
    pairs = [(calls[0], 10), (calls[1], 10), (calls[2], 10)]
    assert sql.assign_unset(RatedCall, "billed_invoice_id", pairs) == 2
    assert billed() == [10, 7, 10, None, None]


def test_the_same_row_twice_is_set_once(calls):
    """One call asked for by two invoices in the same statement: one of them gets it, and
    the count (1 of 2) tells the caller."""
    pairs = [(calls[0], 10), (calls[0], 11)]
    assert sql.assign_unset(RatedCall, "billed_invoice_id", pairs) == 1
    assert billed()[0] in (10, 11)


def test_nothing_to_set(calls):
    assert sql.assign_unset(RatedCall, "billed_invoice_id", []) == 0
    assert billed() == [None] * 5


def test_more_rows_than_one_statement_takes_on_sqlite(calls, monkeypatch):
    """With 4 parameters a statement, SQLite's path takes two pairs per statement: five
    pairs go in three statements and all five are counted (PostgreSQL: one statement)."""
    monkeypatch.setattr(sql, "MAX_PARAMETERS", 4)
    pairs = [(call, 20 + n) for n, call in enumerate(calls)]
    assert sql.assign_unset(RatedCall, "billed_invoice_id", pairs) == 5
    assert billed() == [20, 21, 22, 23, 24]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's timestamp loader")
def test_timestamps_read_through_the_fast_loader_are_the_same_datetimes():
    """The instants PostgreSQL prints in every shape it uses (whole seconds, trailing
    zeros dropped from the fraction, year 1) come back as the aware UTC datetimes Django's
    loader gave; what ``fromisoformat`` cannot read falls back to psycopg's parser, and
    "infinity" is still refused as before."""
    from psycopg.pq import Format

    with connection.cursor() as cursor:
        loader = cursor.connection.adapters.get_loader(1184, Format.TEXT)  # timestamptz
        assert loader.__name__ == "_UtcTimestamptzLoader"
        cursor.execute(
            "SELECT '2025-03-01 05:00:00+00'::timestamptz, '2025-03-01 08:00:00.1+03'::timestamptz,"
            " '2025-03-01 05:00:00.000123Z'::timestamptz, '0001-01-01 00:00:00+00'::timestamptz"
        )
        assert cursor.fetchone() == (
            datetime(2025, 3, 1, 5, tzinfo=UTC),
            datetime(2025, 3, 1, 5, 0, 0, 100000, tzinfo=UTC),
            datetime(2025, 3, 1, 5, 0, 0, 123, tzinfo=UTC),
            datetime(1, 1, 1, tzinfo=UTC),
        )
        cursor.execute("SELECT '2025-03-01 05:00:00+00'::timestamptz")
        assert cursor.fetchone()[0].tzinfo is UTC
        with pytest.raises(DataError):
            cursor.execute("SELECT 'infinity'::timestamptz")
            cursor.fetchone()
