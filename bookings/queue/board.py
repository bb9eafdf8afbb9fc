"""What the office's queue looks like now: the counters, who waits in what order, how long.

Read by the waiting-room display, the staff's today page, an applicant's "your turn" page and
the API, each in a constant number of queries. Nothing here writes.
"""

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil, floor

from django.conf import settings

from offices import clock
from offices.models import Counter, Office

from ..models import Visit
from . import order

SERVICE_SAMPLE = 20  # the latest services the moving average is taken over
SERVICE_DAYS = 30  # ... within this many days


@dataclass(frozen=True)
class AtCounter:
    """A counter of the display: its name and the number it serves, if any."""

    name: str
    number: str
    state: str
    calls: int  # a recall raises it: the display cues the number again


@dataclass(frozen=True)
class Queue:
    """An office's queue now."""

    counters: list[AtCounter]
    upcoming: list[str]  # queue numbers in the order they will be called
    waiting: int
    counters_open: int
    service_minutes: float  # the moving average of a service, or the default
    measured: bool  # whether service_minutes comes from the office's own services
    median_wait_minutes: float | None  # check-in to first call, today

    def wait_range(self, ahead: int) -> tuple[int, int]:
        """Return the estimated wait in minutes, as (low, high) rounded to 5 minutes, of an
        applicant with `ahead` applicants before them."""
        return estimate(ahead, self.counters_open, self.service_minutes)


def estimate(ahead: int, counters: int, service_minutes: float) -> tuple[int, int]:
    """Return (low, high) minutes until `ahead` applicants have been served at `counters`."""
    minutes = ahead * service_minutes / max(1, counters)
    return 5 * floor(minutes * 0.8 / 5), max(5, 5 * ceil(minutes * 1.2 / 5))


def service_minutes(office: Office, now) -> tuple[float, bool]:
    """Return the moving average of the office's latest services in minutes, and whether it is
    measured (else QUEUE_SERVICE_MINUTES, the default before the office has served anyone)."""
    finished = (
        Visit.objects.filter(
            office=office,
            state=Visit.State.DONE,
            finished_at__gte=now - timedelta(days=SERVICE_DAYS),
        )
        .order_by("-finished_at")
        .values_list("serving_at", "finished_at")[:SERVICE_SAMPLE]
    )
    lengths = [(end - start).total_seconds() / 60 for start, end in finished if start and end]
    if not lengths:
        return float(settings.QUEUE_SERVICE_MINUTES), False
    return max(1.0, statistics.fmean(lengths)), True


def _ordered_waiting(office, day, now):
    """Return the waiting visits of an office-day in the order they will be called."""
    policy = order.Policy.of(office)
    waiting = (
        Visit.objects.filter(office=office, date=day, state=Visit.State.WAITING)
        .order_by("queued_at", "pk")
        .values("pk", "line", "queued_at", "booking__queue_number", "booking__checked_in_at")
    )
    lines: dict[str, list] = {}
    for visit in waiting:
        lines.setdefault(visit["line"], []).append(visit)
    recent = (
        Visit.objects.filter(office=office, date=day, last_called_at__isnull=False)
        .order_by("-last_called_at", "-pk")
        .values_list("line", flat=True)[: order.recent_needed(policy)]
    )
    # Early arrivals are in their line already: their window's start sorts them after those
    # whose window has begun, which is when they can be called.
    return order.upcoming(lines, list(recent), policy)


def _median_wait(office, day) -> float | None:
    waits = [
        (called - checked_in).total_seconds() / 60
        for called, checked_in in Visit.objects.filter(
            office=office, date=day, called_at__isnull=False
        ).values_list("called_at", "booking__checked_in_at")
        if checked_in
    ]
    return statistics.median(waits) if waits else None


def read_queue(office: Office, now: datetime | None = None, *, shown: int = 6) -> Queue:
    """Return an office's queue today: each counter, the next `shown` numbers, the measures."""
    now = now or clock.now()
    day = clock.office_today(office, now)
    counters = list(
        Counter.objects.filter(office=office)
        .order_by("name")
        .values_list("pk", "name", "interview", "clerk_id")
    )
    serving = {
        visit["counter_id"]: visit
        for visit in Visit.objects.filter(
            office=office, date=day, state__in=Visit.AT_COUNTER
        ).values("counter_id", "state", "calls", "booking__queue_number")
    }
    shown_counters = []
    for pk, name, _interview, _clerk in counters:
        visit = serving.get(pk)
        shown_counters.append(
            AtCounter(
                name,
                visit["booking__queue_number"] if visit else "",
                visit["state"] if visit else "",
                visit["calls"] if visit else 0,
            )
        )
    ordered = _ordered_waiting(office, day, now)
    minutes, measured = service_minutes(office, now)
    return Queue(
        counters=shown_counters,
        upcoming=[visit["booking__queue_number"] for visit in ordered[:shown]],
        waiting=len(ordered),
        counters_open=sum(1 for _pk, _name, interview, clerk in counters if interview and clerk),
        service_minutes=minutes,
        measured=measured,
        median_wait_minutes=_median_wait(office, day),
    )


@dataclass(frozen=True)
class Position:
    """Where one checked-in applicant stands."""

    number: str
    state: str  # a Visit.State
    counter: str  # the counter called to, if called
    ahead: int  # applicants to be called before them, if waiting
    wait: tuple[int, int]  # the estimated wait's range in minutes, if waiting
    window_starts: datetime | None  # an early arrival waits for it


def position(visit: Visit, now: datetime | None = None) -> Position:
    """Return where an applicant stands in their office's queue today."""
    now = now or clock.now()
    office = visit.office
    number = visit.booking.queue_number
    if visit.state != Visit.State.WAITING:
        counter = visit.counter.name if visit.counter_id else ""
        return Position(number, visit.state, counter, 0, (0, 0), None)
    ordered = _ordered_waiting(office, visit.date, now)
    ahead = next((i for i, other in enumerate(ordered) if other["pk"] == visit.pk), len(ordered))
    counters = Counter.objects.filter(office=office, interview=True, clerk__isnull=False).count()
    minutes, _measured = service_minutes(office, now)
    early = visit.line == order.ONLINE and visit.queued_at > now
    wait = estimate(ahead, counters, minutes)
    if early:  # called no sooner than their window's start
        until = (visit.queued_at - now).total_seconds() / 60
        low = max(wait[0], 5 * floor(until / 5))
        wait = (low, max(wait[1], low + 10))
    return Position(number, visit.state, "", ahead, wait, visit.queued_at if early else None)
