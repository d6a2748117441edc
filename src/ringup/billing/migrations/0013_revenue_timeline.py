"""Per customer, its finalised invoices' issue instants and running totals, kept by
triggers on PostgreSQL (``RevenueTimeline``).

The triggers are per statement: a bill run inserts a chunk of invoices in one statement,
and the customers it touched are rebuilt from their finalised invoices in one more, read
through ``invoice_revenue_by_customer`` alone. Rebuilding rather than appending keeps the
rows right whatever order invoices arrive in (the demo's history, back-dated closings).
Finalised invoices are numbered under the number series' row lock, so two transactions
never finalise at once and each rebuild sees the invoices committed before it.

A TRUNCATE of the invoices (the test runner's flush) empties the timelines with them.
"""

import django.contrib.postgres.fields
import django.db.models.deletion
from django.db import migrations, models

CREATE = """
CREATE TABLE billing_revenuetimeline (
    customer_id bigint PRIMARY KEY,
    issued timestamp with time zone[] NOT NULL,
    running_total numeric[] NOT NULL
);

-- The timelines of ``customers``, rebuilt from their finalised invoices.
CREATE OR REPLACE FUNCTION billing_revenue_timeline_build(customers bigint[]) RETURNS void AS $$
    -- The window's default frame gives invoices issued at the same instant the same
    -- running total, the one after all of them, which is what a search for "the last
    -- issue before t" needs.
    INSERT INTO billing_revenuetimeline AS timeline (customer_id, issued, running_total)
    SELECT customer_id, array_agg(issued_at ORDER BY issued_at),
           array_agg(running ORDER BY issued_at)
    FROM (
        SELECT customer_id, issued_at,
               SUM(total) OVER (PARTITION BY customer_id ORDER BY issued_at) AS running
        FROM billing_invoice
        WHERE status = 'finalised'
          -- A join, not "= ANY (customers)": that is a linear search of the array for
          -- each invoice whenever the planner reads the table instead of its index.
          AND customer_id IN (SELECT unnest(customers))
    ) AS invoices
    GROUP BY customer_id
    ON CONFLICT (customer_id) DO UPDATE
    SET issued = excluded.issued, running_total = excluded.running_total;
$$ LANGUAGE sql;

CREATE OR REPLACE FUNCTION billing_revenue_timeline_rebuild() RETURNS trigger AS $$
BEGIN
    PERFORM billing_revenue_timeline_build(ARRAY(
        SELECT DISTINCT customer_id FROM changed WHERE status = 'finalised'
    ));
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION billing_revenue_timeline_clear() RETURNS trigger AS $$
BEGIN
    DELETE FROM billing_revenuetimeline;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER billing_invoice_timeline_insert AFTER INSERT ON billing_invoice
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION billing_revenue_timeline_rebuild();
CREATE TRIGGER billing_invoice_timeline_update AFTER UPDATE ON billing_invoice
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION billing_revenue_timeline_rebuild();
CREATE TRIGGER billing_invoice_timeline_truncate AFTER TRUNCATE ON billing_invoice
    FOR EACH STATEMENT EXECUTE FUNCTION billing_revenue_timeline_clear();

SELECT billing_revenue_timeline_build(ARRAY(
    SELECT DISTINCT customer_id FROM billing_invoice WHERE status = 'finalised'
));
"""

DROP = """
DROP TRIGGER IF EXISTS billing_invoice_timeline_truncate ON billing_invoice;
DROP TRIGGER IF EXISTS billing_invoice_timeline_update ON billing_invoice;
DROP TRIGGER IF EXISTS billing_invoice_timeline_insert ON billing_invoice;
DROP FUNCTION IF EXISTS billing_revenue_timeline_clear();
DROP FUNCTION IF EXISTS billing_revenue_timeline_rebuild();
DROP FUNCTION IF EXISTS billing_revenue_timeline_build(bigint[]);
DROP TABLE IF EXISTS billing_revenuetimeline;
"""


# SQLite has no arrays: its table stays empty (segments sum the invoices there), and exists
# so that Django's own tools (dumpdata) find every model's table.
CREATE_EMPTY = """
CREATE TABLE billing_revenuetimeline (
    customer_id integer PRIMARY KEY, issued text NOT NULL, running_total text NOT NULL
)
"""


def forwards(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    schema_editor.execute(CREATE if postgresql else CREATE_EMPTY, params=None)


def backwards(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    schema_editor.execute(DROP if postgresql else "DROP TABLE billing_revenuetimeline", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0012_entries_balance_by_statement"),
        ("customers", "0003_customer_user"),
    ]

    operations = [
        migrations.CreateModel(
            name="RevenueTimeline",
            fields=[
                (
                    "customer",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="customers.customer",
                    ),
                ),
                (
                    "issued",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.DateTimeField(), size=None
                    ),
                ),
                (
                    "running_total",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.DecimalField(decimal_places=2, max_digits=30),
                        size=None,
                    ),
                ),
            ],
            options={"db_table": "billing_revenuetimeline", "managed": False},
        ),
        migrations.RunPython(forwards, backwards),
    ]
