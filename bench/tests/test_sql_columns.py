"""The bench's own INSERTs name every column the app's tables require: a new one fails here."""

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.db.models.fields import NOT_PROVIDED

from bench.floor_site import views as floor_views

SQL = Path(__file__).resolve().parent.parent / "sql"
INSERT = re.compile(r"INSERT INTO (\w+)\s*\(([^)]*)\)", re.IGNORECASE)


def _inserts():
    for path in sorted(SQL.glob("*.sql")):
        for table, columns in INSERT.findall(path.read_text(encoding="utf-8")):
            names = {name.strip().strip(chr(34)) for name in columns.split(",")}  # "end"
            yield pytest.param(table, names, id=f"{path.name}:{table}")
    for table, columns in INSERT.findall(floor_views.INSERT_BOOKING):
        names = {name.strip() for name in columns.split(",")}
        yield pytest.param(table, names, id=f"floor_site/views.py:{table}")


def _required(table) -> set:
    model = next(m for m in apps.get_models() if m._meta.db_table == table)
    return {
        field.column
        for field in model._meta.concrete_fields
        if not field.null and not field.primary_key and field.db_default is NOT_PROVIDED
    }


@pytest.mark.parametrize(("table", "columns"), list(_inserts()))
def test_every_required_column_is_named(table, columns):
    assert _required(table) <= columns
