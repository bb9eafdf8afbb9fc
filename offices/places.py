"""Place counters: take and release places with conditional UPDATEs the database arbitrates.

The one module that changes the counters of a booking's place: bookings.services takes,
releases and moves places only through the functions here.

Locks are taken in one order, so two transactions never wait on each other in a circle:
the office row (a change of its plan, offices.services), then office-days, then windows,
and within each by date and start time. A missing row is
created just before it is taken, and no other: an insert waits for whoever is changing a
row with the same key, so creating a day's other rows would wait out of that order.
"""

from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import F, Max, Sum
from django.db.models.functions import Greatest

from antrean import bulk

from .models import OfficeDay, WindowDay
from .schedule import DayPlan

# Whether an office-day, or a window on a date, is full, for a read that takes no lock.
# Parameters: office id and date; window id and date. Table names come from the models.
DAY_FULL_SQL = (
    f"EXISTS (SELECT 1 FROM {OfficeDay._meta.db_table} WHERE office_id = %s AND date = %s"  # noqa: S608
    " AND (booked >= quota OR online_booked >= online_quota))"
)
WINDOW_FULL_SQL = (
    f"EXISTS (SELECT 1 FROM {WindowDay._meta.db_table}"  # noqa: S608 - tables from the models
    " WHERE window_id = %s AND date = %s AND booked >= capacity)"
)


# Take `count` places of an office-day, all or none; parameters: count (for each change), office
# id, date, count (for each condition). Online bookings count against the online quota too.
_TAKE_DAY = {
    True: f"UPDATE {OfficeDay._meta.db_table} SET booked = booked + %s"  # noqa: S608 - model's table
    " WHERE office_id = %s AND date = %s AND booked + %s <= quota"
    " RETURNING booked >= quota",
    False: f"UPDATE {OfficeDay._meta.db_table}"  # noqa: S608 - the model's table, values bound
    " SET booked = booked + %s, online_booked = online_booked + %s"
    " WHERE office_id = %s AND date = %s AND booked + %s <= quota"
    " AND online_booked + %s <= online_quota"
    " RETURNING booked >= quota OR online_booked >= online_quota",
}
# The same of a window on a date; parameters: count, window id, date, count.
_WINDOW_CHANGE = (
    f"UPDATE {WindowDay._meta.db_table} SET booked = booked + %s"  # noqa: S608 - model's table
    " WHERE window_id = %s AND date = %s AND booked + %s <= capacity"
)
_TAKE_WINDOW = _WINDOW_CHANGE + " RETURNING booked >= capacity"
# Both in one statement (PostgreSQL): the window's only once the office-day's has matched, so
# the rows are locked in the one order; parameters: _TAKE_DAY's, then _TAKE_WINDOW's. Answers
# whether each took its places and filled them: NULL where its row did not match.
_TAKE_BOTH = {
    uses_reserve: f"WITH taken_day AS ({_TAKE_DAY[uses_reserve]}),"  # noqa: S608 - constants
    f" taken_window AS ({_WINDOW_CHANGE} AND EXISTS (SELECT 1 FROM taken_day)"
    " RETURNING booked >= capacity)"
    " SELECT (SELECT * FROM taken_day), (SELECT * FROM taken_window)"
    for uses_reserve in (True, False)
}


def _take(sql, params) -> bool | None:
    # None when no row matched; else whether the places taken were the last. Plain SQL on
    # the booking's path: the ORM took longer to build these than to run them.
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else bool(row[0])


class Filled(NamedTuple):
    """Whether the places just taken were the last of their office-day, and of their window."""

    day: bool
    window: bool


class NoPlace(Exception):
    """Too few places are left: `scope` is "day" or "window", `left` how many it still has."""

    def __init__(self, scope, left=0):
        super().__init__(scope, left)
        self.scope = scope
        self.left = left


def _require_transaction():
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Place counters change only inside a transaction.")


def ensure_office_day(office, plan: DayPlan):
    """Create the counter row of an office-day from its plan, if it does not exist yet."""
    OfficeDay.objects.bulk_create(
        [
            OfficeDay(
                office=office, date=plan.date, quota=plan.quota, online_quota=plan.online_quota
            )
        ],
        ignore_conflicts=True,
    )


