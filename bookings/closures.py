"""An office closing a day, or some of its sessions, that holds bookings: the preview, the
moves to the nearest free places, the cancellations with priority, the messages.

The close and every move happen in one transaction under the usual lock order (the office
row, the bookings concerned, then the counters: office-days by date, windows by date and
start), so a booking made meanwhile lands either before (and is moved) or after (and finds
the day closed). The plan that is carried out is computed again under those locks; a caller
that showed a preview passes its fingerprint and is refused if anything changed since.
"""

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from antrean import bulk
from offices import clock, places
from offices.models import DayOverride, Office, OfficeDay, ServiceWindow, WindowDay
from offices.schedule import DayPlan, day_plans

from . import ballots
from .applicants import APPLICANT_FIELDS, Applicant
from .models import (
    Booking,
    BookingGroup,
    Closure,
    ClosureMove,
    Entry,
    Notification,
    Outage,
    Release,
)
from .notifications.outbox import record_for_bookings

DEADLOCK = "40P01"  # PostgreSQL's SQLSTATE for a deadlock it broke
# How far ahead of the closed day the calendar is read for open days to move to.
LOOK_AHEAD_DAYS = 60

MESSAGES = {
    "past": _("A day that has passed cannot be closed."),
    "not_open": _("The office does not open on this day: there is nothing to close."),
    "window_not_open": _("This session does not run on this day."),
    "all_windows": _("Every session of the day is chosen: close the whole day instead."),
    "changed": _(
        "Bookings changed since the preview was made. Check the new preview before closing."
    ),
    "no_reason": _("Give the reason applicants will read."),
    "busy": _("Someone else is changing these bookings right now. Try again."),
    "not_priority": _("This booking has no priority choice open."),
    "no_place": _("This session has no free place any more. Choose another."),
    "not_in_range": _("Choose a day from the list."),
    "duplicate": _("This NIK already holds another active booking."),
    "nothing_to_keep": _("There is no move to answer."),
    "no_waiting_list": _("This office has no ballot with a waiting list for the coming days."),
}


def refusal(code) -> ValidationError:
    """Return the ValidationError a closure's rule answers with, by its code."""
    return ValidationError(MESSAGES[code], code=code)


@dataclass(frozen=True)
class Unit:
    """What moves as one: a booking alone, or the booked members of a group (never split)."""

    bookings: tuple[Booking, ...]
    group: BookingGroup | None

    @property
    def first(self) -> Booking:
        return self.bookings[0]

    @property
    def size(self) -> int:
        return len(self.bookings)

    @property
    def window(self) -> ServiceWindow:
        return self.first.window


@dataclass(frozen=True)
class Move:
    """Where a unit goes: a day and a session, or nowhere (cancelled with priority)."""

    unit: Unit
    day: date | None = None
    window: ServiceWindow | None = None

    @property
    def placed(self) -> bool:
        return self.day is not None


@dataclass(frozen=True)
class ClosurePlan:
    """What closing would do: each unit's move, and whether quotas are raised for them."""

    office: Office
    day: date
    windows: tuple[ServiceWindow, ...]  # the sessions closed; none: the whole day
    moves: tuple[Move, ...]
    raise_quota: bool
    # Whether raising is what the preview proposes: without it, someone would lose a place.
    raise_proposed: bool
    choose_until: date

    @property
    def whole_day(self) -> bool:
        return not self.windows

    @property
    def moved(self) -> int:
        return sum(move.unit.size for move in self.moves if move.placed)

    @property
    def left(self) -> int:
        return sum(move.unit.size for move in self.moves if not move.placed)

    @property
    def applicants(self) -> int:
        return self.moved + self.left

    def targets(self) -> list[tuple[date, ServiceWindow, int]]:
        """Return each place moved into, in date and start order, with how many go there."""
        counts = Counter((m.day, m.window) for m in self.moves if m.placed for _ in m.unit.bookings)
        return sorted(
            ((day, window, n) for (day, window), n in counts.items()),
            key=lambda t: (t[0], t[1].start),
        )

    @property
    def fingerprint(self) -> str:
        """A short hash of who goes where: the same plan later has the same fingerprint."""
        parts = [
            f"{b.pk}:{m.day or '-'}:{m.window.pk if m.window else '-'}"
            for m in self.moves
            for b in m.unit.bookings
        ]
        text = "|".join([str(self.raise_quota), *sorted(parts)])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


