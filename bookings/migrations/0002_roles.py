"""Create the staff roles: "Office staff" and "Supervisor", with their permissions.

Office staff change their offices' quotas, windows and day overrides, register walk-ins,
check applicants in and send messages again; which offices is decided by Office.staff.
Supervisors read every office. Their only writes: exceeding a full day's quota for a
walk-in (change_officeday, as bookings.services.can_exceed_quota asks) and the walk-in
page that does it (add_booking). Running it again adds what is missing and removes nothing.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

OFFICE_STAFF = "Office staff"
SUPERVISOR = "Supervisor"

ROLES = {
    OFFICE_STAFF: {
        "offices": [
            "view_office",
            "change_office",
            "view_servicewindow",
            "add_servicewindow",
            "change_servicewindow",
            "delete_servicewindow",
            "view_dayoverride",
            "add_dayoverride",
            "change_dayoverride",
            "delete_dayoverride",
            "view_passportfee",
        ],
        "bookings": [
            "view_booking",
            "add_booking",
            "change_booking",
            "view_notification",
            "change_notification",
        ],
    },
    SUPERVISOR: {
        "offices": [
            "view_office",
            "view_servicewindow",
            "view_dayoverride",
            "view_passportfee",
        ],
        "bookings": [
            "view_booking",
            "add_booking",
            "view_notification",
            "view_officeday",
            "change_officeday",
            "view_windowday",
        ],
    },
}


def _ensure_permissions(apps):
    """Create the apps' permissions now: on a new database they come only after migrate."""
    for label in ("auth", "contenttypes", "offices", "bookings"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None


def grant(apps, by_role: dict) -> None:
    """Give each role {name: [bookings codenames]} these permissions (for later migrations)."""
    _ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in by_role.items():
        group, _created = Group.objects.get_or_create(name=name)
        permissions = list(
            Permission.objects.filter(content_type__app_label="bookings", codename__in=codenames)
        )
        missing = set(codenames) - {p.codename for p in permissions}
        if missing:
            raise RuntimeError(f"Permissions not found for {name}: {sorted(missing)}")
        group.permissions.add(*permissions)


def create_roles(apps, schema_editor):
    _ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, by_app in ROLES.items():
        group, _created = Group.objects.get_or_create(name=name)
        for app_label, codenames in by_app.items():
            permissions = list(
                Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
            )
            missing = set(codenames) - {p.codename for p in permissions}
            if missing:
                raise RuntimeError(f"Permissions not found for {name}: {sorted(missing)}")
            group.permissions.add(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("offices", "0002_passport_fees"),
        ("bookings", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
