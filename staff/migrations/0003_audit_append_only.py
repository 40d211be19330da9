"""The audit log refuses changes in the database itself, not only in the application.

PostgreSQL: UPDATE and DELETE on staff_auditentry raise (TRUNCATE, used by test flushes and a
deliberate purge by the database owner, is not a row operation and still works).
SQLite (development): UPDATE raises; DELETE stays possible because Django's test flush uses it.
"""

from django.db import migrations

PG_UP = """
CREATE OR REPLACE FUNCTION staff_auditentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'staff_auditentry is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER staff_auditentry_no_update_delete
    BEFORE UPDATE OR DELETE ON staff_auditentry
    FOR EACH ROW EXECUTE FUNCTION staff_auditentry_append_only();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS staff_auditentry_no_update_delete ON staff_auditentry;
DROP FUNCTION IF EXISTS staff_auditentry_append_only();
"""
SQLITE_UP = """
CREATE TRIGGER staff_auditentry_no_update BEFORE UPDATE ON staff_auditentry
BEGIN SELECT RAISE(ABORT, 'staff_auditentry is append-only: UPDATE refused'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS staff_auditentry_no_update;"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_UP, params=None)  # (the SQL has a literal %)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DOWN)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("staff", "0002_security")]

    operations = [migrations.RunPython(forwards, backwards)]
