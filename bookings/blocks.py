"""Blocks: the one place that says whether a contact or a NIK may book or enter online now."""

from collections.abc import Iterable
from datetime import date

from django.db.models import Q

from .models import Block


def block_of(*, phone: str, email: str, niks: Iterable[str], today: date) -> Block | None:
    """Return a block in force today on this phone, e-mail address or one of these NIKs, the
    one that lasts longest, or None. One query."""
    wanted = Q(kind=Block.Kind.NIK, value__in=list(niks))
    if phone:
        wanted |= Q(kind=Block.Kind.PHONE, value=phone)
    if email:
        wanted |= Q(kind=Block.Kind.EMAIL, value=email.lower())
    return Block.objects.filter(wanted, until__gte=today).order_by("-until").first()
