"""Every change of a booking's state: create, reschedule, cancel, walk-in, check-in, no-show.

Views, admin, the API and tasks call these functions and never change a booking themselves.
Each raises ValidationError with a code from MESSAGES when the change cannot be made.
"""

import hashlib
import hmac
from collections import Counter
from collections.abc import Sequence
from dataclasses import fields
from datetime import UTC, date, timedelta
from functools import partial
from math import ceil

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from antrean import bulk
from offices import clock, places
from offices.access import may_change_office
from offices.models import Office, ServiceWindow
from offices.schedule import OVERRIDE_SQL, DayPlan, day_plan

from . import blocks, codes, contact, releases, waitlist
from .applicants import APPLICANT_FIELDS, CONTACT_FIELDS, Applicant
from .constraints import CODE_TAKEN, GROUP_CODE_TAKEN, NIK_HELD, violated_constraint
from .models import (
    Block,
    Booking,
    BookingGroup,
    ContactCheck,
    Entry,
    EntryApplicant,
    NikRelease,
    Notification,
    Visit,
)
from .nik import mask_nik, normalize_nik, parse_nik
from .notifications.messages import addressee
from .notifications.outbox import (
    queue_contact_code,
    record_new_confirmation,
    record_new_confirmations,
    record_notifications,
)
from .queue import board, order

CODE_DRAWS = 3  # codes drawn at most for one booking before giving up
LAPSE_BATCH = 500  # unconfirmed subjects lapsed in one run of the beat

MESSAGES = {
    "full": _("This session is full. Please choose another session or day."),
    "day_full": _("The daily quota of this day is full. Please choose another day."),
    "duplicate": _(
        "This NIK already holds an active booking. Cancel it first or change its schedule."
    ),
    "closed": _("The office is closed on this day."),
    "not_bookable": _("This day cannot be booked online yet or any more."),
    "not_released": _(
        "This office gives out the places of this day by ballot. The office's page says "
        "when entries open."
    ),
    "window_mismatch": _("This session does not belong to this office and day."),
    "window_started": _("This session has already begun."),
    "blocked": _(
        "%(what)s may not book online until %(until)s: %(reason)s. Please come to any "
        "immigration office with your KTP-el; its staff can help you."
    ),
    "nik_not_held": _("No booking holds this NIK now: the applicant can book at once."),
    "release_reason": _("Write why the NIK is released: what the KTP showed."),
    "contact_limit": _(
        "This phone number or e-mail address already holds %(held)d of the %(limit)d active "
        "bookings one contact may hold. Cancel one first, or give the applicant's own contact."
    ),
    "waitlist_first": _(
        "A place of this session has just been freed, and the ballot's waiting list is offered "
        "it first. Please choose another session, or look again later."
    ),
    "not_cancellable": _("This booking can no longer be cancelled."),
    "not_reschedulable": _("This booking can no longer be rescheduled."),
    "reschedule_limit": _("The schedule of a booking can be changed only %(limit)d time(s)."),
    "same_slot": _("The booking is already in this session."),
    "not_found": _("No booking matches this code."),
    "other_office": _("This booking is for another office."),
    "other_day": _("This booking is for %(date)s, not today."),
    "cancelled": _("This booking was cancelled."),
    "already_checked_in": _("This applicant has already checked in (queue number %(number)s)."),
    "not_checked_in_status": _("This booking cannot be checked in: it is %(status)s."),
    "not_ended": _("The session of this booking has not ended yet."),
    "override_not_allowed": _("Only a supervisor may exceed the daily quota."),
    "not_your_office": _(
        "At an office you are not staff of, you may register a walk-in only when its daily "
        "quota is full, with a written reason."
    ),
    "group_size": _("A group booking holds from 2 to %(max)d applicants."),
    "group_member": _("Applicant %(number)d: %(message)s"),
    "group_repeated_nik": _(
        "Applicant %(number)d has the same NIK (%(nik)s) as an applicant above. "
        "Each applicant needs their own NIK."
    ),
    "group_nik_held": _(
        "Applicant %(number)d (NIK %(nik)s) already holds an active booking. Cancel it first "
        "or book without this applicant."
    ),
    "group_full": ngettext_lazy(
        "This session has only %(left)d place left for %(count)d applicants.",
        "This session has only %(left)d places left for %(count)d applicants.",
        "left",
    ),
    "group_day_full": ngettext_lazy(
        "This day has only %(left)d place left for %(count)d applicants.",
        "This day has only %(left)d places left for %(count)d applicants.",
        "left",
    ),
    "group_not_found": _("No group booking matches this code."),
    "group_checked_in": _("Every applicant of this group has already checked in."),
    "group_nothing_active": _("No applicant of this group holds a booking any more."),
}


def _error(code, **params):
    # The params stay on the error: the API reads a group's places left from them.
    return ValidationError(MESSAGES[code], code=code, params=params or None)


# Which counter ran out decides what the applicant hears: the window, or the whole day.
NO_PLACE = {"window": "full", "day": "day_full"}


# The same for a group that asked for more places than are left (and some are).
NO_PLACES_FOR_GROUP = {"window": "group_full", "day": "group_day_full"}


def _no_place(exc: places.NoPlace, count=1) -> ValidationError:
    if exc.left and count > 1:
        return _error(NO_PLACES_FOR_GROUP[exc.scope], left=exc.left, count=count)
    return _error(NO_PLACE[exc.scope])


BLOCKED_WHAT = {
    Block.Kind.NIK: _("This NIK"),
    Block.Kind.PHONE: _("This mobile number"),
    Block.Kind.EMAIL: _("This e-mail address"),
}


def refuse_blocked(*, office: Office, phone: str, email: str, niks: Sequence[str], now) -> None:
    """Refuse a booking or ballot entry whose contact or NIK staff have blocked, saying what is
    blocked, until when and why (one query). Raises ValidationError coded blocked."""
    block = blocks.block_of(phone=phone, email=email, niks=niks, today=office.today(now))
    if block is not None:
        raise _error(
            "blocked",
            what=BLOCKED_WHAT[block.kind],
            until=date_format(block.until, "j F Y"),
            reason=block.reason,
        )


def _refuse_claimed(office, day, window, count, now):
    # At an office on a ballot, a freed place goes to the waiting list before anyone else.
    # Asked after the take, under the counters' locks: see waitlist.claimed.
    if waitlist.claimed(office, day, window, count, now):
        raise _error("waitlist_first")


