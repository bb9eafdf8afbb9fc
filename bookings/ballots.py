"""Ballot releases: make one, take and withdraw entries, close the list, draw, publish it all.

Every change of a release or an entry goes through these functions. Each raises
ValidationError with a code from MESSAGES (or from services.MESSAGES for an applicant's
NIK) when the change cannot be made; nothing is written then.
"""

import hmac
import secrets
from collections.abc import Sequence
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from antrean import bulk
from offices import clock, places
from offices.models import Office, ServiceWindow
from offices.schedule import day_plans

from . import codes, draw, services, waitlist
from .applicants import APPLICANT_FIELDS, Applicant
from .availability import office_availability
from .constraints import violated_constraint
from .models import (
    Booking,
    Entry,
    EntryApplicant,
    EntryChoice,
    Notification,
    Offer,
    Release,
    ReleaseSchedule,
)
from .nik import mask_nik, normalize_nik
from .notifications.outbox import record_entry_notifications

MAX_PREFERENCES = 3
ONE_ENTRY_PER_NIK = "entry_one_per_nik_per_release"
# How far ahead a schedule's releases are made: their seeds' hashes are public that long
# before entries open, and the office's page names their days.
SCHEDULE_AHEAD = timedelta(days=7)

MESSAGES = {
    "release_not_open": _("Entries for these days are not open now."),
    "release_not_closing": _("Entries can be closed only once their time is over."),
    "entry_size": _("An entry holds from 1 to %(max)d applicants."),
    "preferences": _("Choose from 1 to %(max)d sessions or days, each once."),
    "preference_day": _("Choice %(number)d: the day %(day)s is not one of this ballot's days."),
    "preference_closed": _("Choice %(number)d: the office is closed on %(day)s."),
    "preference_window": _("Choice %(number)d: this session is not held on %(day)s."),
    "entered_already": _(
        "Applicant %(number)d (NIK %(nik)s) has already entered this ballot. Change or "
        "withdraw that entry instead."
    ),
    "entry_not_changeable": _("This entry can no longer be changed or withdrawn."),
    "release_not_drawable": _(
        "This release can be drawn only once it is closed and its time has come."
    ),
    "public_value_missing": _("Type in the public value as it was announced before the draw."),
    "release_drawn": _("This release has been drawn: nothing in it can change any more."),
    "offer_over": _(
        "This offer is over: it was accepted, declined or has lapsed, and its place has gone "
        "to the next entry or opened to booking."
    ),
}


def _error(code, **params):
    return ValidationError(MESSAGES[code], code=code, params=params or None)


def make_release(
    *,
    office: Office,
    first_day: date,
    last_day: date,
    opens_at,
    closes_at,
    draw_at,
    public_value_source: str,
) -> Release:
    """Make a release of an office's days with a secret seed whose SHA-256 is public at once."""
    seed = secrets.token_hex(32)
    release = Release(
        office=office,
        first_day=first_day,
        last_day=last_day,
        opens_at=opens_at,
        closes_at=closes_at,
        draw_at=draw_at,
        public_value_source=public_value_source,
        seed=seed,
        seed_hash=draw.sha256_hex(seed),
    )
    release.full_clean(exclude=["seed", "seed_hash"])
    release.save()
    return release


# A preference: a day, and a session of it or None for any session of that day.
Preference = tuple[date, ServiceWindow | None]


def _checked_preferences(release, preferences: Sequence[Preference]) -> list[list]:
    """Return the preferences as the draw reads them: [[day, window id or None], ...]."""
    listed = [(day, window.pk if window else None) for day, window in preferences]
    if not 1 <= len(listed) <= MAX_PREFERENCES or len(set(listed)) != len(listed):
        raise _error("preferences", max=MAX_PREFERENCES)
    for number, (day, _window) in enumerate(preferences, start=1):
        if not release.first_day <= day <= release.last_day:
            raise _error("preference_day", number=number, day=day.isoformat())
    # The plans of the chosen days in two queries (windows, overrides), not two per choice.
    days = [day for day, _window in preferences]
    plans = {plan.date: plan for plan in day_plans(release.office, min(days), max(days))}
    for number, (day, window) in enumerate(preferences, start=1):
        plan = plans[day]
        if not plan.open:
            raise _error("preference_closed", number=number, day=day.isoformat())
        if window is not None and window.pk not in {w.pk for w in plan.windows}:
            raise _error("preference_window", number=number, day=day.isoformat())
    return [[day.isoformat(), window] for day, window in listed]


