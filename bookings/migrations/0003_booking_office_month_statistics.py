"""Tell PostgreSQL how many office-months the bookings hold, so the monthly counts hash them.

Without it the planner guesses ~91,000 groups for (office, month) instead of 125 × 12 and
sorts a million rows on disk (EXPLAIN ANALYZE in bench/RESULTS.md).
"""

from django.db import migrations

CREATE = (
    "CREATE STATISTICS IF NOT EXISTS booking_office_month (ndistinct) "
    "ON office_id, (extract(month FROM date)) FROM bookings_booking"
)
DROP = "DROP STATISTICS IF EXISTS booking_office_month"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("bookings", "0002_roles")]

    operations = [migrations.RunPython(create, drop)]
