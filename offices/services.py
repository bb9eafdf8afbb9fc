"""Every change of an office's plan: quotas, service windows and day overrides.

Each change also updates the place counters of the days it touches, from the office's
today on, in the same transaction, under the counters' row locks: a quota or a capacity
never goes below what is already booked. Each function raises ValidationError with a code
from MESSAGES when the change cannot be made, and records the user in the history.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import formats
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from . import clock, places
from .models import DayOverride, Office, ServiceWindow
from .schedule import Closure, DayPlan, day_plans, holiday_name

MAX_RANGE_DAYS = 366
MAX_PROBLEMS_SHOWN = 3

MESSAGES = {
    "day_booked": ngettext_lazy(
        "%(booked)d place is already booked on %(date)s: the daily quota cannot be lower.",
        "%(booked)d places are already booked on %(date)s: the daily quota cannot be lower.",
        "booked",
    ),
    "online_booked": ngettext_lazy(
        "%(booked)d online booking already holds a place on %(date)s: the daily quota less "
        "the walk-in reserve cannot be lower.",
        "%(booked)d online bookings already hold places on %(date)s: the daily quota less "
        "the walk-in reserve cannot be lower.",
        "booked",
    ),
    "closed_booked": ngettext_lazy(
        "%(booked)d applicant is booked on %(date)s: close this day with Bookings › Closures › "
        "Close a day that holds bookings, which moves the applicant and tells them.",
        "%(booked)d applicants are booked on %(date)s: close this day with Bookings › Closures "
        "› Close a day that holds bookings, which moves the applicants and tells them.",
        "booked",
    ),
    "window_booked": ngettext_lazy(
        "%(booked)d place is already booked in the session %(window)s on %(date)s: its "
        "capacity cannot be lower.",
        "%(booked)d places are already booked in the session %(window)s on %(date)s: its "
        "capacity cannot be lower.",
        "booked",
    ),
    "window_moved": ngettext_lazy(
        "%(count)d applicant is booked in this session from today on: its weekday and times "
        "cannot change. Add a new session instead.",
        "%(count)d applicants are booked in this session from today on: its weekday and times "
        "cannot change. Add a new session instead.",
        "count",
    ),
    "window_protected": _("This session holds bookings and cannot be deleted."),
    "more": ngettext_lazy("…and %(count)d more day.", "…and %(count)d more days.", "count"),
    "past": _("Days that have passed cannot be changed."),
    "range_order": _("The last day cannot be before the first day."),
    "range_length": _("Change at most %(days)d days at once."),
}


def _error(code, **params):
    message = MESSAGES[code]
    return ValidationError(message % params if params else message, code=code)


def _day_label(day: date) -> str:
    return formats.date_format(day, "l, j F Y")


# Counters -----------------------------------------------------------------------------


def _key(plan: DayPlan):
    return (plan.quota, plan.online_quota) if plan.open else (0, 0)


def _new_counts(row, before: DayPlan, after: DayPlan):
    """Return a counter row's quota and online quota under the new plan.

    Places a supervisor added to a day beyond its plan (a walk-in over the quota) stay.
    """
    if not after.open:
        return 0, 0
    extra = extra_online = 0
    if before.open:
        extra = max(0, row.quota - before.quota)
        extra_online = max(0, row.online_quota - before.online_quota)
    quota = after.quota + extra
    return quota, min(after.online_quota + extra_online, quota)


def _problem(row, after: DayPlan, quota, online_quota):
    label = _day_label(row.date)
    if row.booked > quota:
        code = "day_booked" if after.open else "closed_booked"
        return MESSAGES[code] % {"booked": row.booked, "date": label}
    if row.online_booked > online_quota:
        return MESSAGES["online_booked"] % {"booked": row.online_booked, "date": label}
    return None


def _raise_problems(problems, code):
    if not problems:
        return
    shown = list(problems[:MAX_PROBLEMS_SHOWN])
    if len(problems) > MAX_PROBLEMS_SHOWN:
        shown.append(MESSAGES["more"] % {"count": len(problems) - MAX_PROBLEMS_SHOWN})
    raise ValidationError([ValidationError(message, code=code) for message in shown])


def _resync_days(office: Office, before: dict, after: dict, *, write: bool):
    """Bring the counters of the days whose plan changes to the new plan, or raise.

    With write=False only report; with write=True first create the missing rows with the
    old plan, so a booking that read the old plan waits on our lock instead of creating
    its own row after we commit.
    """
    changed = sorted(day for day, plan in after.items() if _key(plan) != _key(before[day]))
    if not changed:
        return
    if write:
        places.hold_days(office, {day: _key(before[day]) for day in changed})
    rows = places.counted_days(office, changed, lock=write)
    updates, problems = [], []
    for row in rows:
        quota, online_quota = _new_counts(row, before[row.date], after[row.date])
        problem = _problem(row, after[row.date], quota, online_quota)
        if problem:
            problems.append(problem)
        elif (quota, online_quota) != (row.quota, row.online_quota):
            row.quota, row.online_quota = quota, online_quota
            updates.append(row)
    _raise_problems(problems, "day_booked")
    if write:
        places.set_quotas(updates)


def _plans(office, start, end, *, windows, overrides) -> dict:
    plans = day_plans(office, start, end, windows=windows, overrides=overrides)
    return {plan.date: plan for plan in plans}


def _lock_offices(*pks):
    """Lock the office rows first, so two edits of one office take turns.

    NO KEY: a booking committing meanwhile checks its office row with KEY SHARE, which must
    not wait for us while we wait for the counter that booking holds (a deadlock).
    """
    rows = Office.objects.select_for_update(no_key=True).filter(pk__in=set(pks)).order_by("pk")
    return {office.pk: office for office in rows}


# Offices ------------------------------------------------------------------------------


def _office_span(stored: Office, office: Office, now):
    start = clock.office_today(stored, now)
    last_row = places.last_counted_day(stored, start)
    end = max(stored.last_bookable_day(now), office.last_bookable_day(now), last_row or start)
    return start, end


def _office_plans(stored: Office, office: Office, now):
    start, end = _office_span(stored, office, now)
    windows = list(ServiceWindow.objects.filter(office=stored).order_by("start"))
    overrides = list(DayOverride.objects.filter(office=stored, date__range=(start, end)))
    before = _plans(stored, start, end, windows=windows, overrides=overrides)
    after = _plans(office, start, end, windows=windows, overrides=overrides)
    return before, after


def check_office(*, office: Office, now=None) -> None:
    """Raise ValidationError if an office's unsaved quota or weekdays leave booked days short."""
    now = now or clock.now()
    if office.pk is None:
        return
    stored = Office.objects.get(pk=office.pk)
    before, after = _office_plans(stored, office, now)
    _resync_days(stored, before, after, write=False)


