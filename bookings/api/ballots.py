"""The JSON API v1 for ballots: an office's releases, a release's published record, an entry."""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from ninja import Field, P, PathEx, Router, Schema, Status

from antrean import reads
from antrean.client_ip import client_key
from bookings import ballots, services
from bookings.availability import office_and_window
from bookings.codes import normalize_code
from bookings.models import Offer, Release
from bookings.notifications.links import offer_from_token
from offices import clock

from .answers import confirm_by, time_of
from .endpoints import (
    BOOKING_LIMIT,
    LOOKUP_LIMIT,
    applicants_of,
    check_of,
    contact_answer,
    error_statuses,
    office_by_code,
    refuse_without_proof,
)
from .errors import request_language
from .schemas import (
    MAX_ID,
    ContactCodeIn,
    ContactOut,
    EntryChangeIn,
    EntryIn,
    NikIn,
    OfficeCode,
    WindowOut,
)

EntryCode = PathEx[str, P(max_length=32, description="The entry code: 10 letters and digits.")]
OfferToken = PathEx[
    str,
    P(
        max_length=100,
        description="The token of the offer's link, /offers/{token}/, in its message.",
    ),
]

router = Router(tags=["v1"])

RELEASE_NOT_FOUND = _("No ballot release has this id.")
ENTRY_NOT_FOUND = _("No entry of this ballot has this code.")
UNKNOWN_SESSION = _("This session is not one of this office's.")
OFFER_NOT_FOUND = _("No offer has this token.")


class ReleaseOut(Schema):
    id: int
    office: str = Field(examples=["jayapura"])
    first_day: date
    last_day: date
    opens_at: datetime = Field(description="When entries open (with the office's offset).")
    closes_at: datetime
    draw_at: datetime
    state: str = Field(examples=["open"], description="open, closed or drawn")
    public_value_source: str = Field(
        description="Named before entries open: the public value the draw uses."
    )
    seed_hash: str = Field(description="SHA-256 of the secret seed, public from the start.")


class PublishedOut(Schema):
    """What a release publishes: what bookings/draw.py (GET /ballots/draw.py) checks."""

    office: str
    first_day: str
    last_day: str
    opens_at: str
    closes_at: str
    draw_at: str
    public_value_source: str
    state: str
    seed_hash: str
    entries_hash: str | None = Field(description="From the close.")
    entries: list[dict] | None = Field(
        description="From the close: receipt, size, preferences ([day, window id or null]) "
        "and withdrawn, in receipt order. No personal data."
    )
    seed: str | None = Field(description="From the draw.")
    public_value: str | None = Field(description="From the draw.")
    places: dict | None = Field(description="From the draw: the free places it handed out.")
    outcome: dict | None = Field(
        description='From the draw: per receipt {"result": "won", "preference", "day", '
        '"window"}, {"result": "waiting", "position"} or {"result": "withdrawn"}.'
    )


class EntryOut(Schema):
    code: str
    receipt: str = Field(description="The entry's line in the published list.")
    status: str = Field(examples=["entered"], description="entered, withdrawn, won, waiting")
    result: dict | None = Field(description="Its outcome once the release is drawn.")
    confirm_by: datetime | None = Field(
        None,
        description="Set while a new entry waits for the code sent to its contact (POST "
        "…/entries/{code}/confirm-contact): unconfirmed by then, it is withdrawn.",
    )


def _release(pk) -> Release:
    # Each entry in a crowd reads it: in a kept statement (antrean/reads.py). An id no row can
    # have is not asked: SQLite cannot take an integer past 64 bits, where the ORM finds none.
    table = Release._meta.db_table
    release = (
        reads.first(Release, ("office",), f"{table}.id = %s", [pk]) if 1 <= pk <= MAX_ID else None
    )
    if release is None:
        raise Http404(RELEASE_NOT_FOUND)
    return release


def _release_answer(release) -> dict:
    return {
        "id": release.pk,
        "office": release.office.code,
        **{
            name: getattr(release, name)
            for name in ("first_day", "last_day", "opens_at", "closes_at", "draw_at", "state")
        },
        "public_value_source": release.public_value_source,
        "seed_hash": release.seed_hash,
    }


@router.get(
    "/offices/{code}/releases",
    response={200: list[ReleaseOut], **error_statuses(404, 422)},
    operation_id="list_releases",
    summary="List an office's ballot releases",
)
def list_releases(request, code: OfficeCode):
    """The office's ballot releases, the latest first: days, times, state, the seed's hash."""
    office = office_by_code(code)
    return [_release_answer(r) for r in office.releases.select_related("office")]


