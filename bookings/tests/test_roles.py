"""The staff roles the data migration creates, and what each lets a user do."""

import importlib
from contextlib import contextmanager

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from bookings.services import can_exceed_quota
from bookings.tests.factories import make_user
from offices.access import OFFICE_STAFF_GROUP, SUPERVISOR_GROUP

pytestmark = pytest.mark.django_db

roles = importlib.import_module("bookings.migrations.0002_roles")
move = importlib.import_module("bookings.migrations.0004_counters_move_to_offices")
release_roles = importlib.import_module("bookings.migrations.0012_release_roles")
nik_release_roles = importlib.import_module("bookings.migrations.0016_nik_release_roles")
block_roles = importlib.import_module("bookings.migrations.0018_block_roles")
closure_roles = importlib.import_module("bookings.migrations.0022_closure_roles")
queue_roles = importlib.import_module("bookings.migrations.0026_queue_roles")


def _now_at(app, codename):
    """Return where a permission of 0002 lives now: the counters' moved to offices in 0004."""
    moved = any(codename.endswith(f"_{model}") for model in move.COUNTERS)
    return f"{'offices' if moved else app}.{codename}"


@contextmanager
def as_at_0002():
    """Run code as 0002 saw the database: the counters' content types still in bookings."""
    move.backwards(django_apps, None)
    try:
        yield MigrationExecutor(connection).loader.project_state(("bookings", "0002_roles")).apps
    finally:
        move.forwards(django_apps, None)


def _codenames(name):
    group = Group.objects.get(name=name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


def test_the_migrations_create_both_groups_with_their_permissions():
    for name, by_app in roles.ROLES.items():
        expected = {
            _now_at(app, codename) for app, codenames in by_app.items() for codename in codenames
        }
        expected |= {f"bookings.{codename}" for codename in release_roles.RELEASE_ROLES[name]}
        expected |= {f"bookings.{c}" for c in nik_release_roles.NIK_RELEASE_ROLES[name]}
        expected |= {f"bookings.{c}" for c in block_roles.BLOCK_ROLES[name]}
        expected |= {f"bookings.{c}" for c in closure_roles.CLOSURE_ROLES[name]}
        expected |= {f"{app}.{c}" for app, cs in queue_roles.QUEUE_ROLES[name].items() for c in cs}
        assert _codenames(name) == expected
    assert roles.OFFICE_STAFF == OFFICE_STAFF_GROUP
    assert roles.SUPERVISOR == SUPERVISOR_GROUP


def test_supervisors_read_exceed_quotas_type_a_public_value_and_close_many_offices():
    writes = {p for p in _codenames(SUPERVISOR_GROUP) if not p.split(".")[1].startswith("view_")}
    assert writes == {
        "bookings.add_booking",
        "offices.change_officeday",
        "bookings.change_release",
        "bookings.add_outage",
    }


def test_office_staff_change_their_plan_and_bookings_but_not_offices_or_fees():
    permissions = _codenames(OFFICE_STAFF_GROUP)
    assert {"offices.change_office", "offices.add_dayoverride", "bookings.change_booking"} <= (
        permissions
    )
    assert not {"offices.add_office", "offices.delete_office", "offices.change_passportfee"} & (
        permissions
    )
    assert "bookings.delete_booking" not in permissions


def test_only_supervisors_may_exceed_a_full_day():
    clerk = make_user("clerk", group=OFFICE_STAFF_GROUP)
    supervisor = make_user("boss", group=SUPERVISOR_GROUP)
    assert not can_exceed_quota(clerk)
    assert can_exceed_quota(supervisor)


def test_running_the_migration_again_changes_nothing():
    before = {name: _codenames(name) for name in roles.ROLES}
    with as_at_0002() as apps:
        roles.create_roles(apps, None)
    assert Group.objects.filter(name__in=roles.ROLES).count() == 2
    assert {name: _codenames(name) for name in roles.ROLES} == before


def test_the_migration_creates_permissions_missing_on_a_new_database():
    from django.contrib.auth.models import Permission

    Permission.objects.filter(codename="view_dayoverride").delete()
    with as_at_0002() as apps:
        roles.create_roles(apps, None)
    assert "offices.view_dayoverride" in _codenames(OFFICE_STAFF_GROUP)
    assert "offices.view_dayoverride" in _codenames(SUPERVISOR_GROUP)
