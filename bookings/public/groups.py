"""A group's pages: its code and every member with their own code and QR code; print view,
calendar file, and cancelling or moving the whole group at once."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from bookings import closures, limits, services
from bookings.availability import days_with_room
from bookings.codes import grouped
from bookings.models import Booking
from bookings.nik import mask_nik
from bookings.notifications.ics import group_ics
from bookings.notifications.links import redeem_group_link
from offices import clock

from .contact_code import waiting_for_code
from .forms import GroupCancelForm
from .holding import lookup_redirect, owned_group, remember
from .views import RescheduleChoice, qr_svg


def _members(group) -> list[Booking]:
    # In the order they were entered; they share the office, the day and the window.
    return list(group.members.select_related("office", "window").order_by("pk"))


def _group_context(group, members):
    now = clock.now()
    booked = [member for member in members if member.status == Booking.Status.BOOKED]
    return {
        "group": group,
        "group_code": grouped(group.code),
        # One scan at the counter checks in every member still booked.
        "group_qr_svg": qr_svg(group.code) if booked else "",
        "members": [
            {
                "booking": member,
                "masked_nik": mask_nik(member.nik),
                "qr_svg": qr_svg(member.code) if member in booked else "",
            }
            for member in members
        ],
        "first": members[0] if members else None,
        "office": members[0].office if members else None,
        "booked": booked,
        "checked_in": [m for m in members if m.status == Booking.Status.CHECKED_IN],
        # Someone renewing brings the old passport: the list of what to bring says so.
        "renewal": next(
            (m for m in booked if m.application_type == Booking.ApplicationType.RENEWAL), None
        ),
        "can_cancel": bool(booked) and all(member.can_cancel(now) for member in booked),
        "can_reschedule": bool(booked) and all(member.can_reschedule(now) for member in booked),
        "max_reschedules": settings.BOOKING_MAX_RESCHEDULES,
        **(closures.page_state(members[0], now) if members else {}),
    }


@never_cache
def group_detail(request, code):
    token = request.GET.get("t")
    if token:
        return _open_signed_link(request, code, token)
    group = owned_group(request, code)
    if group is None:
        return lookup_redirect(code)
    if waiting := waiting_for_code(request, group):
        return waiting
    context = _group_context(group, _members(group))
    return render(request, "bookings/public/group.html", context)


def _open_signed_link(request, code, token):
    """Exchange a link from a message for this browser's session once, as a booking's link."""
    held = owned_group(request, code)
    if held is not None:
        return redirect("group-detail", code=held.code)
    group = redeem_group_link(code, token)
    if group is None:
        return render(request, "bookings/public/link_expired.html", {"code": code}, status=410)
    remember(request, group.code)
    return redirect("group-detail", code=group.code)


@never_cache
def group_print(request, code):
    group = owned_group(request, code)
    if group is None:
        return lookup_redirect(code)
    if waiting := waiting_for_code(request, group):
        return waiting
    members = _members(group)
    if not members:
        return redirect("group-detail", code=group.code)
    context = _group_context(group, members)
    return render(request, "bookings/public/group_print.html", context)


@never_cache
def group_calendar_file(request, code):
    group = owned_group(request, code)
    if group is None:
        return lookup_redirect(code)
    if waiting := waiting_for_code(request, group):
        return waiting
    members = _members(group)
    # The event is the group's appointment: cancelled only once every member is.
    current = [m for m in members if m.status != Booking.Status.CANCELLED] or members
    if not current:
        return redirect("group-detail", code=group.code)
    response = HttpResponse(group_ics(group, current), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="antrean-{group.code}.ics"'
    return response


@never_cache
@ratelimit(group=limits.LOOKUP, key="ip", rate=limits.LOOKUP_RATE, method="POST", block=True)
@require_http_methods(["GET", "POST"])
def group_cancel(request, code):
    group = owned_group(request, code)
    if group is None:
        return lookup_redirect(code)
    refused = False
    if request.method == "POST":
        form = GroupCancelForm(request.POST)
        if form.is_valid():
            try:
                services.cancel_group(group=group)
            except ValidationError as exc:
                form.add_error(None, exc)
                refused = True
            else:
                return redirect("group-detail", code=group.code)
    else:
        form = GroupCancelForm()
    context = {**_group_context(group, _members(group)), "form": form}
    return render(
        request, "bookings/public/group_cancel.html", context, status=409 if refused else 200
    )


@never_cache
@ratelimit(group=limits.BOOKING, key="ip", rate=limits.BOOKING_RATE, method="POST", block=True)
@require_http_methods(["GET", "POST"])
def group_reschedule(request, code):
    group = owned_group(request, code)
    if group is None:
        return lookup_redirect(code)
    members = _members(group)
    context = _group_context(group, members)
    booked = len(context["booked"])
    choice = RescheduleChoice(request, days_with_room(members[0].office, booked) if booked else [])

    def move(day, window):
        services.reschedule_group(group=group, day=day, window=window)
        return redirect("group-detail", code=group.code)

    refused = choice.submit(
        move, no_day=_("Choose a day with a session that has places for the group.")
    )
    if choice.done:
        return choice.done
    context = {**context, **choice.context()}
    return render(
        request, "bookings/public/group_reschedule.html", context, status=409 if refused else 200
    )
