"""The staff roles the data migration creates, and what each lets a user do."""

import importlib

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from bookings.services import can_exceed_quota
from bookings.tests.staff import make_user
from offices.access import OFFICE_STAFF_GROUP, SUPERVISOR_GROUP

pytestmark = pytest.mark.django_db

roles = importlib.import_module("bookings.migrations.0002_roles")


def _codenames(name):
    group = Group.objects.get(name=name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


def test_the_migration_creates_both_groups_with_their_permissions():
    for name, by_app in roles.ROLES.items():
        expected = {
            f"{app}.{codename}" for app, codenames in by_app.items() for codename in codenames
        }
        assert _codenames(name) == expected
    assert roles.OFFICE_STAFF == OFFICE_STAFF_GROUP
    assert roles.SUPERVISOR == SUPERVISOR_GROUP


def test_supervisors_read_and_only_exceed_quotas():
    writes = {p for p in _codenames(SUPERVISOR_GROUP) if not p.split(".")[1].startswith("view_")}
    assert writes == {"bookings.add_booking", "bookings.change_officeday"}


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
    executor = MigrationExecutor(connection)
    state = executor.loader.project_state(("bookings", "0002_roles"))
    roles.create_roles(state.apps, None)
    assert Group.objects.filter(name__in=roles.ROLES).count() == 2
    assert {name: _codenames(name) for name in roles.ROLES} == before


def test_the_migration_creates_permissions_missing_on_a_new_database():
    from django.contrib.auth.models import Permission

    Permission.objects.filter(codename="view_dayoverride").delete()
    executor = MigrationExecutor(connection)
    state = executor.loader.project_state(("bookings", "0002_roles"))
    roles.create_roles(state.apps, None)
    assert "offices.view_dayoverride" in _codenames(OFFICE_STAFF_GROUP)
    assert "offices.view_dayoverride" in _codenames(SUPERVISOR_GROUP)
