"""Blocks: the one place that says whether a contact or a NIK may book or enter online now."""

from collections.abc import Iterable
from datetime import date

from django.db.models import Q

from .models import Block


def blocked_sql(*, phone: str, email: str, niks: Iterable[str], today: date) -> tuple[str, list]:
    """Return an SQL expression true when block_of() would find a block, and its parameters:
    for a read that asks several things at once (a booking's early refusals)."""
    niks = list(niks)
    wanted = [f"(kind = %s AND value IN ({', '.join(['%s'] * len(niks))}))"]
    params = [Block.Kind.NIK, *niks]
    for kind, value in ((Block.Kind.PHONE, phone), (Block.Kind.EMAIL, email.lower())):
        if value:
            wanted.append("(kind = %s AND value = %s)")
            params += [kind, value]
    table = Block._meta.db_table
    sql = f"EXISTS (SELECT 1 FROM {table} WHERE until >= %s AND ({' OR '.join(wanted)}))"  # noqa: S608 - the model's table, values bound
    return sql, [today, *params]


def block_of(*, phone: str, email: str, niks: Iterable[str], today: date) -> Block | None:
    """Return a block in force today on this phone, e-mail address or one of these NIKs, the
    one that lasts longest, or None. One query."""
    wanted = Q(kind=Block.Kind.NIK, value__in=list(niks))
    if phone:
        wanted |= Q(kind=Block.Kind.PHONE, value=phone)
    if email:
        wanted |= Q(kind=Block.Kind.EMAIL, value=email.lower())
    return Block.objects.filter(wanted, until__gte=today).order_by("-until").first()