# Reading what a closure concerns ------------------------------------------------------


def _units(office, day, windows, *, lock=False) -> list[Unit]:
    """Return the booked units on the day (in the closed sessions), earliest booked first."""
    rows = Booking.objects.filter(office=office, date=day, status=Booking.Status.BOOKED)
    if windows:
        rows = rows.filter(window__in=windows)
    rows = rows.select_related("window", "group").order_by("pk")
    if lock:
        rows = rows.select_for_update(of=("self",))
    grouped, units = defaultdict(list), []
    for booking in rows:
        if booking.group_id is None:
            units.append(Unit((booking,), None))
        else:
            if booking.group_id not in grouped:
                units.append(booking.group_id)  # its place in the order: the first member's
            grouped[booking.group_id].append(booking)
    return [
        unit if isinstance(unit, Unit) else Unit(tuple(grouped[unit]), grouped[unit][0].group)
        for unit in units
    ]


def _candidate_plans(office, day, windows, now) -> list[DayPlan]:
    """Return the plans of the days a unit may move to: the closed day itself when only some
    sessions close, then the next OUTAGE_MOVE_DAYS days the office opens."""
    found, following = [], 0
    for plan in day_plans(office, day, day + timedelta(days=LOOK_AHEAD_DAYS)):
        if not plan.open:
            continue
        if plan.date == day:
            if windows:
                found.append(plan)
            continue
        if following >= settings.OUTAGE_MOVE_DAYS:
            break
        found.append(plan)
        following += 1
    return found


def _slots(office, day, windows, plans, now):
    """Return the (day, window) places a unit may move to: not closed, not begun."""
    closed = {w.pk for w in windows}
    local_now = office.local_now(now)
    return [
        (plan.date, window)
        for plan in plans
        for window in plan.windows
        if not (plan.date == day and window.pk in closed)
        and office.local_datetime(plan.date, window.start) > local_now
    ]


def _free(office, plans, slots):
    """Return the online places free on each day and in each slot, from the counters."""
    days = {plan.date: plan for plan in plans}
    free_day = {d: plan.online_quota for d, plan in days.items()}
    for row in OfficeDay.objects.filter(office=office, date__in=list(days)):
        free_day[row.date] = min(row.quota - row.booked, row.online_quota - row.online_booked)
    free_window = {(d, w.pk): w.capacity for d, w in slots}
    pairs = WindowDay.objects.filter(
        window__in={w.pk for _d, w in slots}, date__in=list(days)
    ).values_list("window_id", "date", "capacity", "booked")
    for window_id, when, capacity, booked in pairs:
        if (when, window_id) in free_window:
            free_window[(when, window_id)] = capacity - booked
    return free_day, free_window


def _minutes(moment) -> int:
    return moment.hour * 60 + moment.minute


def _nearest(day, slots, window):
    """The slots in the order a unit of `window` wants them: the nearest day, then the
    nearest starting time (the same one first), then the earlier."""
    return sorted(
        slots,
        key=lambda slot: (
            (slot[0] - day).days,
            abs(_minutes(slot[1].start) - _minutes(window.start)),
            slot[1].start,
        ),
    )


def _allocate(day, units, slots, free_day, free_window, *, raise_quota) -> list[Move]:
    """Give each unit, earliest booked first, the nearest slot with room for all its members;
    raising, the nearest slot whatever its room (the moved come on top of its places)."""
    free_day, free_window = dict(free_day), dict(free_window)
    moves = []
    for unit in units:
        chosen = None
        for when, window in _nearest(day, slots, unit.window):
            if raise_quota or (
                free_day.get(when, 0) >= unit.size
                and free_window.get((when, window.pk), 0) >= unit.size
            ):
                chosen = (when, window)
                break
        if chosen is None:
            moves.append(Move(unit))
            continue
        when, window = chosen
        if not raise_quota:
            free_day[when] -= unit.size
            free_window[(when, window.pk)] -= unit.size
        moves.append(Move(unit, when, window))
    return moves