def _refuse_over_contact_limit(phone, email, adding=1):
    """Refuse a booking that would give its phone or e-mail more than BOOKINGS_PER_CONTACT
    active bookings. On PostgreSQL the contacts are locked first (transaction advisory locks,
    in key order), so two bookings of one contact count one after the other; SQLite runs one
    writer at a time."""
    limit = settings.BOOKINGS_PER_CONTACT
    reach = {name: value for name, value in (("phone", phone), ("email", email.lower())) if value}
    if not limit or not reach:
        return
    if connection.vendor == "postgresql":
        keys = sorted(_lock_key(value) for value in reach.values())
        with connection.cursor() as cursor:
            locks = ", ".join(["pg_advisory_xact_lock(%s)"] * len(keys))
            cursor.execute(f"SELECT {locks}", keys)
    # The partial indexes on the booked rows' phone and e-mail find them, whatever the table.
    counted = ", ".join(f"count(*) FILTER (WHERE {name} = %s)" for name in reach)
    either = " OR ".join(f"{name} = %s" for name in reach)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {counted} FROM {Booking._meta.db_table} WHERE status = %s AND ({either})",  # noqa: S608 - the model's table and fields, values bound
            [*reach.values(), Booking.Status.BOOKED, *reach.values()],
        )
        most = max(cursor.fetchone())
    if most + adding > limit:
        raise _error("contact_limit", held=most, limit=limit)


