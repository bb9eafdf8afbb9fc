"""What the office's queue looks like now: the counters, who waits in what order, how long.

Read by the waiting-room display, the staff's today page, an applicant's "your turn" page and
the API. One read of an office-day's queue is kept (the cache) and shared by them all until a
change forgets it (`forget`, from every change of a visit) or KEPT_SECONDS pass. Nothing else
here writes.
"""

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil, floor

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from offices import clock
from offices.models import Counter, Office

from ..models import Visit
from . import order

KEPT_SECONDS = 10  # a queue is read again at least this often, and after every change
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


def _ordered_waiting(office, day):
    """Return the waiting visits of an office-day in the order they will be called, as
    (pk, queue number) pairs."""
    policy = order.Policy.of(office)
    waiting = (
        Visit.objects.filter(office=office, date=day, state=Visit.State.WAITING)
        .order_by("queued_at", "pk")
        .values_list("pk", "line", "booking__queue_number")
    )
    lines: dict[str, list] = {}
    for pk, line, number in waiting:
        lines.setdefault(line, []).append((pk, number))
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


@dataclass(frozen=True)
class _Snapshot:
    """An office-day's queue as read at one moment: what every reader of it is answered from."""

    counters: list[AtCounter]
    ordered: list[tuple[int, str]]  # (visit id, queue number), in calling order
    counters_open: int
    service_minutes: float
    measured: bool
    median_wait_minutes: float | None


def _key(office_id, day) -> str:
    return f"queue:{office_id}:{day.isoformat()}"


def forget(office_id: int, day) -> None:
    """Drop an office-day's kept queue: a change to it is being made. Again once it commits,
    so that a reader in between cannot keep the state from before it."""
    key = _key(office_id, day)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def _snapshot(office, day, now) -> _Snapshot:
    """Return the office-day's queue, kept for KEPT_SECONDS unless a change forgets it first:
    the TVs and the phones of a waiting room share one read between two calls."""
    key = _key(office.pk, day)
    found = cache.get(key)
    if found is None:
        found = _read_snapshot(office, day, now)
        cache.set(key, found, KEPT_SECONDS)
    return found


def _read_snapshot(office, day, now) -> _Snapshot:
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
    shown = []
    for pk, name, _interview, _clerk in counters:
        visit = serving.get(pk, {})
        shown.append(
            AtCounter(
                name,
                visit.get("booking__queue_number", ""),
                visit.get("state", ""),
                visit.get("calls", 0),
            )
        )
    minutes, measured = service_minutes(office, now)
    return _Snapshot(
        counters=shown,
        ordered=_ordered_waiting(office, day),
        counters_open=sum(1 for _pk, _name, interview, clerk in counters if interview and clerk),
        service_minutes=minutes,
        measured=measured,
        median_wait_minutes=_median_wait(office, day),
    )


def read_queue(office: Office, now: datetime | None = None, *, shown: int = 6) -> Queue:
    """Return an office's queue today: each counter, the next `shown` numbers, the measures."""
    now = now or clock.now()
    kept = _snapshot(office, clock.office_today(office, now), now)
    return Queue(
        counters=kept.counters,
        upcoming=[number for _pk, number in kept.ordered[:shown]],
        waiting=len(kept.ordered),
        counters_open=kept.counters_open,
        service_minutes=kept.service_minutes,
        measured=kept.measured,
        median_wait_minutes=kept.median_wait_minutes,
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
    kept = _snapshot(office, visit.date, now)
    ahead = next(
        (i for i, (pk, _number) in enumerate(kept.ordered) if pk == visit.pk), len(kept.ordered)
    )
    wait = estimate(ahead, kept.counters_open, kept.service_minutes)
    early = visit.line == order.ONLINE and visit.queued_at > now
    if early:  # called no sooner than their window's start
        until = (visit.queued_at - now).total_seconds() / 60
        low = max(wait[0], 5 * floor(until / 5))
        wait = (low, max(wait[1], low + 10))
    return Position(number, visit.state, "", ahead, wait, visit.queued_at if early else None)
