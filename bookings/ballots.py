"""Ballot releases: make one, take and withdraw entries, close and publish the list of entries.

Every change of a release or an entry goes through these functions. Each raises
ValidationError with a code from MESSAGES (or from services.MESSAGES for an applicant's
NIK) when the change cannot be made; nothing is written then.
"""

import secrets
from collections.abc import Sequence
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from offices import clock
from offices.models import Office, ServiceWindow
from offices.schedule import day_plan

from . import codes, draw, services
from .applicants import Applicant
from .constraints import violated_constraint
from .models import Entry, EntryApplicant, Release
from .nik import mask_nik

MAX_PREFERENCES = 3
ONE_ENTRY_PER_NIK = "entry_one_per_nik_per_release"

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
    for number, (day, window) in enumerate(preferences, start=1):
        if not release.first_day <= day <= release.last_day:
            raise _error("preference_day", number=number, day=day.isoformat())
        plan = day_plan(release.office, day)
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
    now=None,
) -> Entry:
    """Enter an applicant, or a group as one entry, in an open release; return the entry.

    One entry per NIK per release, held by the database. The time of entry plays no part in
    the draw. Raises ValidationError coded release_not_open, entry_size, preferences,
    preference_day, preference_closed, preference_window, entered_already, or a NIK code
    (group_member, group_repeated_nik, group_nik_held).
    """
    now = now or clock.now()
    if not release.is_open(now):
        raise _error("release_not_open")
    if not 1 <= len(applicants) <= settings.BOOKING_GROUP_MAX:
        raise _error("entry_size", max=settings.BOOKING_GROUP_MAX)
    members = services.group_applicant_fields(applicants)
    niks = [member["nik"] for member in members]
    services.refuse_held_niks(niks)
    wishes = _checked_preferences(release, preferences)
    salt = secrets.token_hex(16)
    details = {
        "release": release.pk,
        "applicants": [[m["nik"], m["full_name"], m["birth_date"].isoformat()] for m in members],
        "preferences": wishes,
    }
    entry = Entry(
        release=release,
        code=codes.new_code(),
        salt=salt,
        receipt=draw.receipt_of(salt, details),
        preferences=wishes,
        email=applicants[0].email,
        phone=applicants[0].phone,
        language=applicants[0].language,
    )
    try:
        with transaction.atomic():
            entry.save(force_insert=True)
            EntryApplicant.objects.bulk_create(
                EntryApplicant(
                    entry=entry,
                    release=release,
                    **{name: member[name] for name in APPLICANT_FIELDS},
                )
                for member in members
            )
    except IntegrityError as exc:
        if violated_constraint(exc) != ONE_ENTRY_PER_NIK:
            raise
        _refuse_entered(release, niks)
        raise  # the other entry was withdrawn meanwhile: let the caller try again
    return entry


APPLICANT_FIELDS = (
    "nik",
    "full_name",
    "birth_date",
    "purpose",
    "passport_type",
    "application_type",
)


def _refuse_entered(release, niks):
    entered = set(
        EntryApplicant.objects.filter(release=release, nik__in=niks, entered=True).values_list(
            "nik", flat=True
        )
    )
    for number, nik in enumerate(niks, start=1):
        if nik in entered:
            raise _error("entered_already", number=number, nik=mask_nik(nik))


def withdraw_entry(*, entry: Entry, now=None) -> Entry:
    """Withdraw an entry while the release is open; its NIKs may enter again.

    Raises ValidationError coded entry_not_changeable.
    """
    now = now or clock.now()
    with transaction.atomic():
        entry = Entry.objects.select_for_update().select_related("release").get(pk=entry.pk)
        if entry.status != Entry.Status.ENTERED or not entry.release.is_open(now):
            raise _error("entry_not_changeable")
        entry.status = Entry.Status.WITHDRAWN
        entry.withdrawn_at = now
        entry.save(update_fields=["status", "withdrawn_at"])
        entry.applicants.update(entered=False)
    return entry


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


def published(release: Release) -> dict:
    """Return what a release publishes: the seed's hash from the start, the list and its hash
    from the close (with the entries withdrawn since struck), and no personal data."""
    struck = set(
        release.entries.filter(status=Entry.Status.WITHDRAWN).values_list("receipt", flat=True)
    )
    listed = release.entries_list
    return {
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
