"""Which database rule an IntegrityError broke, told by the constraint's name, never its text."""

import re

from django.db import IntegrityError

from .models import Booking, BookingGroup, EntryApplicant

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


# The tables whose unique constraints the services tell apart on SQLite.
_MODELS = {model._meta.db_table: model for model in (Booking, BookingGroup, EntryApplicant)}


def violated_constraint(exc: IntegrityError) -> str:
    """Return the name of the constraint `exc` reports (on SQLite: on a bookings table), or ""."""
    diag = getattr(exc.__cause__, "diag", None)
    if diag is not None:
        return diag.constraint_name or ""
    checked = _SQLITE_CHECK.search(str(exc))
    if checked is not None:
        return checked["name"]
    found = _SQLITE_UNIQUE.search(str(exc))
    if found is None:
        return ""
    qualified = [column.strip().partition(".") for column in found["columns"].split(",")]
    model = _MODELS.get(qualified[0][0])
    if model is None:
        return ""
    return _unique_names(model).get(frozenset(column for _t, _dot, column in qualified), "")


NIK_HELD = "booking_one_active_per_nik"
CODE_TAKEN = f"{Booking._meta.db_table}_code_key"
GROUP_CODE_TAKEN = f"{BookingGroup._meta.db_table}_code_key"
