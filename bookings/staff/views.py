"""Office staff's pages inside admin: today's queue, counters, check-in, tickets, walk-ins.

BookingAdmin mounts these views, so they sit under /admin/ behind admin's login. Each
reads only the offices of the user (offices.access.staff_offices) and calls
bookings.services for every change.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from bookings import services
from bookings.codes import grouped, is_group_code
from bookings.models import Booking, Visit
from bookings.notifications import outbox
from bookings.queue import board, calls, turn
from offices import clock
from offices.access import changeable_offices, staff_offices
from offices.models import Counter, OfficeDay
from offices.schedule import day_plan

from .forms import CheckInForm, FindForm, ReleaseNikForm, WalkInForm
from .signals import BURST, MANY_NIKS, REPEATED_NO_SHOWS, read_signals

STAFF_MESSAGES = {
    "day_full": _("Today's quota at this office is full (%(booked)d of %(quota)d)."),
    "ask_supervisor": _("Only a supervisor may register more applicants today."),
    "write_override": _(
        "To register this applicant anyway, write the reason for exceeding the daily quota."
    ),
    "no_office": _("You are not assigned to any office yet. Ask an administrator."),
}


def _require(request, permission):
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _office(request, value, *, to_change=False):
    """Return the office named by `value` among the user's, the first of them, or None.

    Among those the user may see, or with to_change among those they may change.
    """
    offices = changeable_offices(request) if to_change else staff_offices(request)
    if value in (None, ""):
        return offices.first()
    if not str(value).isdigit():
        raise Http404
    return get_object_or_404(offices, pk=int(value))


def _context(request, model_admin, title, **extra):
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": title,
        **extra,
    }


def _today_url(office, **params):
    query = urlencode({"office": office.pk, **params}, doseq=True)
    return f"{reverse('admin:bookings_booking_today')}?{query}"


# Today ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    """One line of the day's counts: a service window, the walk-ins, or the whole day."""

    label: str
    capacity: int | None
    booked: int
    arrived: int
    no_show: int

    @property
    def free(self):
        return None if self.capacity is None else max(0, self.capacity - self.booked)


def day_counts(office, day):
    """Return {window id or None for walk-ins: counts} of an office-day in one query."""
    rows = (
        Booking.objects.filter(office=office, date=day)
        .values("window_id")
        .annotate(
            booked=Count("pk", filter=Q(status__in=Booking.ACTIVE_STATUSES)),
            arrived=Count("pk", filter=Q(status=Booking.Status.CHECKED_IN)),
            no_show=Count("pk", filter=Q(status=Booking.Status.NO_SHOW)),
        )
        .order_by()
    )
    return {row.pop("window_id"): row for row in rows}


def _queue_rows(plan, counts, office_day):
    empty = {"booked": 0, "arrived": 0, "no_show": 0}
    rows = [
        QueueRow(window.label, window.capacity, **counts.get(window.pk, empty))
        for window in plan.windows
    ]
    rows.append(QueueRow(str(_("Walk-ins")), None, **counts.get(None, empty)))
    quota = office_day.quota if office_day else plan.quota
    total = QueueRow(
        str(_("Whole day")),
        quota if plan.open or office_day else None,
        sum(row["booked"] for row in counts.values()),
        sum(row["arrived"] for row in counts.values()),
        sum(row["no_show"] for row in counts.values()),
    )
    return rows, total


@dataclass
class QueueBlock:
    """Bookings listed together on the day's page: a group's members, or single bookings."""

    group_code: str = ""
    bookings: list[Booking] = field(default_factory=list)

    @property
    def shown_code(self) -> str:
        """Return the group's code in blocks, as applicants read it out."""
        return grouped(self.group_code)

    @property
    def waiting(self) -> int:
        """Return how many of the block's bookings may still be checked in."""
        return sum(booking.status == Booking.Status.BOOKED for booking in self.bookings)


def queue_blocks(bookings) -> list[QueueBlock]:
    """Return the day's bookings in order, each group's members together where its first stands."""
    blocks: list[QueueBlock] = []
    groups: dict[int, QueueBlock] = {}
    for booking in bookings:
        if booking.group_id is None:
            if not blocks or blocks[-1].group_code:
                blocks.append(QueueBlock())
            blocks[-1].bookings.append(booking)
        elif booking.group_id in groups:
            groups[booking.group_id].bookings.append(booking)
        else:
            groups[booking.group_id] = QueueBlock(booking.group.code, [booking])
            blocks.append(groups[booking.group_id])
    for block in groups.values():
        block.bookings.sort(key=lambda booking: booking.pk)
    return blocks


