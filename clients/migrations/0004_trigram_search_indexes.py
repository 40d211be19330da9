"""Trigram (pg_trgm) GIN indexes for the client search, on PostgreSQL only.

`icontains` compiles to `UPPER(col::text) LIKE UPPER('%q%')` on PostgreSQL, so the text
columns are indexed on UPPER(col); `contains` (phone digits, upper-case serial numbers) is a
plain LIKE, so those are indexed as they are. On SQLite this migration does nothing, so the
same migrations run everywhere.

`fastupdate = off`: with it on, rows inserted since the last VACUUM wait in a pending list that
every search scans in full — after a 10,000-client import, searches were 4x slower until
autovacuum ran. Inserts pay a little more instead (see docs/clients.md). Creating the extension needs a role allowed to do so (the
database owner on PostgreSQL 13+, since pg_trgm is a trusted extension).
"""

from django.db import migrations

INDEXES = [
    ("client_name_trgm", "clients_client", "UPPER(name)"),
    ("client_company_trgm", "clients_client", "UPPER(company_name)"),
    ("client_email_trgm", "clients_client", "UPPER(email)"),
    ("client_street_trgm", "clients_client", "UPPER(billing_street)"),
    ("client_phone_trgm", "clients_client", "phone"),
    ("location_street_trgm", "clients_servicelocation", "UPPER(street)"),
    ("equipment_serial_trgm", "clients_equipment", "serial_number"),
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, expression in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
            f"USING gin (({expression}) gin_trgm_ops) WITH (fastupdate = off)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ("clients", "0003_interactions_tasks_imports"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
