"""The reads billing makes of rated calls."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ringup.usage.models import RatedCall
from ringup.usage.selectors import billable_calls

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans")
def test_a_bill_run_reads_only_the_index_of_calls_still_to_bill():
    """The selector's conditions must imply the partial index's: otherwise PostgreSQL
    reads every call of the customers (inbound, billed) from the table to skip most."""
    with CaptureQueriesContext(connection) as queries:
        billable_calls([1, 2], datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC))
    (query,) = queries.captured_queries
    with connection.cursor() as cursor:
        # On a table this small any plan costs the same: leave the partial index the only
        # one that can answer (the test's transaction rolls the DDL back).
        cursor.execute("SET LOCAL enable_seqscan = off")
        for index in connection.introspection.get_constraints(cursor, RatedCall._meta.db_table):
            if index not in {"usage_ratedcall_unbilled", "usage_ratedcall_pkey"}:
                cursor.execute(f'ALTER TABLE usage_ratedcall DROP CONSTRAINT IF EXISTS "{index}"')
                cursor.execute(f'DROP INDEX IF EXISTS "{index}"')
        cursor.execute(f"EXPLAIN {query['sql']}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "usage_ratedcall_unbilled" in plan, plan
