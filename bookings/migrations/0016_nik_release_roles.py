"""Let office staff and supervisors see the NIKs released at counters (office staff: those
of their offices, as the admin scopes them). Running it again adds what is missing."""

from importlib import import_module

from django.db import migrations

roles = import_module("bookings.migrations.0002_roles")

NIK_RELEASE_ROLES = {
    roles.OFFICE_STAFF: ["view_nikrelease"],
    roles.SUPERVISOR: ["view_nikrelease"],
}


def add_roles(apps, schema_editor):
    roles.grant(apps, NIK_RELEASE_ROLES)


class Migration(migrations.Migration):
    dependencies = [("bookings", "0015_nik_releases")]

    operations = [migrations.RunPython(add_roles, migrations.RunPython.noop)]
