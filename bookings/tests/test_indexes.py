"""The busiest tables keep one index per look-up: a foreign key that an index or a unique
constraint already begins with has no index of its own (migration 0027), on SQLite and
PostgreSQL alike."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from bookings.models import Booking, EntryChoice, Notification

pytestmark = pytest.mark.django_db(transaction=True)

# Each foreign key, and the index or constraint its look-ups go through.
COVERED = [
    (Booking, "office", "booking_office_day"),
    (Notification, "booking", "notification_once_per_change"),
    (Notification, "group", "notification_once_per_group_change"),
    (Notification, "entry", "notification_once_per_entry_change"),
    (EntryChoice, "entry", "entrychoice_one_per_rank"),
    (EntryChoice, "release", "entrychoice_release_day"),
]


def indexes_of(model) -> dict[str, list[str]]:
    """Return each index of the model's table (unique ones included) and its columns."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return {
        name: about["columns"]
        for name, about in found.items()
        if about["index"] or (about["unique"] and not about["primary_key"])
    }


@pytest.mark.parametrize(("model", "field", "covering"), COVERED)
def test_a_foreign_key_is_looked_up_through_the_index_that_begins_with_it(model, field, covering):
    column = model._meta.get_field(field).column
    indexes = indexes_of(model)
    assert indexes[covering][0] == column
    assert [name for name, columns in indexes.items() if columns == [column]] == []


def test_going_back_before_0027_gives_each_foreign_key_its_index_again():
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([("bookings", "0026_queue_roles")])
        for model, field, _covering in COVERED:
            column = model._meta.get_field(field).column
            assert [column] in indexes_of(model).values(), (model.__name__, field)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    for model, field, _covering in COVERED:
        column = model._meta.get_field(field).column
        assert [column] not in indexes_of(model).values()
