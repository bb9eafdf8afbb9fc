"""Set-based writes of many rows: the rows a caller computes, joined to what the database holds.

A draw writes tens of thousands of bookings and messages; building a model object per row
costs many times what the database spends writing it. Here the values only the caller
knows (a fresh code, an id, a day) travel as a table `given`, and one `INSERT … SELECT` or
`UPDATE … FROM` per batch joins them to the rows they complete. Every column the caller
does not compute is written as a save would write it, from an unsaved model object, so a
field added to the model later is filled by its default here too.

On PostgreSQL `given` is `unnest` over one array literal per column: 1,000 rows of eight
columns as VALUES took 17 ms to send (a parameter each, each adapted by the driver and
parsed by the server), as arrays 5 ms. On SQLite (3.35 and later) it is VALUES.
"""

from collections.abc import Iterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache

from django.db import connection

# Rows per statement where the database does not limit parameters (PostgreSQL).
ROWS_PER_BATCH = 5000
# Parameters a statement keeps for its constant columns beside the given rows' values.
CONSTANT_PARAMS = 100


def _batches(rows: Sequence[Sequence], width: int) -> Iterator[Sequence[Sequence]]:
    limit = connection.features.max_query_params
    size = max(1, (limit - CONSTANT_PARAMS) // width) if limit else ROWS_PER_BATCH
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _given(names: Sequence[str], rows: Sequence[Sequence]) -> tuple[str, list]:
    # The rows as a FROM item named given(names), and its parameters.
    columns = ", ".join(names)
    if connection.vendor == "postgresql":
        arrays = [_array(values) for values in zip(*rows, strict=True)]
        typed = ", ".join(f"%s::{kind}" for kind, _literal in arrays)
        return f"unnest({typed}) AS given({columns})", [literal for _kind, literal in arrays]
    row = "(" + ", ".join(["%s"] * len(names)) + ")"
    # A subquery, not a WITH clause: SQLite's driver counts the rows of a statement only
    # when it begins with UPDATE. VALUES names its columns column1, ….
    named = ", ".join(f"column{n} AS {name}" for n, name in enumerate(names, 1))
    sql = f"(SELECT {named} FROM (VALUES {', '.join([row] * len(rows))}) AS v) AS given"  # noqa: S608
    return sql, [value for values in rows for value in values]


def _quoted(value) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


# PostgreSQL's array type for a column of given values by their Python type, and how an
# element is spelled in its literal (bool before int: True is an int too). Anything else,
# or a column of None only, is text, each element quoted.
_ARRAY_TYPES = (
    (bool, "boolean", lambda value: "t" if value else "f"),
    (int, "bigint", str),
    (float, "double precision", repr),
    (Decimal, "numeric", str),
    (datetime, "timestamptz", datetime.isoformat),
    (date, "date", date.isoformat),
    (time, "time", time.isoformat),
)


def _array(values) -> tuple[str, str]:
    # A column's array type and its literal '{…}', NULL bare.
    sample = next((value for value in values if value is not None), None)
    name, spell = next(
        ((name, spell) for kind, name, spell in _ARRAY_TYPES if isinstance(sample, kind)),
        ("text", _quoted),
    )
    if isinstance(sample, date | time):
        # Few distinct days and times among many rows (a draw's slots): each spelled once.
        spelled = {value: spell(value) for value in set(values) - {None}}
        spell = spelled.__getitem__
    return f"{name}[]", "{" + ",".join("NULL" if v is None else spell(v) for v in values) + "}"


def prepared(model, field_name: str, value):
    """Return a value as the database stores it in this model field, for a given row."""
    return model._meta.get_field(field_name).get_db_prep_save(value, connection)


def cast(model, field_name: str, expression: str) -> str:
    """Return an SQL expression of `given` as the column type of a model field.

    On PostgreSQL a column of `given` is text when its values are all None; SQLite stores
    what it is given, and its CAST would turn a date into a number.
    """
    if connection.vendor == "sqlite":
        return expression
    return f"CAST({expression} AS {model._meta.get_field(field_name).db_type(connection)})"


def insert_select(
    model,
    *,
    prototype,
    selected: dict[str, str],
    source: str,
    names: Sequence[str] = (),
    rows: Sequence[Sequence] = ((),),
    params: Sequence = (),
    returning: Sequence[str] = (),
    skip_conflicts: bool = False,
) -> list[tuple]:
    """Insert into the model's table a row per row of `source`; return the `returning` fields.

    selected maps a field name to the SQL expression that computes it over source (a FROM
    clause, its joins and conditions; params are its parameters). Every other concrete field
    but the primary key takes the value of the unsaved `prototype` as a save prepares it.
    With names and rows, source can read the rows as the table `given` (names are its
    columns); they are written in as few statements as the database allows.
    """
    qn = connection.ops.quote_name
    columns, expressions, constants = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(qn(field.column))
        if field.name in selected:
            expressions.append(selected[field.name])
        else:
            expressions.append("%s")
            constants.append(field.get_db_prep_save(getattr(prototype, field.attname), connection))
    insert = (
        # Names from the models and the caller's code; every value is a parameter.
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(columns)})"  # noqa: S608
        f" SELECT {', '.join(expressions)} FROM {source}"
    )
    if skip_conflicts:
        insert += " ON CONFLICT DO NOTHING"
    if returning:
        insert += " RETURNING " + ", ".join(
            qn(model._meta.pk.column if name == "pk" else model._meta.get_field(name).column)
            for name in returning
        )
    found = []
    with connection.cursor() as cursor:
        for batch in _batches(rows, len(names)) if names else [()]:
            given, given_params = _given(names, batch) if names else ("", [])
            with_sql = f"WITH given AS (SELECT * FROM {given})" if names else ""  # noqa: S608
            cursor.execute(f"{with_sql} {insert}", [*given_params, *constants, *params])
            if returning:
                found.extend(cursor.fetchall())
    return found


