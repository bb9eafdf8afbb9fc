"""The applicant's "your turn" page, opened from the QR code on their queue ticket.

It shows the queue number, the office and where the applicant stands (bookings.queue.board),
and nothing else of them: no name, NIK or booking code. The browser reloads it by itself.
"""

from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from antrean import reads
from bookings.models import Visit
from bookings.queue import board
from bookings.queue.turn import read_token
from offices import clock

TEMPLATE = "bookings/public/turn.html"
# Often enough to be in time for a call, seldom enough for a waiting room of phones.
REFRESH_SECONDS = 25
# The page of a visit still to be called or served reloads itself; the others are final.
LIVE = frozenset({Visit.State.WAITING, Visit.State.CALLED, Visit.State.SERVING})


@never_cache  # Cache-Control: no-store: each reload asks again, no proxy keeps the page
@require_GET
def turn(request, token):
    """Show where a checked-in applicant stands today; 404 for a bad token, 410 on another day."""
    found = read_token(token)
    visit = None
    if found is not None:  # the phones of those waiting reload it: a kept statement
        where = "bookings_visit.id = %s AND bookings_visit.date = %s"
        visit = reads.first(Visit, ("office", "booking", "counter"), where, found)
    if visit is None:
        return render(request, TEMPLATE, {"state": "unknown"}, status=404)
    office = visit.office
    now = clock.now()
    if visit.date != clock.office_today(office, now):
        return render(request, TEMPLATE, {"state": "other_day", "office": office}, status=410)
    where = board.position(visit, now)
    starts = office.local_now(where.window_starts) if where.window_starts else None
    context = {
        "state": where.state,
        "office": office,
        "number": where.number,
        "counter": where.counter,
        "ahead": where.ahead,
        "low": where.wait[0],
        "high": where.wait[1],
        "window_starts": starts,
        "zone": office.zone_abbreviation,
        "updated": office.local_now(now),
        "refresh": REFRESH_SECONDS if where.state in LIVE else None,
    }
    response = render(request, TEMPLATE, context)
    if context["refresh"]:
        # A header, not <meta>: the same reload without a script, and base.html's head is shared.
        response["Refresh"] = str(context["refresh"])
    return response