def enter(
    *,
    release: Release,
    applicants: Sequence[Applicant],
    preferences: Sequence[Preference],
    client: str = "",
    now=None,
) -> Entry:
    """Enter an applicant, or a group as one entry, in an open release; return the entry.

    One entry per NIK per release, held by the database. The time of entry plays no part in
    the draw. With contact confirmation, the entry waits for the code sent to its contact
    and is withdrawn unconfirmed (lapse_unconfirmed_entries). Raises ValidationError coded
    release_not_open, entry_size, preferences, preference_day, preference_closed,
    preference_window, entered_already, contact_codes_limit, or a NIK code (group_member,
    group_repeated_nik, group_nik_held).
    """
    now = now or clock.now()
    if not release.is_open(now):
        raise _error("release_not_open")
    if not 1 <= len(applicants) <= settings.BOOKING_GROUP_MAX:
        raise _error("entry_size", max=settings.BOOKING_GROUP_MAX)
    members = services.group_applicant_fields(applicants)
    niks = [member["nik"] for member in members]
    first = applicants[0]
    services.refuse_blocked_or_held(
        office=release.office, phone=first.phone, email=first.email, niks=niks, now=now
    )
    wishes = _checked_preferences(release, preferences)
    entry = _new_entry(release, applicants, members, wishes)
    services.count_code_sending(first.phone, client)
    try:
        with transaction.atomic():
            _insert_entry(entry, members, preferences)
            # The insert holds the release row (its foreign key) until this commits, so the
            # close waits for this entry; an entry written after the close sees it here.
            if not Release.objects.filter(pk=release.pk, state=Release.State.OPEN).exists():
                raise _error("release_not_open")
            if settings.CONTACT_CONFIRMATION:
                services.hold_for_contact(phone=entry.phone, now=now, entry=entry)
    except IntegrityError as exc:
        if violated_constraint(exc) != ONE_ENTRY_PER_NIK:
            raise
        _refuse_entered(release, niks)
        raise  # the other entry was withdrawn meanwhile: let the caller try again
    return entry


# The waiting-list position of applicants a closure put ahead of a draw's list (the draw's
# own positions start at 1); among them, the first to join goes first.
AHEAD = 0


def enter_ahead(
    *, release: Release, applicants: Sequence[Applicant], days: Sequence[date], now=None
) -> Entry:
    """Put applicants an office's closure left without a place ahead of a drawn release's
    waiting list, wanting any session of `days`: the next freed place they fit is offered to
    them first. Outside the draw: its published list and outcome stay as they were.

    Raises ValidationError coded entered_already (one of them has an entry here already).
    """
    now = now or clock.now()
    members = services.group_applicant_fields(applicants)
    entry = _new_entry(release, applicants, members, [[d.isoformat(), None] for d in days])
    entry.status, entry.waiting_position = Entry.Status.WAITING, AHEAD
    niks = [member["nik"] for member in members]
    try:
        with transaction.atomic():
            # An entry of theirs whose won place is gone (the closure took it) is set aside.
            EntryApplicant.objects.filter(
                release=release,
                nik__in=niks,
                entered=True,
                entry__status=Entry.Status.WON,
                entry__booking__status=Booking.Status.CANCELLED,
            ).update(entered=False)
            _insert_entry(entry, members, [(day, None) for day in days])
    except IntegrityError as exc:
        if violated_constraint(exc) != ONE_ENTRY_PER_NIK:
            raise
        _refuse_entered(release, niks)
        raise
    record_entry_notifications(
        Entry.objects.filter(pk=entry.pk), Notification.Kind.WAITING, now=now
    )
    return entry


