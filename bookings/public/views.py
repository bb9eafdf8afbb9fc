"""Public pages: find an office, pick a day and window, book, look up, reschedule, cancel."""

import calendar
from datetime import date, datetime, timedelta
from functools import lru_cache

import segno
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from antrean.client_ip import client_key
from bookings import closures, limits, services
from bookings.availability import (
    days_with_room,
    keep_briefly,
    next_free_days,
    office_and_window,
    office_availability,
)
from bookings.codes import is_group_code, normalize_code
from bookings.metrics import booking_attempt
from bookings.models import ReleaseSchedule
from bookings.nik import mask_nik
from bookings.notifications.ics import booking_ics
from bookings.notifications.links import redeem_booking_link
from bookings.releases import SHOWN
from offices import clock
from offices.models import Office, PassportFee, Weekday

from . import robots
from .contact_code import waiting_for_code
from .forms import (
    ApplicantsForm,
    CancelForm,
    LookupForm,
    RescheduleForm,
    applicant_field_keys,
    edited_applicants,
)
from .holding import (
    applicants_session,
    holds,
    lookup_redirect,
    owned_booking,
    remember,
    remember_group,
)
from .parts import kept_page

PENDING_KEY = "antrean_pending_booking"
# The details typed into the form wait for "check your answers" this long, and no longer.
PENDING_MAX_AGE = timedelta(minutes=30)
BOOKING_FORM_RATE = "bookings.public.views.booking_form_rate"
# Refusals of the session or the day, for which other days with places are offered; a refused
# NIK is no reason to pick another day.
SLOT_REFUSALS = frozenset(
    {"full", "day_full", "group_full", "group_day_full", "closed", "not_bookable", "window_started"}
)
# What the error reports of the booking form leave out: every applicant's details.
APPLICANT_DETAILS = applicant_field_keys(["nik", "full_name", "birth_date", "phone", "email"])


def booking_form_rate(group, request):
    # Adding or removing an applicant only draws the form again: a family of five needs several.
    if request.method == "POST" and edited_applicants(request.POST) is not None:
        return None
    return settings.RATELIMIT_BOOKING


def rate_limited(request, exception):
    """Answer a client over its rate limit with 429 and a page saying when to try again."""
    return render(request, "bookings/public/rate_limited.html", status=429)


# ---- finding an office, a day and a window ---------------------------------------------------


def home(request):
    # Printable characters only: PostgreSQL refuses a NUL byte in a query.
    query = "".join(ch for ch in request.GET.get("q", "") if ch.isprintable()).strip()[:100]
    offices = Office.objects.all()
    if query:
        offices = offices.filter(Q(city__icontains=query) | Q(name__icontains=query))
    offices = list(offices)
    free = next_free_days(offices)
    rows = [(office, free.get(office.pk)) for office in offices]
    return render(request, "bookings/public/home.html", {"rows": rows, "query": query})


def _office(code):
    # Kept with its windows for the crowd that reads its calendar (office_and_window).
    office, _window = office_and_window(code, None)
    if office is None:
        raise Http404
    return office


def _parse_month(value, fallback):
    try:
        year, month = (int(part) for part in value.split("-"))
        return date(year, month, 1)
    except (AttributeError, ValueError, TypeError):
        return fallback


def office_calendar(request, code):
    office = _office(code)
    now = clock.now()
    first = office.first_bookable_day(now)
    last = office.last_bookable_day(now)
    month = _parse_month(request.GET.get("month"), first.replace(day=1))
    if not first.replace(day=1) <= month <= last.replace(day=1):
        month = first.replace(day=1)
    return kept_page(
        request,
        f"calendar:{office.pk}:{month:%Y-%m}",
        "bookings/public/office.html",
        lambda: _calendar_context(office, month, first, last, now),
    )