def today(request, *, model_admin):
    """Show an office's day: counts per window, the bookings, the check-in box."""
    _require(request, "bookings.view_booking")
    office = _office(request, request.GET.get("office"))
    if office is None:
        return TemplateResponse(
            request,
            "bookings/staff/today.html",
            _context(request, model_admin, _("Today"), no_office=STAFF_MESSAGES["no_office"]),
        )
    return _today_page(request, model_admin, office, CheckInForm())


def _today_page(request, model_admin, office, form):
    day = clock.office_today(office)
    plan = day_plan(office, day)
    office_day = OfficeDay.objects.filter(office=office, date=day).first()
    rows, total = _queue_rows(plan, day_counts(office, day), office_day)
    bookings = list(
        Booking.objects.filter(office=office, date=day)
        .select_related("window", "group")
        .order_by("starts_at", "created_at", "pk")
    )
    tickets = set(request.GET.getlist("ticket"))
    checked_in = [b for b in bookings if str(b.pk) in tickets and b.queue_number]
    counters = list(Counter.objects.filter(office=office).select_related("clerk"))
    mine = next((c for c in counters if c.clerk_id == request.user.pk), None)
    context = _context(
        request,
        model_admin,
        _("Today at %(office)s") % {"office": office.name},
        office=office,
        offices=staff_offices(request),
        day=day,
        zone=office.zone_abbreviation,
        plan=plan,
        rows=rows,
        total=total,
        bookings=bookings,
        blocks=queue_blocks(bookings),
        checked_in=checked_in,
        form=form,
        can_check_in=request.user.has_perm("bookings.change_booking"),
        can_walk_in=request.user.has_perm("bookings.add_booking"),
        can_resend=request.user.has_perm("bookings.change_notification"),
        counters=counters,
        my_counter=mine,
        at_my_counter=calls.at_counter(mine) if mine else None,
        queue=board.read_queue(office),
    )
    return TemplateResponse(request, "bookings/staff/today.html", context)


def _checked_in_message(code, checked_in) -> str:
    if not is_group_code(code):
        booking = checked_in[0]
        return _("%(code)s checked in: queue number %(number)s.") % {
            "code": booking.code,
            "number": booking.queue_number,
        }
    return ngettext(
        "Group %(code)s: %(count)d applicant checked in, queue number %(numbers)s.",
        "Group %(code)s: %(count)d applicants checked in, queue numbers %(numbers)s.",
        len(checked_in),
    ) % {
        "code": grouped(code),
        "count": len(checked_in),
        "numbers": ", ".join(booking.queue_number for booking in checked_in),
    }


@require_POST
def check_in(request, *, model_admin):
    """Check in the applicant or the group whose code was typed or scanned; back to the day."""
    _require(request, "bookings.change_booking")
    office = _office(request, request.POST.get("office"), to_change=True)
    if office is None:
        raise Http404
    form = CheckInForm(request.POST)
    if not form.is_valid():
        return _today_page(request, model_admin, office, form)
    code = form.cleaned_data["code"]
    try:
        checked_in = services.check_in_by_code(
            office=office, code=code, by=request.user, now=clock.now()
        )
    except ValidationError as exc:
        form.refuse(exc)
        return _today_page(request, model_admin, office, form)
    messages.success(request, _checked_in_message(code, checked_in))
    return HttpResponseRedirect(_today_url(office, ticket=[b.pk for b in checked_in]))


def ticket(request, pk, *, model_admin):
    """Show a checked-in applicant's queue ticket, laid out for printing."""
    _require(request, "bookings.view_booking")
    booking = get_object_or_404(model_admin.get_queryset(request).exclude(queue_number=""), pk=pk)
    office = booking.office
    checked_in = office.local_now(booking.checked_in_at) if booking.checked_in_at else None
    # The applicant's turn page, from the QR code; a number given before visits were kept has none.
    visit = Visit.objects.filter(booking=booking).only("pk", "date").first()
    context = _context(
        request,
        model_admin,
        _("Queue ticket %(number)s") % {"number": booking.queue_number},
        booking=booking,
        office=office,
        checked_in=checked_in,
        zone=office.zone_abbreviation,
        today_url=_today_url(office),
        turn_qr=turn.ticket_qr_svg(visit) if visit else "",
    )
    return TemplateResponse(request, "bookings/staff/ticket.html", context)