def _new_entry(release, applicants, members, wishes) -> Entry:
    # An unsaved entry with a fresh code and its salted receipt; the first applicant's contact.
    salt = secrets.token_hex(16)
    return Entry(
        release=release,
        code=codes.new_code(),
        salt=salt,
        receipt=_receipt(release, salt, members, wishes),
        preferences=wishes,
        email=applicants[0].email,
        phone=applicants[0].phone,
        language=applicants[0].language,
    )


def _insert_entry(entry, members, preferences):
    # The entry, its applicants and its choices, in the caller's transaction.
    entry.save(force_insert=True)
    EntryApplicant.objects.bulk_create(
        EntryApplicant(
            entry=entry, release=entry.release, **{name: member[name] for name in APPLICANT_FIELDS}
        )
        for member in members
    )
    _write_choices(entry, preferences, len(members))


def _receipt(release, salt, members, wishes) -> str:
    # SHA-256 over the salt and what the entry is: nobody can guess a NIK back from it.
    details = {
        "release": release.pk,
        "applicants": [[m["nik"], m["full_name"], m["birth_date"].isoformat()] for m in members],
        "preferences": wishes,
    }
    return draw.receipt_of(salt, details)


def _write_choices(entry, preferences, size):
    EntryChoice.objects.bulk_create(
        EntryChoice(
            entry=entry, release=entry.release, rank=rank, day=day, window=window, size=size
        )
        for rank, (day, window) in enumerate(preferences, start=1)
    )


def change_entry(*, entry: Entry, preferences: Sequence[Preference], now=None) -> Entry:
    """Replace an entry's ranked choices while entries are open; it gets a new receipt.

    The applicants stay as they entered (a new applicant is a new entry). Raises
    ValidationError coded entry_not_changeable, preferences, preference_day,
    preference_closed or preference_window.
    """
    now = now or clock.now()
    with transaction.atomic():
        # The release row too: a change and the close do not pass each other.
        entry = Entry.objects.select_for_update().select_related("release").get(pk=entry.pk)
        release = entry.release
        if entry.status != Entry.Status.ENTERED or not release.is_open(now):
            raise _error("entry_not_changeable")
        wishes = _checked_preferences(release, preferences)
        members = [
            {"nik": a.nik, "full_name": a.full_name, "birth_date": a.birth_date}
            for a in entry.applicants.all()
        ]
        entry.salt = secrets.token_hex(16)
        entry.receipt = _receipt(release, entry.salt, members, wishes)
        entry.preferences = wishes
        entry.save(update_fields=["salt", "receipt", "preferences"])
        entry.choices.all().delete()
        _write_choices(entry, preferences, len(members))
    return entry


def _refuse_entered(release, niks):
    entered = set(
        EntryApplicant.objects.filter(release=release, nik__in=niks, entered=True).values_list(
            "nik", flat=True
        )
    )
    for number, nik in enumerate(niks, start=1):
        if nik in entered:
            raise _error("entered_already", number=number, nik=mask_nik(nik))


def find_entry(release: Release, code: str, nik: str) -> Entry | None:
    """Return a release's entry with this code only if the NIK is one of its applicants'.

    Compared in constant time: an unknown code and a wrong NIK give the same answer.
    """
    entry = release.entries.filter(code=codes.normalize_code(code)).first()
    stored = list(entry.applicants.values_list("nik", flat=True)) if entry else []
    given = normalize_nik(nik).encode()
    matches = [hmac.compare_digest(nik_.encode(), given) for nik_ in stored or ["0" * 16]]
    return entry if entry is not None and any(matches) else None


def withdraw_entry(*, entry: Entry, now=None) -> Entry:
    """Withdraw an entry while the release is open; its NIKs may enter again.

    Raises ValidationError coded entry_not_changeable.
    """
    now = now or clock.now()
    with transaction.atomic():
        # The release row too: a withdrawal and the draw do not pass each other.
        entry = Entry.objects.select_for_update().select_related("release").get(pk=entry.pk)
        if entry.status != Entry.Status.ENTERED or not entry.release.is_open(now):
            raise _error("entry_not_changeable")
        _withdraw(entry, now)
    return entry