def _calendar_context(office, month, first, last, now):
    days_in_month = calendar.monthrange(month.year, month.month)[1]
    days = office_availability(office, month, days_in_month)
    previous_month = (month - timedelta(days=1)).replace(day=1)
    next_month = (month + timedelta(days=days_in_month)).replace(day=1)
    return {
        **(_ballot_context(office, now) if office.by_ballot else {}),
        "page_path": f"{reverse('office-calendar', args=[office.code])}?month={month:%Y-%m}",
        "office": office,
        "month": month,
        "weeks": _weeks(month, days),
        "days": [d for d in days if d.state != "unavailable" and d.plan.closure != "weekly"],
        "previous_month": previous_month if previous_month >= first.replace(day=1) else None,
        "next_month": next_month if next_month <= last else None,
        "hours": _weekly_hours(office),
    }


def _ballot_context(office, now):
    """What an office on a ballot tells about how its days open: its schedule, its releases."""
    schedule = ReleaseSchedule.objects.filter(office=office, active=True).first()
    releases = office.releases.filter(last_day__gte=office.today(now)).order_by("first_day")
    return {"schedule": schedule, "releases": list(releases.only(*SHOWN)[:4]), "now": now}


def _weeks(month, days):
    """Lay the days of a month out in Monday-first weeks, None for the blanks."""
    cells = [None] * month.weekday() + list(days)
    cells += [None] * (-len(cells) % 7)
    return [cells[i : i + 7] for i in range(0, len(cells), 7)]


def _weekly_hours(office):
    """Return (weekdays label, windows) with consecutive weekdays of equal windows merged."""
    by_weekday = {}
    for window in office.windows.order_by("weekday", "start"):
        if office.opens_on_weekday(window.weekday):
            by_weekday.setdefault(window.weekday, []).append(window)
    groups = []
    for weekday, windows in by_weekday.items():
        spans = [(w.start, w.end) for w in windows]
        if groups and groups[-1][2] == spans and groups[-1][1] == weekday - 1:
            groups[-1][1] = weekday
        else:
            groups.append([weekday, weekday, spans, windows])
    labels = dict(Weekday.choices)
    return [
        (labels[first] if first == last else f"{labels[first]}–{labels[last]}", windows)
        for first, last, _spans, windows in groups
    ]


def _day(office, day_string):
    try:
        day = date.fromisoformat(day_string)
    except ValueError:
        raise Http404 from None
    if day.isoformat() != day_string:  # one URL per day: 2017-09-06, not 20170906
        raise Http404
    # Nothing to show a year away from the office's calendar; and date arithmetic
    # would overflow at 0001-01-01 and 9999-12-31.
    today = clock.office_today(office)
    if not -366 <= (day - today).days <= office.booking_horizon_days + 366:
        raise Http404
    return day


def office_day(request, code, day):
    office = _office(code)
    day = _day(office, day)
    return kept_page(
        request,
        f"day:{office.pk}:{day.isoformat()}",
        "bookings/public/day.html",
        lambda: _day_context(office, day),
    )


def _day_context(office, day):
    availability = office_availability(office, day, 1)[0]
    alternatives = [] if availability.bookable else next_free_days_after(office, day)
    return {
        "page_path": reverse("office-day", args=[office.code, day.isoformat()]),
        "office": office,
        "day": availability,
        "alternatives": alternatives,
    }


def next_free_days_after(office, day, limit=3):
    """Return the next bookable days of an office after a date, for a full or closed day."""
    now = clock.now()
    start = max(day + timedelta(days=1), office.first_bookable_day(now))
    end = office.last_bookable_day(now)
    if start > end:
        return []
    # Kept like the calendar's places: the crowd that finds a window full asks this too.
    days = office_availability(office, start, (end - start).days + 1)
    return [d for d in days if d.bookable][:limit]


# ---- booking: form, check your answers, confirmation ------------------------------------------


def _slot(code, day, window_id):
    office, window = office_and_window(code, window_id)
    if window is None:
        raise Http404
    return office, _day(office, day), window


