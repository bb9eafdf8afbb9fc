"""Signed links that open a booking or a group from a message without typing the NIK, once,
and the link to a place offered from a ballot's waiting list."""

from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.db.models import F

from bookings.codes import normalize_code
from bookings.models import Booking, BookingGroup, Offer
from offices import clock

SALT = "bookings.links"
SEP = "."  # not in the token's alphabet, and needs no escaping in a query string
MAX_TOKEN_LENGTH = 100


def _state(subject) -> str:
    # The state is part of the key: once the booking is cancelled, checked in, marked no-show
    # or rescheduled (for a group: one of its members, or all moved), or a link was used,
    # every link sent before stops working.
    if isinstance(subject, BookingGroup):
        statuses = ",".join(subject.members.order_by("pk").values_list("status", flat=True))
        state = f"group:{statuses}:{subject.reschedule_count}"
    else:
        state = f"{subject.status}:{subject.reschedule_count}"
    if subject.link_version:
        state += f":{subject.link_version}"
    return state


def _signer(subject):
    return signing.Signer(salt=f"{SALT}:{_state(subject)}", sep=SEP)


def booking_token(subject, *, now=None) -> str:
    """Return a token for a booking or group in its present state: a timestamp, a signature."""
    now = now or clock.now()
    stamp = signing.b62_encode(int(now.timestamp()))
    return _signer(subject).sign(f"{subject.code}{SEP}{stamp}").removeprefix(subject.code + SEP)


def booking_link(subject, *, now=None) -> str:
    """Return the absolute URL that opens a booking (/bookings/{code}/?t=…) or a group
    (/groups/{code}/?t=…)."""
    query = urlencode({"t": booking_token(subject, now=now)})
    place = "groups" if isinstance(subject, BookingGroup) else "bookings"
    return f"{settings.SITE_URL.rstrip('/')}/{place}/{subject.code}/?{query}"


def _ends_at(subject):
    if isinstance(subject, BookingGroup):
        return max(subject.members.values_list("ends_at", flat=True), default=None)
    return subject.ends_at


def _from_token(rows, code, token, *, now=None):
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    subject = rows.filter(code=normalize_code(code)).first()
    if subject is None:
        return None
    try:
        _signer(subject).unsign(f"{subject.code}{SEP}{token}")
    except signing.BadSignature:
        return None
    now = now or clock.now()
    ends_at = _ends_at(subject)
    if ends_at is None or now > ends_at + settings.BOOKING_LINK_AFTER:
        return None
    return subject


def booking_from_token(code, token, *, now=None) -> Booking | None:
    """Return the booking a link names if its token is genuine, current and not expired."""
    return _from_token(Booking.objects.select_related("office", "window"), code, token, now=now)


def group_from_token(code, token, *, now=None) -> BookingGroup | None:
    """Return the group a link names if its token is genuine, current and not expired."""
    return _from_token(BookingGroup.objects.all(), code, token, now=now)


def _redeem(subject):
    # Of two uses at once, one wins: the version is raised only from the one it was read at.
    rows = type(subject).objects.filter(pk=subject.pk, link_version=subject.link_version)
    return subject if rows.update(link_version=F("link_version") + 1) else None


def redeem_booking_link(code, token, *, now=None) -> Booking | None:
    """Return the booking a link opens, and make this the link's one use.

    The caller hands the booking to the browser's session; the token then stops working,
    so one left in a browser's history or a forwarded message opens nothing more.
    """
    booking = booking_from_token(code, token, now=now)
    return None if booking is None else _redeem(booking)


def redeem_group_link(code, token, *, now=None) -> BookingGroup | None:
    """Return the group a link opens, and make this the link's one use (as a booking's)."""
    group = group_from_token(code, token, now=now)
    return None if group is None else _redeem(group)


OFFER_SALT = "bookings.offers"


def offer_token(offer: Offer) -> str:
    """Return the token of an offer's link: its id, signed. It opens the offer while it is open."""
    return signing.Signer(salt=OFFER_SALT, sep=SEP).sign(str(offer.pk))


def offer_link(offer: Offer) -> str:
    """Return the absolute URL where the entry's contact accepts or declines an offer."""
    return f"{settings.SITE_URL.rstrip('/')}/offers/{offer_token(offer)}/"


def offer_from_token(token) -> Offer | None:
    """Return the offer a genuine token names (in whatever state it is now), or None."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        pk = signing.Signer(salt=OFFER_SALT, sep=SEP).unsign(token)
    except signing.BadSignature:
        return None
    rows = Offer.objects.select_related("entry", "office", "window", "release", "booking")
    return rows.filter(pk=int(pk)).first() if pk.isdigit() else None
