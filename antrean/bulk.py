"""Set-based writes of many rows: the rows a caller computes, joined to what the database holds.

A draw writes tens of thousands of bookings and messages; building a model object per row
costs many times what the database spends writing it. Here the values only the caller
knows (a fresh code, an id, a day) travel as `WITH given(…) AS (VALUES …)`, and one
`INSERT … SELECT` or `UPDATE … FROM` per batch joins them to the rows they complete. Every
column the caller does not compute is written as a save would write it, from an unsaved
model object, so a field added to the model later is filled by its default here too. The
SQL is the common ground of PostgreSQL and SQLite (3.35 and later).
"""

from collections.abc import Iterator, Sequence

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
    # WITH given(names) AS (VALUES (…), …) for the rows, and its parameters.
    row = "(" + ", ".join(["%s"] * len(names)) + ")"
    sql = f"WITH given({', '.join(names)}) AS (VALUES {', '.join([row] * len(rows))})"
    return sql, [value for values in rows for value in values]


def prepared(model, field_name: str, value):
    """Return a value as the database stores it in this model field, for a given row."""
    return model._meta.get_field(field_name).get_db_prep_save(value, connection)


def cast(model, field_name: str, expression: str) -> str:
    """Return an SQL expression of `given` as the column type of a model field.

    On PostgreSQL a column of VALUES is text when its parameters are strings (a date) or all
    NULL; SQLite stores what it is given, and its CAST would turn a date into a number.
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
            with_sql, with_params = _given(names, batch) if names else ("", [])
            cursor.execute(f"{with_sql} {insert}", [*with_params, *constants, *params])
            if returning:
                found.extend(cursor.fetchall())
    return found


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
            # A subquery, not a WITH clause: SQLite's driver counts the rows of a statement
            # only when it begins with UPDATE. Both name the columns of VALUES column1, ….
            columns = ", ".join(f"column{n} AS {name}" for n, name in enumerate(names, 1))
            row = "(" + ", ".join(["%s"] * len(names)) + ")"
            given = (
                f"(SELECT {columns} FROM (VALUES {', '.join([row] * len(batch))}) AS v) AS given"  # noqa: S608
            )
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM {given} WHERE {matched}",  # noqa: S608
                [*(value for values in batch for value in values), *params],
            )
            updated += cursor.rowcount
    return updated
