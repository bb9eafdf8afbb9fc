"""The operations of the JSON API v1: each reads its input, calls one service or read, answers.

The group's own operations are in groups.py; booking one applicant or a group is one operation.
"""

import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django_ratelimit.core import is_ratelimited
from ninja import Body, Query, Router, Status
from ninja.throttling import BaseThrottle

from antrean.client_ip import client_key
from bookings import closures, contact, limits, proof, services
from bookings.applicants import Applicant, check_details, clean_nik
from bookings.availability import (
    days_with_room,
    keep_briefly,
    office_and_window,
    office_availability,
)
from bookings.codes import normalize_code
from bookings.metrics import booking_attempt
from bookings.models import Booking, ClosureMove, ContactCheck
from offices import clock
from offices.models import Office, ServiceWindow

from .answers import booking_answer, group_answer, time_of
from .errors import BOOKING_NOT_FOUND, OFFICE_NOT_FOUND, request_language
from .schemas import (
    MAX_DAYS,
    AvailabilityOut,
    AvailabilityQuery,
    BookingCode,
    BookingOut,
    BookingRequest,
    CancelledOut,
    ChoiceOut,
    ContactCodeIn,
    ContactOut,
    ErrorOut,
    GroupBookingIn,
    GroupOut,
    NikIn,
    OfficeCode,
    OfficeOut,
    ProofChallengeOut,
    RescheduleIn,
)

_OFFICE_CODE = re.compile(r"[-a-zA-Z0-9_]{1,40}")
# How far from the office's today an availability request may start.
EARLIEST_START = timedelta(days=1)  # the app's "today" may still be yesterday in the office's zone
LATEST_START = timedelta(days=366)  # the longest booking horizon an office can have

START_RANGE = _("Choose a start date from %(first)s to %(last)s.")
UNKNOWN_WINDOW = services.MESSAGES["window_mismatch"]


class RateLimit(BaseThrottle):
    """Refuse a client address over a rate from settings (django-ratelimit); off when disabled."""

    def __init__(self, group, setting):
        self.group = group
        self.setting = setting

    def allow_request(self, request):
        rate = getattr(settings, self.setting)
        # The pages' bucket for the same action and method: one count per client (limits).
        return not is_ratelimited(
            request,
            group=self.group,
            key="ip",
            rate=rate,
            method=request.method,
            increment=True,
        )


BOOKING_LIMIT = RateLimit(limits.BOOKING, "RATELIMIT_BOOKING")
LOOKUP_LIMIT = RateLimit(limits.LOOKUP, "RATELIMIT_LOOKUP")


def error_statuses(*statuses):
    return dict.fromkeys(statuses, ErrorOut)


router = Router(tags=["v1"])


def office_by_code(code) -> Office:
    office = Office.objects.filter(code=code).first() if _OFFICE_CODE.fullmatch(code) else None
    if office is None:
        raise Http404(OFFICE_NOT_FOUND)
    return office


def booking_by_code(code, nik) -> Booking:
    """Return the booking of a code and NIK; the same 404 when either is wrong."""
    booking = services.find_booking(normalize_code(code), clean_nik(nik))
    if booking is None:
        raise Http404(BOOKING_NOT_FOUND)
    return booking


def window_by_id(pk) -> ServiceWindow:
    """Return the window a body names; a 422 on `window` when there is none."""
    window = ServiceWindow.objects.filter(pk=pk).first()
    if window is None:
        raise ValidationError(UNKNOWN_WINDOW, code="window_mismatch")
    return window


# A group refused for want of places: which count its message gives, the window's or the day's.
def _day_answer(day) -> dict:
    # A day outside the booking range, or a window that has begun, has no place to offer.
    return {
        "date": day.date,
        "open": day.open,
        "quota": day.quota,
        "remaining": day.remaining if day.bookable_range else 0,
        "windows": [
            {
                "id": w.window.pk,
                "start": time_of(w.window.start),
                "end": time_of(w.window.end),
                "capacity": w.capacity,
                "remaining": w.remaining if day.bookable_range and not w.started else 0,
            }
            for w in day.windows
        ],
        "ballot": day.release.pk if day.state == "ballot" else None,
    }