@router.get(
    "/releases/{release_id}",
    response={200: PublishedOut, **error_statuses(404, 422)},
    operation_id="published_release",
    summary="A ballot release's published record",
)
def published_release(request, release_id: int):
    """What the release publishes at its stage; run bookings/draw.py on it to check a draw."""
    return ballots.published(_release(release_id))


@router.get(
    "/releases/{release_id}/entries/{entry_code}",
    response={200: EntryOut, **error_statuses(404, 422)},
    operation_id="ballot_entry",
    summary="An entry's receipt and outcome",
)
def ballot_entry(request, release_id: int, entry_code: EntryCode):
    """An entry by its code: its receipt, its status and, once drawn, its outcome."""
    release = _release(release_id)
    entry = release.entries.filter(code=normalize_code(entry_code)).first()
    if entry is None:
        raise Http404(ENTRY_NOT_FOUND)
    return _entry_answer(release, entry)


def _entry_answer(release, entry) -> dict:
    return {
        "code": entry.code,
        "receipt": entry.receipt,
        "status": entry.status,
        "result": (release.outcome or {}).get(entry.receipt),
        "confirm_by": confirm_by(entry),
    }


@router.post(
    "/releases/{release_id}/entries",
    response={201: EntryOut, **error_statuses(400, 404, 409, 422, 428, 429)},
    throttle=[BOOKING_LIMIT],
    operation_id="enter_ballot",
    summary="Enter a ballot",
)
def enter_ballot(request, release_id: int, payload: EntryIn):
    """Enter one applicant, or a group as one entry, with 1 to 3 ranked choices.

    The time of entry plays no part in the draw. 409 `release_not_open`, `entered_already`
    (a NIK in another entry of this release) or `group_nik_held` (a NIK holds a booking).
    """
    release = _release(release_id)
    language = payload.language or request_language(request)
    with translation.override(language):
        today = clock.office_today(release.office)
        applicants, problems = applicants_of(payload, today=today, language=language)
        choices = _choices_of(release, payload.choices, problems)
        if problems:
            raise ValidationError(problems)
        refuse_without_proof(request, entering=True)
        entry = ballots.enter(
            release=release,
            applicants=applicants,
            preferences=choices,
            client=client_key(request),
        )
    return Status(201, _entry_answer(release, entry))


def _choices_of(release, given, problems) -> list:
    """Return the (day, window or None) of the given choices; note an unknown session. The
    windows are those the booking API finds a booking's window among, kept a moment."""
    code = release.office.code
    windows = {
        c.window: office_and_window(code, c.window)[1] for c in given if c.window is not None
    }
    if None in windows.values():
        problems["choices"] = [ValidationError(UNKNOWN_SESSION)]
    return [(c.date, windows.get(c.window)) for c in given]


@router.post(
    "/releases/{release_id}/entries/{entry_code}/change",
    response={200: EntryOut, **error_statuses(400, 404, 409, 422, 429)},
    throttle=[LOOKUP_LIMIT],
    operation_id="change_entry",
    summary="Change an entry's choices",
)
def change_entry(request, release_id: int, entry_code: EntryCode, payload: EntryChangeIn):
    """Replace an entry's 1 to 3 ranked choices while entries are open (the NIK of any of its
    applicants); the entry gets a new receipt.

    404 for an unknown code or a NIK of no applicant of it; 409 `entry_not_changeable` once
    entries have closed or the entry was withdrawn.
    """
    release = _release(release_id)
    entry = ballots.find_entry(release, entry_code, payload.nik)
    if entry is None:
        raise Http404(ENTRY_NOT_FOUND)
    problems = {}
    choices = _choices_of(release, payload.choices, problems)
    if problems:
        raise ValidationError(problems)
    return _entry_answer(release, ballots.change_entry(entry=entry, preferences=choices))


@router.post(
    "/releases/{release_id}/entries/{entry_code}/withdraw",
    response={200: EntryOut, **error_statuses(400, 404, 409, 422, 429)},
    throttle=[LOOKUP_LIMIT],
    operation_id="withdraw_entry",
    summary="Withdraw an entry",
)
def withdraw_entry(request, release_id: int, entry_code: EntryCode, payload: NikIn):
    """Withdraw an entry while entries are open: the NIK of any of its applicants.

    404 for an unknown code or a NIK of no applicant of it (the same answer); 409
    `entry_not_changeable` once entries have closed.
    """
    release = _release(release_id)
    entry = ballots.find_entry(release, entry_code, payload.nik)
    if entry is None:
        raise Http404(ENTRY_NOT_FOUND)
    return _entry_answer(release, ballots.withdraw_entry(entry=entry))


def _found_entry(release_id, entry_code, nik):
    release = _release(release_id)
    entry = ballots.find_entry(release, entry_code, nik)
    if entry is None:
        raise Http404(ENTRY_NOT_FOUND)
    return entry


