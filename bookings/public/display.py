"""The waiting-room display: a public page per office for the TV, and the JSON it polls.

Queue numbers and counter names only: nobody's name, NIK or booking code is read or shown.
"""

import hashlib
import json

from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils.cache import get_conditional_response, patch_cache_control
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from bookings.availability import office_and_window
from bookings.queue.board import read_queue
from offices import clock
from offices.schedule import Closure, day_plan

SHOWN = 6  # next numbers on the screen
POLL_SECONDS = 3
# Columns of counter tiles: one column up to four counters, two beyond (a TV is wide).
ONE_COLUMN_UP_TO = 4
MAX_ROWS = 6
REASONED = {Closure.HOLIDAY, Closure.OVERRIDE}


def _office(code):
    office, _window = office_and_window(code, None)
    if office is None:
        raise Http404
    return office


def _board(office):
    """Return the queue now, the day's plan and what the display shows of them, with a version
    of the latter."""
    now = clock.now()
    queue = read_queue(office, now, shown=SHOWN)
    local = office.local_now(now)
    plan = day_plan(office, local.date())
    data = {
        "day": local.date().isoformat(),
        # Written as Indonesians write a time: the page swaps the point for a colon in English.
        "time": f"{local:%H.%M}",
        "zone": office.zone_abbreviation,
        "open": plan.open,
        "counters": [
            {"name": c.name, "number": c.number, "state": c.state, "calls": c.calls}
            for c in queue.counters
        ],
        "upcoming": queue.upcoming,
        "waiting": queue.waiting,
        "counters_open": queue.counters_open,
    }
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    data["version"] = hashlib.sha256(text.encode()).hexdigest()[:16]
    return queue, plan, local, data


@require_GET
@never_cache
def display(request, code):
    """Render an office's waiting-room display: each counter's number, the next numbers."""
    office = _office(code)
    queue, plan, local, data = _board(office)
    count = len(queue.counters)
    columns = 1 if count <= ONE_COLUMN_UP_TO else 2
    return render(
        request,
        "bookings/public/display.html",
        {
            "office": office,
            "queue": queue,
            "data": data,
            "local_now": local,
            # The holiday or the reason staff gave; a weekly closing needs none.
            "closed_reason": plan.closed_label if plan.closure in REASONED else "",
            "columns": columns,
            # The smallest type from MAX_ROWS on: more than twelve counters overflow one screen.
            "rows": min(MAX_ROWS, max(1, -(-count // columns))),
            "poll_ms": POLL_SECONDS * 1000,
        },
    )


@require_GET
def display_data(request, code):
    """Return an office's display as JSON; 304 when the poller's version is still current."""
    office = _office(code)
    _queue, _plan, _local, data = _board(office)
    etag = f'"{data["version"]}"'
    response = get_conditional_response(request, etag=etag)
    if response is None:
        response = JsonResponse(data)
    response["ETag"] = etag
    # Public numbers that change by the second: a TV (or a proxy) keeps them two seconds.
    patch_cache_control(response, max_age=2)
    return response