def _withdraw(entry, now):
    # A locked entry leaves the ballot: its NIKs may enter again; a closed list keeps it, struck.
    entry.status = Entry.Status.WITHDRAWN
    entry.withdrawn_at = now
    entry.save(update_fields=["status", "withdrawn_at"])
    entry.applicants.update(entered=False)


def lapse_unconfirmed_entries(*, now=None) -> int:
    """Withdraw the entries whose contact did not type back its code in time, their NIKs free
    to enter again; nobody is told. Returns how many lapsed."""
    return services.lapse_due_checks(of_entries=True, lapse=_lapse_entry, now=now or clock.now())


def _lapse_entry(check, now):
    entry = Entry.objects.select_for_update().get(pk=check.entry_id)
    if entry.status == Entry.Status.ENTERED:
        _withdraw(entry, now)


def close_release(*, release: Release, now=None) -> Release:
    """Fix a release's list of entries once its entries close, and publish the list's hash.

    Nothing is ever added to or removed from the list after this; a withdrawn entry stays
    in it, struck. Raises ValidationError coded release_not_closing. Closing twice is the
    same as closing once.
    """
    now = now or clock.now()
    with transaction.atomic():
        release = Release.objects.select_for_update().get(pk=release.pk)
        if release.state != Release.State.OPEN:
            return release
        if now < release.closes_at:
            raise _error("release_not_closing")
        release.entries_list = [
            {"receipt": receipt, "size": size, "preferences": preferences}
            for receipt, size, preferences in _listed(release)
        ]
        release.entries_hash = draw.entries_hash(release.entries_list)
        release.state = Release.State.CLOSED
        release.save(update_fields=["entries_list", "entries_hash", "state"])
    return release


def _listed(release):
    # Each entry's receipt, number of applicants and preferences, withdrawn ones too.
    entries = release.entries.order_by("receipt").prefetch_related("applicants")
    return [(e.receipt, len(e.applicants.all()), e.preferences) for e in entries]


def draw_release(*, release: Release, public_value: str = "", now=None) -> Release:
    """Draw a closed release once its time has come, exactly once, and book the winners.

    The seed and the public value are revealed; an entry one of whose applicants holds a
    booking by now is struck. The free places of the release's days are read under the
    days' locks, so no booking made meanwhile takes one twice. Winners get their bookings
    and the usual confirmation; the others their place on the waiting list, in draw order.
    Drawing again returns the release as drawn. Raises ValidationError coded
    release_not_drawable or public_value_missing.
    """
    now = now or clock.now()
    with transaction.atomic():
        # of=self: locking the office row too would hold off every booking's insert there.
        rows = Release.objects.select_for_update(of=("self",)).select_related("office")
        release = rows.get(pk=release.pk)
        if release.state == Release.State.DRAWN:
            return release
        if release.state != Release.State.CLOSED or now < release.draw_at:
            raise _error("release_not_drawable")
        release.public_value = (public_value or release.public_value).strip()[:200]
        if not release.public_value:
            raise _error("public_value_missing")
        _strike_booked(release, now)
        release.places = _free_places(release)
        release.outcome = draw.recompute(_published_draw(release))
        release.state = Release.State.DRAWN
        release.drawn_at = now
        release.save(update_fields=["public_value", "places", "outcome", "state", "drawn_at"])
        # Read after the free places, under the days' locks: every session they name is here.
        plans = day_plans(release.office, release.first_day, release.last_day)
        _book_winners(release, plans, now)
    return release