@router.post(
    "/releases/{release_id}/entries/{entry_code}/confirm-contact",
    response={200: ContactOut, **error_statuses(400, 404, 409, 422, 429)},
    throttle=[LOOKUP_LIMIT],
    operation_id="confirm_entry_contact",
    summary="Confirm a new entry's contact with the code sent to it",
)
def confirm_entry_contact(request, release_id: int, entry_code: EntryCode, payload: ContactCodeIn):
    """Type back the code sent to a new entry's contact (with the NIK of any of its
    applicants); unconfirmed by `confirm_by`, the entry is withdrawn. As for a booking: 422
    for a wrong code, 409 `contact_code_tries` or `contact_check_over`."""
    entry = _found_entry(release_id, entry_code, payload.nik)
    check = services.confirm_contact(
        check=check_of(ENTRY_NOT_FOUND, entry=entry), code=payload.one_time_code
    )
    return contact_answer(check, entry.code)


@router.post(
    "/releases/{release_id}/entries/{entry_code}/resend-code",
    response={202: ContactOut, **error_statuses(400, 404, 409, 422, 429)},
    throttle=[LOOKUP_LIMIT],
    operation_id="resend_entry_code",
    summary="Send a new entry's contact a new code",
)
def resend_entry_code(request, release_id: int, entry_code: EntryCode, payload: NikIn):
    """Send a new code in place of the last one, once `resend_after` has passed."""
    entry = _found_entry(release_id, entry_code, payload.nik)
    check = services.resend_contact_code(
        check=check_of(ENTRY_NOT_FOUND, entry=entry), client=client_key(request)
    )
    return Status(202, contact_answer(check, entry.code))


# ---- the waiting list: a freed place offered to an entry -----------------------------------


class OfferOut(Schema):
    state: str = Field(examples=["open"], description="open, accepted, declined or expired")
    office: str = Field(examples=["jayapura"])
    date: date
    window: WindowOut
    places: int = Field(description="One per applicant of the entry.")
    expires_at: datetime = Field(description="Held until then (with the office's offset).")
    entry_code: str
    booking_code: str | None = Field(
        description="Once accepted: the booking's code, or the group's for several applicants."
    )


def _offer(token) -> Offer:
    offer = offer_from_token(token)
    if offer is None:
        raise Http404(OFFER_NOT_FOUND)
    return offer


def _offer_answer(offer) -> dict:
    office = offer.office
    lapsed = offer.state == Offer.State.OPEN and not offer.is_open(clock.now())
    booking = offer.booking
    return {
        "state": Offer.State.EXPIRED if lapsed else offer.state,
        "office": office.code,
        "date": offer.day,
        "window": {
            "id": offer.window_id,
            "start": time_of(offer.window.start),
            "end": time_of(offer.window.end),
            "zone": office.zone_abbreviation,
        },
        "places": offer.size,
        "expires_at": offer.expires_at.astimezone(office.zone),
        "entry_code": offer.entry.code,
        "booking_code": (booking.group.code if booking.group_id else booking.code)
        if booking
        else None,
    }


@router.get(
    "/offers/{token}",
    response={200: OfferOut, **error_statuses(404, 422)},
    throttle=[LOOKUP_LIMIT],
    operation_id="waiting_list_offer",
    summary="A place offered from a waiting list",
)
def waiting_list_offer(request, token: OfferToken):
    """The offer the link of an offer message names: the session, the places, until when."""
    return _offer_answer(_offer(token))


@router.post(
    "/offers/{token}/accept",
    response={200: OfferOut, **error_statuses(404, 409, 422, 429)},
    throttle=[LOOKUP_LIMIT],
    operation_id="accept_offer",
    summary="Accept a place offered from a waiting list",
)
def accept_offer(request, token: OfferToken):
    """Accept an open offer: its places become the entry's booking, with the usual confirmation.

    409 `offer_over` once it is accepted, declined or lapsed; `group_nik_held` when an
    applicant of the entry holds a booking elsewhere.
    """
    offer = _offer(token)
    ballots.accept_offer(offer=offer)
    return _offer_answer(_offer(token))


@router.post(
    "/offers/{token}/decline",
    response={200: OfferOut, **error_statuses(404, 409, 422, 429)},
    throttle=[LOOKUP_LIMIT],
    operation_id="decline_offer",
    summary="Decline a place offered from a waiting list",
)
def decline_offer(request, token: OfferToken):
    """Decline an open offer: the place goes to the next entry; this one leaves the list.

    409 `offer_over` once it is accepted, declined or lapsed.
    """
    return _offer_answer(ballots.decline_offer(offer=_offer(token)))