def _check(office, day, windows, now) -> DayPlan:
    if day < office.today(now):
        raise refusal("past")
    plan = day_plans(office, day, day)[0]
    if not plan.open:
        raise refusal("not_open")
    running = {w.pk for w in plan.windows}
    if any(w.pk not in running for w in windows):
        raise refusal("window_not_open")
    if windows and running <= {w.pk for w in windows}:
        raise refusal("all_windows")
    return plan


def _plan(office, day, windows, raise_quota, now, *, lock=False) -> ClosurePlan:
    units = _units(office, day, windows, lock=lock)
    plans = _candidate_plans(office, day, windows, now)
    slots = _slots(office, day, windows, plans, now)
    free_day, free_window = _free(office, plans, slots)
    moves = _allocate(day, units, slots, free_day, free_window, raise_quota=False)
    proposed = any(not move.placed for move in moves) and bool(slots)
    if raise_quota is None:
        raise_quota = proposed
    if raise_quota:
        moves = _allocate(day, units, slots, free_day, free_window, raise_quota=True)
    last = plans[-1].date if plans else day
    return ClosurePlan(
        office=office,
        day=day,
        windows=tuple(sorted(windows, key=lambda w: w.start)),
        moves=tuple(moves),
        raise_quota=raise_quota,
        raise_proposed=proposed,
        choose_until=max(last, day),
    )


def preview(
    *, office: Office, day: date, windows=(), raise_quota: bool | None = None, now=None
) -> ClosurePlan:
    """Return what closing the day (or only `windows` of it) would do, writing nothing.

    raise_quota None: as proposed (raised when some applicant would otherwise be left without
    a place). Raises ValidationError coded past, not_open, window_not_open or all_windows.
    """
    now = now or clock.now()
    windows = tuple(windows)
    _check(office, day, windows, now)
    return _plan(office, day, windows, raise_quota, now)


# Closing ------------------------------------------------------------------------------


def close(
    *,
    office: Office,
    day: date,
    windows=(),
    reason: str,
    by,
    raise_quota: bool | None = None,
    expected: str = "",
    outage: Outage | None = None,
    now=None,
) -> Closure:
    """Close the day (or only `windows` of it) although it holds bookings: move each booked
    unit as the plan says, cancel with priority those it cannot place, shut the counters,
    record it all and tell every applicant once this commits.

    expected: the fingerprint of the preview shown; refused (code changed) if the plan is
    no longer that one. Raises ValidationError coded past, not_open, window_not_open,
    all_windows, no_reason, changed or busy.
    """
    now = now or clock.now()
    windows = tuple(windows)
    reason = " ".join(str(reason).split())[:200]
    if not reason:
        raise refusal("no_reason")
    try:
        with transaction.atomic():
            return _close(office, day, windows, reason, by, raise_quota, expected, outage, now)
    except OperationalError as exc:
        # A booking inserted while the closure waited, then changed by its applicant at that
        # instant, can cross its locks: the database gives one of the two up.
        if getattr(exc.__cause__, "pgcode", None) == DEADLOCK:
            raise refusal("busy") from None
        raise