def make_scheduled_releases(*, now=None) -> int:
    """Make the releases that the active schedules of offices on a ballot call for, from now
    to SCHEDULE_AHEAD; return how many were made. Safe to run as often as wished: a release
    whose days another release already covers is not made again."""
    now = now or clock.now()
    schedules = ReleaseSchedule.objects.filter(
        active=True, office__release_mode=Office.ReleaseMode.BALLOT
    ).select_related("office")
    made = 0
    for schedule in schedules:
        office = schedule.office
        for opens, closes, draw_at, first, last in schedule.openings(now, now + SCHEDULE_AHEAD):
            if office.releases.filter(first_day__lte=last, last_day__gte=first).exists():
                continue
            try:
                with transaction.atomic():
                    make_release(
                        office=office,
                        first_day=first,
                        last_day=last,
                        opens_at=opens,
                        closes_at=closes,
                        draw_at=draw_at,
                        public_value_source=schedule.public_value_source,
                    )
            except (ValidationError, IntegrityError):
                if office.releases.filter(first_day=first).exists():
                    continue  # made meanwhile by another run
                raise
            made += 1
    return made


def set_public_value(*, release: Release, value: str) -> Release:
    """Type in the public value as announced, for the draw to use; refused once drawn.

    Raises ValidationError coded release_drawn.
    """
    with transaction.atomic():
        release = Release.objects.select_for_update().get(pk=release.pk)
        if release.state == Release.State.DRAWN:
            raise _error("release_drawn")
        release.public_value = value.strip()[:200]
        release.save(update_fields=["public_value"])
    return release


def run_due(*, now=None, draw_apart=None) -> tuple[int, int]:
    """Make the scheduled releases, close every release whose entries are over and draw every
    closed one that is due and has its public value; return how many were closed and drawn.
    Safe to run as often as wished: each release is closed once and drawn once, whoever runs
    it.

    draw_apart, given a release's id, draws it elsewhere (the beat hands each to a task of
    its own, so the workers draw offices side by side and one failing stops no other); the
    second count is then of the releases handed on.
    """
    now = now or clock.now()
    make_scheduled_releases(now=now)
    closed = 0
    for release in Release.objects.filter(state=Release.State.OPEN, closes_at__lte=now):
        closed += close_release(release=release, now=now).state != Release.State.OPEN
    due = Release.objects.filter(state=Release.State.CLOSED, draw_at__lte=now).exclude(
        public_value=""
    )
    drawn = 0
    for pk in due.values_list("pk", flat=True):
        if draw_apart is None:
            drawn += draw_due(pk, now=now)
        else:
            draw_apart(pk)
            drawn += 1
    expire_offers(now=now)
    offer_free_places(now=now)
    return closed, drawn


def draw_due(release_id: int, *, now=None) -> bool:
    """Draw a release by its id, with the public value typed in; return whether it is drawn.
    Drawing a drawn release again draws nothing (draw_release)."""
    # draw_release reads the release afresh under its lock: the id is all it needs.
    drawn = draw_release(release=Release(pk=release_id), now=now)
    return drawn.state == Release.State.DRAWN


# ---- the waiting list: freed places offered one entry at a time -------------------------------


def offer_free_places(*, now=None) -> int:
    """Offer the free places of every drawn release whose days are still to come to its
    waiting entries (waitlist.offer_freed); return how many offers were made."""
    now = now or clock.now()
    releases = Release.objects.filter(
        state=Release.State.DRAWN,
        last_day__gte=(now - timedelta(days=1)).date(),
        entries__status=Entry.Status.WAITING,
    ).distinct()
    return sum(len(waitlist.offer_freed(r, now=now)) for r in releases.select_related("office"))


def _locked_offer(offer) -> Offer:
    rows = Offer.objects.select_for_update(of=("self",)).select_related(
        "office", "window", "release", "entry"
    )
    return rows.get(pk=offer.pk)


