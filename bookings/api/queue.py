"""The JSON API v1 for the day at the office: an office's live queue, an applicant's place in it.

Both read bookings.queue.board, as the waiting-room display and the ticket's turn page do.
"""

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from ninja import Router

from bookings.models import Visit
from bookings.queue import board
from offices import clock

from .answers import time_of
from .endpoints import LOOKUP_LIMIT, booking_by_code, error_statuses, office_by_code
from .errors import error_response, request_language
from .schemas import BookingCode, NikIn, OfficeCode, PositionOut, QueueOut

router = Router(tags=["v1"])

NOT_CHECKED_IN = _("This booking is not checked in today: its place in the queue begins then.")


@router.get(
    "/offices/{code}/queue",
    response={200: QueueOut, **error_statuses(404, 422)},
    operation_id="office_queue",
    summary="An office's queue now",
)
def office_queue(request, code: OfficeCode):
    """Show an office's queue today: each counter and the number it serves, the next numbers,
    how many wait, and the measured times (service: a moving average; wait: today's median)."""
    office = office_by_code(code)
    now = clock.now()
    queue = board.read_queue(office, now)
    return {
        "office": office.code,
        "local_time": time_of(office.local_now(now)),
        "waiting": queue.waiting,
        "counters_open": queue.counters_open,
        "median_wait_minutes": queue.median_wait_minutes,
        "service_minutes": round(queue.service_minutes, 1),
        "measured": queue.measured,
        "counters": [
            {"name": c.name, "number": c.number or None, "state": c.state or "idle"}
            for c in queue.counters
        ],
        "upcoming": queue.upcoming,
    }


@router.post(
    "/bookings/{code}/queue",
    response={200: PositionOut, **error_statuses(400, 404, 409, 422, 429)},
    throttle=[LOOKUP_LIMIT],
    operation_id="booking_queue_position",
    summary="An applicant's place in the queue",
)
def queue_position(request, code: BookingCode, payload: NikIn):
    """Show where a checked-in applicant stands today: how many are ahead and the estimated
    wait, or the counter they are called to. The NIK in the body must match (the same 404 for
    a wrong code or NIK); 409 `not_checked_in` before check-in, or on another day."""
    booking = booking_by_code(code, payload.nik)
    now = clock.now()
    visit = (
        Visit.objects.select_related("counter")
        .filter(booking=booking, date=clock.office_today(booking.office, now))
        .first()
    )
    if visit is None:
        with translation.override(request_language(request)):
            return error_response(409, "not_checked_in", NOT_CHECKED_IN)
    visit.booking, visit.office = booking, booking.office
    where = board.position(visit, now)
    waiting = where.state == Visit.State.WAITING
    starts = where.window_starts
    return {
        "number": where.number,
        "state": where.state,
        "counter": where.counter or None,
        "ahead": where.ahead,
        "wait_minutes": {"low": where.wait[0], "high": where.wait[1]} if waiting else None,
        "window_starts": time_of(booking.office.local_now(starts)) if starts else None,
    }