@router.get(
    "/offices", response=list[OfficeOut], operation_id="list_offices", summary="List the offices"
)
def list_offices(request):
    """List the offices (Kantor Imigrasi) that take bookings."""
    return Office.objects.all()


@router.get(
    "/offices/{code}/availability",
    response={200: AvailabilityOut, **error_statuses(404, 422)},
    operation_id="office_availability",
    summary="Days and windows with places left",
)
def availability(request, code: OfficeCode, query: Query[AvailabilityQuery]):
    """Show an office's days from `start`: open or not, places left per day and per window."""
    # A crowd reading one calendar gets the same JSON for AVAILABILITY_CACHE_SECONDS: no
    # query, no validation, no encoding per request; the booking decides on the counters.
    body = keep_briefly(
        f"api-availability:{code}:{query.start}:{query.days}",
        lambda: AvailabilityOut.model_validate(_availability_answer(code, query)).model_dump_json(),
    )
    return HttpResponse(body, content_type="application/json; charset=utf-8")


def _availability_answer(code, query) -> dict:
    office = office_by_code(code)
    now = clock.now()
    today = clock.office_today(office, now)
    first, last = today - EARLIEST_START, today + LATEST_START
    start, days = query.start, query.days
    if start is None:
        start = office.first_bookable_day(now)
    elif not first <= start <= last:
        raise ValidationError({"start": [START_RANGE % {"first": first, "last": last}]})
    if days is None:
        days = min(MAX_DAYS, max(1, (office.last_bookable_day(now) - start).days + 1))
    found = office_availability(office, start, days)
    return {
        "office": office.code,
        "timezone": office.timezone,
        "days": [_day_answer(day) for day in found],
    }


def _link(operation, nik="$request.body#/nik"):
    return {
        "operationId": operation,
        "parameters": {"code": "$response.body#/code"},
        "requestBody": {"nik": nik},
    }


def _group_link(operation):
    return _link(operation, nik="$request.body#/applicants/0/nik")


# What a client can do next with the code it was given (OpenAPI links): a booking's code for
# one applicant, a group's code for several.
BOOKING_LINKS = {
    "LookUp": _link("lookup_booking"),
    "Reschedule": _link("reschedule_booking"),
    "Cancel": _link("cancel_booking"),
    "LookUpGroup": _group_link("lookup_group"),
    "RescheduleGroup": _group_link("reschedule_group"),
    "CancelGroup": _group_link("cancel_group"),
}

# A family of three for the group example; NIKs of their own, none the single example's.
EXAMPLE_FAMILY = [
    ("1671010203700002", "Ahmad Fauzi", "1970-03-02", "renewal"),
    ("1671014908750003", "Siti Aminah", "1975-08-09", "new"),
    ("1671012001050004", "Nur Aisyah", "2005-01-20", "new"),
]


def booking_examples(now=None) -> dict | None:
    """Return a body for one applicant and one for a family that can be sent as they are now.

    Both name the first window of an office with room for the family.
    """
    now = now or clock.now()
    for office in Office.objects.all()[:3]:
        for day in office_availability(office, office.first_bookable_day(now), 14, now=now):
            free = [
                w
                for w in day.windows
                if day.bookable_range and w.bookable and w.remaining >= len(EXAMPLE_FAMILY)
            ]
            if free:
                where = {
                    "office": office.code,
                    "date": day.date.isoformat(),
                    "window": free[0].window.pk,
                }
                contact = {"email": "siti@example.com", "phone": "0812 3456 7890", "language": "id"}
                one = {
                    **where,
                    "nik": "1671015705900001",
                    "full_name": "Siti Aminah",
                    "birth_date": "1990-05-17",
                    **contact,
                    "purpose": "umrah",
                    "passport_type": "ordinary",
                }
                family = {
                    **where,
                    **contact,
                    "applicants": [
                        {
                            "nik": nik,
                            "full_name": name,
                            "birth_date": born,
                            "purpose": "umrah",
                            "application_type": application,
                            "passport_type": "ordinary",
                        }
                        for nik, name, born, application in EXAMPLE_FAMILY
                    ],
                }
                return {
                    "one_applicant": {"summary": "One applicant", "value": one},
                    "group": {"summary": "A family of three, booked together", "value": family},
                }
    return None


