"""Which database rule an IntegrityError broke, told by the constraint's name, never its text."""

import re

from django.db import IntegrityError

from .models import Booking

# PostgreSQL names the constraint (psycopg2's diag); SQLite names a CHECK, and for UNIQUE
# only the columns.
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (?P<columns>.+)$")
_SQLITE_CHECK = re.compile(r"CHECK constraint failed: (?P<name>\w+)$")


def _unique_names(model) -> dict[frozenset, str]:
    """Return {columns: constraint name} of a model's unique constraints and unique fields."""
    meta = model._meta
    names = {
        frozenset(meta.get_field(name).column for name in constraint.fields): constraint.name
        for constraint in meta.constraints
        if getattr(constraint, "fields", None)
    }
    for field in meta.concrete_fields:
        if field.unique and not field.primary_key:
            # PostgreSQL's own name for a column's UNIQUE: <table>_<column>_key.
            names[frozenset({field.column})] = f"{meta.db_table}_{field.column}_key"
    return names


def violated_constraint(exc: IntegrityError, model=Booking) -> str:
    """Return the name of the constraint `exc` reports on `model`'s table, or ""."""
    diag = getattr(exc.__cause__, "diag", None)
    if diag is not None:
        return diag.constraint_name or ""
    checked = _SQLITE_CHECK.search(str(exc))
    if checked is not None:
        return checked["name"]
    found = _SQLITE_UNIQUE.search(str(exc))
    if found is None:
        return ""
    table = model._meta.db_table
    columns = frozenset(
        column.strip().removeprefix(f"{table}.") for column in found["columns"].split(",")
    )
    return _unique_names(model).get(columns, "")


NIK_HELD = "booking_one_active_per_nik"
CODE_TAKEN = f"{Booking._meta.db_table}_code_key"
