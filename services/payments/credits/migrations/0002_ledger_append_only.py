"""Database triggers that refuse to change or remove a ledger entry, whatever code runs.

PostgreSQL refuses UPDATE and DELETE. SQLite (development only) refuses UPDATE; it keeps
DELETE because Django empties SQLite tables with DELETE between tests; on PostgreSQL the
test suites' flush (`oasis_common.postgresql_for_tests`) turns the table's own triggers off
for its DELETE. The model refuses both on every database.
"""

from django.db import migrations

POSTGRES_CREATE = """
CREATE OR REPLACE FUNCTION credits_ledger_entry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only: % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER credits_ledger_entry_append_only
    BEFORE UPDATE OR DELETE ON credits_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION credits_ledger_entry_append_only();
"""
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS credits_ledger_entry_append_only ON credits_ledgerentry;
DROP FUNCTION IF EXISTS credits_ledger_entry_append_only();
"""
SQLITE_CREATE = """
CREATE TRIGGER credits_ledger_entry_no_update BEFORE UPDATE ON credits_ledgerentry
BEGIN
    SELECT RAISE(ABORT, 'ledger entries are append-only: UPDATE refused');
END;
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS credits_ledger_entry_no_update;"


def create(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRES_CREATE, "sqlite": SQLITE_CREATE})


def drop(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRES_DROP, "sqlite": SQLITE_DROP})


def _run(schema_editor, statements):
    sql = statements.get(schema_editor.connection.vendor)
    if sql:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("credits", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
