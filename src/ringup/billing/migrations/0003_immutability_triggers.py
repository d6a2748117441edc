"""PostgreSQL guards below the ORM: issued documents and the ledger cannot be changed or
deleted even with raw SQL, and a ledger posting's entries must sum to zero.

SQLite gets no triggers: the test runner empties its tables with DELETE between tests,
which the triggers would refuse (PostgreSQL's TRUNCATE does not fire them). The ORM guards
(``models/immutable.py``) hold on both.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION billing_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% rows are immutable: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION billing_invoice_guard() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'finalised' THEN
        RAISE EXCEPTION 'finalised invoice % is immutable: % refused', OLD.number, TG_OP
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION billing_invoiceline_guard() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM billing_invoice
               WHERE id = OLD.invoice_id AND status = 'finalised') THEN
        RAISE EXCEPTION 'lines of a finalised invoice are immutable: % refused', TG_OP
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

-- Statement level: one set-based check per INSERT, however many postings it writes.
-- Every posting's entries are inserted in one statement (billing.services.ledger).
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

CREATE TRIGGER billing_invoice_immutable BEFORE UPDATE OR DELETE ON billing_invoice
    FOR EACH ROW EXECUTE FUNCTION billing_invoice_guard();
CREATE TRIGGER billing_invoiceline_immutable BEFORE UPDATE OR DELETE ON billing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION billing_invoiceline_guard();
CREATE TRIGGER billing_creditnote_immutable BEFORE UPDATE OR DELETE ON billing_creditnote
    FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();
CREATE TRIGGER billing_creditnoteline_immutable BEFORE UPDATE OR DELETE
    ON billing_creditnoteline FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();
CREATE TRIGGER billing_payment_immutable BEFORE UPDATE OR DELETE ON billing_payment
    FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();
CREATE TRIGGER billing_posting_immutable BEFORE UPDATE OR DELETE ON billing_posting
    FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();
CREATE TRIGGER billing_entry_immutable BEFORE UPDATE OR DELETE ON billing_entry
    FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();
CREATE TRIGGER billing_entries_balance AFTER INSERT ON billing_entry
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION billing_entries_balance();
"""

DROP = """
DROP TRIGGER IF EXISTS billing_entries_balance ON billing_entry;
DROP TRIGGER IF EXISTS billing_entry_immutable ON billing_entry;
DROP TRIGGER IF EXISTS billing_posting_immutable ON billing_posting;
DROP TRIGGER IF EXISTS billing_payment_immutable ON billing_payment;
DROP TRIGGER IF EXISTS billing_creditnoteline_immutable ON billing_creditnoteline;
DROP TRIGGER IF EXISTS billing_creditnote_immutable ON billing_creditnote;
DROP TRIGGER IF EXISTS billing_invoiceline_immutable ON billing_invoiceline;
DROP TRIGGER IF EXISTS billing_invoice_immutable ON billing_invoice;
DROP FUNCTION IF EXISTS billing_entries_balance();
DROP FUNCTION IF EXISTS billing_invoiceline_guard();
DROP FUNCTION IF EXISTS billing_invoice_guard();
DROP FUNCTION IF EXISTS billing_refuse_change();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_invoices_ledger")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
