"""Place counters: take and release places with conditional UPDATEs the database arbitrates.

Locks are taken in one order, office-day before window, and within each by date and
start time, so two transactions never wait on each other in a circle. A missing row is
created just before it is taken, and no other: an insert waits for whoever is changing a
row with the same key, so creating a day's other rows would wait out of that order.
"""

from django.db import transaction
from django.db.models import F

from offices.schedule import DayPlan

from .models import OfficeDay, WindowDay


class NoPlace(Exception):
    """No place is left: `scope` is "day" or "window"."""

    def __init__(self, scope):
        super().__init__(scope)
        self.scope = scope


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


def take_day(office, plan: DayPlan, *, uses_reserve):
    """Count one more booking on an office-day, or raise NoPlace("day")."""
    _require_transaction()
    rows = OfficeDay.objects.filter(office=office, date=plan.date, booked__lt=F("quota"))
    if not uses_reserve:
        rows = rows.filter(online_booked__lt=F("online_quota"))
    changes = {"booked": F("booked") + 1}
    if not uses_reserve:
        changes["online_booked"] = F("online_booked") + 1
    if rows.update(**changes):
        return
    # No row matched: full, or not created yet. Create it if missing (another transaction
    # may be creating it right now; the insert then waits for it) and try once more.
    ensure_office_day(office, plan)
    if not rows.update(**changes):
        raise NoPlace("day")


def take_window(window, day):
    """Count one more booking in a window on a date, or raise NoPlace("window")."""
    _require_transaction()
    rows = WindowDay.objects.filter(window=window, date=day, booked__lt=F("capacity"))
    if rows.update(booked=F("booked") + 1):
        return
    _ensure_window_day(window, day)  # as in take_day: this window's row only
    if not rows.update(booked=F("booked") + 1):
        raise NoPlace("window")


def release_day(office, day, *, uses_reserve):
    _require_transaction()
    changes = {"booked": F("booked") - 1}
    if not uses_reserve:
        changes["online_booked"] = F("online_booked") - 1
    OfficeDay.objects.filter(office=office, date=day, booked__gt=0).update(**changes)


def release_window(window, day):
    _require_transaction()
    WindowDay.objects.filter(window=window, date=day, booked__gt=0).update(booked=F("booked") - 1)