def update_office(*, office: Office, by, now=None) -> Office:
    """Save an office's changed quota, walk-in reserve, weekdays or details.

    The counters of its days from today on follow the new quota. Raises ValidationError
    coded day_booked when a day already holds more bookings than the new quota allows.
    """
    now = now or clock.now()
    office.full_clean()
    with transaction.atomic():
        if office.pk is None:
            office._history_user = by
            office.save()
            return office
        stored = _lock_offices(office.pk)[office.pk]
        before, after = _office_plans(stored, office, now)
        _resync_days(stored, before, after, write=True)
        office._history_user = by
        office.save()
    return office


# Service windows ----------------------------------------------------------------------


def _future_window_rows(window, now, *, lock=False):
    return places.counted_window_days(window, clock.office_today(window.office, now), lock=lock)


def _window_problems(window, rows):
    return [
        MESSAGES["window_booked"]
        % {"booked": row.booked, "window": window.label, "date": _day_label(row.date)}
        for row in rows
        if row.booked > window.capacity
    ]


def _check_window_move(window, stored, now):
    moved = (stored.weekday, stored.start, stored.end) != (window.weekday, window.start, window.end)
    if not moved:
        return
    # The window's counters hold every active booking in it: no need to ask the bookings.
    count = places.booked_in_window(window, clock.office_today(window.office, now))
    if count:
        raise _error("window_moved", count=count)