def _lock_key(contact: str) -> int:
    # A stable signed 64-bit number per contact, in a space of its own ("contact:").
    digest = hashlib.sha256(f"contact:{contact}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def check_bookable(*, office: Office, day: date, window: ServiceWindow, now=None) -> DayPlan:
    """Return the day's plan if applicants may book this window online; raise otherwise."""
    now = now or clock.now()
    _check_slot(office=office, day=day, window=window, now=now)
    plan, _stored = _check_plan(office=office, day=day, window=window, now=now)
    return plan


def check_seen_bookable(*, office: Office, day: date, window: ServiceWindow, seen, now=None):
    """Refuse a window as check_bookable and a booking's early read do, from the day's places
    as the calendar last saw them (`seen`, a DayAvailability): no query.

    For a page before the applicant's details; the booking decides on the day's plan and
    counters as they are. A window found full since `seen` was read is refused as it was
    found (refuse_kept_full), so a crowd stops filling in a form for places already gone.
    """
    now = now or clock.now()
    _check_slot(office=office, day=day, window=window, now=now)
    refuse_kept_full(window=window, day=day)
    if not seen.plan.open:
        raise _error("closed")
    if office.by_ballot and not seen.bookable_range:  # in the horizon (above): not drawn yet
        raise _error("not_released")
    shown = next((w for w in seen.windows if w.window.pk == window.pk), None)
    if shown is None:
        raise _error("window_mismatch")
    if shown.started:
        raise _error("window_started")
    refusal = _full_refusal(day_full=seen.day_left <= 0, window_full=shown.remaining <= 0)
    if refusal:
        raise _error(refusal)


def _check_slot(*, office, day, window, now):
    # What the window and the booking horizon tell without a query.
    if window.office_id != office.pk or window.weekday != day.weekday():
        raise _error("window_mismatch")
    if not office.first_bookable_day(now) <= day <= office.last_bookable_day(now):
        raise _error("not_bookable")


def _check_plan(*, office, day, window, now, overridden=True) -> tuple[DayPlan, ServiceWindow]:
    # The day's plan and the window as stored now, whatever the caller read before.
    plan = day_plan(office, day, overridden=overridden)
    if not plan.open:
        raise _error("closed")
    if not releases.is_released(office, day):
        raise _error("not_released")
    stored = next((w for w in plan.windows if w.pk == window.pk), None)
    if stored is None:
        raise _error("window_mismatch")
    if office.local_datetime(day, stored.start) <= now:
        raise _error("window_started")
    return plan, stored


def _applicant_fields(applicant: Applicant) -> dict:
    """Return a booking's applicant fields: the NIK normalised, its birth date compared."""
    info = parse_nik(applicant.nik)
    return {
        "nik": info.nik,
        "birth_date_mismatch": not info.matches_birth_date(applicant.birth_date),
        **{f.name: getattr(applicant, f.name) for f in fields(Applicant) if f.name != "nik"},
    }


def _under_fresh_code(booking, write):
    """Run write() in a transaction (a savepoint inside another) under a fresh booking code.

    In the 2^-50 case of a code clash the transaction is rolled back and made again under
    a new code. Returns the booking.
    """

    def draw():
        booking.code = codes.new_code()

    _under_fresh_codes(draw, write)
    return booking


def _under_fresh_codes(draw, write):
    # draw() gives every row to be inserted a new code, before each attempt.
    for _attempt in range(CODE_DRAWS):
        draw()
        try:
            with transaction.atomic():
                write()
            return
        except IntegrityError as exc:
            if violated_constraint(exc) not in (CODE_TAKEN, GROUP_CODE_TAKEN):
                raise
    raise RuntimeError("Could not draw an unused code.")


def _insert(booking):
    """Insert a booking under a fresh code, in a savepoint of the caller's transaction."""
    return _under_fresh_code(booking, partial(booking.save, force_insert=True))


def create_booking(
    *,
    office: Office,
    day: date,
    window: ServiceWindow,
    applicant: Applicant,
    client: str = "",
    now=None,
) -> Booking:
    """Book an online place; hold the quotas and one active booking per NIK.

    The window may have been read a moment ago (the API keeps it a few seconds): it decides
    only the early refusals; the booking takes the window as the day's plan reads it now.
    Raises ValidationError coded full, day_full, duplicate, closed, not_bookable,
    window_mismatch, window_started, or a NIK code.
    """
    now = now or clock.now()
    nik = parse_nik(applicant.nik).nik
    _check_slot(office=office, day=day, window=window, now=now)
    overridden = _refuse_early(
        office=office,
        nik=nik,
        day=day,
        window=window,
        phone=applicant.phone,
        email=applicant.email,
        now=now,
    )
    plan, window = _check_plan(
        office=office, day=day, window=window, now=now, overridden=overridden
    )
    booking = Booking(
        office=office,
        date=day,
        window=window,
        starts_at=office.local_datetime(day, window.start),
        ends_at=office.local_datetime(day, window.end),
        channel=Booking.Channel.ONLINE,
        client=client,
        **_applicant_fields(applicant),
    )

    def write():
        _refuse_over_contact_limit(booking.phone, booking.email)
        bulk.insert([booking])
        _tell_new_booking(booking, None, now)
        # The counters last: their locks are held for two statements and the commit, so a
        # crowd wanting one window waits on them as little as can be. A refusal rolls the
        # booking back with them.
        filled = places.take(office, plan, window)
        _refuse_claimed(office, day, window, 1, now)
        if filled.day or filled.window:
            transaction.on_commit(partial(_keep_filled, plan, window, filled))

    count_code_sending(booking.phone, client)
    # The whole transaction under a fresh code, not a savepoint around the insert: two
    # statements fewer.
    try:
        return _under_fresh_code(booking, write)
    except places.NoPlace as exc:
        raise _no_place(exc) from None
    except IntegrityError as exc:
        if violated_constraint(exc) == NIK_HELD:
            raise _error("duplicate") from None
        raise


# ---- groups: several applicants in one window, all or nothing ---------------------------------


def book_applicants(
    *,
    office: Office,
    day: date,
    window: ServiceWindow,
    applicants: Sequence[Applicant],
    client: str = "",
    now=None,
) -> list[Booking]:
    """Book one applicant alone, or several as a group; return their bookings in order.

    `client` is the keyed hash of the address it comes from (antrean.client_ip.client_key).
    """
    where = {"office": office, "day": day, "window": window, "client": client, "now": now}
    if len(applicants) == 1:
        return [create_booking(applicant=applicants[0], **where)]
    return create_group_booking(applicants=applicants, **where)


def _member_fields(number: int, applicant: Applicant) -> dict:
    # The NIK's own checks, with the applicant they refuse named.
    try:
        return _applicant_fields(applicant)
    except ValidationError as exc:
        raise _error("group_member", number=number, message=exc.messages[0]) from None


def group_applicant_fields(applicants: Sequence[Applicant]) -> list[dict]:
    """Return each applicant's booking fields in order; raise naming the first applicant
    whose NIK cannot be one (group_member) or is given twice (group_repeated_nik)."""
    members_fields = []
    for number, applicant in enumerate(applicants, start=1):
        member = _member_fields(number, applicant)
        if any(seen["nik"] == member["nik"] for seen in members_fields):
            raise _error("group_repeated_nik", number=number, nik=mask_nik(member["nik"]))
        members_fields.append(member)
    return members_fields


def refuse_blocked_or_held(
    *, office: Office, phone: str, email: str, niks: Sequence[str], now
) -> None:
    """Refuse a group booking or a ballot entry whose contact or NIK staff have blocked, or one
    of whose NIKs holds an active booking, with one read; the refusal reads what to say.
    Raises ValidationError coded blocked or group_nik_held."""
    blocked, params = blocks.blocked_sql(
        phone=phone, email=email, niks=niks, today=office.today(now)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {blocked}, {_niks_held_sql(len(niks))}",
            [*params, *niks, Booking.Status.BOOKED],
        )
        is_blocked, is_held = cursor.fetchone()
    if is_blocked:
        refuse_blocked(office=office, phone=phone, email=email, niks=niks, now=now)
    if is_held:
        refuse_held_niks(niks)


def _niks_held_sql(count: int) -> str:
    # True when one of `count` NIKs holds an active booking; parameters: the NIKs, BOOKED.
    marks = ", ".join(["%s"] * count)
    table = Booking._meta.db_table
    return f"EXISTS (SELECT 1 FROM {table} WHERE nik IN ({marks}) AND status = %s)"  # noqa: S608 - the model's table, values bound


def refuse_held_niks(niks: list[str]) -> None:
    """Raise group_nik_held naming the first of these NIKs that holds an active booking."""
    held = set(
        Booking.objects.filter(nik__in=niks, status=Booking.Status.BOOKED).values_list(
            "nik", flat=True
        )
    )
    for number, nik in enumerate(niks, start=1):
        if nik in held:
            raise _error("group_nik_held", number=number, nik=mask_nik(nik))


def create_group_booking(
    *,
    office: Office,
    day: date,
    window: ServiceWindow,
    applicants: Sequence[Applicant],
    client: str = "",
    now=None,
) -> list[Booking]:
    """Book 2 to BOOKING_GROUP_MAX applicants into one window together, all or none.

    Each applicant gets a booking of their own under one group code; the contact of the
    first is the group's, and hears once for all. Raises ValidationError coded group_size,
    group_member, group_repeated_nik, group_nik_held, group_full, group_day_full, full,
    day_full, closed, not_bookable, window_mismatch or window_started; nothing is written.
    """
    now = now or clock.now()
    count = len(applicants)
    if not 2 <= count <= settings.BOOKING_GROUP_MAX:
        raise _error("group_size", max=settings.BOOKING_GROUP_MAX)
    reach = {"email": applicants[0].email, "phone": applicants[0].phone}
    members_fields = [
        {**fields_, **reach, "client": client} for fields_ in group_applicant_fields(applicants)
    ]
    niks = [member["nik"] for member in members_fields]
    _check_slot(office=office, day=day, window=window, now=now)
    # A window or day with no place left is said before any lock, as to one applicant: after
    # a sell-out a crowd of groups would otherwise queue on the counters to hear it.
    refuse_if_full(window=window, day=day)
    refuse_blocked_or_held(
        office=office, phone=reach["phone"], email=reach["email"], niks=niks, now=now
    )
    plan, window = _check_plan(office=office, day=day, window=window, now=now)
    count_code_sending(reach["phone"], client)
    try:
        return _insert_members(
            office, plan, window, members_fields, now=now, claims=True, online=True
        )
    except IntegrityError as exc:
        if violated_constraint(exc) == NIK_HELD:  # booked elsewhere a moment ago
            refuse_held_niks(niks)
        raise


def _new_members(office, day, window, members_fields) -> tuple[BookingGroup | None, list]:
    """Return the unsaved online bookings of one applicant, or of several under a new group."""
    group = BookingGroup() if len(members_fields) > 1 else None
    members = [
        Booking(
            office=office,
            date=day,
            window=window,
            starts_at=office.local_datetime(day, window.start),
            ends_at=office.local_datetime(day, window.end),
            channel=Booking.Channel.ONLINE,
            group=group,
            **fields_,
        )
        for fields_ in members_fields
    ]
    return group, members


def _insert_members(
    office, plan, window, members_fields, *, now, take=True, claims=False, online=False
) -> list[Booking]:
    """Take the places of one or more applicants in a window and insert their bookings: one
    alone, or a group's members under a group code; the contact hears once.

    take=False: the places are held already (an accepted offer). claims: refuse places the
    waiting list of a ballot wants first (a booking first come, first served). Either way
    the contact may hold no more than BOOKINGS_PER_CONTACT active bookings. online: a new
    booking from the site or the app, whose contact is checked first (_tell_new_booking);
    an offer's contact has shown it receives our messages already.
    """
    day = plan.date
    count = len(members_fields)
    group, members = _new_members(office, day, window, members_fields)

    def draw():
        if group is not None:
            group.code = codes.new_group_code()
        for member in members:
            member.code = codes.new_code()

    def write():
        _refuse_over_contact_limit(members[0].phone, members[0].email, count)
        if take:
            places.take(office, plan, window, count=count)
        if claims:
            _refuse_claimed(office, day, window, count, now)
        if group is not None:
            group.save(force_insert=True)
            for member in members:
                member.group = group  # the saved group's id
        bulk.insert(members)
        if online:
            _tell_new_booking(members[0], group, now)
        else:
            record_new_confirmation(members[0], group=group, now=now)

    try:
        _under_fresh_codes(draw, write)
    except places.NoPlace as exc:
        raise _no_place(exc, count) from None
    return members


def book_drawn_all(*, release, winners, plans, now=None) -> dict[int, int]:
    """Book all the winners of a draw at once: `winners` is [(entry id, day, window)], each
    entry's applicants one booking or one group; `plans` {day: plan} of the release's days,
    as the draw read them. Returns each entry's first booking's id.

    The draw holds the days' counters and gave only places it saw free; the slot rules of
    online booking do not apply (the days were the ballot's), nor the limit per contact
    (what was entered before the draw). The counters take each day's and each window's
    places in one UPDATE; the groups, the bookings (their applicants read where the entries
    hold them) and the confirmations are written set-based, a statement per batch each.
    """
    now = now or clock.now()
    if not winners:
        return {}
    office = release.office
    won = {entry: (day, window) for entry, day, window in winners}
    members = {entry: [] for entry in won}
    applicants = EntryApplicant.objects.filter(release=release).order_by("pk")
    mismatch = {same: bulk.prepared(Booking, "birth_date_mismatch", not same) for same in (1, 0)}
    for pk, entry, nik, birth_date in applicants.values_list("pk", "entry", "nik", "birth_date"):
        if entry in members:
            same = parse_nik(nik).matches_birth_date(birth_date)
            members[entry].append((pk, mismatch[same]))
    per_day, per_window = Counter(), Counter()
    for entry, (day, window) in won.items():
        per_day[day] += len(members[entry])
        per_window[(day, window)] += len(members[entry])
    slots = {
        (day, window): [
            bulk.prepared(Booking, "date", day),
            window.pk,
            bulk.prepared(Booking, "starts_at", office.local_datetime(day, window.start)),
            bulk.prepared(Booking, "ends_at", office.local_datetime(day, window.end)),
        ]
        for day, window in per_window
    }
    groups, rows, first_codes = [], [], {}

    sizes = [len(members[entry]) for entry in won]

    def draw():
        groups.clear()
        rows.clear()
        first_codes.clear()
        booking_codes = iter(codes.new_codes(sum(sizes)))
        group_codes = iter(codes.new_group_codes(sum(size > 1 for size in sizes)))
        for entry, slot in won.items():
            group = next(group_codes) if len(members[entry]) > 1 else None
            if group:
                groups.append((group,))
            for number, (applicant, mismatch) in enumerate(members[entry]):
                code = next(booking_codes)
                if not number:
                    first_codes[entry] = code
                rows.append((applicant, code, mismatch, group, *slots[slot]))

    booked = {}

    def write():
        places.take_counts(office, plans, per_day, per_window)
        bulk.insert_select(
            BookingGroup,
            prototype=BookingGroup(created_at=now),
            selected={"code": "given.code"},
            source="given",
            names=("code",),
            rows=groups,
        )
        booked.update(_insert_drawn(release, rows, now))
        record_new_confirmations([booked[code] for code in first_codes.values()], now=now)

    _under_fresh_codes(draw, write)
    return {entry: booked[code] for entry, code in first_codes.items()}


DRAWN_NAMES = (
    "applicant_id",
    "code",
    "mismatch",
    "group_code",
    "day",
    "window_id",
    "starts",
    "ends",
)


def _insert_drawn(release, rows, now) -> dict[str, int]:
    # The bookings of drawn applicants, their fields read from their entries: {code: id}.
    qn = connection.ops.quote_name
    applicant, entry = EntryApplicant._meta, Entry._meta
    selected = {
        "code": "given.code",
        "date": "given.day",
        "window": "given.window_id",
        "starts_at": "given.starts",
        "ends_at": "given.ends",
        "birth_date_mismatch": "given.mismatch",
        "group": "g.id",
        **{name: f"a.{qn(applicant.get_field(name).column)}" for name in APPLICANT_FIELDS},
        **{name: f"e.{qn(entry.get_field(name).column)}" for name in CONTACT_FIELDS},
    }
    source = (
        f"given JOIN {qn(applicant.db_table)} AS a ON a.id = given.applicant_id"
        f" JOIN {qn(entry.db_table)} AS e ON e.id = a.{qn(applicant.get_field('entry').column)}"
        f" LEFT JOIN {qn(BookingGroup._meta.db_table)} AS g ON g.code = given.group_code"
        # The release's applicants by its index: never a scan of every release's.
        f" WHERE a.{qn(applicant.get_field('release').column)} = %s"
    )
    prototype = Booking(
        office=release.office, channel=Booking.Channel.ONLINE, created_at=now, updated_at=now
    )
    found = bulk.insert_select(
        Booking,
        prototype=prototype,
        selected=selected,
        source=source,
        names=DRAWN_NAMES,
        rows=rows,
        params=[release.pk],
        returning=("code", "pk"),
    )
    return dict(found)


def book_offered(*, office: Office, day: date, window: ServiceWindow, applicants, now=None):
    """Book the applicants of an accepted waiting-list offer, as one booking or one group, into
    the places the offer holds on the counters. Returns the bookings in order.

    Raises ValidationError coded group_member or group_repeated_nik; the caller has refused
    NIKs held elsewhere.
    """
    now = now or clock.now()
    plan = day_plan(office, day)
    reach = {"email": applicants[0].email, "phone": applicants[0].phone}
    members_fields = [{**fields_, **reach} for fields_ in group_applicant_fields(applicants)]
    return _insert_members(office, plan, window, members_fields, now=now, take=False)


def _locked_members(group) -> list[Booking]:
    # The group's booked members, locked, in the order they were booked.
    rows = Booking.objects.select_related("office").select_for_update(of=("self",))
    return list(rows.filter(group=group, status=Booking.Status.BOOKED).order_by("pk"))


def reschedule_group(
    *, group: BookingGroup, day: date, window: ServiceWindow, now=None
) -> list[Booking]:
    """Move every booked member of a group to another window together, or none of them.

    Raises ValidationError coded group_nothing_active, not_reschedulable, reschedule_limit,
    same_slot, group_full, group_day_full, full, day_full, closed, not_bookable,
    window_mismatch or window_started.
    """
    now = now or clock.now()
    limit = settings.BOOKING_MAX_RESCHEDULES
    try:
        with transaction.atomic():
            group = BookingGroup.objects.select_for_update().get(pk=group.pk)
            members = _locked_members(group)
            if not members:
                raise _error("group_nothing_active")
            for member in members:
                refusal = member.reschedule_refusal(now)
                if refusal:
                    raise _error(refusal, limit=limit)
            first = members[0]
            office = first.office
            if first.date == day and first.window_id == window.pk:
                raise _error("same_slot")
            plan = check_bookable(office=office, day=day, window=window, now=now)
            places.move(
                office,
                plan,
                window,
                old_day=first.date,
                old_window=first.window,
                count=len(members),
            )
            _refuse_claimed(office, day, window, len(members), now)
            Booking.objects.filter(pk__in=[m.pk for m in members]).update(
                date=day,
                window=window,
                starts_at=office.local_datetime(day, window.start),
                ends_at=office.local_datetime(day, window.end),
                reschedule_count=F("reschedule_count") + 1,
                updated_at=now,
            )
            group.reschedule_count += 1
            group.save(update_fields=["reschedule_count"])
            record_notifications(first, Notification.Kind.RESCHEDULE, group=group, now=now)
    except places.NoPlace as exc:
        raise _no_place(exc, len(members)) from None
    return list(Booking.objects.filter(pk__in=[m.pk for m in members]).order_by("pk"))


def cancel_group(*, group: BookingGroup, reason: str = "", by=None, now=None) -> list[Booking]:
    """Cancel every booked member of a group together and free their places; the contact hears once.

    All or none: if one member can no longer be cancelled, nobody is. Raises
    ValidationError coded group_nothing_active or not_cancellable.
    """
    now = now or clock.now()
    with transaction.atomic():
        group = BookingGroup.objects.select_for_update().get(pk=group.pk)
        members = _locked_members(group)
        if not members:
            raise _error("group_nothing_active")
        if not all(member.can_cancel(now, by_staff=by is not None) for member in members):
            raise _error("not_cancellable")
        first = members[0]
        places.release(
            first.office, first.date, first.window, uses_reserve=False, count=len(members)
        )
        Booking.objects.filter(pk__in=[m.pk for m in members]).update(
            status=Booking.Status.CANCELLED,
            cancelled_at=now,
            cancel_reason=(reason or CANCELLED_BY_APPLICANT if by is None else reason)[:200],
            updated_at=now,
        )
        record_notifications(first, Notification.Kind.CANCELLATION, group=group, now=now)
    return list(Booking.objects.filter(group=group).order_by("pk"))


def check_in_group(*, office: Office, code: str, by=None, now=None) -> list[Booking]:
    """Check in every booked member of a group at once, each with the next queue number.

    Members already checked in or cancelled are left as they are. Raises ValidationError
    coded group_not_found, other_office, other_day, group_checked_in or group_nothing_active.
    """
    now = now or clock.now()
    group = BookingGroup.objects.filter(code=codes.normalize_code(code)).first()
    if group is None:
        raise _error("group_not_found")
    with transaction.atomic():
        everyone = list(Booking.objects.select_for_update().filter(group=group).order_by("pk"))
        if not everyone:
            raise _error("group_not_found")
        first = everyone[0]  # members share their office and day
        if first.office_id != office.pk:
            raise _error("other_office")
        if first.date != clock.office_today(office, now):
            raise _error("other_day", date=first.date.isoformat())
        members = [m for m in everyone if m.status == Booking.Status.BOOKED]
        if not members:
            if any(m.status == Booking.Status.CHECKED_IN for m in everyone):
                raise _error("group_checked_in")
            raise _error("group_nothing_active")
        for member in members:
            member.office = office
            _check_in_one(member, now)
    return members


def check_in_by_code(*, office: Office, code: str, by=None, now=None) -> list[Booking]:
    """Check in what a code typed or scanned at the counter names: one applicant (a booking's
    code) or every booked member of a group (a group's code). Raises as check_in and
    check_in_group do."""
    code = codes.normalize_code(code)
    if codes.is_group_code(code):
        return check_in_group(office=office, code=code, by=by, now=now)
    return [check_in(office=office, code=code, by=by, now=now)]


def find_group(code: str, nik: str) -> BookingGroup | None:
    """Return the group with this code only if the NIK is one of its members' (constant time).

    An unknown code and a wrong NIK give the same answer, as find_booking's.
    """
    group = BookingGroup.objects.select_related("contact_check").filter(code=code).first()
    stored = list(group.members.values_list("nik", flat=True)) if group else []
    given = normalize_nik(nik).encode()
    matches = [hmac.compare_digest(nik_.encode(), given) for nik_ in stored or ["0" * 16]]
    return group if group is not None and any(matches) else None


def _full_refusal(*, day_full: bool, window_full: bool) -> str:
    # A full day wins, as in the booking's own transaction, which takes its counter first.
    return "day_full" if day_full else "full" if window_full else ""


def _refuse_no_place(*, window, day, day_full: bool, window_full: bool) -> None:
    # Refused for want of a place: kept for the crowd that follows (refuse_kept_full).
    refusal = _full_refusal(day_full=day_full, window_full=window_full)
    if refusal:
        _keep_refusal([window], day, refusal)
        raise _error(refusal)


def _keep_filled(plan, window, filled):
    # A booking took the last place of its window or day: the crowd that follows is refused
    # from memory at once, as after a refusal, not when the calendar's places are read again.
    refusal = _full_refusal(day_full=filled.day, window_full=filled.window)
    _keep_refusal(plan.windows if filled.day else [window], plan.date, refusal)


def _keep_refusal(windows, day, refusal):
    # What refuse_kept_full answers for these windows on that day, for as long as places.
    kept = {_no_place_key(window, day): refusal for window in windows}
    caches["refusals"].set_many(kept, settings.AVAILABILITY_CACHE_SECONDS)


def _no_place_key(window, day):
    return f"no-place:{window.pk}:{day.isoformat()}"


def refuse_kept_full(*, window: ServiceWindow, day: date) -> None:
    """Raise `day_full` or `full` when this process found the day or the window full a
    moment ago (a booking took its last place, or was refused for want of one): no query.

    Asked before the applicant's details: in a rush most attempts come after the window
    sold out, and "full" is all they need to hear. A refusal is kept for
    AVAILABILITY_CACHE_SECONDS in each process's memory only: most windows asked are not
    full, and asking a shared cache would cost a round trip as dear as asking the counters
    (each process learns a sell-out from its first refusal). A place freed meanwhile is
    offered that much later, as the calendar shows it; every place taken is decided on the
    counters.
    """
    refusal = caches["refusals"].get(_no_place_key(window, day))
    if refusal:
        raise _error(refusal)


# Whether the day, or the window on it, is full: office id, date, window id, date.
_FULL = "SELECT " + places.DAY_FULL_SQL + ", " + places.WINDOW_FULL_SQL


def refuse_if_full(*, window: ServiceWindow, day: date) -> None:
    """Raise `day_full` or `full` when the day or the window has no place left: at most one
    read, no lock. For a request that will not reach a booking's own early read (a group's,
    or one whose details are not valid), so that "full" is still what it hears first."""
    refuse_kept_full(window=window, day=day)
    with connection.cursor() as cursor:
        cursor.execute(_FULL, [window.office_id, day, window.pk, day])
        day_full, window_full = cursor.fetchone()
    _refuse_no_place(window=window, day=day, day_full=day_full, window_full=window_full)


# Whether a NIK holds an active booking; parameters: NIK, the booked status.
_NIK_HELD = _niks_held_sql(1)


def _refuse_early(*, office, nik, day, window, phone, email, now) -> bool:
    """Turn away a blocked contact or NIK, a held NIK, or a full day or window with one read,
    before any lock; return whether the day has an override of its plan.

    The crowd that arrives after a window sells out is answered without waiting in line
    for the counter rows; the conditional UPDATEs still decide every place that is taken.
    The same read tells whether the day's plan has an override to read (most days have
    none). Plain SQL: the ORM spent longer building these queries than the database
    running them.
    """
    blocked, params = blocks.blocked_sql(
        phone=phone, email=email, niks=[nik], today=office.today(now)
    )
    sql = ", ".join([blocked, _NIK_HELD, places.DAY_FULL_SQL, places.WINDOW_FULL_SQL, OVERRIDE_SQL])
    params += [nik, Booking.Status.BOOKED, office.pk, day, window.pk, day, office.pk, day]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql}", params)
        blocked, held, day_full, window_full, overridden = cursor.fetchone()
    if blocked:
        refuse_blocked(office=office, phone=phone, email=email, niks=[nik], now=now)
    if held:
        raise _error("duplicate")
    _refuse_no_place(window=window, day=day, day_full=day_full, window_full=window_full)
    return bool(overridden)