def _close(office, day, windows, reason, by, raise_quota, expected, outage, now):
    # Plan changes take turns; NO KEY: a booking's foreign-key check at its commit (KEY
    # SHARE) must not wait for us while we wait for the counter it holds.
    office = Office.objects.select_for_update(no_key=True).get(pk=office.pk)
    plan = _check(office, day, windows, now)
    _units(office, day, windows, lock=True)  # the bookings first, as a reschedule takes them
    _hold_counters(office, plan, windows, now)
    # Under the counters' locks nothing more can land on the day: this is the plan carried out.
    found = _plan(office, day, windows, raise_quota, now, lock=True)
    if expected and found.fingerprint != expected:
        raise refusal("changed")
    closure = Closure.objects.create(
        office=office,
        date=day,
        reason=reason,
        raised_quota=found.raise_quota,
        outage=outage,
        moved=found.moved,
        cancelled=found.left,
        created_by=by,
        created_at=now,
    )
    closure.windows.set(windows)
    _move_bookings(found, now)
    _cancel_with_priority(found, reason, now)
    _count(office, plan, found)
    _shut(office, day, windows, reason, by)
    ClosureMove.objects.bulk_create(_move_rows(closure, found))
    record_for_bookings(
        [m.unit.first.pk for m in found.moves if m.placed], Notification.Kind.MOVED, now=now
    )
    record_for_bookings(
        [m.unit.first.pk for m in found.moves if not m.placed], Notification.Kind.CLOSED, now=now
    )
    return closure


def _hold_counters(office, plan, windows, now):
    # Every counter the closure may change, locked in the usual order (days, then windows):
    # the closed day's and those of every day and session a unit may move to.
    plans = {plan.date: plan}
    plans.update((p.date, p) for p in _candidate_plans(office, plan.date, windows, now))
    slots = {(day, window) for day, p in plans.items() for window in p.windows}
    places.hold_for_change(office, plans, slots)


def _move_bookings(found, now):
    rows = [
        (
            booking.pk,
            bulk.prepared(Booking, "date", move.day),
            move.window.pk,
            bulk.prepared(
                Booking, "starts_at", found.office.local_datetime(move.day, move.window.start)
            ),
            bulk.prepared(
                Booking, "ends_at", found.office.local_datetime(move.day, move.window.end)
            ),
            bulk.prepared(Booking, "updated_at", now),
        )
        for move in found.moves
        if move.placed
        for booking in move.unit.bookings
    ]
    bulk.update_from(
        Booking,
        names=("id", "day", "window_id", "starts", "ends", "now"),
        rows=rows,
        assigned={
            "date": bulk.cast(Booking, "date", "given.day"),
            "window": "given.window_id",
            "starts_at": bulk.cast(Booking, "starts_at", "given.starts"),
            "ends_at": bulk.cast(Booking, "ends_at", "given.ends"),
            "reschedule_count": "reschedule_count + 1",
            "office_moves": "office_moves + 1",
            "updated_at": bulk.cast(Booking, "updated_at", "given.now"),
        },
    )
    groups = [m.unit.group.pk for m in found.moves if m.placed and m.unit.group is not None]
    if groups:
        BookingGroup.objects.filter(pk__in=groups).update(
            reschedule_count=F("reschedule_count") + 1
        )


def _cancel_with_priority(found, reason, now):
    left = [b.pk for m in found.moves if not m.placed for b in m.unit.bookings]
    if left:
        Booking.objects.filter(pk__in=left).update(
            status=Booking.Status.CANCELLED, cancelled_at=now, cancel_reason=reason, updated_at=now
        )


def _count(office, plan, found):
    """The counters follow: places given back on the closed day, taken where the moved go
    (the quota and the session raised by as many when raising)."""
    day_rows = {
        row.date: row for row in OfficeDay.objects.filter(office=office, date__in=_days(found))
    }
    window_rows = {
        (row.date, row.window_id): row
        for row in WindowDay.objects.filter(window__office=office, date__in=_days(found))
    }
    for move in found.moves:
        unit = move.unit
        online = sum(not b.uses_reserve for b in unit.bookings)
        closed = day_rows[found.day]
        closed.booked -= unit.size
        closed.online_booked -= online
        window_rows[(found.day, unit.window.pk)].booked -= unit.size
        if not move.placed:
            continue
        target, slot = day_rows[move.day], window_rows[(move.day, move.window.pk)]
        if found.raise_quota:
            target.quota += unit.size
            target.online_quota += unit.size
            slot.capacity += unit.size
        target.booked += unit.size
        target.online_booked += unit.size
        slot.booked += unit.size
    # The closed day keeps what is left on it (those already checked in), and no more.
    closed = day_rows[found.day]
    if found.whole_day:
        closed.quota, closed.online_quota = closed.booked, closed.online_booked
    for window in found.windows or plan.windows:
        row = window_rows[(found.day, window.pk)]
        row.capacity = row.booked
    places.save_counts(day_rows.values(), window_rows.values())


