"""Set-based inserts and updates for bulk writers (bill runs, the outbox).

A bill run writes hundreds of thousands of lines and ledger entries; building a model
instance per row costs more than the database does, and so does the driver when it quotes
every value into the SQL text (Django binds parameters on the client). So on PostgreSQL:

* rows that need nothing back are streamed with ``COPY`` (one statement however many);
* rows that need ``ON CONFLICT DO NOTHING`` or ``RETURNING`` go as one array per column,
  ``INSERT … SELECT * FROM unnest(…)``, bound on the server in binary.

``assign_unset`` updates many rows to values of their own in one statement, from the same
arrays (``UPDATE … FROM unnest(…)``).

SQLite gets multi-row ``VALUES``. Values are adapted the way the model's fields adapt them,
so rows read back exactly as ORM-written ones. Everything runs on Django's connection,
inside its transaction.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

from django.db import connection, models
from psycopg.types.datetime import TimestamptzLoader

# Below SQLite's 32,766 bound parameters per statement.
MAX_PARAMETERS = 30_000


def _fields(model: type[models.Model], columns: Sequence[str]) -> list[models.Field]:
    return [model._meta.get_field(column) for column in columns]


def _adapted(fields: list[models.Field], rows: list[tuple]) -> list[tuple]:
    """Rows as the database driver wants them. psycopg takes dates, times and decimals as
    they are and only JSON needs wrapping; SQLite needs every field's own adaptation."""
    if connection.vendor == "postgresql":
        needs = [isinstance(field, models.JSONField) for field in fields]
    else:
        needs = [True] * len(fields)
    if not any(needs):
        return rows
    return [
        tuple(
            field.get_db_prep_save(value, connection) if need else value
            for value, field, need in zip(row, fields, needs, strict=True)
        )
        for row in rows
    ]


def _names(model, columns) -> tuple[str, str]:
    quote = connection.ops.quote_name
    return quote(model._meta.db_table), ", ".join(map(quote, columns))


def _postgresql_cursor():
    import psycopg  # the PostgreSQL driver, absent from SQLite-only installs

    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)  # binds on the server


def _copy(model, columns, rows: list[tuple]) -> None:
    table, names = _names(model, columns)
    with _postgresql_cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _insert_arrays(model, columns, rows, *, ignore_conflicts, returning) -> list[tuple]:
    table, names = _names(model, columns)
    arrays = ", ".join(f"%b::{field.db_type(connection)}[]" for field in _fields(model, columns))
    sql = f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays})"
    sql += _tail(ignore_conflicts, returning)
    with _postgresql_cursor() as cursor:
        cursor.execute(sql, [list(column) for column in zip(*rows, strict=True)])
        return cursor.fetchall() if returning else []


def _insert_values(model, columns, rows, *, ignore_conflicts, returning) -> list[tuple]:
    table, names = _names(model, columns)
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    sql = f"INSERT INTO {table} ({names}) VALUES {', '.join([row] * len(rows))}"
    sql += _tail(ignore_conflicts, returning)
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for values in rows for value in values])
        return cursor.fetchall() if returning else []


def _tail(ignore_conflicts: bool, returning: Sequence[str]) -> str:
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    if returning:
        tail += f" RETURNING {', '.join(map(connection.ops.quote_name, returning))}"
    return tail


def insert_groups(
    model: type[models.Model],
    columns: Sequence[str],
    groups: Sequence[Sequence[tuple]],
    *,
    ignore_conflicts: bool = False,
    returning: Sequence[str] = (),
) -> list[tuple]:
    """Insert rows given in groups; a group is never split between two statements (the
    entries of one ledger posting must arrive together, see migration 0003). Returns the
    ``returning`` columns of the rows actually inserted."""
    rows = [row for group in groups for row in group]
    if not rows:
        return []
    rows = _adapted(_fields(model, columns), rows)
    if connection.vendor == "postgresql":
        if not ignore_conflicts and not returning:
            _copy(model, columns, rows)
            return []
        return _insert_arrays(
            model, columns, rows, ignore_conflicts=ignore_conflicts, returning=returning
        )
    returned: list[tuple] = []
    per_statement = max(1, MAX_PARAMETERS // len(columns))
    start = 0
    batch: list[tuple] = []
    for group in groups:  # statements are cut only between groups
        if batch and len(batch) + len(group) > per_statement:
            returned += _insert_values(
                model, columns, batch, ignore_conflicts=ignore_conflicts, returning=returning
            )
            batch = []
        batch.extend(rows[start : start + len(group)])
        start += len(group)
    returned += _insert_values(
        model, columns, batch, ignore_conflicts=ignore_conflicts, returning=returning
    )
    return returned


def insert_rows(model, columns, rows, **options) -> list[tuple]:
    """:func:`insert_groups` for rows that may be split anywhere."""
    return insert_groups(model, columns, [[row] for row in rows], **options)


def assign_unset(model, column: str, values: Sequence[tuple[int, int]]) -> int:
    """Set ``column`` of each row ``(pk, value)`` of ``values`` to its value where the column
    is still null; returns how many rows were set (fewer when another writer set some).

    One statement on PostgreSQL however many rows, rather than one ``UPDATE`` per value:
    a bill run marks the calls of each of its invoices.
    """
    if not values:
        return 0
    table, name = _names(model, [column])
    pk = connection.ops.quote_name(model._meta.pk.column)
    assign = (
        f"UPDATE {table} SET {name} = given.value FROM {{given}} "
        f"WHERE {table}.{pk} = given.pk AND {table}.{name} IS NULL"
    )
    if connection.vendor == "postgresql":
        sql = assign.format(given="unnest(%b::bigint[], %b::bigint[]) AS given (pk, value)")
        with _postgresql_cursor() as cursor:
            cursor.execute(sql, [list(ids) for ids in zip(*values, strict=True)])
            return cursor.rowcount
    updated = 0
    per_statement = MAX_PARAMETERS // 2
    with connection.cursor() as cursor:
        for start in range(0, len(values), per_statement):
            batch = values[start : start + per_statement]
            rows = ", ".join(["(%s, %s)"] * len(batch))
            given = f"(SELECT column1 AS pk, column2 AS value FROM (VALUES {rows})) AS given"
            cursor.execute(assign.format(given=given), [value for row in batch for value in row])
            updated += cursor.rowcount
    return updated


class _UtcTimestamptzLoader(TimestamptzLoader):
    """Reads ``timestamptz`` values with the C ``datetime.fromisoformat`` (about 0.3 µs)
    instead of the loader Django registers, which parses in Python and then replaces the
    zone (about 5 µs): a bill run reads half a million of them. Django's connections run
    in UTC, so PostgreSQL writes ``2025-03-01 05:00:00+00`` and the result is the same
    aware datetime. Anything else (another DateStyle, a BC date, infinity) falls back to
    psycopg's own parser, errors included."""

    # Django re-registers its loader on a cursor whose loader's zone differs from its own.
    timezone = UTC

    def load(self, data):
        try:
            return datetime.fromisoformat(bytes(data).decode())
        except ValueError:
            return super().load(data).astimezone(UTC)


def read_timestamps_fast(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: on PostgreSQL in UTC, the faster loader above."""
    if connection.vendor == "postgresql" and connection.timezone == UTC:
        connection.connection.adapters.register_loader("timestamptz", _UtcTimestamptzLoader)
