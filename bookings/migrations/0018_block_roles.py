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
    roles._ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in BLOCK_ROLES.items():
        group, _created = Group.objects.get_or_create(name=name)
        permissions = list(
            Permission.objects.filter(content_type__app_label="bookings", codename__in=codenames)
        )
        if len(permissions) != len(codenames):
            raise RuntimeError(f"Permissions not found for {name}: {codenames}")
        group.permissions.add(*permissions)


class Migration(migrations.Migration):
    dependencies = [("bookings", "0017_blocks")]

    operations = [migrations.RunPython(add_roles, migrations.RunPython.noop)]