@never_cache
@sensitive_post_parameters(*APPLICANT_DETAILS)
@ratelimit(key="ip", rate=BOOKING_FORM_RATE, method="POST", block=True)
@require_http_methods(["GET", "POST"])
def book(request, code, day, window_id):
    office, day, window = _slot(code, day, window_id)
    today = clock.office_today(office)
    unbookable = _unbookable(request, office, day, window)
    if unbookable is not None:
        return unbookable
    if request.method == "POST":
        edited = edited_applicants(request.POST)
        if edited is not None:  # "add an applicant" or "remove": the same answers, redrawn
            form = ApplicantsForm(initial=edited, today=today)
        else:
            form = ApplicantsForm(request.POST, today=today)
        if form.is_valid():
            applicants_session(request)
            request.session[PENDING_KEY] = {
                "saved": clock.now().isoformat(),
                "office": office.code,
                "date": day.isoformat(),
                "window": window.pk,
                "data": form.pending_data(),
            }
            return redirect(
                "booking-check", code=office.code, day=day.isoformat(), window_id=window.pk
            )
    else:
        # The answers waiting for "check your answers", typed in again; a POST reads no
        # session unless its answers are taken.
        pending = _pending(request)
        initial = pending["data"] if pending else None
        form = ApplicantsForm(initial=initial, today=today)
    return render(
        request,
        "bookings/public/book.html",
        {"office": office, "day": day, "window": window, "form": form},
    )


def _pending(request):
    """Return the details waiting for "check your answers", or None once PENDING_MAX_AGE passed."""
    pending = request.session.get(PENDING_KEY)
    if pending is None:
        return None
    saved = pending.get("saved")
    if saved is None or clock.now() - datetime.fromisoformat(saved) > PENDING_MAX_AGE:
        del request.session[PENDING_KEY]
        return None
    return pending


def _unbookable(request, office, day, window):
    """The page of a window that cannot be booked as the calendar last saw it, or as a booking
    found it a moment ago (services.check_seen_bookable); None while it can be."""
    try:
        seen = office_availability(office, day, 1)[0]
        services.check_seen_bookable(office=office, day=day, window=window, seen=seen)
    except ValidationError as error:
        return _slot_unavailable(request, office, day, window, error)
    return None


def _slot_unavailable(request, office, day, window, error, status=409):
    # What the crowd that finds a window sold out reads, over and over: kept as the places.
    page_path = reverse("booking-form", args=[office.code, day.isoformat(), window.pk])
    return kept_page(
        request,
        f"unavailable:{office.pk}:{day.isoformat()}:{window.pk}:{error.code}",
        "bookings/public/unavailable.html",
        lambda: {
            "page_path": page_path,
            "office": office,
            "error": error.messages[0],
            "alternatives": next_free_days_after(office, day - timedelta(days=1)),
        },
        status=status,
    )


@never_cache
@ratelimit(group=limits.BOOKING, key="ip", rate=limits.BOOKING_RATE, method="POST", block=True)
@require_http_methods(["GET", "POST"])
def check_answers(request, code, day, window_id):
    office, day, window = _slot(code, day, window_id)
    # Answers are not checked for a place known gone: the applicant picks another day and
    # finds them typed in (the pending details serve every form of the office).
    unbookable = _unbookable(request, office, day, window) if request.method == "GET" else None
    if unbookable is not None:
        return unbookable
    pending = _pending(request)
    if not pending or pending["office"] != office.code:
        return redirect("booking-form", code=office.code, day=day.isoformat(), window_id=window.pk)
    form = ApplicantsForm(pending["data"], today=clock.office_today(office))
    if not form.is_valid():
        return redirect("booking-form", code=office.code, day=day.isoformat(), window_id=window.pk)
    refused = slot_refused = False
    if request.method == "POST":
        try:
            with booking_attempt("web"):
                robots.refuse_without_proof(request)
                bookings = services.book_applicants(
                    office=office,
                    day=day,
                    window=window,
                    applicants=form.applicants(get_language()[:2]),
                    client=client_key(request),
                )
        except ValidationError as exc:
            form.add_error(None, exc)
            refused, slot_refused = True, exc.code in SLOT_REFUSALS
        else:
            del request.session[PENDING_KEY]
            group = bookings[0].group
            if group is None:
                remember(request, bookings[0].code)
                return redirect("booking-detail", code=bookings[0].code)
            remember_group(request, group, bookings)
            return redirect("group-detail", code=group.code)
    return render(
        request,
        "bookings/public/check.html",
        {
            "office": office,
            "day": day,
            "window": window,
            "form": form,
            "mismatches": [] if refused else form.birth_date_mismatches,
            "applicants": [
                {"number": number, "details": _answers(applicant)}
                for number, applicant in form.numbered()
            ],
            "alternatives": next_free_days_after(office, day - timedelta(days=1))
            if slot_refused
            else [],
            "contact_confirmation": settings.CONTACT_CONFIRMATION,
            "proof": robots.widget(request),
        },
        status=409 if refused else 200,
    )