def _locked(booking) -> Booking:
    # No join to the window: a row PostgreSQL re-reads after waiting for its lock comes back
    # with the new window_id but the joined window from before the wait (NULL once it moved).
    rows = Booking.objects.select_related("office").select_for_update(of=("self",))
    return rows.get(pk=booking.pk)


def reschedule_booking(*, booking: Booking, day: date, window: ServiceWindow, now=None) -> Booking:
    """Move a booking to another window of its office; keep the old place if the new one fails.

    A group's member moved alone leaves the group; the others keep their place.

    Raises ValidationError coded not_reschedulable, reschedule_limit, same_slot, full,
    day_full, closed, not_bookable, window_mismatch or window_started.
    """
    now = now or clock.now()
    limit = settings.BOOKING_MAX_RESCHEDULES
    try:
        with transaction.atomic():
            booking = _locked(booking)
            office = booking.office
            refusal = booking.reschedule_refusal(now)
            if refusal:
                raise _error(refusal, limit=limit)
            if booking.date == day and booking.window_id == window.pk:
                raise _error("same_slot")
            plan = check_bookable(office=office, day=day, window=window, now=now)
            places.move(office, plan, window, old_day=booking.date, old_window=booking.window)
            _refuse_claimed(office, day, window, 1, now)
            booking.date = day
            booking.window = window
            booking.starts_at = office.local_datetime(day, window.start)
            booking.ends_at = office.local_datetime(day, window.end)
            booking.reschedule_count += 1
            booking.group = None  # moved alone, a member leaves the group's window and its code
            booking.save(
                update_fields=[
                    "date",
                    "window",
                    "starts_at",
                    "ends_at",
                    "reschedule_count",
                    "group",
                    "updated_at",
                ]
            )
            record_notifications(booking, Notification.Kind.RESCHEDULE, now=now)
    except places.NoPlace as exc:
        raise _no_place(exc) from None
    return booking


