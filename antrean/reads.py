"""One row and the rows it points to, read as select_related reads them, in a kept statement.

A page that shows one booking or one visit reads it with its office, its window and the
like. Through the ORM that one query took 1.7 ms of the web process's CPU on the bench's
machine, the same row read by a cursor 0.06 ms: the ORM builds the statement and the
converters of its seventy columns again for each request. Here both are made once per
process, model and relations; the rows become model objects as the ORM makes them
(Model.from_db, each column through the converters the ORM would apply), with the related
objects cached on them as select_related caches them.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from django.db import connection


@dataclass(frozen=True)
class _Part:
    """The columns of one model in the statement: which, and how each is converted."""

    model: type
    attnames: tuple[str, ...]
    converters: tuple[tuple, ...]  # for each column, (converter, expression) pairs
    start: int
    key: int  # the primary key's column, among the model's
    # How it hangs on the row read: the relation's cache on the row's object (None for the
    # row itself), and the reverse cache on the related object.
    cache: object = None
    reverse_cache: object = None

    def build(self, row):
        values = list(row[self.start : self.start + len(self.attnames)])
        if values[self.key] is None:  # no related row
            return None
        for index, converters in enumerate(self.converters):
            for converter, expression in converters:
                values[index] = converter(values[index], expression, connection)
        return self.model.from_db(connection.alias, self.attnames, values)


def first(model, related: Sequence[str], where: str, params: Sequence = ()):
    """Return the first object of `model` whose row meets `where`, with each relation of
    `related` (forward foreign keys and reverse one-to-ones) cached on it; None if none.

    `where` is SQL over the model's table, named by the table's name; params are its
    parameters. What model.objects.select_related(*related).filter(...).first() would
    return, ordered by nothing (for a where that finds at most one row).
    """
    sql, parts = _statement(model, tuple(related), where)
    with connection.cursor() as cursor:
        cursor.execute(sql, [_adapted(value) for value in params])
        row = cursor.fetchone()
    if row is None:
        return None
    found = parts[0].build(row)
    for part in parts[1:]:
        linked = part.build(row)
        part.cache.set_cached_value(found, linked)
        if linked is not None and part.reverse_cache is not None:
            part.reverse_cache.set_cached_value(linked, found)
    return found


def _adapted(value):
    # As the ORM gives a date or an instant to the database (on SQLite, text it compares).
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return connection.ops.adapt_datefield_value(value)
    return value


@cache
def _statement(model, related: tuple[str, ...], where: str) -> tuple[str, list[_Part]]:
    qn = connection.ops.quote_name
    table = model._meta.db_table
    parts, aliases, joins = [_part(model, table, 0)], [table], []
    for name in related:
        relation = model._meta.get_field(name)
        alias = f"related_{name}"
        if relation.concrete:  # a foreign key of this model's
            theirs, ours = relation.target_field.column, relation.column
            reverse_cache = relation.remote_field if relation.one_to_one else None
        else:  # a one-to-one of another model's pointing here
            theirs, ours = relation.field.column, model._meta.pk.column
            reverse_cache = relation.field
        target = relation.related_model
        joins.append(
            f" LEFT JOIN {qn(target._meta.db_table)} {qn(alias)}"
            f" ON {qn(alias)}.{qn(theirs)} = {qn(table)}.{qn(ours)}"
        )
        start = parts[-1].start + len(parts[-1].attnames)
        parts.append(_part(target, alias, start, cache=relation, reverse_cache=reverse_cache))
        aliases.append(alias)
    columns = ", ".join(
        f"{qn(alias)}.{qn(field.column)}"
        for part, alias in zip(parts, aliases, strict=True)
        for field in part.model._meta.concrete_fields
    )
    sql = f"SELECT {columns} FROM {qn(table)}{''.join(joins)} WHERE {where} LIMIT 1"  # noqa: S608 - names from the models, where from the caller's code
    return sql, parts


def _part(model, alias, start, **hung) -> _Part:
    fields = model._meta.concrete_fields
    converters = []
    for field in fields:
        column = field.get_col(alias)
        found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        converters.append(tuple((converter, column) for converter in found))
    return _Part(
        model=model,
        attnames=tuple(field.attname for field in fields),
        converters=tuple(converters),
        start=start,
        key=fields.index(model._meta.pk),
        **hung,
    )