def _answers(form):
    """Return an applicant's answers as label, shown value and the field's id, in form order."""
    data = form.cleaned_data
    shown = {
        "birth_date": date_format(data["birth_date"], "j F Y"),
        **{
            name: dict(form.fields[name].choices).get(data[name], "")
            for name in ("purpose", "application_type", "passport_type")
        },
    }
    return [
        {
            "label": form[name].label,
            "value": shown.get(name, data[name]),
            "id": form[name].id_for_label or f"{form[name].auto_id}_0",
        }
        for name in form.field_order
        if name in form.fields and name != "website"
    ]


# ---- the booking: who may see it, and what they can do ----------------------------------------


@lru_cache(maxsize=1024)
def qr_svg(code) -> str:
    """Return the QR code of a booking or group code as inline SVG, for the counter's scanner.

    A full QR code, never the Micro QR segno would choose for a code this short: phone
    cameras and many counter scanners read only the first. Kept per process: a code's QR
    never changes, and choosing its mask is most of its cost (about 1.5 ms).
    """
    qr = segno.make(code, error="m", micro=False)
    return qr.svg_inline(scale=6, dark="#0b1f33", title=code, omitsize=True)


def passport_fee(passport_type) -> PassportFee | None:
    """Return the state fee of a passport type, as the fees were read a moment ago."""
    return keep_briefly(
        f"passport-fee:{passport_type}",
        lambda: PassportFee.objects.filter(passport_type=passport_type).first(),
    )


def _booking_context(request, booking):
    now = clock.now()
    fee = passport_fee(booking.passport_type)
    group = booking.group
    return {
        "booking": booking,
        "office": booking.office,
        "fee": fee,
        "qr_svg": qr_svg(booking.code),
        "masked_nik": mask_nik(booking.nik),
        "can_cancel": booking.can_cancel(now),
        "can_reschedule": booking.can_reschedule(now),
        "max_reschedules": settings.BOOKING_MAX_RESCHEDULES,
        "group": group,
        "group_held": group is not None and holds(request, group.code),
        **closures.page_state(booking, now),
    }


@never_cache
def booking_detail(request, code):
    token = request.GET.get("t")
    if token:
        return _open_signed_link(request, code, token)
    booking = owned_booking(request, code)
    if booking is None:
        return lookup_redirect(code)
    return waiting_for_code(request, booking) or render(
        request, "bookings/public/booking.html", _booking_context(request, booking)
    )


def _open_signed_link(request, code, token):
    """Exchange a link from a message for this browser's session, then drop the token.

    A browser that holds the booking already is simply shown it: a second click on the
    same link is no reason for an error page.
    """
    owned = owned_booking(request, code)
    if owned is not None:
        return redirect("booking-detail", code=owned.code)
    booking = redeem_booking_link(code, token)
    if booking is None:
        return render(request, "bookings/public/link_expired.html", {"code": code}, status=410)
    remember(request, booking.code)
    return redirect("booking-detail", code=booking.code)


@never_cache
def booking_print(request, code):
    booking = owned_booking(request, code)
    if booking is None:
        return lookup_redirect(code)
    return waiting_for_code(request, booking) or render(
        request, "bookings/public/print.html", _booking_context(request, booking)
    )


