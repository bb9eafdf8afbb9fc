"""Give the staff roles their part in ballot releases.

Office staff set their offices' release schedules and see their releases and entries.
Supervisors see every office's, type in a release's public value and start a late draw
(change_release), the one thing of a release anyone types. Running it again adds what is
missing and removes nothing.
"""

from importlib import import_module

from django.db import migrations

roles = import_module("bookings.migrations.0002_roles")

RELEASE_ROLES = {
    roles.OFFICE_STAFF: [
        "view_releaseschedule",
        "add_releaseschedule",
        "change_releaseschedule",
        "delete_releaseschedule",
        "view_release",
        "view_entry",
    ],
    roles.SUPERVISOR: [
        "view_releaseschedule",
        "view_release",
        "change_release",
        "view_entry",
    ],
}


def add_release_roles(apps, schema_editor):
    roles.grant(apps, RELEASE_ROLES)


class Migration(migrations.Migration):
    dependencies = [("bookings", "0011_release_schedules")]

    operations = [migrations.RunPython(add_release_roles, migrations.RunPython.noop)]