def _release(booking):
    window = booking.window if booking.window_id else None
    places.release(booking.office, booking.date, window, uses_reserve=booking.uses_reserve)


# What an applicant's own cancellation records, from the web and from the app alike.
CANCELLED_BY_APPLICANT = "applicant"


def cancel_booking(*, booking: Booking, reason: str = "", by=None, now=None) -> Booking:
    """Cancel a booking and free its place at once; the applicant is told.

    Applicants may cancel until their window begins; staff (`by`, with a reason) until the
    day ends. Raises ValidationError coded not_cancellable.
    """
    now = now or clock.now()
    with transaction.atomic():
        booking = _locked(booking)
        if not booking.can_cancel(now, by_staff=by is not None):
            raise _error("not_cancellable")
        _cancel(booking, reason or CANCELLED_BY_APPLICANT if by is None else reason, now)
    return booking


def _cancel(booking, reason, now, *, tell=True):
    # A locked booking's cancellation: its place freed, the reason kept, the applicant told.
    _release(booking)
    booking.status = Booking.Status.CANCELLED
    booking.cancelled_at = now
    booking.cancel_reason = str(reason)[:200]
    booking.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
    if tell:
        record_notifications(booking, Notification.Kind.CANCELLATION, now=now)


def release_nik(*, nik: str, office: Office, reason: str, by, now=None) -> Booking:
    """Free a NIK that someone else's booking holds, at any office, once a clerk of `office`
    has checked the applicant's KTP: the booking is cancelled with the reason (its contact is
    told), the release is recorded for both offices and the supervisors, and the NIK's
    holder can book at once. Returns the cancelled booking.

    Raises ValidationError coded not_your_office (`by` is not staff of `office`),
    release_reason, nik_not_held, or a NIK code.
    """
    now = now or clock.now()
    nik = parse_nik(nik).nik
    reason = " ".join(reason.split())
    if not may_change_office(by, office):
        raise _error("not_your_office")
    if len(reason) < 5:
        raise _error("release_reason")
    with transaction.atomic():
        held = Booking.objects.filter(nik=nik, status=Booking.Status.BOOKED).first()
        if held is None:
            raise _error("nik_not_held")
        written = _("NIK released at %(office)s after a KTP check: %(reason)s") % {
            "office": office.name,
            "reason": reason,
        }
        booking = _locked(held)
        if booking.status != Booking.Status.BOOKED:  # cancelled or checked in meanwhile
            raise _error("nik_not_held")
        _cancel(booking, written, now)
        NikRelease.objects.create(booking=booking, office=office, released_by=by, reason=reason)
    return booking