# Counters -------------------------------------------------------------------------------

COUNTER_ACTIONS = {
    "sign_in": calls.sign_in,
    "sign_out": calls.sign_out,
    "call_next": calls.call_next,
    "recall": calls.recall,
    "skip": calls.skip,
    "start": calls.start,
    "finish": calls.finish,
}


def _counter_message(action, counter, visit) -> str:
    if action == "sign_in":
        return _("You are signed in to %(counter)s.") % {"counter": counter.name}
    if action == "sign_out":
        return _("You are signed out of %(counter)s.") % {"counter": counter.name}
    if visit is None:
        return _("Nobody is waiting who can be called now.")
    number = visit.booking.queue_number
    if action == "skip" and visit.state == Visit.State.MISSED:
        return _("%(number)s did not answer and is marked so.") % {"number": number}
    if action == "skip":
        return _("%(number)s goes to the back of the queue.") % {"number": number}
    if action == "finish":
        return _("%(number)s is finished.") % {"number": number}
    if action == "start":
        return _("Serving %(number)s.") % {"number": number}
    return _("%(number)s is called to %(counter)s.") % {"number": number, "counter": counter.name}


@require_POST
def counter(request, *, model_admin):
    """Act at a counter of the user's office: sign in or out, call next, recall, skip, start,
    finish; back to the day."""
    _require(request, "bookings.change_booking")
    office = _office(request, request.POST.get("office"), to_change=True)
    action = COUNTER_ACTIONS.get(request.POST.get("action", ""))
    chosen = request.POST.get("counter", "")
    if office is None or action is None or not chosen.isdigit():
        raise Http404
    desk = get_object_or_404(Counter.objects.select_related("office"), pk=chosen, office=office)
    try:
        visit = action(counter=desk, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _counter_message(request.POST["action"], desk, visit))
    return HttpResponseRedirect(_today_url(office))


@require_POST
def resend_failed(request, *, model_admin):
    """Send again every failed message about today's bookings at an office; back to the day."""
    _require(request, "bookings.change_notification")
    office = _office(request, request.POST.get("office"), to_change=True)
    if office is None:
        raise Http404
    count = outbox.retry_failed_of_day(office=office, day=clock.office_today(office))
    if count:
        messages.success(
            request,
            ngettext(
                "%(count)d failed message will be sent again.",
                "%(count)d failed messages will be sent again.",
                count,
            )
            % {"count": count},
        )
    else:
        messages.info(request, _("No message about today's bookings has failed."))
    return HttpResponseRedirect(_today_url(office))


# Walk-ins ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayState:
    """How full an office's day is, for the walk-in page."""

    open: bool
    reason: str
    quota: int
    booked: int

    @property
    def free(self):
        return max(0, self.quota - self.booked)

    @property
    def full(self):
        return self.open and self.free == 0


def day_state(office, now) -> DayState:
    day = clock.office_today(office, now)
    plan = day_plan(office, day)
    row = OfficeDay.objects.filter(office=office, date=day).first()
    if not plan.open:
        reason = str(plan.closed_label) if plan.reason else ""
        return DayState(False, reason, 0, row.booked if row else 0)
    return DayState(True, "", row.quota if row else plan.quota, row.booked if row else 0)


def _walk_in_refused(request, form, exc, office):
    code = getattr(exc, "code", None) or ""
    if code.startswith("nik"):
        form.add_error("nik", exc)
        return
    if code == "day_full":
        state = day_state(office, clock.now())
        form.add_error(
            None, STAFF_MESSAGES["day_full"] % {"booked": state.booked, "quota": state.quota}
        )
        hint = "write_override" if "override_reason" in form.fields else "ask_supervisor"
        form.add_error(None, STAFF_MESSAGES[hint])
        return
    form.add_error(None, exc)