def applicants_of(payload, *, today, language) -> tuple[list[Applicant], dict]:
    """Return the body's applicants checked as the booking page checks them, and the problems.

    A group's applicant's field is named by its place in the list (`applicants.1.nik`); the
    contact they share, once, as for one applicant.
    """
    if hasattr(payload, "applicants"):  # a group, or an entry in a ballot
        rows = [item.model_dump() for item in payload.applicants]
        prefix = "applicants.{}."
    else:
        single = {"nik", "full_name", "birth_date", "purpose", "passport_type"}
        rows = [
            {**payload.model_dump(include=single), "application_type": Booking.ApplicationType.NEW}
        ]
        prefix = ""
    contact = {"email": payload.email, "phone": payload.phone}
    applicants, problems = [], {}
    for index, row in enumerate(rows):
        cleaned, found = check_details({**row, **contact}, today=today)
        if not found:
            applicants.append(Applicant.from_form(cleaned, language))
            continue
        for name, errors in found.items():
            if name not in contact:
                problems[prefix.format(index) + name] = errors
            elif index == 0:
                problems[name] = errors
    return applicants, problems


@router.get(
    "/proof-of-work",
    response={200: ProofChallengeOut},
    operation_id="proof_of_work",
    summary="A proof-of-work challenge (ALTCHA) to solve before booking or entering",
)
def proof_of_work(request):
    """A signed challenge, valid 10 minutes: find `number` from 0 to `maxnumber` whose
    SHA-256 of `salt` + number (in decimal) is `challenge`, then send base64 of the JSON
    {algorithm, challenge, number, salt, signature} in the `Altcha` header of the next
    POST /bookings or POST /releases/{id}/entries. Each solution counts once. Needed to
    enter a ballot, and to book once a client has tried a few times within the hour;
    otherwise those answer 428 `proof_required`."""
    return proof.challenge()


def refuse_without_proof(request, *, entering=False):
    """Count the attempt; 428 when a solution is due and the `Altcha` header has none."""
    proof.refuse_without_proof(
        client_key(request), request.headers.get("Altcha", ""), entering=entering
    )


@router.post(
    "/bookings",
    response={201: BookingOut | GroupOut, **error_statuses(400, 409, 422, 428, 429)},
    throttle=[BOOKING_LIMIT],
    operation_id="create_booking",
    summary="Book a window for one applicant or a group",
    openapi_extra={
        "requestBody": {
            "description": "One applicant's details at the top level, or a group's "
            f"(2 to {settings.BOOKING_GROUP_MAX}) in `applicants` with one contact; not both."
        },
        "responses": {201: {"links": BOOKING_LINKS}},
    },
)
def create_booking(request, payload: Body[BookingRequest]):
    """Book a window for one applicant, or for a group together: all of them or none.

    A group's members each get a booking code of their own, and the group a code that opens
    them all; the contact hears once for the group. 409 `full`, `duplicate`, `group_full`
    (with `places_left`) or `group_nik_held` when the places cannot be had.
    """
    language = payload.language or request_language(request)
    with translation.override(language), booking_attempt("api"):
        office, window = (None, None)
        if _OFFICE_CODE.fullmatch(payload.office):  # a slug: what a cache key may hold
            office, window = office_and_window(payload.office, payload.window)
        if window is not None:
            services.refuse_kept_full(window=window, day=payload.date)
        now = clock.now()
        today = clock.office_today(office, now) if office else timezone.localdate(now)
        applicants, problems = applicants_of(payload, today=today, language=language)
        if office is None:
            problems["office"] = [ValidationError(OFFICE_NOT_FOUND)]
        if window is None:
            problems["window"] = [ValidationError(UNKNOWN_WINDOW)]
        if problems:
            # After a sell-out "full" is all a crowd needs to hear; a valid booking asks the
            # counters in its own first read.
            if window is not None:
                services.refuse_if_full(window=window, day=payload.date)
            raise ValidationError(problems)
        refuse_without_proof(request)
        bookings = services.book_applicants(
            office=office,
            day=payload.date,
            window=window,
            applicants=applicants,
            client=client_key(request),
            now=now,
        )
    if isinstance(payload, GroupBookingIn):
        return Status(201, group_answer(bookings[0].group, bookings))
    return Status(201, booking_answer(bookings[0]))