def check_window(*, window: ServiceWindow, now=None) -> None:
    """Raise ValidationError if a window's unsaved capacity or times clash with its bookings."""
    now = now or clock.now()
    if window.pk is None:
        return
    stored = ServiceWindow.objects.select_related("office").get(pk=window.pk)
    _check_window_move(window, stored, now)
    _raise_problems(_window_problems(window, _future_window_rows(stored, now)), "window_booked")


def save_window(*, window: ServiceWindow, by, now=None) -> ServiceWindow:
    """Create or change a service window; its counters from today on follow its capacity.

    Raises ValidationError coded window_booked when a day already holds more bookings in
    the window than the new capacity, or window_moved when booked times would move.
    """
    now = now or clock.now()
    window.full_clean()
    with transaction.atomic():
        _lock_offices(window.office_id)
        if window.pk is not None:
            stored = ServiceWindow.objects.select_related("office").get(pk=window.pk)
            _check_window_move(window, stored, now)
            _hold_window_rows(stored, now)
            rows = list(_future_window_rows(stored, now, lock=True))
            _raise_problems(_window_problems(window, rows), "window_booked")
            places.set_capacity(rows, window.capacity)
        window._history_user = by
        window.save()
    return window


def _hold_window_rows(window, now):
    """Create the window's missing counter rows with the old capacity (see _resync_days)."""
    office = window.office
    day, days = clock.office_today(office, now), []
    while day <= office.last_bookable_day(now):
        if day.weekday() == window.weekday:
            days.append(day)
        day += timedelta(days=1)
    places.hold_window_days(window, days)


def delete_window(*, window: ServiceWindow, by) -> None:
    """Delete a service window that never held a booking; raise window_protected otherwise."""
    try:
        with transaction.atomic():
            window._history_user = by
            window.delete()
    except ProtectedError:
        raise _error("window_protected") from None


# Day overrides ------------------------------------------------------------------------


def _overrides_near(office_pk, days):
    return list(DayOverride.objects.filter(office_id=office_pk, date__range=(min(days), max(days))))


def _override_plans(office, days, overrides):
    return {
        plan.date: plan
        for plan in day_plans(office, min(days), max(days), overrides=overrides)
        if plan.date in days
    }


def _affected(override, stored):
    """Return {office pk: set of dates} that a change of this override touches."""
    touched = {override.office_id: {override.date}}
    if stored is not None:
        touched.setdefault(stored.office_id, set()).add(stored.date)
    return touched


def _refuse_past(offices, touched, now):
    for pk, days in touched.items():
        if min(days) < clock.office_today(offices[pk], now):
            raise _error("past")


def check_day_override(*, override: DayOverride, now=None) -> None:
    """Raise ValidationError if an unsaved day override is past or leaves booked days short."""
    now = now or clock.now()
    if not override.office_id or not override.date:
        return
    stored = DayOverride.objects.filter(pk=override.pk).first() if override.pk else None
    touched = _affected(override, stored)
    offices = Office.objects.in_bulk(list(touched))
    _refuse_past(offices, touched, now)
    for pk, days in touched.items():
        current = _overrides_near(pk, days)
        proposed = [o for o in current if o.pk != override.pk]
        if pk == override.office_id:
            proposed.append(override)
        before = _override_plans(offices[pk], days, current)
        after = _override_plans(offices[pk], days, proposed)
        _resync_days(offices[pk], before, after, write=False)


def _change_overrides(office_pks, touched, change, now):
    """Run `change` between reading the plans before and after, then resync the counters."""
    offices = _lock_offices(*office_pks)
    _refuse_past(offices, touched, now)
    before = {
        pk: _override_plans(offices[pk], days, _overrides_near(pk, days))
        for pk, days in touched.items()
    }
    result = change()
    for pk, days in touched.items():
        after = _override_plans(offices[pk], days, _overrides_near(pk, days))
        _resync_days(offices[pk], before[pk], after, write=True)
        _reopen_windows(before[pk], after)
    return result


