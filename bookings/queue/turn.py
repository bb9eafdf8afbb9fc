"""The link on a queue ticket to the applicant's "your turn" page: the visit's id and day, signed.

It names no one and cannot be guessed, and it is good for the visit's day only: the public page
reads it, the staff's ticket prints it as a QR code, neither signs or checks it on its own.
"""

from datetime import date

import segno
from django.conf import settings
from django.core import signing
from django.urls import reverse

from bookings.notifications.links import MAX_TOKEN_LENGTH, SEP

from ..models import Visit

SALT = "bookings.queue.turn"


def _signer():
    return signing.Signer(salt=SALT, sep=SEP)


def turn_token(visit: Visit) -> str:
    """Return the token of a visit's turn page: its id and day (YYYYMMDD), signed."""
    return _signer().sign(f"{visit.pk}-{visit.date:%Y%m%d}")


def turn_url(visit: Visit) -> str:
    """Return the absolute URL of a visit's turn page, as the ticket's QR code holds it."""
    path = reverse("queue-turn", kwargs={"token": turn_token(visit)})
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def ticket_qr_svg(visit: Visit) -> str:
    """Return the QR code of a visit's turn page as inline SVG, black on white for a ticket
    printer, its size given (the admin's styles do not size it)."""
    qr = segno.make(turn_url(visit), error="m")
    return qr.svg_inline(scale=3, dark="#000", border=4)


def read_token(token) -> tuple[int, date] | None:
    """Return the visit id and day a genuine token names, or None for anything else."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        value = _signer().unsign(token)
    except signing.BadSignature:
        return None
    pk, _dash, day = value.partition("-")
    # `[0-9]` by isascii(): isdigit() alone would let ١٢٣ through.
    if not (pk.isascii() and pk.isdigit() and day.isascii() and day.isdigit() and len(day) == 8):
        return None
    try:
        return int(pk), date(int(day[:4]), int(day[4:6]), int(day[6:]))
    except ValueError:
        return None