def _give_queue_number(booking, now) -> str:
    """Number a booking checked in now in the line it joins (its letter); return the line."""
    line = order.line_at_check_in(
        walk_in=booking.channel == Booking.Channel.WALK_IN,
        priority=booking.is_priority,
        window_ends_at=booking.ends_at,
        now=now,
    )
    booking.queue_number = places.next_queue_number(booking.office, booking.date, line)
    booking.status = Booking.Status.CHECKED_IN
    booking.checked_in_at = now
    return line


def _join_queue(booking, line, now):
    # An online applicant waits for their window's start; the others from their check-in.
    queued_at = max(booking.starts_at, now) if line == order.ONLINE else now
    Visit.objects.create(
        booking=booking, office=booking.office, date=booking.date, line=line, queued_at=queued_at
    )
    board.forget(booking.office_id, booking.date)


def _check_in_one(booking, now):
    line = _give_queue_number(booking, now)
    booking.save(update_fields=["queue_number", "status", "checked_in_at", "updated_at"])
    _join_queue(booking, line, now)


def check_in(*, office: Office, code: str, by=None, now=None) -> Booking:
    """Check an applicant in at their office on their day and give the day's next queue number.

    Raises ValidationError coded not_found, other_office, other_day, cancelled,
    already_checked_in or not_checked_in_status.
    """
    now = now or clock.now()
    code = codes.normalize_code(code)
    with transaction.atomic():
        found = Booking.objects.filter(code=code).first()
        if found is None:
            raise _error("not_found")
        booking = _locked(found)
        if booking.office_id != office.pk:
            raise _error("other_office")
        if booking.date != clock.office_today(office, now):
            raise _error("other_day", date=booking.date.isoformat())
        if booking.status == Booking.Status.CANCELLED:
            raise _error("cancelled")
        if booking.status == Booking.Status.CHECKED_IN:
            raise _error("already_checked_in", number=booking.queue_number)
        if booking.status != Booking.Status.BOOKED:
            raise _error("not_checked_in_status", status=booking.get_status_display())
        _check_in_one(booking, now)
    return booking


