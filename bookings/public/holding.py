"""What this browser holds: the bookings and groups it booked, looked up or opened from a link.

Only a browser that holds a booking is shown its personal data. A group's code opens the group
and the page of every member still in it. The browser that booked a group holds the members'
own codes too, so a member moved out of the group (from anywhere) stays open there.
"""

from django.shortcuts import redirect
from django.urls import reverse

from antrean import reads
from bookings.codes import is_group_code, is_well_formed, normalize_code
from bookings.models import Booking, BookingGroup

OWNED_KEY = "antrean_bookings"
# The codes held, newest first: a group of five and its members take six of them.
OWNED_MAX = 20


def applicants_session(request):
    """An applicant's session ends with the browser (staff sessions keep their working day)."""
    if not request.user.is_authenticated:
        request.session.set_expiry(0)


ENTRIES_KEY = "antrean_entries"
ENTRIES_MAX = 5


def remember_entry(request, code):
    """Hold a ballot entry this browser made, or opened with its code and an applicant's NIK."""
    applicants_session(request)
    held = [c for c in request.session.get(ENTRIES_KEY, []) if c != code]
    request.session[ENTRIES_KEY] = [code, *held][:ENTRIES_MAX]


def holds_entry(request, code) -> bool:
    return normalize_code(code) in request.session.get(ENTRIES_KEY, [])


def held_codes(request) -> list[str]:
    return request.session.get(OWNED_KEY, [])


def remember(request, *codes):
    """Hold these booking or group codes in this browser's session, newest first."""
    applicants_session(request)
    owned = [code for code in held_codes(request) if code not in codes]
    request.session[OWNED_KEY] = [*codes, *owned][:OWNED_MAX]


def remember_group(request, group, members):
    """Hold a group just booked here, and each of its members."""
    remember(request, group.code, *(member.code for member in members))


def holds(request, code) -> bool:
    return normalize_code(code) in held_codes(request)


def owned_booking(request, code) -> Booking | None:
    """Return the booking if this browser holds it or its group; None otherwise. One query,
    and one more for a group's member: its group and the group's contact check."""
    code = normalize_code(code)
    owned = held_codes(request)
    groups = [held for held in owned if is_group_code(held)]
    if code not in owned and not groups:
        return None
    where, params = "bookings_booking.code = %s", [code]
    if code not in owned:  # a member of a group held here
        codes = ", ".join(["%s"] * len(groups))
        held_group = f"SELECT id FROM bookings_bookinggroup WHERE code IN ({codes})"  # noqa: S608 - placeholders
        where += f" AND bookings_booking.group_id IN ({held_group})"
        params += groups
    # Every page of a booking reads it: through the ORM, making this statement took two
    # fifths of the booking's page (antrean/reads.py). Not one join of five tables: the
    # database took longer to plan it than to run the two.
    booking = reads.first(Booking, ("office", "window", "contact_check"), where, params)
    if booking is not None and booking.group_id is not None:
        groups = BookingGroup.objects.select_related("contact_check")
        booking.group = groups.get(pk=booking.group_id)
    return booking


def owned_group(request, code) -> BookingGroup | None:
    """Return the group if this browser booked it, looked it up or opened its link."""
    code = normalize_code(code)
    if not (is_well_formed(code) and is_group_code(code)) or code not in held_codes(request):
        return None
    return BookingGroup.objects.select_related("contact_check").filter(code=code).first()


def lookup_redirect(code):
    return redirect(f"{reverse('booking-lookup')}?code={normalize_code(code)}")
