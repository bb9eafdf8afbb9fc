"""An office's calendar: which days open, with what quota and windows, and why a day is closed."""

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import holidays
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .models import DayOverride, Office, ServiceWindow

# Whether an office's date has an override of its plan, for a read that asks several things
# at once; parameters: office id, date.
OVERRIDE_SQL = (
    f"EXISTS (SELECT 1 FROM {DayOverride._meta.db_table} WHERE office_id = %s AND date = %s)"  # noqa: S608 - the model's table
)


class Closure:
    WEEKLY = "weekly"
    HOLIDAY = "holiday"
    OVERRIDE = "override"
    NO_WINDOWS = "no_windows"


@dataclass(frozen=True)
class DayPlan:
    """What an office plans for one of its local dates, before counting bookings."""

    date: date
    open: bool
    quota: int = 0
    online_quota: int = 0
    windows: tuple[ServiceWindow, ...] = ()
    closure: str = ""
    reason: str = ""
    # The sessions of the weekday closed on this date alone (DayOverride.closed_windows).
    closed_windows: tuple[ServiceWindow, ...] = ()

    @property
    def closed_label(self):
        if self.closure == Closure.HOLIDAY:
            return _("National holiday: %(name)s") % {"name": self.reason}
        if self.closure == Closure.OVERRIDE:
            return self.reason
        return _("Closed")


@lru_cache(maxsize=64)
def _holidays(year, language):
    return holidays.country_holidays(
        "ID",
        years=year,
        categories=("public", "government"),
        language="id" if language == "id" else "en_US",
    )


def holiday_name(day, language=None):
    """Return the national holiday or cuti bersama on a date, or an empty string."""
    language = (language or get_language() or "id")[:2]
    return _holidays(day.year, language).get(day) or ""


def day_plans(
    office: Office, start: date, end: date, *, windows=None, overrides=None
) -> list[DayPlan]:
    """Return the plan of each date from start to end inclusive (two queries, none if given)."""
    if windows is None:
        windows = list(ServiceWindow.objects.raw(_WINDOWS_OF_OFFICE, [office.pk]))
        for window in windows:
            window.office = office
    if overrides is None:
        overrides = office.overrides.filter(date__range=(start, end))
    by_date = {override.date: override for override in overrides}
    plans = []
    for ordinal in range(start.toordinal(), end.toordinal() + 1):
        day = date.fromordinal(ordinal)
        plans.append(_plan(office, day, windows, by_date.get(day)))
    return plans


# An office's windows (on a weekday); parameters: office id (, weekday). Plain SQL: a booking
# and a ballot entry read them, and the ORM took three times as long to build this query as
# the database to run it.
_WINDOWS_OF_OFFICE = (
    f"SELECT * FROM {ServiceWindow._meta.db_table}"  # noqa: S608 - the model's table
    " WHERE office_id = %s ORDER BY start"
)
_WINDOWS_OF_WEEKDAY = (
    f"SELECT * FROM {ServiceWindow._meta.db_table}"  # noqa: S608 - the model's table
    " WHERE office_id = %s AND weekday = %s ORDER BY start"
)


def day_plan(office: Office, day: date, *, overridden: bool = True) -> DayPlan:
    """Return the plan of one date (two queries: that weekday's windows, the date's override;
    one when the caller has just read that the date has no override, OVERRIDE_SQL)."""
    windows = list(ServiceWindow.objects.raw(_WINDOWS_OF_WEEKDAY, [office.pk, day.weekday()]))
    for window in windows:
        window.office = office
    overrides = None if overridden else []
    return day_plans(office, day, day, windows=windows, overrides=overrides)[0]


def _plan(office, day, windows, override):
    if override is not None and override.closed:
        return DayPlan(day, open=False, closure=Closure.OVERRIDE, reason=override.reason)
    if override is None:
        if not office.opens_on_weekday(day.weekday()):
            return DayPlan(day, open=False, closure=Closure.WEEKLY)
        name = holiday_name(day)
        if name:
            return DayPlan(day, open=False, closure=Closure.HOLIDAY, reason=name)
    closed = set(override.closed_windows) if override is not None else set()
    day_windows = tuple(w for w in windows if w.weekday == day.weekday() and w.pk not in closed)
    if not day_windows:
        if closed:
            return DayPlan(day, open=False, closure=Closure.OVERRIDE, reason=override.reason)
        return DayPlan(day, open=False, closure=Closure.NO_WINDOWS)
    quota = office.daily_quota if override is None or override.quota is None else override.quota
    return DayPlan(
        day,
        open=True,
        quota=quota,
        online_quota=max(0, quota - office.walk_in_reserve),
        windows=day_windows,
        reason=override.reason if override is not None else "",
        closed_windows=tuple(w for w in windows if w.pk in closed),
    )