def _days(found):
    return {found.day, *(m.day for m in found.moves if m.placed)}


def _shut(office, day, windows, reason, by):
    """The day's plan says it: closed with the reason, or running without the sessions."""
    override = DayOverride.objects.filter(office=office, date=day).first()
    override = override or DayOverride(office=office, date=day, closed=False)
    if windows:
        override.closed_windows = sorted({*override.closed_windows, *(w.pk for w in windows)})
    else:
        override.closed, override.quota = True, None
    override.reason = reason
    override._history_user = by
    override._change_reason = reason
    override.save()


def _move_rows(closure, found):
    return [
        ClosureMove(
            closure=closure,
            booking=booking,
            group=move.unit.group,
            outcome=ClosureMove.Outcome.MOVED if move.placed else ClosureMove.Outcome.CANCELLED,
            from_date=found.day,
            from_window=move.unit.window,
            to_date=move.day,
            to_window=move.window,
            choose_until=None if move.placed else found.choose_until,
        )
        for move in found.moves
        for booking in move.unit.bookings
    ]


# Many offices at once ------------------------------------------------------------------


def outage_windows(office, day, starts, ends) -> tuple[ServiceWindow, ...]:
    """Return the sessions of the office on that day that meet the time range, all of them
    when no range is given; none when it does not open."""
    plan = day_plans(office, day, day)[0]
    if starts is None or ends is None:
        return plan.windows
    return tuple(w for w in plan.windows if w.start < ends and w.end > starts)


def scope(office, day, starts=None, ends=None):
    """Return the sessions to close at an office for a time range of a day: () for its whole
    day (no range, or one that meets every session), or None when no session meets it."""
    met = outage_windows(office, day, starts, ends)
    if not met:
        return None
    running = day_plans(office, day, day)[0].windows
    return () if len(met) == len(running) else met


def preview_outage(*, offices, day, starts=None, ends=None, now=None) -> list:
    """Return a preview per office that opens in the range, in the offices' order: (office,
    plan or None when it has nothing to close, or the ValidationError that refuses it)."""
    now = now or clock.now()
    found = []
    for office in offices:
        closing = scope(office, day, starts, ends)
        if closing is None:
            found.append((office, None))
            continue
        try:
            found.append((office, preview(office=office, day=day, windows=closing, now=now)))
        except ValidationError as exc:
            found.append((office, exc))
    return found


def close_outage(
    *, offices, day, starts=None, ends=None, reason, by, expected: dict, now=None
) -> Outage:
    """Close the range at every office given, each office's applicants moved within it, all
    in one transaction: one office's refusal closes none. expected: {office pk: fingerprint
    of its preview}. Raises ValidationError as close does."""
    now = now or clock.now()
    reason = " ".join(str(reason).split())[:200]
    if not reason:
        raise refusal("no_reason")
    with transaction.atomic():
        outage = Outage.objects.create(
            date=day, starts=starts, ends=ends, reason=reason, created_by=by, created_at=now
        )
        for office in sorted(offices, key=lambda o: o.pk):
            closing = scope(office, day, starts, ends)
            if closing is None:
                continue
            close(
                office=office,
                day=day,
                windows=closing,
                reason=reason,
                by=by,
                raise_quota=None,
                expected=expected.get(office.pk, ""),
                outage=outage,
                now=now,
            )
    return outage


# The applicant's answer --------------------------------------------------------------


def latest_move(booking: Booking) -> ClosureMove | None:
    """Return the last closure move of a booking, with its closure (one query)."""
    return ClosureMove.objects.latest_for(booking)