def _running(plan: DayPlan) -> set:
    return {window.pk for window in plan.windows} if plan.open else set()


def _reopen_windows(before: dict, after: dict) -> None:
    """Give the sessions that run again on a day (a closure lifted) their capacity back: a
    closure shut them at what they held (bookings.closures)."""
    for day, plan in after.items():
        reopened = [w for w in plan.windows if w.pk in _running(plan) - _running(before[day])]
        for window in reopened:
            places.reopen_window(window, day)


def save_day_override(*, override: DayOverride, by, now=None) -> DayOverride:
    """Create or change one day's closure or quota; the day's counters follow.

    Raises ValidationError coded past, day_booked or closed_booked.
    """
    now = now or clock.now()
    override.full_clean()

    def change():
        override._history_user = by
        override._change_reason = override.reason
        override.save()
        return override

    with transaction.atomic():
        stored = DayOverride.objects.filter(pk=override.pk).first() if override.pk else None
        touched = _affected(override, stored)
        return _change_overrides(list(touched), touched, change, now)


def delete_day_override(*, override: DayOverride, by, now=None) -> None:
    """Remove a day override: the day follows the office's usual plan again.

    Raises ValidationError coded past, or day_booked when the usual quota is lower than
    what the day holds.
    """
    now = now or clock.now()

    def change():
        override._history_user = by
        override.delete()

    with transaction.atomic():
        touched = {override.office_id: {override.date}}
        _change_overrides([override.office_id], touched, change, now)


@dataclass(frozen=True)
class RangeResult:
    """What override_days did: the overrides written and the dates left as they were."""

    overrides: tuple
    skipped: tuple


def override_days(
    *,
    office: Office,
    start: date,
    end: date,
    reason: str,
    by,
    closed: bool = True,
    quota: int | None = None,
    now=None,
) -> RangeResult:
    """Close an office, or give it another quota, on each day from start to end.

    Days the office does not open anyway (its weekly days off, national holidays) are
    left as they are unless they already have an override, so a new quota never opens a
    holiday by accident. Raises ValidationError coded range_order, range_length, past,
    day_booked or closed_booked; then nothing is written.
    """
    now = now or clock.now()
    if end < start:
        raise _error("range_order")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise _error("range_length", days=MAX_RANGE_DAYS)
    quota = None if closed else quota
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]

    def change():
        existing = {o.date: o for o in _overrides_near(office.pk, days)}
        written, skipped = [], []
        for plan in day_plans(office, start, end, overrides=list(existing.values())):
            override = existing.get(plan.date)
            usual_day_off = plan.closure in (Closure.WEEKLY, Closure.HOLIDAY, Closure.NO_WINDOWS)
            if override is None and usual_day_off:
                skipped.append(plan.date)
                continue
            override = override or DayOverride(office=office, date=plan.date)
            override.closed, override.quota, override.reason = closed, quota, reason
            override.full_clean(validate_unique=False, validate_constraints=False)
            override._history_user = by
            override._change_reason = reason
            override.save()
            written.append(override)
        return RangeResult(tuple(written), tuple(skipped))

    with transaction.atomic():
        return _change_overrides([office.pk], {office.pk: set(days)}, change, now)


def national_holidays(year: int, language=None) -> list[tuple[date, str]]:
    """Return the national holidays and cuti bersama of a year, in date order."""
    day, found = date(year, 1, 1), []
    while day.year == year:
        name = holiday_name(day, language)
        if name:
            found.append((day, name))
        day += timedelta(days=1)
    return found


def holiday_blocks(year: int, language=None) -> list[tuple[date, date, str]]:
    """Return the year's holidays grouped into runs of consecutive days, with their names."""
    blocks = []
    for day, name in national_holidays(year, language):
        if blocks and blocks[-1][1] + timedelta(days=1) == day:
            first, _last, names = blocks[-1]
            blocks[-1] = (first, day, names if name in names else [*names, name])
        else:
            blocks.append((day, day, [name]))
    return [(first, last, "; ".join(names)) for first, last, names in blocks]