def insert(objects: Sequence) -> None:
    """Insert unsaved objects of one model in one statement and give them their primary keys.

    What save(force_insert=True) and bulk_create write (each field as its pre_save makes
    it, auto_now_add included), without their generality: on a booking's path the ORM
    spent three times as long making the statement as the database running it. The
    statement is made once per model and number of rows. Sends no signals.
    """
    model = type(objects[0])
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    values = [
        field.get_db_prep_save(field.pre_save(obj, True), connection)
        for obj in objects
        for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(model, len(objects)), values)
        keys = cursor.fetchall()
    for obj, (pk,) in zip(objects, keys, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


@cache
def _insert_sql(model, rows: int) -> str:
    qn = connection.ops.quote_name
    columns = [qn(f.column) for f in model._meta.concrete_fields if not f.primary_key]
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    return (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(columns)})"  # noqa: S608 - names from the model
        f" VALUES {', '.join([row] * rows)} RETURNING {qn(model._meta.pk.column)}"
    )


def update_from(
    model,
    *,
    names: Sequence[str],
    rows: Sequence[Sequence],
    assigned: dict,
    matched: str = "",
    params: Sequence = (),
) -> int:
    """Update the model's rows from the given rows, setting each field of `assigned` to its
    SQL expression over `given`. matched: the condition that pairs a row of the table
    (named by its table name) with a given row; by default the primary key equals the first
    given column; params are its parameters. Returns how many rows were updated."""
    if not rows:
        return 0
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    assignments = ", ".join(
        f"{qn(model._meta.get_field(name).column)} = {expression}"
        for name, expression in assigned.items()
    )
    matched = matched or f"{table}.{qn(model._meta.pk.column)} = given.{names[0]}"
    updated = 0
    with connection.cursor() as cursor:
        for batch in _batches(rows, len(names)):
            given, given_params = _given(names, batch)
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM {given} WHERE {matched}",  # noqa: S608
                [*given_params, *params],
            )
            updated += cursor.rowcount
    return updated
