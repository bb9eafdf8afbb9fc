"""Free places of an office over a range of days, in a constant number of queries."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.cache import caches

from offices import clock
from offices.models import DayOverride, Office, OfficeDay, ServiceWindow, WindowDay
from offices.schedule import DayPlan, day_plans

from .models import Release
from .releases import covering, releases_between


@dataclass(frozen=True)
class WindowAvailability:
    window: ServiceWindow
    capacity: int
    remaining: int
    started: bool = False

    @property
    def bookable(self):
        return self.remaining > 0 and not self.started


@dataclass(frozen=True)
class DayAvailability:
    plan: DayPlan
    bookable_range: bool
    quota: int
    remaining: int
    windows: tuple[WindowAvailability, ...]
    # At an office on a ballot: the release that covers the day, if one does.
    release: Release | None = None
    # Places left on the day's own counter, whatever its windows hold.
    day_left: int = 0

    @property
    def date(self):
        return self.plan.date

    @property
    def open(self):
        return self.plan.open

    @property
    def state(self):
        """One of unavailable (outside the booking range, or not released yet), ballot (its
        places are being drawn), closed, full, open."""
        if not self.plan.open:
            return "closed" if self.bookable_range or self.release else "unavailable"
        if self.release is not None and self.release.state != Release.State.DRAWN:
            return "ballot"
        if not self.bookable_range:
            return "unavailable"
        return "open" if self.bookable else "full"

    @property
    def bookable(self):
        return self.bookable_range and any(w.bookable for w in self.windows)


def office_availability(
    office: Office, start: date, days: int, *, now=None
) -> list[DayAvailability]:
    """Return each day's state and places left from start for `days` days.

    Costs four queries whatever the range: windows, day overrides, office-day and
    window-day counters; a fifth, the releases, at an office on a ballot. On the real clock,
    the answer is kept for AVAILABILITY_CACHE_SECONDS, so a crowd reading the same calendar
    costs one computation a few seconds; the booking itself always decides on the counters.
    """
    end = start + timedelta(days=max(days, 1) - 1)
    if now is not None:
        return _availability([office], start, end, now)[office.pk]
    return keep_briefly(
        f"availability:{office.pk}:{start.isoformat()}:{end.isoformat()}",
        lambda: _availability([office], start, end, clock.now())[office.pk],
    )


def days_with_room(office, needed=1, *, now=None, until=None) -> list[tuple[DayAvailability, list]]:
    """Return the bookable days of an office's horizon, each with its windows that still have
    a place for each of `needed` applicants (a booking, or a group's booked members).

    until: the last day of a priority choice (an applicant a closure left without a place),
    which may reach past the public horizon and into days not open to others yet.
    """
    now = now or clock.now()
    first, last = office.first_bookable_day(now), office.last_bookable_day(now)
    if until is not None:
        last = max(last, until)
    found = []
    for day in office_availability(office, first, (last - first).days + 1, now=now):
        windows = [w for w in day.windows if w.bookable and w.remaining >= needed]
        if windows and (day.bookable or (until is not None and day.open)):
            found.append((day, windows))
    return found


def office_and_window(code: str, pk: int | None) -> tuple[Office | None, ServiceWindow | None]:
    """Return the office with this code and its window with this id (None for either that
    does not exist, or no window asked), kept for AVAILABILITY_CACHE_SECONDS like the places.

    A crowd books thousands of times a minute at a few offices, in a few dozen windows each.
    A window not kept is read with all its office's windows, in one query, and each is kept
    under its own key: the office is read again a few times a minute at most, and a request
    unpickles its office and one window (all of an office's took a sixth of a refused
    booking's time). What was read a moment ago serves the pages and the early refusals; a
    booking reads the window again with the day's plan.
    """
    seconds = settings.AVAILABILITY_CACHE_SECONDS
    key = _office_window_key(code, pk)
    found = caches["kept"].get(key) if seconds else None
    if found is None:
        office, windows = _office_windows(code)
        kept = {_office_window_key(code, w.pk): (office, w) for w in windows.values()}
        kept[_office_window_key(code, None)] = (office, None)
        if seconds:
            caches["kept"].set_many(kept, seconds)
        found = kept.get(key, (office, None))
    return found


def _office_window_key(code, pk):
    return f"office-window:{code}:{pk}"


def _office_windows(code):
    # One query: the windows with their office; the office alone when it has none.
    windows = list(ServiceWindow.objects.filter(office__code=code).select_related("office"))
    if not windows:
        return Office.objects.filter(code=code).first(), {}
    office = windows[0].office
    for window in windows:
        window.office = office
    return office, {window.pk: window for window in windows}


def keep_briefly(key, compute, *, kept_in=None):
    """Return compute(), kept under key for AVAILABILITY_CACHE_SECONDS (0: computed each time).

    For what a crowd reads over and over; nothing kept here decides a place. A None
    answer is not kept. Kept in the "kept" cache (each process's memory in front of the
    shared cache), or `kept_in`.
    """
    seconds = settings.AVAILABILITY_CACHE_SECONDS
    if not seconds:
        return compute()
    kept_in = kept_in or caches["kept"]
    found = kept_in.get(key)
    if found is None:
        found = compute()
        if found is not None:
            kept_in.set(key, found, seconds)
    return found


def next_free_days(offices, *, now=None) -> dict[int, DayAvailability | None]:
    """Return each office's first bookable day within its horizon (five queries in all)."""
    now = now or clock.now()
    offices = list(offices)
    if not offices:
        return {}
    start = min(o.first_bookable_day(now) for o in offices)
    end = max(o.last_bookable_day(now) for o in offices)
    found = _availability(offices, start, end, now)
    return {
        office.pk: next((d for d in found[office.pk] if d.bookable), None) for office in offices
    }


def _availability(offices, start, end, now):
    by_pk = {office.pk: office for office in offices}
    windows = {pk: [] for pk in by_pk}
    for window in ServiceWindow.objects.filter(office__in=by_pk).order_by("start"):
        window.office = by_pk[window.office_id]
        windows[window.office_id].append(window)
    overrides = {pk: [] for pk in by_pk}
    for override in DayOverride.objects.filter(office__in=by_pk, date__range=(start, end)):
        overrides[override.office_id].append(override)
    day_counts = {
        (row.office_id, row.date): row
        for row in OfficeDay.objects.filter(office__in=by_pk, date__range=(start, end))
    }
    window_counts = {
        (row["window_id"], row["date"]): row
        for row in WindowDay.objects.filter(
            window__office__in=by_pk, date__range=(start, end)
        ).values("window_id", "date", "capacity", "booked")
    }
    ballots = releases_between(offices, start, end)
    return {
        pk: [
            _day(
                office,
                plan,
                day_counts.get((pk, plan.date)),
                window_counts,
                now,
                covering(ballots[pk], plan.date) if pk in ballots else None,
            )
            for plan in day_plans(office, start, end, windows=windows[pk], overrides=overrides[pk])
        ]
        for pk, office in by_pk.items()
    }


def _day(office, plan, counted, window_counts, now, release):
    in_range = office.first_bookable_day(now) <= plan.date <= office.last_bookable_day(now)
    if office.by_ballot:  # a ballot's days open once it is drawn
        in_range = in_range and release is not None and release.state == Release.State.DRAWN
    if not plan.open:
        return DayAvailability(plan, in_range, 0, 0, (), release)
    if counted is not None:
        quota = counted.quota
        day_left = min(counted.quota - counted.booked, counted.online_quota - counted.online_booked)
    else:
        quota, day_left = plan.quota, plan.online_quota
    local_now = office.local_now(now)
    windows = []
    for window in plan.windows:
        row = window_counts.get((window.pk, plan.date))
        capacity = row["capacity"] if row else window.capacity
        left = capacity - row["booked"] if row else capacity
        started = office.local_datetime(plan.date, window.start) <= local_now
        windows.append(WindowAvailability(window, capacity, max(0, min(left, day_left)), started))
    remaining = max(0, min(day_left, sum(w.remaining for w in windows if not w.started)))
    return DayAvailability(
        plan, in_range, quota, remaining, tuple(windows), release, day_left=max(day_left, 0)
    )