def _ensure_window_day(window, day):
    WindowDay.objects.bulk_create(
        [WindowDay(window=window, date=day, capacity=window.capacity)], ignore_conflicts=True
    )


def take_day(office, plan: DayPlan, *, uses_reserve, count=1) -> bool:
    """Count `count` more bookings on an office-day, all or none, or raise NoPlace("day");
    return whether they were its last places (online ones, unless `uses_reserve`)."""
    _require_transaction()
    filled = _take(_TAKE_DAY[uses_reserve], _day_params(office, plan.date, uses_reserve, count))
    return filled if filled is not None else _take_new_day(office, plan, uses_reserve, count)


def _take_new_day(office, plan, uses_reserve, count) -> bool:
    # No row matched: full, or not created yet. Create it if missing (another transaction
    # may be creating it right now; the insert then waits for it) and try once more.
    ensure_office_day(office, plan)
    filled = _take(_TAKE_DAY[uses_reserve], _day_params(office, plan.date, uses_reserve, count))
    if filled is None:
        raise NoPlace("day", _day_left(office, plan.date, uses_reserve) if count > 1 else 0)
    return filled


def _day_params(office, day, uses_reserve, count) -> list:
    changes = [count] if uses_reserve else [count, count]
    return [*changes, office.pk, day, *([count] * len(changes))]


def _window_params(window, day, count) -> list:
    return [count, window.pk, day, count]


def _day_left(office, day, uses_reserve):
    row = OfficeDay.objects.get(office=office, date=day)
    left = row.quota - row.booked
    if not uses_reserve:
        left = min(left, row.online_quota - row.online_booked)
    return max(left, 0)


def take_window(window, day, count=1) -> bool:
    """Count `count` more bookings in a window on a date, all or none, or raise NoPlace;
    return whether they were its last places."""
    _require_transaction()
    filled = _take(_TAKE_WINDOW, _window_params(window, day, count))
    return filled if filled is not None else _take_new_window(window, day, count)


def _take_new_window(window, day, count) -> bool:
    _ensure_window_day(window, day)  # as in _take_new_day: this window's row only
    filled = _take(_TAKE_WINDOW, _window_params(window, day, count))
    if filled is None:
        left = 0
        if count > 1:  # one place asked: none is left, no need to read
            row = WindowDay.objects.get(window=window, date=day)
            left = max(row.capacity - row.booked, 0)
        raise NoPlace("window", left)
    return filled


def release_day(office, day, *, uses_reserve, count=1):
    _require_transaction()
    changes = {"booked": F("booked") - count}
    if not uses_reserve:
        changes["online_booked"] = F("online_booked") - count
    OfficeDay.objects.filter(office=office, date=day, booked__gte=count).update(**changes)


def release_window(window, day, count=1):
    _require_transaction()
    WindowDay.objects.filter(window=window, date=day, booked__gte=count).update(
        booked=F("booked") - count
    )


def take(office, plan: DayPlan, window, *, uses_reserve=False, count=1) -> Filled:
    """Take `count` places, all or none, on an office-day and, unless a walk-in, its window;
    return whether they were the last of the day and of the window.

    On PostgreSQL both counters are taken in one round trip, as their row locks are held
    until the commit: a crowd wanting one window waits one statement less for each booking.
    A counter that did not match (full, or its row not created yet) is taken again alone.
    """
    if window is None or connection.vendor != "postgresql":
        day = take_day(office, plan, uses_reserve=uses_reserve, count=count)
        return Filled(day=day, window=window is not None and take_window(window, plan.date, count))
    _require_transaction()
    params = _day_params(office, plan.date, uses_reserve, count)
    params += _window_params(window, plan.date, count)
    with connection.cursor() as cursor:
        cursor.execute(_TAKE_BOTH[uses_reserve], params)
        day, filled = cursor.fetchone()
    if day is None:  # the window was not asked
        day = _take_new_day(office, plan, uses_reserve, count)
        filled = take_window(window, plan.date, count)
    elif filled is None:
        filled = _take_new_window(window, plan.date, count)
    return Filled(day=bool(day), window=bool(filled))