def accept_offer(*, offer: Offer, now=None) -> list[Booking]:
    """Accept an open offer: its held places become the entry's booking (or group booking),
    with the usual confirmation. Returns the bookings.

    Raises ValidationError coded offer_over, or group_nik_held when one of the entry's
    applicants has booked elsewhere meanwhile (the offer stays open until it lapses).
    """
    now = now or clock.now()
    with transaction.atomic():
        offer = _locked_offer(offer)
        if not offer.is_open(now):
            raise _error("offer_over")
        entry = offer.entry
        applicants = [_applicant(entry, a) for a in entry.applicants.all()]
        services.refuse_held_niks([a.nik for a in applicants])
        members = services.book_offered(
            office=offer.office, day=offer.day, window=offer.window, applicants=applicants, now=now
        )
        offer.state, offer.decided_at, offer.booking = Offer.State.ACCEPTED, now, members[0]
        offer.save(update_fields=["state", "decided_at", "booking"])
        entry.status, entry.booking = Entry.Status.WON, members[0]
        entry.save(update_fields=["status", "booking"])
    return members


def decline_offer(*, offer: Offer, now=None) -> Offer:
    """Decline an open offer: the entry leaves the waiting list and the place is offered to the
    next entry that wants it, or opens to booking. Raises ValidationError coded offer_over."""
    now = now or clock.now()
    offer = _end_offer(offer, Offer.State.DECLINED, now)
    if offer is None:
        raise _error("offer_over")
    waitlist.offer_freed(offer.release, now=now)
    return offer


def expire_offers(*, now=None) -> int:
    """End the open offers whose time is up, give their places to the next entries that want
    them (or to booking), and return how many lapsed. Safe to run as often as wished."""
    now = now or clock.now()
    lapsed = [
        _end_offer(offer, Offer.State.EXPIRED, now)
        for offer in Offer.objects.filter(state=Offer.State.OPEN, expires_at__lte=now)
    ]
    lapsed = [offer for offer in lapsed if offer is not None]
    for release in {offer.release for offer in lapsed}:
        waitlist.offer_freed(release, now=now)
    return len(lapsed)


def _end_offer(offer, state, now) -> Offer | None:
    # Declined, or lapsed once its time is up: None if it was no longer open.
    with transaction.atomic():
        offer = _locked_offer(offer)
        if offer.state != Offer.State.OPEN:
            return None
        if state == Offer.State.DECLINED and now >= offer.expires_at:
            return None  # too late to decline: it lapses (and the sweep gives it on)
        offer.state, offer.decided_at = state, now
        offer.save(update_fields=["state", "decided_at"])
        Entry.objects.filter(pk=offer.entry_id).update(status=Entry.Status.PASSED)
        waitlist.give_back(offer)
    return offer


def _strike_booked(release, now):
    # An applicant who booked elsewhere since entering cannot be given a second place.
    held = Booking.objects.filter(status=Booking.Status.BOOKED, nik=OuterRef("nik"))
    # By the release's own applicants (indexed), not through the entries of every release.
    booked = EntryApplicant.objects.filter(
        release=release, entry__status=Entry.Status.ENTERED
    ).filter(Exists(held))
    Entry.objects.filter(pk__in=booked.values("entry")).update(
        status=Entry.Status.WITHDRAWN, withdrawn_at=now
    )


def _free_places(release) -> dict:
    """Return the online places free on the release's days, read under the days' locks."""
    office = release.office
    span = (release.last_day - release.first_day).days + 1
    plans = day_plans(office, release.first_day, release.last_day)
    # Every booking takes its day's counter first: holding the days holds their windows too.
    places.hold_days(office, {p.date: (p.quota, p.online_quota) for p in plans})
    list(places.counted_days(office, [p.date for p in plans], lock=True))
    days = office_availability(office, release.first_day, span, now=release.opens_at)
    return {
        "days": {d.date.isoformat(): d.remaining for d in days if d.plan.open},
        "windows": {
            d.date.isoformat(): [[w.window.pk, w.remaining] for w in d.windows]
            for d in days
            if d.plan.open
        },
    }


