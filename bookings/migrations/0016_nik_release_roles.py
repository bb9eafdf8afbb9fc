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
    roles._ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in NIK_RELEASE_ROLES.items():
        group, _created = Group.objects.get_or_create(name=name)
        permissions = list(
            Permission.objects.filter(content_type__app_label="bookings", codename__in=codenames)
        )
        if len(permissions) != len(codenames):
            raise RuntimeError(f"Permissions not found for {name}: {codenames}")
        group.permissions.add(*permissions)


class Migration(migrations.Migration):
    dependencies = [("bookings", "0015_nik_releases")]

    operations = [migrations.RunPython(add_roles, migrations.RunPython.noop)]
