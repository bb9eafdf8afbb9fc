"""What the app is told about a booking and a group: never a whole NIK."""

from django.conf import settings

from bookings.contact import pending_check
from bookings.models import Booking, BookingGroup, ClosureMove
from bookings.nik import mask_nik


def time_of(value) -> str:
    return f"{value:%H:%M}"


def _window(booking: Booking) -> dict | None:
    window = booking.window
    if window is None:
        return None
    return {
        "id": window.pk,
        "start": time_of(window.start),
        "end": time_of(window.end),
        "zone": booking.office.zone_abbreviation,
    }


def _applicant(booking: Booking) -> dict:
    return {
        "code": booking.code,
        "status": booking.status,
        "nik_masked": mask_nik(booking.nik),
        "full_name": booking.full_name,
        "purpose": booking.purpose,
        "passport_type": booking.passport_type,
        "birth_date_mismatch": booking.birth_date_mismatch,
    }


def confirm_by(subject):
    """Return until when a new booking or group waits for its contact's code, else None (read
    with its check: select_related, or the one the booking was just made with)."""
    if not settings.CONTACT_CONFIRMATION:
        return None
    check = pending_check(subject)
    return check.expires_at if check else None


def closure_answer(move: ClosureMove | None) -> dict | None:
    """Return what a closure did to a booking, for the app, or None."""
    if move is None:
        return None
    return {
        "outcome": move.outcome,
        "closed_date": move.from_date,
        "reason": move.closure.reason,
        "choose_until": move.choose_until,
        "answer": move.answer,
    }


def booking_answer(booking: Booking, *, move: ClosureMove | None = None) -> dict:
    """Return what the app is told about a booking, with the code of its group if it has one
    and, given its last closure move, what the closure did."""
    return {
        **_applicant(booking),
        "office": booking.office.code,
        "date": booking.date,
        "window": _window(booking),
        # A member's group costs one query: lone bookings, the most, cost none.
        "group_code": booking.group.code if booking.group_id else None,
        "confirm_by": confirm_by(booking),
        "closure": closure_answer(move),
    }


def group_answer(group: BookingGroup, members: list[Booking]) -> dict:
    """Return what the app is told about a group: its appointment and each member in order."""
    # A member cancelled alone stays where it was when the others move: they set the time.
    present = next((m for m in members if m.status != Booking.Status.CANCELLED), members[0])
    return {
        "code": group.code,
        "office": present.office.code,
        "date": present.date,
        "window": _window(present),
        "confirm_by": confirm_by(group),
        "members": [
            {**_applicant(member), "application_type": member.application_type}
            for member in members
        ],
    }