def _book_winners(release, plans, now):
    # Not joined to the release: its list and outcome would be decoded once per entry.
    ids = dict(release.entries.values_list("receipt", "pk"))
    windows = {window.pk: window for plan in plans for window in plan.windows}
    won, waiting = [], []
    for receipt, result in release.outcome.items():
        if result["result"] == "won":
            day = date.fromisoformat(result["day"])
            won.append((ids[receipt], day, windows[result["window"]], result["preference"]))
        elif result["result"] == "waiting":
            waiting.append((ids[receipt], result["position"]))
    winners = [(entry, day, window) for entry, day, window, _preference in won]
    booked = services.book_drawn_all(
        release=release, winners=winners, plans={plan.date: plan for plan in plans}, now=now
    )
    # Both outcomes in one statement, the release's entries found by its index.
    bulk.update_from(
        Entry,
        names=("id", "status", "booking", "preference", "position"),
        rows=[
            *((entry, Entry.Status.WON, booked[entry], pref, None) for entry, _d, _w, pref in won),
            *((entry, Entry.Status.WAITING, None, None, spot) for entry, spot in waiting),
        ],
        assigned={
            "status": "given.status",
            "booking": bulk.cast(Entry, "booking", "given.booking"),
            "won_preference": bulk.cast(Entry, "won_preference", "given.preference"),
            "waiting_position": bulk.cast(Entry, "waiting_position", "given.position"),
        },
        matched=(
            f"{Entry._meta.db_table}.id = given.id AND {Entry._meta.db_table}.release_id = %s"
        ),
        params=[release.pk],
    )
    waiting_entries = release.entries.filter(status=Entry.Status.WAITING)
    record_entry_notifications(waiting_entries, Notification.Kind.WAITING, now=now, first=True)


def _applicant(entry, applicant) -> Applicant:
    return Applicant(
        **{name: getattr(applicant, name) for name in APPLICANT_FIELDS},
        email=entry.email,
        phone=entry.phone,
        language=entry.language,
    )


def _published_draw(release) -> dict:
    return {
        **published(release),
        "seed": release.seed,
        "public_value": release.public_value,
        "places": release.places,
    }


def published(release: Release) -> dict:
    """Return what a release publishes: the seed's hash from the start, the list and its hash
    from the close (with the entries withdrawn since struck), and once drawn the seed, the
    public value, the free places and the outcome per receipt. No personal data."""
    struck = set(
        release.entries.filter(status=Entry.Status.WITHDRAWN).values_list("receipt", flat=True)
    )
    listed = release.entries_list
    drawn = release.state == Release.State.DRAWN
    return {
        "seed": release.seed if drawn else None,
        "public_value": release.public_value if drawn else None,
        "places": release.places,
        "outcome": release.outcome,
        "office": release.office.code,
        "first_day": release.first_day.isoformat(),
        "last_day": release.last_day.isoformat(),
        "opens_at": release.opens_at.isoformat(),
        "closes_at": release.closes_at.isoformat(),
        "draw_at": release.draw_at.isoformat(),
        "public_value_source": release.public_value_source,
        "state": release.state,
        "seed_hash": release.seed_hash,
        "entries_hash": release.entries_hash or None,
        "entries": None
        if listed is None
        else [{**entry, "withdrawn": entry["receipt"] in struck} for entry in listed],
    }


def release_record(release: Release) -> dict:
    """Return what staff see of a release: entries against places, the draw's outcome, the
    waiting list in order and the offers made. Four queries, whatever the release's size."""
    by_status = dict(
        release.entries.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    applicants = EntryApplicant.objects.filter(entry__release=release).count()
    waiting = list(
        release.entries.filter(waiting_position__isnull=False)
        .annotate(size=Count("applicants"))
        .order_by("waiting_position")
    )
    offers = list(release.offers.select_related("entry", "window").order_by("made_at", "pk"))
    places = release.places or {}
    return {
        "entries": sum(by_status.values()),
        "by_status": {status: by_status.get(status, 0) for status in Entry.Status.values},
        "applicants": applicants,
        "places": sum((places.get("days") or {}).values()),
        "waiting": waiting,
        "offers": offers,
        "offers_accepted": sum(o.state == Offer.State.ACCEPTED for o in offers),
    }