@router.post(
    "/bookings/{code}/lookup",
    response={200: BookingOut, **error_statuses(400, 404, 422, 429)},
    throttle=[LOOKUP_LIMIT],
    operation_id="lookup_booking",
    summary="Look up a booking",
)
def lookup_booking(request, code: BookingCode, payload: NikIn):
    """Show a booking; the NIK in the body must match (the same 404 for a wrong code or NIK).

    `closure` tells what an office's closure did to it, if one did.
    """
    booking = booking_by_code(code, payload.nik)
    return booking_answer(booking, move=closures.move_of(booking))


@router.post(
    "/bookings/{code}/cancel",
    response={200: CancelledOut, **error_statuses(400, 404, 409, 422, 429)},
    throttle=[LOOKUP_LIMIT],
    operation_id="cancel_booking",
    summary="Cancel a booking",
)
def cancel_booking(request, code: BookingCode, payload: NikIn):
    """Cancel a booking until its window begins; its place is freed at once.

    A member of a group cancelled alone stays in the group; the others keep their places.
    """
    booking = services.cancel_booking(booking=booking_by_code(code, payload.nik))
    group_code = booking.group.code if booking.group_id else None
    return {"code": booking.code, "status": booking.status, "group_code": group_code}


@router.post(
    "/bookings/{code}/reschedule",
    response={200: BookingOut, **error_statuses(400, 404, 409, 422, 429)},
    throttle=[LOOKUP_LIMIT],
    operation_id="reschedule_booking",
    summary="Reschedule a booking",
)
def reschedule_booking(request, code: BookingCode, payload: RescheduleIn):
    """Move a booking to another window of its office; it keeps its place if that fails.

    A member of a group moved alone leaves the group (`group_code` becomes null).
    """
    booking = booking_by_code(code, payload.nik)
    booking = services.reschedule_booking(
        booking=booking, day=payload.date, window=window_by_id(payload.window)
    )
    return booking_answer(booking)


@router.post(
    "/bookings/{code}/keep",
    response={200: BookingOut, **error_statuses(400, 404, 409, 422, 429)},
    throttle=[LOOKUP_LIMIT],
    operation_id="keep_moved_booking",
    summary="Keep the place a closure moved the booking to",
)
def keep_moved_booking(request, code: BookingCode, payload: NikIn):
    """Record that the applicant keeps the new time an office's closure moved them to (a
    group's member answers for the whole group). 409 nothing_to_keep when no move stands."""
    booking = booking_by_code(code, payload.nik)
    move = closures.keep_moved(booking=booking)
    return booking_answer(booking, move=move)


@router.post(
    "/bookings/{code}/choices",
    response={200: list[ChoiceOut], **error_statuses(400, 404, 409, 422, 429)},
    throttle=[LOOKUP_LIMIT],
    operation_id="priority_choices",
    summary="The days a closure's priority choice may take",
)
def priority_choices(request, code: BookingCode, payload: NikIn):
    """For a booking an office's closure cancelled for want of a place: the days with room
    for it (with its group's members), up to `closure.choose_until`, also past the public
    horizon. 409 not_priority when no priority choice is open."""
    booking = booking_by_code(code, payload.nik)
    now = clock.now()
    move = ClosureMove.objects.latest_for(booking)
    if not closures.can_choose(move, booking, now):
        raise closures.refusal("not_priority")
    size = closures.unit_size(move)
    zone = booking.office.zone_abbreviation
    return [
        {
            "date": day.date,
            "windows": [
                {
                    "id": w.window.pk,
                    "start": time_of(w.window.start),
                    "end": time_of(w.window.end),
                    "zone": zone,
                }
                for w in windows
            ],
        }
        for day, windows in days_with_room(booking.office, size, now=now, until=move.choose_until)
    ]


