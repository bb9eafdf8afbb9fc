"""Compress a release's published records with LZ4 on PostgreSQL, not the default pglz.

A drawn release of 800 entries holds ~120 kB of list and ~100 kB of outcome. Written with
pglz its outcome took 4.6 ms to save and 1.7 ms to read back; with LZ4 1.4 and 0.9 ms
(bench/RESULTS.md, issue 15). A PostgreSQL built without LZ4 keeps pglz. Values written
from now on are compressed so.
"""

from django.db import DatabaseError, migrations, transaction

COLUMNS = ("entries_list", "places", "outcome")


def compression(method):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(apps.get_model("bookings", "Release")._meta.db_table)
        try:
            with transaction.atomic(using=schema_editor.connection.alias):
                for column in COLUMNS:
                    schema_editor.execute(
                        f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {method}"
                    )
        except DatabaseError:  # built without LZ4: "compression method lz4 not supported"
            pass

    return apply


class Migration(migrations.Migration):
    dependencies = [("bookings", "0023_entry_written_in_place")]

    operations = [migrations.RunPython(compression("lz4"), compression("pglz"))]
