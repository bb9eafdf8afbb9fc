"""The JSON API v1 for a group booking: look it up, cancel or reschedule all its members at once.

Booking a group is `POST /bookings` with `applicants`; one member alone goes through the
booking operations with its own code.
"""

from django.http import Http404
from ninja import Router

from bookings import services
from bookings.applicants import clean_nik
from bookings.codes import normalize_code
from bookings.models import BookingGroup

from .answers import group_answer
from .endpoints import LOOKUP_LIMIT, error_statuses, window_by_id
from .errors import GROUP_NOT_FOUND
from .schemas import GroupCode, GroupOut, NikIn, RescheduleIn

router = Router(tags=["v1"])


def _find(code, nik) -> BookingGroup:
    """Return the group of a code and any member's NIK; the same 404 when either is wrong."""
    group = services.find_group(normalize_code(code), clean_nik(nik))
    if group is None:
        raise Http404(GROUP_NOT_FOUND)
    return group


def _answer(group: BookingGroup) -> dict:
    members = group.members.select_related("office", "window").order_by("pk")
    return group_answer(group, list(members))


@router.post(
    "/groups/{code}/lookup",
    response={200: GroupOut, **error_statuses(400, 404, 422, 429)},
    throttle=[LOOKUP_LIMIT],
    operation_id="lookup_group",
    summary="Look up a group",
)
def lookup_group(request, code: GroupCode, payload: NikIn):
    """Show a group and each member; any member's NIK opens it (the same 404 for a wrong one)."""
    return _answer(_find(code, payload.nik))


@router.post(
    "/groups/{code}/cancel",
    response={200: GroupOut, **error_statuses(400, 404, 409, 422, 429)},
    throttle=[LOOKUP_LIMIT],
    operation_id="cancel_group",
    summary="Cancel a group",
)
def cancel_group(request, code: GroupCode, payload: NikIn):
    """Cancel every booked member together until the window begins, or none of them.

    Their places are freed at once and the contact hears once. 409 `not_cancellable` when
    one of them can no longer be cancelled, `group_nothing_active` when none holds a booking.
    """
    group = _find(code, payload.nik)
    services.cancel_group(group=group)
    return _answer(group)


@router.post(
    "/groups/{code}/reschedule",
    response={200: GroupOut, **error_statuses(400, 404, 409, 422, 429)},
    throttle=[LOOKUP_LIMIT],
    operation_id="reschedule_group",
    summary="Reschedule a group",
)
def reschedule_group(request, code: GroupCode, payload: RescheduleIn):
    """Move every booked member to another window of the office together, or none of them.

    They keep their places if the move fails: 409 `group_full` (with `places_left`), `full`,
    `not_reschedulable`, `reschedule_limit`, `same_slot` or `group_nothing_active`.
    """
    group = _find(code, payload.nik)
    window = window_by_id(payload.window)
    services.reschedule_group(group=group, day=payload.date, window=window)
    return _answer(group)