def take_counts(office, plans: dict, days: dict, windows: dict) -> None:
    """Take many online places at once, all or none: `days` {date: places} of office-days,
    `windows` {(date, window): places}; the days in one conditional UPDATE, then the
    windows in another, or raise NoPlace.

    For a draw, which holds the office-days already: no booking holds a window of them, so
    the windows' rows may be taken in any order.
    """
    hold_days(office, {day: (plans[day].quota, plans[day].online_quota) for day in days})
    WindowDay.objects.bulk_create(
        [WindowDay(window=w, date=day, capacity=w.capacity) for day, w in windows],
        ignore_conflicts=True,
    )
    day_table, window_table = OfficeDay._meta.db_table, WindowDay._meta.db_table
    taken = bulk.update_from(
        OfficeDay,
        names=("day", "places"),
        rows=[(bulk.prepared(OfficeDay, "date", day), n) for day, n in days.items()],
        assigned={
            "booked": "booked + given.places",
            "online_booked": "online_booked + given.places",
        },
        matched=(
            f"{day_table}.office_id = %s AND {day_table}.date = given.day"
            f" AND booked + given.places <= quota AND online_booked + given.places <= online_quota"
        ),
        params=[office.pk],
    )
    if taken != len(days):
        raise NoPlace("day")
    taken = bulk.update_from(
        WindowDay,
        names=("window_id", "day", "places"),
        rows=[(w.pk, bulk.prepared(WindowDay, "date", day), n) for (day, w), n in windows.items()],
        assigned={"booked": "booked + given.places"},
        matched=(
            f"{window_table}.window_id = given.window_id AND {window_table}.date = given.day"
            " AND booked + given.places <= capacity"
        ),
    )
    if taken != len(windows):
        raise NoPlace("window")


def release(office, day, window, *, uses_reserve, count=1):
    """Give back places on an office-day and in their window, if they have one."""
    release_day(office, day, uses_reserve=uses_reserve, count=count)
    if window is not None:
        release_window(window, day, count)


def move(office, plan: DayPlan, window, *, old_day, old_window, count=1):
    """Move `count` online places to `window` on the plan's day, taking the locks in their order.

    Day counters first, then window counters, each in date (then start time) order.
    """
    day = plan.date
    if old_day != day:
        for when in sorted([old_day, day]):
            if when == day:
                take_day(office, plan, uses_reserve=False, count=count)
            else:
                release_day(office, old_day, uses_reserve=False, count=count)
    moves = sorted([(old_day, old_window.start, "release"), (day, window.start, "take")])
    for _when, _start, action in moves:
        if action == "take":
            take_window(window, day, count)
        else:
            release_window(old_window, old_day, count)


def raise_quota_by_one(office, plan: DayPlan, *, uses_reserve):
    """Add one place to a full office-day (a supervisor's walk-in beyond the quota)."""
    _require_transaction()
    ensure_office_day(office, plan)  # a failed attempt's savepoint may have taken the new row
    changes = {"quota": F("quota") + 1}
    if not uses_reserve:
        changes["online_quota"] = F("online_quota") + 1
    OfficeDay.objects.filter(office=office, date=plan.date).update(**changes)


def lock_day(office, day) -> bool:
    """Lock an office-day's row until the transaction ends (the counters' calls wait on it, one
    at a time); return whether the row exists."""
    _require_transaction()
    return (
        OfficeDay.objects.select_for_update(no_key=True)
        .filter(office=office, date=day)
        .values_list("pk", flat=True)
        .first()
        is not None
    )


def next_queue_number(office, day, letter: str) -> str:
    """Return the office-day's next number in line `letter` (A, B or P), under the day's lock."""
    _require_transaction()
    row = OfficeDay.objects.select_for_update().get(office=office, date=day)
    field = f"last_queue_{letter.lower()}"
    value = getattr(row, field) + 1
    setattr(row, field, value)
    row.save(update_fields=[field])
    return f"{letter}-{value:03d}"