def register_walk_in(
    *,
    office: Office,
    applicant: Applicant,
    reason: str,
    by,
    override_reason: str = "",
    now=None,
) -> Booking:
    """Register an applicant who came to the office today, check them in and number them.

    Priority reasons may use the walk-in reserve; others count like online bookings.
    When the day is full, a supervisor (by.is_superuser or the change_officeday
    permission) may exceed the quota with a written reason; that is the one walk-in a
    supervisor registers at an office they are not staff of. Raises ValidationError coded
    closed, day_full, override_not_allowed, not_your_office, or a NIK code.
    """
    now = now or clock.now()
    applicant_fields = _applicant_fields(applicant)  # refuses what cannot be a NIK first
    day = clock.office_today(office, now)
    plan = day_plan(office, day)
    if not plan.open:
        raise _error("closed")
    uses_reserve = reason in Booking.PRIORITY_REASONS
    last_end = max(w.end for w in plan.windows)
    ends_at = max(office.local_datetime(day, last_end), now + timedelta(minutes=1))
    booking = Booking(
        office=office,
        date=day,
        window=None,
        starts_at=now,
        ends_at=ends_at,
        channel=Booking.Channel.WALK_IN,
        walk_in_reason=reason,
        uses_reserve=uses_reserve,
        **applicant_fields,
        created_by=by,
    )
    override_reason = override_reason.strip()
    own_office = by is None or may_change_office(by, office)  # None: the system, not a user
    with transaction.atomic():
        try:
            with transaction.atomic():
                places.take_day(office, plan, uses_reserve=uses_reserve)
        except places.NoPlace:
            if not override_reason:
                raise _error("day_full") from None
            if not can_exceed_quota(by):
                raise _error("override_not_allowed") from None
            places.raise_quota_by_one(office, plan, uses_reserve=uses_reserve)
            places.take_day(office, plan, uses_reserve=uses_reserve)
            booking.override_reason = override_reason
        if not own_office and not booking.override_reason:
            raise _error("not_your_office")  # the place taken above goes back with the rollback
        line = _give_queue_number(booking, now)
        _insert(booking)
        _join_queue(booking, line, now)
    return booking


def can_exceed_quota(user) -> bool:
    """Return whether a user may register a walk-in beyond a full day's quota."""
    return bool(user and (user.is_superuser or user.has_perm("offices.change_officeday")))


def mark_no_show(*, booking: Booking, by=None, now=None) -> Booking:
    """Mark a booking whose window has ended without the applicant as a no-show.

    The place is released and the NIK may book again. Raises ValidationError coded
    not_ended or not_checked_in_status.
    """
    now = now or clock.now()
    with transaction.atomic():
        booking = _locked(booking)
        if booking.status != Booking.Status.BOOKED:
            raise _error("not_checked_in_status", status=booking.get_status_display())
        if booking.ends_at > now:
            raise _error("not_ended")
        _release(booking)
        booking.status = Booking.Status.NO_SHOW
        booking.save(update_fields=["status", "updated_at"])
    return booking


def mark_due_no_shows(*, now=None) -> int:
    """Mark every booking still booked after its office-day has ended; return how many."""
    now = now or clock.now()
    # No office's date is more than a day ahead of UTC's (WIT is UTC+9), whatever zone `now`
    # was given in; each candidate is then checked against its own office's calendar.
    latest_today = now.astimezone(UTC).date() + timedelta(days=1)
    candidates = Booking.objects.filter(
        status=Booking.Status.BOOKED, date__lt=latest_today
    ).select_related("office")
    marked = 0
    for booking in candidates.iterator():
        if booking.date >= clock.office_today(booking.office, now):
            continue
        try:
            mark_no_show(booking=booking, now=now)
        except ValidationError:
            continue  # changed meanwhile (checked in, cancelled): nothing to do
        marked += 1
    return marked


def create_due_reminders(*, now=None) -> int:
    """Write the reminder of every booked appointment starting within the lead time.

    One reminder per booking, and one per group for all its members to their shared contact.
    The lead time is a span of time, so "24 hours before" holds in WIB, WITA and WIT alike.
    Safe to run as often as wished: the outbox holds one reminder per booking or group and
    change. Returns how many reminders were written.
    """
    now = now or clock.now()
    due = Booking.objects.filter(
        status=Booking.Status.BOOKED,
        starts_at__gt=now,
        starts_at__lte=now + settings.REMINDER_LEAD_TIME,
    ).exclude(email="", phone="")
    reminded = Notification.objects.filter(kind=Notification.Kind.REMINDER)
    alone = due.filter(group__isnull=True).exclude(
        Exists(reminded.filter(booking=OuterRef("pk"), sequence=OuterRef("reschedule_count")))
    )
    grouped = due.exclude(
        Exists(
            reminded.filter(group=OuterRef("group"), sequence=OuterRef("group__reschedule_count"))
        )
    )
    count = 0
    for pk in list(alone.values_list("pk", flat=True)):
        count += _remind(Booking.objects.filter(pk=pk), group=None, now=now)
    for group_pk in set(grouped.filter(group__isnull=False).values_list("group", flat=True)):
        with transaction.atomic():
            group = BookingGroup.objects.select_for_update().get(pk=group_pk)
            count += _remind(Booking.objects.filter(group=group).order_by("pk"), group, now=now)
    return count


def _remind(bookings, group, *, now) -> int:
    # Checked again under the lock: cancelling or rescheduling meanwhile wins.
    with transaction.atomic():
        booked = [
            booking
            for booking in bookings.select_for_update()
            if booking.status == Booking.Status.BOOKED
            and now < booking.starts_at <= now + settings.REMINDER_LEAD_TIME
        ]
        if not booked:
            return 0
        record_notifications(booked[0], Notification.Kind.REMINDER, group=group, now=now)
    return 1


# The applicant's personal data, as a booking holds it; what forgetting leaves behind.
FORGOTTEN = {
    "nik": "",
    "full_name": "",
    "birth_date": None,
    "email": "",
    "phone": "",
    "birth_date_mismatch": False,
}


