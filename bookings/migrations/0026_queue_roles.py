"""Let office staff set their offices' counters and see the visits; supervisors see both.
Running it again adds what is missing."""

from importlib import import_module

from django.db import migrations

roles = import_module("bookings.migrations.0002_roles")

QUEUE_ROLES = {
    roles.OFFICE_STAFF: {
        "offices": ["view_counter", "add_counter", "change_counter", "delete_counter"],
        "bookings": ["view_visit"],
    },
    roles.SUPERVISOR: {"offices": ["view_counter"], "bookings": ["view_visit"]},
}


def add_roles(apps, schema_editor):
    roles.grant(apps, {name: apps_perms["bookings"] for name, apps_perms in QUEUE_ROLES.items()})
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, apps_perms in QUEUE_ROLES.items():
        codenames = apps_perms["offices"]
        permissions = list(
            Permission.objects.filter(content_type__app_label="offices", codename__in=codenames)
        )
        if len(permissions) != len(codenames):
            raise RuntimeError(f"Permissions not found for {name}: {codenames}")
        Group.objects.get(name=name).permissions.add(*permissions)


class Migration(migrations.Migration):
    dependencies = [("bookings", "0025_visits")]

    operations = [migrations.RunPython(add_roles, migrations.RunPython.noop)]
