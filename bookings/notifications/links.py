"""Signed links that open a booking from a message without typing the NIK."""

from urllib.parse import urlencode

from django.conf import settings
from django.core import signing

from bookings.codes import normalize_code
from bookings.models import Booking
from offices import clock

SALT = "bookings.links"
SEP = "."  # not in the token's alphabet, and needs no escaping in a query string
MAX_TOKEN_LENGTH = 100


def _signer(booking):
    # The booking's state is part of the key: once the booking is cancelled, checked in,
    # marked no-show or rescheduled, every link sent before stops working.
    return signing.Signer(salt=f"{SALT}:{booking.status}:{booking.reschedule_count}", sep=SEP)


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
        value = _signer(booking).unsign(f"{booking.code}{SEP}{token}")
    except signing.BadSignature:
        return None
    stamp = signing.b62_decode(value.rpartition(SEP)[2])
    now = now or clock.now()
    if now.timestamp() - stamp > settings.BOOKING_LINK_MAX_AGE.total_seconds():
        return None
    return booking
