"""The operations of the JSON API v1: each reads its input, calls one service or read, answers."""

import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django_ratelimit.core import is_ratelimited
from ninja import Query, Router, Status
from ninja.throttling import BaseThrottle

from bookings import services
from bookings.applicants import ApplicantDetailsForm, clean_nik
from bookings.availability import keep_briefly, office_availability
from bookings.codes import normalize_code
from bookings.models import Booking
from bookings.nik import mask_nik
from offices import clock
from offices.models import Office, ServiceWindow

from .errors import BOOKING_NOT_FOUND, OFFICE_NOT_FOUND, request_language
from .schemas import (
    MAX_DAYS,
    AvailabilityOut,
    AvailabilityQuery,
    BookingCode,
    BookingIn,
    BookingOut,
    CancelledOut,
    ErrorOut,
    NikIn,
    OfficeCode,
    OfficeOut,
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
        return not is_ratelimited(request, group=self.group, key="ip", rate=rate, increment=True)


BOOKING_LIMIT = RateLimit("api-booking", "RATELIMIT_BOOKING")
LOOKUP_LIMIT = RateLimit("api-lookup", "RATELIMIT_LOOKUP")


def _errors(*statuses):
    return dict.fromkeys(statuses, ErrorOut)


router = Router(tags=["v1"])


def _time(value):
    return f"{value:%H:%M}"


def _office(code) -> Office:
    office = Office.objects.filter(code=code).first() if _OFFICE_CODE.fullmatch(code) else None
    if office is None:
        raise Http404(OFFICE_NOT_FOUND)
    return office


def _find(code, nik) -> Booking:
    """Return the booking of a code and NIK; the same 404 when either is wrong."""
    booking = services.find_booking(normalize_code(code), clean_nik(nik))
    if booking is None:
        raise Http404(BOOKING_NOT_FOUND)
    return booking


def _window(pk):
    window = ServiceWindow.objects.filter(pk=pk).first()
    if window is None:
        raise ValidationError(UNKNOWN_WINDOW, code="window_mismatch")
    return window


def booking_answer(booking: Booking) -> dict:
    """Return what the app is told about a booking: never the whole NIK."""
    window = booking.window
    return {
        "code": booking.code,
        "office": booking.office.code,
        "date": booking.date,
        "window": None
        if window is None
        else {
            "id": window.pk,
            "start": _time(window.start),
            "end": _time(window.end),
            "zone": booking.office.zone_abbreviation,
        },
        "status": booking.status,
        "nik_masked": mask_nik(booking.nik),
        "full_name": booking.full_name,
        "purpose": booking.purpose,
        "passport_type": booking.passport_type,
        "birth_date_mismatch": booking.birth_date_mismatch,
    }


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
                "start": _time(w.window.start),
                "end": _time(w.window.end),
                "capacity": w.capacity,
                "remaining": w.remaining if day.bookable_range and not w.started else 0,
            }
            for w in day.windows
        ],
    }


@router.get(
    "/offices", response=list[OfficeOut], operation_id="list_offices", summary="List the offices"
)
def list_offices(request):
    """List the offices (Kantor Imigrasi) that take bookings."""
    return Office.objects.all()


