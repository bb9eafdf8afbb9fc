"""What an applicant whose office closed does next: keep the place a closure moved them to,
or, left without one, choose a new time before the places open to anyone else."""

from contextlib import suppress

from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from bookings import closures, limits
from bookings.availability import days_with_room
from bookings.models import ClosureMove
from offices import clock

from .holding import lookup_redirect, owned_booking, owned_group
from .views import RescheduleChoice


def _subject(request, code, *, group):
    # (first booking, page to return to) of what this browser holds, or None.
    if group:
        held = owned_group(request, code)
        first = held and held.members.select_related("office", "window").order_by("pk").first()
        return (first, redirect("group-detail", code=held.code)) if first else None
    booking = owned_booking(request, code)
    return (booking, redirect("booking-detail", code=booking.code)) if booking else None


def _answer(request, code, group, answer):
    # An applicant's one-click answer to a closure, then back to the booking or group page.
    found = _subject(request, code, group=group)
    if found is None:
        return lookup_redirect(code)
    booking, back = found
    with suppress(ValidationError):  # changed meanwhile: the page shows what stands now
        answer(booking=booking)
    return back


@require_POST
def keep(request, code, *, group=False):
    """Keep the place a closure moved the booking (or the whole group) to."""
    return _answer(request, code, group, closures.keep_moved)


@require_POST
def wait(request, code, *, group=False):
    """Join the front of the office's ballot waiting list instead of choosing a time."""
    return _answer(request, code, group, closures.join_waiting_list)


@never_cache
@ratelimit(group=limits.BOOKING, key="ip", rate=limits.BOOKING_RATE, method="POST", block=True)
@require_http_methods(["GET", "POST"])
def choose(request, code, *, group=False):
    """Choose a new time with priority after a closure left the booking without a place."""
    found = _subject(request, code, group=group)
    if found is None:
        return lookup_redirect(code)
    booking, back = found
    now = clock.now()
    move = ClosureMove.objects.latest_for(booking)
    if not closures.can_choose(move, booking, now):
        return back
    size = closures.unit_size(move)
    choice = RescheduleChoice(
        request, days_with_room(booking.office, size, now=now, until=move.choose_until)
    )

    def take(day, window):
        closures.choose_with_priority(booking=booking, day=day, window=window, now=now)
        return back

    refused = choice.submit(take, no_day=_("Choose a day with places left."))
    if choice.done:
        return choice.done
    context = {
        "booking": booking,
        "office": booking.office,
        "move": move,
        "size": size,
        "code": code,
        "group": group,
        **choice.context(),
    }
    return render(
        request, "bookings/public/choose_again.html", context, status=409 if refused else 200
    )
