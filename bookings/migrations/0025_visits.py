"""Visits: an applicant's turn at the office after check-in. Applicants checked in on a day not yet
past join their day's queue as waiting; earlier days are left without visits (no waits known)."""

from datetime import UTC, datetime, timedelta

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def queue_checked_in(apps, schema_editor):
    Booking = apps.get_model("bookings", "Booking")
    Visit = apps.get_model("bookings", "Visit")
    since = datetime.now(UTC).date() - timedelta(days=1)  # any office's today, in any zone
    checked_in = Booking.objects.filter(status="checked_in", date__gte=since).exclude(
        queue_number=""
    )
    Visit.objects.bulk_create(
        Visit(
            booking=booking,
            office_id=booking.office_id,
            date=booking.date,
            line=booking.queue_number[0],
            queued_at=max(booking.starts_at, booking.checked_in_at)
            if booking.queue_number[0] == "A"
            else booking.checked_in_at,
        )
        for booking in checked_in.exclude(checked_in_at=None).iterator()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0024_release_records_lz4"),
        ("offices", "0007_counters_and_calling"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Visit",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("date", models.DateField(verbose_name="date")),
                (
                    "line",
                    models.CharField(
                        choices=[("A", "Booked online"), ("B", "Walk-in"), ("P", "Priority")],
                        max_length=1,
                        verbose_name="line",
                    ),
                ),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("waiting", "Waiting"),
                            ("called", "Called"),
                            ("serving", "Being served"),
                            ("done", "Finished"),
                            ("missed", "Did not answer"),
                        ],
                        default="waiting",
                        max_length=8,
                        verbose_name="state",
                    ),
                ),
                ("queued_at", models.DateTimeField(verbose_name="in the queue from")),
                ("calls", models.PositiveSmallIntegerField(default=0, verbose_name="calls")),
                ("skips", models.PositiveSmallIntegerField(default=0, verbose_name="skips")),
                (
                    "called_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="first called"),
                ),
                (
                    "last_called_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="last called"),
                ),
                (
                    "serving_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="service started"),
                ),
                (
                    "finished_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="finished"),
                ),
                (
                    "booking",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="visit",
                        to="bookings.booking",
                        verbose_name="booking",
                    ),
                ),
                (
                    "called_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="called by",
                    ),
                ),
                (
                    "counter",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="visits",
                        to="offices.counter",
                        verbose_name="counter",
                    ),
                ),
                (
                    "office",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="visits",
                        to="offices.office",
                        verbose_name="office",
                    ),
                ),
            ],
            options={
                "verbose_name": "visit",
                "verbose_name_plural": "visits",
                "ordering": ["date", "queued_at"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("state", "waiting")),
                        fields=["office", "date", "line", "queued_at"],
                        name="visit_waiting",
                    ),
                    models.Index(fields=["office", "date", "last_called_at"], name="visit_calls"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("state__in", ["called", "serving"])),
                        fields=("counter",),
                        name="visit_one_per_counter",
                        violation_error_message="This counter is already serving an applicant.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("state", "waiting"), ("called_at__isnull", False), _connector="OR"
                        ),
                        name="visit_called_has_time",
                    ),
                ],
            },
        ),
        migrations.RunPython(queue_checked_in, migrations.RunPython.noop),
    ]