@router.get(
    "/offices/{code}/availability",
    response={200: AvailabilityOut, **_errors(404, 422)},
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
    office = _office(code)
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


def _window_with_office(pk) -> ServiceWindow | None:
    """Return a window and its office, kept for AVAILABILITY_CACHE_SECONDS like availability.

    A rush asks for one window thousands of times a minute. What was read a moment ago
    serves the early refusals; a booking reads the window again with the day's plan.
    """
    return keep_briefly(
        f"api-window:{pk}",
        lambda: ServiceWindow.objects.select_related("office").filter(pk=pk).first(),
    )


def _link(operation, **body):
    return {
        "operationId": operation,
        "parameters": {"code": "$response.body#/code"},
        "requestBody": {"nik": "$request.body#/nik", **body},
    }


# What a client can do next with the code it was given (OpenAPI links).
BOOKING_LINKS = {
    "LookUp": _link("lookup_booking"),
    "Reschedule": _link("reschedule_booking"),
    "Cancel": _link("cancel_booking"),
}


def booking_example(now=None) -> dict | None:
    """Return a booking body that can be sent as it is now: the first free window of an office."""
    now = now or clock.now()
    for office in Office.objects.all()[:3]:
        for day in office_availability(office, office.first_bookable_day(now), 14, now=now):
            free = [w for w in day.windows if day.bookable_range and w.bookable]
            if free:
                return {
                    "office": office.code,
                    "date": day.date.isoformat(),
                    "window": free[0].window.pk,
                    "nik": "1671015705900001",
                    "full_name": "Siti Aminah",
                    "birth_date": "1990-05-17",
                    "email": "siti@example.com",
                    "phone": "0812 3456 7890",
                    "purpose": "umrah",
                    "passport_type": "ordinary",
                    "language": "id",
                }
    return None


@router.post(
    "/bookings",
    response={201: BookingOut, **_errors(400, 409, 422, 429)},
    throttle=[BOOKING_LIMIT],
    operation_id="create_booking",
    summary="Book a window",
    openapi_extra={"responses": {201: {"links": BOOKING_LINKS}}},
)
def create_booking(request, payload: BookingIn):
    """Book a window; 409 `full` or `duplicate` when the place cannot be had."""
    language = payload.language or request_language(request)
    with translation.override(language):
        window = _window_with_office(payload.window)
        if window is not None and window.office.code == payload.office:
            office = window.office
            services.refuse_if_full(window=window, day=payload.date)
        else:
            office = Office.objects.filter(code=payload.office).first()
        now = clock.now()
        form = ApplicantDetailsForm(
            data={
                "nik": payload.nik,
                "full_name": payload.full_name,
                "birth_date": payload.birth_date.isoformat(),
                "email": payload.email,
                "phone": payload.phone,
                "purpose": payload.purpose,
                "passport_type": payload.passport_type,
                "application_type": Booking.ApplicationType.NEW,
            },
            today=clock.office_today(office, now) if office else timezone.localdate(now),
        )
        problems = {} if form.is_valid() else form.errors.as_data()
        if office is None:
            problems["office"] = [ValidationError(OFFICE_NOT_FOUND)]
        if window is None:
            problems["window"] = [ValidationError(UNKNOWN_WINDOW)]
        if problems:
            raise ValidationError(problems)
        booking = services.create_booking(
            office=office,
            day=payload.date,
            window=window,
            applicant=form.applicant(language),
            now=now,
        )
    return Status(201, booking_answer(booking))


@router.post(
    "/bookings/{code}/lookup",
    response={200: BookingOut, **_errors(400, 404, 422, 429)},
    throttle=[LOOKUP_LIMIT],
    operation_id="lookup_booking",
    summary="Look up a booking",
)
def lookup_booking(request, code: BookingCode, payload: NikIn):
    """Show a booking; the NIK in the body must match (the same 404 for a wrong code or NIK)."""
    return booking_answer(_find(code, payload.nik))


@router.post(
    "/bookings/{code}/cancel",
    response={200: CancelledOut, **_errors(400, 404, 409, 422, 429)},
    throttle=[LOOKUP_LIMIT],
    operation_id="cancel_booking",
    summary="Cancel a booking",
)
def cancel_booking(request, code: BookingCode, payload: NikIn):
    """Cancel a booking until its window begins; its place is freed at once."""
    booking = services.cancel_booking(booking=_find(code, payload.nik))
    return {"code": booking.code, "status": booking.status}


@router.post(
    "/bookings/{code}/reschedule",
    response={200: BookingOut, **_errors(400, 404, 409, 422, 429)},
    throttle=[LOOKUP_LIMIT],
    operation_id="reschedule_booking",
    summary="Reschedule a booking",
)
def reschedule_booking(request, code: BookingCode, payload: RescheduleIn):
    """Move a booking to another window of its office; it keeps its place if that fails."""
    booking = _find(code, payload.nik)
    booking = services.reschedule_booking(
        booking=booking, day=payload.date, window=_window(payload.window)
    )
    return booking_answer(booking)
