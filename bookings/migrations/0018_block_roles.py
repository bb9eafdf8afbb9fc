"""Let office staff set, change and end blocks at their offices, and supervisors see every
one. Running it again adds what is missing."""

from importlib import import_module

from django.db import migrations

roles = import_module("bookings.migrations.0002_roles")

BLOCK_ROLES = {
    roles.OFFICE_STAFF: ["view_block", "add_block", "change_block", "delete_block"],
    roles.SUPERVISOR: ["view_block"],
}


def add_roles(apps, schema_editor):
    roles.grant(apps, BLOCK_ROLES)


class Migration(migrations.Migration):
    dependencies = [("bookings", "0017_blocks")]

    operations = [migrations.RunPython(add_roles, migrations.RunPython.noop)]
