"""Take the place counters into this app's state: bookings.0004 renamed their tables."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("offices", "0002_passport_fees"),
        ("bookings", "0004_counters_move_to_offices"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="OfficeDay",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("date", models.DateField(verbose_name="date")),
                        ("quota", models.PositiveIntegerField(verbose_name="daily quota")),
                        ("online_quota", models.PositiveIntegerField(verbose_name="online quota")),
                        ("booked", models.PositiveIntegerField(default=0, verbose_name="booked")),
                        ("online_booked", models.PositiveIntegerField(default=0, verbose_name="booked outside the reserve")),
                        ("last_queue_a", models.PositiveIntegerField(default=0)),
                        ("last_queue_b", models.PositiveIntegerField(default=0)),
                        ("last_queue_p", models.PositiveIntegerField(default=0)),
                        ("office", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="days", to="offices.office")),
                    ],
                    options={
                        "verbose_name": "office day",
                        "verbose_name_plural": "office days",
                        "ordering": ["office", "date"],
                        "constraints": [
                            models.UniqueConstraint(fields=("office", "date"), name="officeday_unique"),
                            models.CheckConstraint(condition=models.Q(("booked__lte", models.F("quota"))), name="officeday_within_quota"),
                            models.CheckConstraint(condition=models.Q(("online_booked__lte", models.F("online_quota"))), name="officeday_within_online_quota"),
                            models.CheckConstraint(condition=models.Q(("online_quota__lte", models.F("quota"))), name="officeday_online_within_quota"),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="WindowDay",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("date", models.DateField(verbose_name="date")),
                        ("capacity", models.PositiveIntegerField(verbose_name="capacity")),
                        ("booked", models.PositiveIntegerField(default=0, verbose_name="booked")),
                        ("window", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="days", to="offices.servicewindow")),
                    ],
                    options={
                        "verbose_name": "window day",
                        "verbose_name_plural": "window days",
                        "ordering": ["date", "window"],
                        "constraints": [
                            models.UniqueConstraint(fields=("window", "date"), name="windowday_unique"),
                            models.CheckConstraint(condition=models.Q(("booked__lte", models.F("capacity"))), name="windowday_within_capacity"),
                        ],
                    },
                ),
            ],
        ),
    ]
