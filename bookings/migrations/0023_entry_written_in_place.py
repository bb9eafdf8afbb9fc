"""Let the draw rewrite a release's entries in place: fewer indexes, room on each page.

The draw sets every entry's outcome (status, booking, preference met or waiting position)
in one UPDATE. That cost ~25 ms for 800 entries because each new row version went to
another page and into all seven of the table's indexes. Now none of the columns the draw
sets is indexed (nothing looks an entry up by its booking), the code and the receipt are
unique by constraint without the LIKE indexes unique=True adds on PostgreSQL, and pages are
filled half (each entry is rewritten about once), so PostgreSQL updates the rows where they
are, their indexes untouched (heap-only tuples): ~8 ms (bench/RESULTS.md, issue 15). The
fill factor applies to pages written from now on.
"""

import django.db.models.deletion
from django.db import migrations, models

ENTRY_TABLE = "bookings_entry"
HALF = 50
FULL = 100


def fill_factor(percent):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE {ENTRY_TABLE} SET (fillfactor = {percent})")

    return apply


class Migration(migrations.Migration):
    dependencies = [("bookings", "0022_closure_roles")]

    operations = [
        migrations.AddConstraint(
            model_name="entry",
            constraint=models.UniqueConstraint(fields=("code",), name="entry_code_unique"),
        ),
        migrations.AddConstraint(
            model_name="entry",
            constraint=models.UniqueConstraint(fields=("receipt",), name="entry_receipt_unique"),
        ),
        migrations.AlterField(
            model_name="entry",
            name="booking",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="bookings.booking",
                verbose_name="booking",
            ),
        ),
        migrations.AlterField(
            model_name="entry",
            name="code",
            field=models.CharField(max_length=12, verbose_name="entry code"),
        ),
        migrations.AlterField(
            model_name="entry",
            name="receipt",
            field=models.CharField(max_length=64, verbose_name="receipt"),
        ),
        migrations.RunPython(fill_factor(HALF), fill_factor(FULL)),
    ]
