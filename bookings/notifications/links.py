"""Signed links that open a booking from a message without typing the NIK, once."""

from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.db.models import F

from bookings.codes import normalize_code
from bookings.models import Booking
from offices import clock

SALT = "bookings.links"
SEP = "."  # not in the token's alphabet, and needs no escaping in a query string
MAX_TOKEN_LENGTH = 100


def _signer(booking):
    # The booking's state is part of the key: once the booking is cancelled, checked in,
    # marked no-show or rescheduled, or a link was used, every link sent before stops working.
    state = f"{booking.status}:{booking.reschedule_count}"
    if booking.link_version:
        state += f":{booking.link_version}"
    return signing.Signer(salt=f"{SALT}:{state}", sep=SEP)


def booking_token(booking, *, now=None) -> str:
    """Return a token for this booking in its present state: a timestamp and a signature."""
    now = now or clock.now()
    stamp = signing.b62_encode(int(now.timestamp()))
    return _signer(booking).sign(f"{booking.code}{SEP}{stamp}").removeprefix(booking.code + SEP)


def booking_link(booking, *, now=None) -> str:
    """Return the absolute URL that opens this booking: {SITE_URL}/bookings/{code}/?t=token."""
    query = urlencode({"t": booking_token(booking, now=now)})
    return f"{settings.SITE_URL.rstrip('/')}/bookings/{booking.code}/?{query}"


def booking_from_token(code, token, *, now=None) -> Booking | None:
    """Return the booking a link names if its token is genuine, current and not expired."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    booking = (
        Booking.objects.select_related("office", "window").filter(code=normalize_code(code)).first()
    )
    if booking is None:
        return None
    try:
        _signer(booking).unsign(f"{booking.code}{SEP}{token}")
    except signing.BadSignature:
        return None
    now = now or clock.now()
    if now > booking.ends_at + settings.BOOKING_LINK_AFTER:
        return None
    return booking


def redeem_booking_link(code, token, *, now=None) -> Booking | None:
    """Return the booking a link opens, and make this the link's one use.

    The caller hands the booking to the browser's session; the token then stops working,
    so one left in a browser's history or a forwarded message opens nothing more. Of two
    uses at once, one wins (the version is raised only from the one it was read at).
    """
    booking = booking_from_token(code, token, now=now)
    if booking is None:
        return None
    used = Booking.objects.filter(pk=booking.pk, link_version=booking.link_version).update(
        link_version=F("link_version") + 1
    )
    return booking if used else None