@router.post(
    "/bookings/{code}/choose",
    response={200: BookingOut, **error_statuses(400, 404, 409, 422, 429)},
    throttle=[LOOKUP_LIMIT],
    operation_id="choose_with_priority",
    summary="Choose a new time first after a closure",
)
def choose_with_priority(request, code: BookingCode, payload: RescheduleIn):
    """Book again, on the date and window chosen, a booking an office's closure cancelled for
    want of a place (with its group's members cancelled with it): the same codes, before
    the places open to others. 409 not_priority, not_in_range, no_place or duplicate."""
    booking = booking_by_code(code, payload.nik)
    closures.choose_with_priority(
        booking=booking, day=payload.date, window=window_by_id(payload.window)
    )
    booking.refresh_from_db()
    return booking_answer(booking, move=ClosureMove.objects.latest_for(booking))


@router.post(
    "/bookings/{code}/join-waiting-list",
    response={200: BookingOut, **error_statuses(400, 404, 409, 422, 429)},
    throttle=[LOOKUP_LIMIT],
    operation_id="join_waiting_list",
    summary="Join the front of a ballot's waiting list after a closure",
)
def join_waiting_list(request, code: BookingCode, payload: NikIn):
    """Instead of choosing a time: put a booking an office's closure cancelled for want of a
    place (with its group's members) ahead of the office's ballot waiting list; the next
    freed place they fit is offered to them first, by message (`closure.answer` becomes
    waiting). 409 not_priority, no_waiting_list (the office is not on a ballot) or
    entered_already."""
    booking = booking_by_code(code, payload.nik)
    closures.join_waiting_list(booking=booking)
    return booking_answer(booking, move=closures.latest_move(booking))


def contact_answer(check, code: str) -> dict:
    """Return what the app is told of a contact check: confirmed, until when, a new code when."""
    pending = check.state == ContactCheck.State.PENDING
    more = pending and check.sends < settings.CONTACT_CODE_SENDS
    return {
        "code": code,
        "confirmed": check.state == ContactCheck.State.CONFIRMED,
        "confirm_by": check.expires_at,
        "resend_after": contact.resend_at(check) if more else None,
    }


def check_of(not_found, **subject) -> ContactCheck:
    """Return the contact check of a booking, group or entry; 404 when it was made without."""
    check = ContactCheck.objects.filter(**subject).first()
    if check is None:
        raise Http404(not_found)
    return check


def _check_of(booking: Booking) -> ContactCheck:
    # A group member's check is the group's.
    subject = {"group_id": booking.group_id} if booking.group_id else {"booking": booking}
    return check_of(BOOKING_NOT_FOUND, **subject)


@router.post(
    "/bookings/{code}/confirm-contact",
    response={200: ContactOut, **error_statuses(400, 404, 409, 422, 429)},
    throttle=[LOOKUP_LIMIT],
    operation_id="confirm_contact",
    summary="Confirm a new booking's contact with the code sent to it",
)
def confirm_contact(request, code: BookingCode, payload: ContactCodeIn):
    """Type back the one-time code sent to a new booking's (or its group's) contact; until
    then the booking holds its place for CONTACT_CONFIRM_MINUTES only. 422 for a wrong code
    (a try used), 409 `contact_code_tries` once the tries are used, `contact_check_over` once
    the booking has lapsed."""
    booking = booking_by_code(code, payload.nik)
    check = services.confirm_contact(check=_check_of(booking), code=payload.one_time_code)
    return contact_answer(check, booking.code)


@router.post(
    "/bookings/{code}/resend-code",
    response={202: ContactOut, **error_statuses(400, 404, 409, 422, 429)},
    throttle=[LOOKUP_LIMIT],
    operation_id="resend_contact_code",
    summary="Send a new booking's contact a new code",
)
def resend_contact_code(request, code: BookingCode, payload: NikIn):
    """Send a new one-time code in place of the last one, once `resend_after` has passed (429
    `contact_code_wait` before); 409 `contact_code_sends` once all codes are sent."""
    booking = booking_by_code(code, payload.nik)
    check = services.resend_contact_code(check=_check_of(booking), client=client_key(request))
    return Status(202, contact_answer(check, booking.code))