def move_of(booking: Booking) -> ClosureMove | None:
    """Return the last closure move of a booking, reading it only for a booking the office
    moved or one cancelled: the pages and answers the crowd reads cost nothing more."""
    if booking.office_moves or booking.status == Booking.Status.CANCELLED:
        return latest_move(booking)
    return None


def is_current(move: ClosureMove | None, booking: Booking) -> bool:
    """Whether a moved booking still stands where the closure put it (not changed since)."""
    return (
        move is not None
        and move.outcome == ClosureMove.Outcome.MOVED
        and booking.status == Booking.Status.BOOKED
        and booking.date == move.to_date
        and booking.window_id == move.to_window_id
    )


def can_choose(move: ClosureMove | None, booking: Booking, now) -> bool:
    """Whether a booking cancelled by a closure may still choose a place with priority."""
    return (
        move is not None
        and move.outcome == ClosureMove.Outcome.CANCELLED
        and move.answer == ClosureMove.Answer.NONE
        and booking.status == Booking.Status.CANCELLED
        and move.choose_until >= booking.office.today(now)
    )


def unit_size(move: ClosureMove) -> int:
    """Return how many applicants a move concerns together: its group's, or one."""
    return _unit_moves(move).count() if move.group_id else 1


def _unit_moves(move):
    # The moves of the unit a move belongs to: the group's members moved with it, or itself.
    rows = ClosureMove.objects.filter(closure_id=move.closure_id)
    return rows.filter(group_id=move.group_id) if move.group_id else rows.filter(pk=move.pk)


def page_state(booking, now) -> dict:
    """What a booking's or a group's page shows of a closure: the last move, whether it still
    stands and awaits an answer, whether a priority choice is open (one query)."""
    move = move_of(booking)
    current = is_current(move, booking)
    choosing = can_choose(move, booking, now)
    return {
        "move": move,
        "move_current": current,
        "move_to_answer": current and move.answer == ClosureMove.Answer.NONE,
        "can_choose": choosing,
        "waiting_list": waiting_list_for(booking, now) if choosing else None,
        "joined_waiting_list": move is not None and move.answer == ClosureMove.Answer.WAITING,
    }


def keep_moved(*, booking: Booking, now=None) -> ClosureMove:
    """Record that the applicant keeps the place a closure moved them to (with their group).

    Raises ValidationError coded nothing_to_keep.
    """
    now = now or clock.now()
    move = latest_move(booking)
    if not is_current(move, booking):
        raise refusal("nothing_to_keep")
    _unit_moves(move).filter(answer=ClosureMove.Answer.NONE).update(
        answer=ClosureMove.Answer.KEPT, answered_at=now
    )
    move.refresh_from_db()
    return move


def priority_range(move: ClosureMove, office: Office, now) -> tuple[date, date]:
    """Return the first and last day a priority choice may take: from the office's first
    bookable day to the later of its horizon and the closure's choice window."""
    return office.first_bookable_day(now), max(office.last_bookable_day(now), move.choose_until)


def priority_slots(*, booking: Booking, move: ClosureMove, now=None):
    """Return the days a priority choice may take, each with its sessions that have room for
    all who choose together: [(DayPlan, [(window, places left)])] (four queries)."""
    now = now or clock.now()
    office = booking.office
    needed = _unit_moves(move).count()
    first, last = priority_range(move, office, now)
    plans = [plan for plan in day_plans(office, first, last) if plan.open]
    slots = _slots(office, move.from_date, (), plans, now)
    free_day, free_window = _free(office, plans, slots)
    found = []
    for plan in plans:
        if free_day.get(plan.date, 0) < needed:
            continue
        windows = [
            (w, min(free_day[plan.date], free_window[(plan.date, w.pk)]))
            for day, w in slots
            if day == plan.date and free_window[(plan.date, w.pk)] >= needed
        ]
        if windows:
            found.append((plan, windows))
    return found