@sensitive_post_parameters("nik", "full_name", "birth_date", "phone", "email")
def walk_in(request, *, model_admin):
    """Register an applicant who came without a booking: today, at one of the user's offices."""
    _require(request, "bookings.add_booking")
    offices = staff_offices(request)
    if request.method == "POST":
        form = WalkInForm(request.POST, offices=offices, user=request.user)
        if form.is_valid():
            office = form.cleaned_data["office"]
            try:
                booking = services.register_walk_in(
                    office=office,
                    applicant=form.applicant(),
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                    override_reason=form.cleaned_data.get("override_reason", ""),
                    now=clock.now(),
                )
            except ValidationError as exc:
                _walk_in_refused(request, form, exc, office)
            else:
                messages.success(
                    request,
                    _("Walk-in registered: queue number %(number)s.")
                    % {"number": booking.queue_number},
                )
                url = reverse("admin:bookings_booking_ticket", args=[booking.pk])
                return HttpResponseRedirect(url)
        office = form.cleaned_data.get("office")
    else:
        chosen = request.GET.get("office", "")
        office = offices.filter(pk=int(chosen)).first() if chosen.isdigit() else None
        form = WalkInForm(
            initial={"office": office.pk} if office else None, offices=offices, user=request.user
        )
    office = office or offices.first()
    context = _context(
        request,
        model_admin,
        _("Register a walk-in applicant"),
        form=form,
        office=office,
        state=day_state(office, clock.now()) if office else None,
        no_office=None if office else STAFF_MESSAGES["no_office"],
    )
    return TemplateResponse(request, "bookings/staff/walk_in.html", context)


# Signals --------------------------------------------------------------------------------

SIGNAL_DAYS = 30  # appointments from this many days ago on, and all those still to come


def signals(request, *, model_admin):
    """Patterns that may be brokers or bots, at the user's offices (a supervisor's: all)."""
    _require(request, "bookings.view_booking")
    offices = staff_offices(request)
    chosen = request.GET.get("office", "")
    office = offices.filter(pk=int(chosen)).first() if chosen.isdigit() else None
    shown = offices.filter(pk=office.pk) if office else offices
    since = clock.now().date() - timedelta(days=SIGNAL_DAYS)
    context = _context(
        request,
        model_admin,
        _("Signals of brokers and bots"),
        signals=read_signals(shown, since),
        offices=offices,
        office=office,
        since=since,
        thresholds={"niks": MANY_NIKS, "burst": BURST, "no_shows": REPEATED_NO_SHOWS},
    )
    return TemplateResponse(request, "bookings/staff/signals.html", context)


# Winning a NIK back ---------------------------------------------------------------------


@sensitive_post_parameters("nik", "reason")
def release_nik(request, *, model_admin):
    """Free a NIK that a booking of someone else holds, at any office, after a KTP check."""
    _require(request, "bookings.change_booking")
    offices = changeable_offices(request)
    form = ReleaseNikForm(request.POST or None, offices=offices)
    if request.method == "POST" and form.is_valid():
        try:
            booking = services.release_nik(
                nik=form.cleaned_data["nik"],
                office=form.cleaned_data["office"],
                reason=form.cleaned_data["reason"],
                by=request.user,
                now=clock.now(),
            )
        except ValidationError as exc:
            form.add_error("nik" if exc.code.startswith("nik") else None, exc)
        else:
            messages.success(
                request,
                _(
                    "NIK released: booking %(code)s at %(office)s is cancelled and its contact "
                    "is told. The applicant can book now."
                )
                % {"code": booking.code, "office": booking.office.name},
            )
            return HttpResponseRedirect(reverse("admin:bookings_booking_release_nik"))
    context = _context(
        request,
        model_admin,
        _("Release a NIK held by someone else"),
        form=form,
        no_office=None if offices.exists() else STAFF_MESSAGES["no_office"],
    )
    return TemplateResponse(request, "bookings/staff/release_nik.html", context)


# Finding a booking ----------------------------------------------------------------------


def nik_results_url(request, model_admin, nik) -> str:
    """Return the bookings list showing the bookings of a NIK, by their ids, not the NIK."""
    changelist = reverse("admin:bookings_booking_changelist")
    found = list(
        model_admin.get_queryset(request).filter(nik=nik).values_list("pk", flat=True)[:100]
    )
    if not found:
        messages.info(request, _("No booking at your offices matches this NIK."))
        return changelist
    return f"{changelist}?id__in={','.join(map(str, found))}"


@require_POST
@sensitive_post_parameters("term")
def find(request, *, model_admin):
    """Search bookings by code or by full NIK without putting the NIK in the address."""
    _require(request, "bookings.view_booking")
    changelist = reverse("admin:bookings_booking_changelist")
    form = FindForm(request.POST)
    if not form.is_valid():
        return HttpResponseRedirect(changelist)
    if form.nik:
        return HttpResponseRedirect(nik_results_url(request, model_admin, form.nik))
    return HttpResponseRedirect(f"{changelist}?{urlencode({'q': form.cleaned_data['term']})}")
