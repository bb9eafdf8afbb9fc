"""Let office staff close their offices' days that hold bookings (add_closure) and see the
closures and the moves; supervisors close many offices at once (add_outage) and see every
closure. Running it again adds what is missing."""

from importlib import import_module

from django.db import migrations

roles = import_module("bookings.migrations.0002_roles")

CLOSURE_ROLES = {
    roles.OFFICE_STAFF: ["view_closure", "add_closure", "view_closuremove"],
    roles.SUPERVISOR: ["view_closure", "view_closuremove", "view_outage", "add_outage"],
}


def add_roles(apps, schema_editor):
    roles.grant(apps, CLOSURE_ROLES)


class Migration(migrations.Migration):
    dependencies = [("bookings", "0021_closures")]

    operations = [migrations.RunPython(add_roles, migrations.RunPython.noop)]
