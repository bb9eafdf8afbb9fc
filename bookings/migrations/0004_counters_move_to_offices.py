"""Hand the place counters (OfficeDay, WindowDay) to the offices app, rows and permissions kept.

The tables are renamed, not copied; their content types move with them, so the permissions
that groups and users hold (change_officeday lets a supervisor exceed a quota) stay theirs.
offices.0003 takes the models into its state.
"""

from django.db import migrations

COUNTERS = ("officeday", "windowday")


def _move_content_types(apps, source, target):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label=source, model__in=COUNTERS).update(app_label=target)


def forwards(apps, schema_editor):
    _move_content_types(apps, "bookings", "offices")


def backwards(apps, schema_editor):
    _move_content_types(apps, "offices", "bookings")


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0003_booking_office_month_statistics"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name="officeday", table="offices_officeday"),
                migrations.AlterModelTable(name="windowday", table="offices_windowday"),
            ],
            state_operations=[
                migrations.DeleteModel(name="OfficeDay"),
                migrations.DeleteModel(name="WindowDay"),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