def forget_past_applicants(*, now=None) -> int:
    """Remove the personal data of bookings whose appointment ended RETENTION_DAYS ago.

    What the monthly counts read (office, date, channel, status, purpose, walk-in reason)
    stays; so do the booking code and queue number. A booking still `booked` is left until
    it is marked a no-show. Their messages go too. Returns how many bookings were forgotten.
    """
    now = now or clock.now()
    due = Booking.objects.filter(
        ends_at__lt=now - timedelta(days=settings.RETENTION_DAYS), forgotten_at__isnull=True
    ).exclude(status=Booking.Status.BOOKED)
    with transaction.atomic():
        pks = list(due.select_for_update().values_list("pk", flat=True))
        Notification.objects.filter(Q(booking_id__in=pks) | Q(group__members__in=pks)).delete()
        Booking.objects.filter(pk__in=pks).update(**FORGOTTEN, forgotten_at=now)
    return len(pks)


def find_booking(code: str, nik: str) -> Booking | None:
    """Return the booking with this code only if the NIK matches too (compared in constant time).

    An unknown code and a wrong NIK give the same answer, so neither can be probed.
    """
    rows = Booking.objects.select_related(
        "office", "window", "group", "contact_check", "group__contact_check"
    )
    booking = rows.filter(code=code).first()
    stored = booking.nik if booking is not None else "0" * 16
    matches = hmac.compare_digest(stored.encode(), normalize_nik(nik).encode())
    return booking if booking is not None and matches else None


# ---- contact confirmation: a new booking's one-time code ----------------------------------------


def hold_for_contact(*, phone: str, now, **subject) -> ContactCheck:
    """Start the check of a new booking's, group's or ballot entry's contact (`subject`: one
    of booking=, group=, entry=), in its transaction: the code goes out on commit, and the
    subject holds its place until CONTACT_CONFIRM_MINUTES have passed."""
    code = contact.new_code()
    check = ContactCheck.objects.create(
        **subject,
        channel=contact.channel_for(phone),
        code_hash=contact.hash_code(code),
        sent_at=now,
        expires_at=now + settings.CONTACT_CONFIRM_MINUTES,
    )
    transaction.on_commit(partial(queue_contact_code, check.pk, code))
    return check


def count_code_sending(phone, client):
    """Count the code a new booking or entry is about to send against the limits, or raise
    contact_codes_limit; before its transaction, so that a retried one counts once."""
    if settings.CONTACT_CONFIRMATION:
        contact.count_sending(phone, client)


def _tell_new_booking(booking, group, now):
    # The confirmation of a new online booking or group, or first its contact's code.
    if settings.CONTACT_CONFIRMATION:
        subject = {"group": group} if group else {"booking": booking}
        hold_for_contact(phone=booking.phone, now=now, **subject)
    else:
        record_new_confirmation(booking, group=group, now=now)


def _locked_check(check) -> ContactCheck:
    return ContactCheck.objects.select_for_update().get(pk=check.pk)


def confirm_contact(*, check: ContactCheck, code: str, now=None) -> ContactCheck:
    """Confirm a contact with the code typed back: the booking or group is confirmed and told
    as usual. Typing it again once confirmed changes nothing.

    Raises ValidationError coded contact_code_format, contact_code_wrong (a try used),
    contact_code_tries or contact_check_over.
    """
    now = now or clock.now()
    typed = contact.clean_code(code)
    with transaction.atomic():
        check = _locked_check(check)
        if check.state == ContactCheck.State.CONFIRMED:
            return check
        if check.state != ContactCheck.State.PENDING or now >= check.expires_at:
            raise contact.error("contact_check_over")
        if not contact.tries_left(check):
            raise contact.error("contact_code_tries")
        matched = contact.code_matches(check.code_hash, typed)
        if matched:
            check.state, check.confirmed_at = ContactCheck.State.CONFIRMED, now
            check.save(update_fields=["state", "confirmed_at"])
            _tell_confirmed(check, now)
        else:
            check.tries += 1
            check.save(update_fields=["tries"])
    if not matched:  # after the commit: the try stays used
        if not contact.tries_left(check):
            raise contact.error("contact_code_tries")
        raise contact.error("contact_code_wrong", left=contact.tries_left(check))
    return check


def _tell_confirmed(check, now):
    # The usual confirmation, now that the contact has shown it receives our messages.
    if check.group_id or check.booking_id:
        first = addressee(check)
        record_notifications(first, Notification.Kind.CONFIRMATION, group=check.group, now=now)


def resend_contact_code(*, check: ContactCheck, client: str = "", now=None) -> ContactCheck:
    """Send a new code in place of the last one, once the wait after it has passed: the
    wrong tries start again. Raises ValidationError coded contact_check_over,
    contact_code_wait, contact_code_sends or contact_codes_limit."""
    now = now or clock.now()
    with transaction.atomic():
        check = _locked_check(check)
        if check.state != ContactCheck.State.PENDING or now >= check.expires_at:
            raise contact.error("contact_check_over")
        if check.sends >= settings.CONTACT_CODE_SENDS:
            raise contact.error("contact_code_sends")
        wait = contact.resend_at(check) - now
        if wait.total_seconds() > 0:
            raise contact.error("contact_code_wait", seconds=ceil(wait.total_seconds()))
        contact.count_sending(addressee(check).phone, client)
        code = contact.new_code()
        check.code_hash = contact.hash_code(code)
        check.tries, check.sends, check.sent_at = 0, check.sends + 1, now
        check.save(update_fields=["code_hash", "tries", "sends", "sent_at"])
        transaction.on_commit(partial(queue_contact_code, check.pk, code))
    return check


LAPSED_REASON = _("Not confirmed: the code sent to the contact was not typed in time.")


def lapse_unconfirmed(*, now=None) -> int:
    """Cancel the bookings and groups whose contact was not confirmed in time: their places
    and NIKs are free at once (the waiting list is offered the places by the next run of
    the ballots). Nobody is told: the contact never showed it receives our messages.
    Returns how many checks lapsed."""
    return lapse_due_checks(of_entries=False, lapse=_lapse_bookings, now=now or clock.now())


def _lapse_bookings(check, now):
    held = Booking.objects.filter(status=Booking.Status.BOOKED)
    if check.group_id:
        held = held.filter(group_id=check.group_id)
    else:
        held = held.filter(pk=check.booking_id)
    for booking in held.select_for_update().order_by("pk"):
        _cancel(booking, LAPSED_REASON, now, tell=False)


def lapse_due_checks(*, of_entries: bool, lapse, now) -> int:
    """Lapse the pending contact checks past their time, of ballot entries or else of
    bookings and groups, at most LAPSE_BATCH a run: each in a transaction of its own, the
    check locked, lapse(check, now) freeing what it held. Returns how many lapsed."""
    due = ContactCheck.objects.filter(
        state=ContactCheck.State.PENDING, expires_at__lte=now, entry__isnull=not of_entries
    ).values_list("pk", flat=True)
    lapsed = 0
    for pk in list(due[:LAPSE_BATCH]):
        with transaction.atomic():
            check = ContactCheck.objects.select_for_update().filter(pk=pk).first()
            if check is None or check.state != ContactCheck.State.PENDING:
                continue
            lapse(check, now)
            check.state = ContactCheck.State.LAPSED
            check.save(update_fields=["state"])
            lapsed += 1
    return lapsed
