"""Drop the indexes of six foreign keys that a composite index or unique constraint already
begins with: each was written at every booking (one), notification (two a booking) and
ballot choice (up to five an entry) and never chosen over the composite one.

Only the indexes go: Django's own AlterField would also drop and re-add each foreign key,
checking every row of the largest tables again under lock. The names are those Django gave
the indexes, the same on PostgreSQL and SQLite.
"""

import django.db.models.deletion
from django.db import migrations, models

# Index, table, column; in a comment, what begins with the column.
DROPPED = [
    ("bookings_booking_office_id_8500a522", "bookings_booking", "office_id"),  # booking_office_day
    ("bookings_notification_booking_id_3539f538", "bookings_notification", "booking_id"),  # notification_once_per_change
    ("bookings_notification_group_id_be398f39", "bookings_notification", "group_id"),  # notification_once_per_group_change
    ("bookings_notification_entry_id_318b14aa", "bookings_notification", "entry_id"),  # notification_once_per_entry_change
    ("bookings_entrychoice_entry_id_46741c0c", "bookings_entrychoice", "entry_id"),  # entrychoice_one_per_rank
    ("bookings_entrychoice_release_id_947e7c65", "bookings_entrychoice", "release_id"),  # entrychoice_release_day
]


def foreign_key(to, *, on_delete=django.db.models.deletion.CASCADE, **options):
    return models.ForeignKey(db_index=False, on_delete=on_delete, to=to, **options)


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0026_queue_roles"),
        ("offices", "0007_counters_and_calling"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    [f'DROP INDEX IF EXISTS "{name}"' for name, _table, _column in DROPPED],
                    reverse_sql=[
                        f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")'
                        for name, table, column in DROPPED
                    ],
                )
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="booking",
                    name="office",
                    field=foreign_key(
                        "offices.office",
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="bookings",
                        verbose_name="office",
                    ),
                ),
                migrations.AlterField(
                    model_name="entrychoice",
                    name="entry",
                    field=foreign_key("bookings.entry", related_name="choices"),
                ),
                migrations.AlterField(
                    model_name="entrychoice",
                    name="release",
                    field=foreign_key("bookings.release", related_name="+"),
                ),
                migrations.AlterField(
                    model_name="notification",
                    name="booking",
                    field=foreign_key(
                        "bookings.booking",
                        blank=True,
                        null=True,
                        related_name="notifications",
                        verbose_name="booking",
                    ),
                ),
                migrations.AlterField(
                    model_name="notification",
                    name="entry",
                    field=foreign_key(
                        "bookings.entry",
                        blank=True,
                        null=True,
                        related_name="notifications",
                        verbose_name="ballot entry",
                    ),
                ),
                migrations.AlterField(
                    model_name="notification",
                    name="group",
                    field=foreign_key(
                        "bookings.bookinggroup",
                        blank=True,
                        null=True,
                        related_name="notifications",
                        verbose_name="group",
                    ),
                ),
            ],
        )
    ]