def choose_with_priority(
    *, booking: Booking, day: date, window: ServiceWindow, now=None
) -> list[Booking]:
    """Book again, on the place chosen, a booking cancelled by a closure (with the members of
    its group cancelled with it): the same codes, before the places open to anyone else.

    Raises ValidationError coded not_priority, not_in_range, no_place or duplicate.
    """
    now = now or clock.now()
    office = booking.office
    with transaction.atomic():
        move = latest_move(booking)
        if not can_choose(move, booking, now):
            raise refusal("not_priority")
        moves = list(_unit_moves(move).select_for_update())
        members = list(
            Booking.objects.select_for_update()
            .filter(pk__in=[m.booking_id for m in moves], status=Booking.Status.CANCELLED)
            .order_by("pk")
        )
        first, last = priority_range(move, office, now)
        plan = day_plans(office, day, day)[0]
        if not (first <= day <= last) or not plan.open or window not in plan.windows:
            raise refusal("not_in_range")
        if office.local_datetime(day, window.start) <= office.local_now(now):
            raise refusal("not_in_range")
        try:
            places.take(office, plan, window, count=len(members))
        except places.NoPlace:
            raise refusal("no_place") from None
        group = members[0].group
        try:
            with transaction.atomic():
                Booking.objects.filter(pk__in=[m.pk for m in members]).update(
                    status=Booking.Status.BOOKED,
                    date=day,
                    window=window,
                    starts_at=office.local_datetime(day, window.start),
                    ends_at=office.local_datetime(day, window.end),
                    cancelled_at=None,
                    cancel_reason="",
                    reschedule_count=F("reschedule_count") + 1,
                    office_moves=F("office_moves") + 1,
                    updated_at=now,
                )
        except IntegrityError:
            raise refusal("duplicate") from None
        if group is not None:
            BookingGroup.objects.filter(pk=group.pk).update(
                reschedule_count=F("reschedule_count") + 1
            )
        ClosureMove.objects.filter(pk__in=[m.pk for m in moves]).update(
            answer=ClosureMove.Answer.CHOSE, answered_at=now
        )
        record_for_bookings([members[0].pk], Notification.Kind.RESCHEDULE, now=now)
    return list(Booking.objects.filter(pk__in=[m.pk for m in members]).order_by("pk"))


def waiting_list_for(booking: Booking, now) -> Release | None:
    """Return the drawn ballot release whose waiting list an applicant a closure left without
    a place may join instead of choosing: at an office on a ballot, the first with days to
    come. None elsewhere."""
    office = booking.office
    if not office.by_ballot:
        return None
    rows = Release.objects.filter(
        office=office, state=Release.State.DRAWN, last_day__gte=office.first_bookable_day(now)
    )
    return rows.order_by("first_day").first()


def join_waiting_list(*, booking: Booking, now=None) -> Entry:
    """Put a booking a closure cancelled for want of a place (with its group's members) ahead
    of its office's ballot waiting list, wanting any session of the release's days to come:
    the next freed place they fit is offered to them first.

    Raises ValidationError coded not_priority, no_waiting_list or entered_already.
    """
    now = now or clock.now()
    with transaction.atomic():
        move = latest_move(booking)
        if not can_choose(move, booking, now):
            raise refusal("not_priority")
        release = waiting_list_for(booking, now)
        if release is None:
            raise refusal("no_waiting_list")
        moves = list(_unit_moves(move).select_for_update())
        members = Booking.objects.filter(
            pk__in=[m.booking_id for m in moves], status=Booking.Status.CANCELLED
        ).order_by("pk")
        first = max(release.first_day, booking.office.first_bookable_day(now))
        days = [p.date for p in day_plans(booking.office, first, release.last_day) if p.open]
        entry = ballots.enter_ahead(
            release=release,
            applicants=[
                Applicant(
                    **{name: getattr(member, name) for name in APPLICANT_FIELDS},
                    email=member.email,
                    phone=member.phone,
                    language=member.language,
                )
                for member in members
            ],
            days=days,
            now=now,
        )
        ClosureMove.objects.filter(pk__in=[m.pk for m in moves]).update(
            answer=ClosureMove.Answer.WAITING, answered_at=now
        )
    return entry
