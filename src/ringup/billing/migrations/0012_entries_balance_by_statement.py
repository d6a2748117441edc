"""The ledger's balance check reads only the entries a statement inserted.

Every posting's entries are inserted in one statement and entries never change, so if
each statement's entries balance per posting, every posting balances: checking the
inserted rows alone is the same guarantee. The check it replaces summed each posting's
entries again from the table, which the planner answered by scanning the whole table
for every chunk of a bill run.
"""

from django.db import migrations

BY_STATEMENT = """
CREATE OR REPLACE FUNCTION billing_entries_balance() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM inserted GROUP BY posting_id HAVING SUM(amount) <> 0
    ) THEN
        RAISE EXCEPTION 'a ledger posting does not balance' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
"""

FROM_TABLE = """
CREATE OR REPLACE FUNCTION billing_entries_balance() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM billing_entry
        WHERE posting_id IN (SELECT DISTINCT posting_id FROM inserted)
        GROUP BY posting_id HAVING SUM(amount) <> 0
    ) THEN
        RAISE EXCEPTION 'a ledger posting does not balance' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BY_STATEMENT, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FROM_TABLE, params=None)


class Migration(migrations.Migration):
    dependencies = [("billing", "0011_minimum_usage")]

    operations = [migrations.RunPython(forwards, backwards)]
