"""The waiting list of a drawn ballot: a freed place goes to the first waiting entry that wants
it, one entry at a time, and is held for it on the counters while the offer is open.

A place is never both offered and bookable: an open offer has taken its places on the
counters, and a booking asks claimed() before keeping a place that a waiting entry wants.
"""

from datetime import date, timedelta
from itertools import groupby

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from offices import places
from offices.models import Office, OfficeDay, ServiceWindow, WindowDay
from offices.schedule import day_plans

from .models import Entry, EntryChoice, Notification, Offer, Release
from .notifications.outbox import record_entry_notifications

# An offer shorter than this is not made: the place opens to booking instead.
MIN_OFFER = timedelta(hours=1)


def offer_ends(office: Office, day: date, window: ServiceWindow, now):
    """Return when an offer of this session made now would end, or None if it is too late for
    one: WAITLIST_OFFER_HOURS from now, and never later than WAITLIST_OFFER_ENDS_BEFORE the
    session begins."""
    starts = office.local_datetime(day, window.start)
    ends = min(now + settings.WAITLIST_OFFER_HOURS, starts - settings.WAITLIST_OFFER_ENDS_BEFORE)
    return ends if ends - now >= MIN_OFFER else None


def claimed(office: Office, day: date, window: ServiceWindow, count: int, now) -> bool:
    """Return whether a waiting entry wants this session's places before a booking that has
    just taken `count` of them: an entry of a drawn release of the day, waiting, that asked
    for this session or any session of the day and fits the places free before the booking.

    Asked under the counters' locks, after the take: a place freed a moment ago is seen.
    No query at a first-come office, or when it is too late to offer the session.
    """
    if not office.by_ballot or offer_ends(office, day, window, now) is None:
        return False
    free = _free(office, [day], [window]).get((day, window.pk), 0) + count
    return EntryChoice.objects.filter(
        Q(window=window) | Q(window__isnull=True),
        release__office=office,
        release__state=Release.State.DRAWN,
        day=day,
        entry__status=Entry.Status.WAITING,
        size__lte=free,
    ).exists()


def _free(office, days, windows) -> dict:
    """Return the online places free in each (day, window id), read from the counters."""
    plans = {p.date: p for p in day_plans(office, min(days), max(days))}
    rows = OfficeDay.objects.filter(office=office, date__in=days)
    day_left = {r.date: min(r.quota - r.booked, r.online_quota - r.online_booked) for r in rows}
    counted = WindowDay.objects.filter(window__in=windows, date__in=days)
    window_left = {(r.date, r.window_id): r.capacity - r.booked for r in counted}
    free = {}
    for day in days:
        plan = plans[day]
        if not plan.open:
            continue
        left_today = day_left.get(day, plan.online_quota)
        for window in windows:
            if window.weekday == day.weekday() and window in plan.windows:
                left = window_left.get((day, window.pk), window.capacity)
                free[(day, window.pk)] = max(0, min(left, left_today))
    return free


def offer_freed(release: Release, *, now) -> list[Offer]:
    """Offer the free places of a drawn release's days to its waiting entries, in order.

    Each waiting entry, first on the list first, is offered the first of its choices that has
    room for all its applicants and can still be offered; an entry that fits none keeps its
    place on the list. Each offer is made in a transaction of its own, which takes the
    places on the counters (so two runs never offer one place twice) and sends the offer.
    Returns the offers made.
    """
    office = release.office
    first = max(release.first_day, office.today(now))
    if first > release.last_day:
        return []
    days = [date.fromordinal(d) for d in range(first.toordinal(), release.last_day.toordinal() + 1)]
    windows = list(office.windows.order_by("start"))
    # Only the choices of days with a free place are read: mostly none, the draw took them.
    free = {key: left for key, left in _free(office, days, windows).items() if left > 0}
    if not free:
        return []
    waiting = list(
        EntryChoice.objects.filter(
            release=release,
            entry__status=Entry.Status.WAITING,
            day__in=sorted({day for day, _window in free}),
        )
        .select_related("entry")
        # Those a closure put ahead share position 0: the first to join goes first.
        .order_by("entry__waiting_position", "entry_id", "rank")
    )
    plans = {p.date: p for p in day_plans(office, days[0], days[-1], windows=windows)}
    made = []
    for _entry, choices in groupby(waiting, key=lambda choice: choice.entry_id):
        for choice in choices:
            sessions = [w for w in windows if w.pk == choice.window_id or not choice.window_id]
            offer = _offer_first(release, choice, sessions, plans[choice.day], free, now)
            if offer is not None:
                made.append(offer)
                break
    return made


def _offer_first(release, choice, sessions, plan, free, now) -> Offer | None:
    # The first of these sessions of the choice's day with room for the entry, offered.
    for window in sessions:
        key = (choice.day, window.pk)
        ends = offer_ends(release.office, choice.day, window, now)
        if free.get(key, 0) < choice.size or ends is None:
            continue
        offer = _offer(release, choice, plan, window, ends, now)
        if offer is not None:
            free[key] -= choice.size
            return offer
    return None


def _offer(release, choice, plan, window, ends, now) -> Offer | None:
    """Take the places and offer them to the entry, or return None if either cannot be."""
    try:
        with transaction.atomic():
            # The entry is still waiting, and now ours: a second run offering it stops here.
            if not Entry.objects.filter(pk=choice.entry_id, status=Entry.Status.WAITING).update(
                status=Entry.Status.OFFERED
            ):
                return None
            places.take(release.office, plan, window, count=choice.size)
            offer = Offer.objects.create(
                release=release,
                entry_id=choice.entry_id,
                office=release.office,
                day=choice.day,
                window=window,
                size=choice.size,
                made_at=now,
                expires_at=ends,
            )
            offered = Entry.objects.filter(pk=choice.entry_id)
            record_entry_notifications(offered, Notification.Kind.OFFER, now=now)
    except (places.NoPlace, IntegrityError):
        return None  # taken meanwhile; the entry waits on
    return offer


def give_back(offer: Offer) -> None:
    """Give an offer's places back to the counters: it was declined or has lapsed."""
    places.release(offer.office, offer.day, offer.window, uses_reserve=False, count=offer.size)