# A change of an office's plan: its quotas and capacities follow, from the office's today on.


def counted_days(office, days, *, lock=False):
    """Return the counter rows of an office's days in date order, locked for update if asked."""
    rows = OfficeDay.objects.filter(office=office, date__in=days).order_by("date")
    return rows.select_for_update() if lock else rows


def hold_days(office, quotas: dict) -> None:
    """Create the missing rows of {day: (quota, online quota)} as the plan stood before a change.

    A booking that read the old plan then waits on the change's lock instead of creating
    its own row after the change commits.
    """
    _require_transaction()
    OfficeDay.objects.bulk_create(
        [
            OfficeDay(office=office, date=day, quota=quota, online_quota=online_quota)
            for day, (quota, online_quota) in quotas.items()
        ],
        ignore_conflicts=True,
    )


def set_quotas(rows) -> None:
    """Save the quotas of locked office-day rows (CHECK constraints refuse one below its count)."""
    _require_transaction()
    for row in rows:
        row.save(update_fields=["quota", "online_quota"])


def last_counted_day(office, since):
    """Return the last date from `since` on that has a counter row at an office, or None."""
    return OfficeDay.objects.filter(office=office, date__gte=since).aggregate(last=Max("date"))[
        "last"
    ]


def counted_window_days(window, since, *, lock=False):
    """Return a window's counter rows from `since` on, in date order, locked if asked."""
    rows = WindowDay.objects.filter(window_id=window.pk, date__gte=since).order_by("date")
    return rows.select_for_update() if lock else rows


def booked_in_window(window, since) -> int:
    """Return how many places are taken in a window from `since` on (its active bookings)."""
    return counted_window_days(window, since).aggregate(booked=Sum("booked"))["booked"] or 0


def hold_window_days(window, days) -> None:
    """Create a window's missing rows with its capacity before a change (see hold_days)."""
    _require_transaction()
    WindowDay.objects.bulk_create(
        [WindowDay(window=window, date=day, capacity=window.capacity) for day in days],
        ignore_conflicts=True,
    )


def set_capacity(rows, capacity: int) -> None:
    """Give locked window-day rows a new capacity (CHECK refuses one below its count)."""
    _require_transaction()
    WindowDay.objects.filter(pk__in=[row.pk for row in rows if row.capacity != capacity]).update(
        capacity=capacity
    )


# An office closing a day that holds bookings (bookings.closures): every counter it changes
# held at once, in the usual order, then written as it computed them.


def hold_for_change(office, plans: dict, slots) -> None:
    """Lock the counter rows of the days {date: plan}, then of the (date, window) slots, in
    the usual order (days by date, windows by date and start), creating the missing ones.

    A slot's missing row is created only once its day is held: a booking that holds the day
    may be about to create that row itself, and would wait for our insert while we waited
    for its day.
    """
    _require_transaction()
    hold_days(office, {day: (plan.quota, plan.online_quota) for day, plan in plans.items()})
    list(counted_days(office, sorted(plans), lock=True))
    WindowDay.objects.bulk_create(
        [WindowDay(window=window, date=day, capacity=window.capacity) for day, window in slots],
        ignore_conflicts=True,
    )
    windows = WindowDay.objects.filter(
        window__office=office, date__in=sorted(plans)
    ).select_for_update(of=("self",))
    list(windows.order_by("date", "window__start", "window_id"))


def save_counts(days, windows) -> None:
    """Write the counts of held office-day and window-day rows (CHECK constraints hold them)."""
    _require_transaction()
    OfficeDay.objects.bulk_update(list(days), ["quota", "online_quota", "booked", "online_booked"])
    WindowDay.objects.bulk_update(list(windows), ["capacity", "booked"])


def reopen_window(window, day) -> None:
    """Give a session's counter on a date its usual capacity again (never below what it holds):
    a closure of the day or the session was lifted."""
    _require_transaction()
    WindowDay.objects.filter(window=window, date=day).update(
        capacity=Greatest(window.capacity, F("booked"))
    )