@never_cache
def booking_calendar_file(request, code):
    booking = owned_booking(request, code)
    if booking is None:
        return lookup_redirect(code)
    if waiting := waiting_for_code(request, booking):
        return waiting
    response = HttpResponse(booking_ics(booking), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="antrean-{booking.code}.ics"'
    return response


@never_cache
@sensitive_post_parameters("nik")
@ratelimit(group=limits.LOOKUP, key="ip", rate=limits.LOOKUP_RATE, method="POST", block=True)
@require_http_methods(["GET", "POST"])
def lookup(request):
    if request.method == "POST":
        form = LookupForm(request.POST)
        if form.is_valid():
            code, nik = form.cleaned_data["code"], form.cleaned_data["nik"]
            if is_group_code(code):
                group = services.find_group(code, nik)
                if group is not None:
                    remember(request, group.code)  # its members while they are in it
                    return redirect("group-detail", code=group.code)
            else:
                booking = services.find_booking(code, nik)
                if booking is not None:
                    remember(request, booking.code)
                    return redirect("booking-detail", code=booking.code)
            form.add_error(
                None, _("No booking matches this code and NIK. Check both and try again.")
            )
    else:
        form = LookupForm(initial={"code": normalize_code(request.GET.get("code", ""))})
    return render(request, "bookings/public/lookup.html", {"form": form})


@never_cache
@ratelimit(group=limits.LOOKUP, key="ip", rate=limits.LOOKUP_RATE, method="POST", block=True)
@require_http_methods(["GET", "POST"])
def cancel(request, code):
    booking = owned_booking(request, code)
    if booking is None:
        return lookup_redirect(code)
    refused = False
    if request.method == "POST":
        form = CancelForm(request.POST)
        if form.is_valid():
            try:
                services.cancel_booking(booking=booking)
            except ValidationError as exc:
                form.add_error(None, exc)
                refused = True
            else:
                return redirect("booking-detail", code=booking.code)
    else:
        form = CancelForm()
    context = {**_booking_context(request, booking), "form": form}
    return render(request, "bookings/public/cancel.html", context, status=409 if refused else 200)


@never_cache
@ratelimit(group=limits.BOOKING, key="ip", rate=limits.BOOKING_RATE, method="POST", block=True)
@require_http_methods(["GET", "POST"])
def reschedule(request, code):
    booking = owned_booking(request, code)
    if booking is None:
        return lookup_redirect(code)
    choice = RescheduleChoice(request, days_with_room(booking.office))

    def move(day, window):
        services.reschedule_booking(booking=booking, day=day, window=window)
        remember(request, booking.code)  # held through its group, it has left the group now
        return redirect("booking-detail", code=booking.code)

    refused = choice.submit(move, no_day=_("Choose a day with places left."))
    if choice.done:
        return choice.done
    context = {**_booking_context(request, booking), **choice.context()}
    return render(
        request, "bookings/public/reschedule.html", context, status=409 if refused else 200
    )


class RescheduleChoice:
    """The day and window a reschedule form chose among the days with room, and its outcome.

    Serves the move of one booking and of a whole group alike.
    """

    def __init__(self, request, days):
        self.request = request
        self.days = days
        chosen_value = request.POST.get("date") or request.GET.get("date")
        self.chosen, self.windows = next(
            ((day, windows) for day, windows in days if day.date.isoformat() == chosen_value),
            (None, []),
        )
        self.form = RescheduleForm(
            request.POST if request.method == "POST" else None,
            windows=self.windows,
            initial={"date": self.chosen.date if self.chosen else None},
        )
        self.done = None

    def submit(self, move, *, no_day) -> bool:
        """On a POST, call move(day, window) and keep its answer in `done`; return whether the
        move was refused (its reason then stands on the form)."""
        if self.request.method != "POST":
            return False
        if self.chosen is None:
            self.form.is_valid()  # a bound form answers its own errors beside this one
            self.form.add_error(None, no_day)
            return True
        if not self.form.is_valid():
            return False
        chosen_pk = self.form.cleaned_data["window"]
        window = next(w.window for w in self.windows if w.window.pk == chosen_pk)
        try:
            self.done = move(self.chosen.date, window)
        except ValidationError as exc:
            self.form.add_error(None, exc)
            return True
        return False

    def context(self) -> dict:
        return {
            "days": [day for day, _windows in self.days],
            "chosen": self.chosen,
            "form": self.form,
        }
