"""Request and answer shapes of the JSON API v1; bounds here keep hostile input out of the rules."""

import re
import unicodedata
from datetime import date, datetime
from typing import Annotated, Literal

from django.conf import settings
from ninja import Field, P, PathEx, Schema
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Discriminator, Tag
from pydantic_core import PydanticCustomError

from bookings.models import Booking

MAX_ID = 2**63 - 1  # BigAutoField: a larger number would overflow the database's integer
MAX_DAYS = 62
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits: \d matches any script
_TIME = r"^[0-9]{2}:[0-9]{2}$"
NIK_HELP = "The applicant's 16-digit NIK; spaces, dots and dashes are ignored."


def _printable(value: str) -> str:
    # Control characters (NUL above all) and lone surrogates cannot be stored or shown.
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise PydanticCustomError("text_characters", "contains characters that are not allowed")
    return value


def _iso_date(value):
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise PydanticCustomError("date_format", "use the form YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("date_invalid", "this date does not exist") from None


Text = Annotated[str, AfterValidator(_printable)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
WindowId = Annotated[int, Field(strict=True, ge=1, le=MAX_ID, description="A service window's id.")]
Purpose = Literal[tuple(Booking.Purpose.values)]
PassportType = Literal[tuple(Booking.PassportType.values)]
ApplicationType = Literal[tuple(Booking.ApplicationType.values)]
Language = Literal["id", "en"]
OfficeCode = PathEx[str, P(max_length=40, description="An office's code, as /offices lists it.")]
BookingCode = PathEx[
    str, P(max_length=32, description="The booking code: 10 letters and digits; dashes ignored.")
]
GroupCode = PathEx[
    str, P(max_length=32, description="The group code: 12 letters and digits; dashes ignored.")
]


class Input(Schema):
    """A request body: unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


# ---- answers -------------------------------------------------------------------------------


class OfficeOut(Schema):
    code: str = Field(examples=["palembang"])
    name: str = Field(examples=["Kantor Imigrasi Kelas I TPI Palembang"])
    city: str
    timezone: str = Field(examples=["Asia/Jakarta"])
    daily_quota: int


class WindowPlacesOut(Schema):
    id: int
    start: str = Field(pattern=_TIME, examples=["08:00"])
    end: str = Field(pattern=_TIME, examples=["10:00"])
    capacity: int
    remaining: int = Field(description="Places that can still be booked (0 once it has begun).")


class DayOut(Schema):
    date: date
    open: bool
    quota: int
    remaining: int = Field(description="Places that can still be booked online on this day.")
    windows: list[WindowPlacesOut]
    ballot: int | None = Field(
        None,
        description="At an office on a ballot: the release whose draw gives this day's places, "
        "until it is drawn (GET /releases/{id}). The day cannot be booked before.",
    )


class AvailabilityOut(Schema):
    office: str
    timezone: str
    days: list[DayOut]


class WindowOut(Schema):
    id: int
    start: str = Field(pattern=_TIME, examples=["08:00"])
    end: str = Field(pattern=_TIME, examples=["10:00"])
    zone: str = Field(examples=["WIB"], description="WIB, WITA or WIT: the office's time zone.")


class ClosureOut(Schema):
    """What an office's closure did to the booking, and the applicant's answer."""

    outcome: str = Field(
        examples=["moved"],
        description="moved: to the date and window shown; cancelled: no place was left, and "
        "the applicant chooses a new time first (POST /bookings/{code}/choose) until "
        "choose_until.",
    )
    closed_date: date = Field(description="The office-local date the office closed.")
    reason: str = Field(examples=["Banjir di sekitar kantor"])
    choose_until: date | None = Field(description="The last day a priority choice may take.")
    answer: str = Field(
        examples=[""], description='"" (none yet), kept, or chose (a priority choice made).'
    )


class BookingOut(Schema):
    code: str = Field(examples=["7KQ2M9XH4T"])
    office: str
    date: date
    window: WindowOut | None = Field(description="Empty for walk-ins registered at the counter.")
    status: str = Field(examples=["booked"], description="booked, checked_in, cancelled, no_show")
    nik_masked: str = Field(examples=["1671••••••••0001"])
    full_name: str
    purpose: str
    passport_type: str
    birth_date_mismatch: bool = Field(
        description="The birth date differs from the NIK's: staff check the KTP at the counter."
    )
    group_code: str | None = Field(
        examples=["4KQ2M9XH7TPW"],
        description="The code of the group this applicant was booked with (it opens them all); "
        "null when booked alone, or once moved to another window alone.",
    )
    confirm_by: datetime | None = Field(
        None,
        description="Set while a new booking waits for the code sent to its contact "
        "(POST /bookings/{code}/confirm-contact): unconfirmed by then, it lapses. Null once "
        "confirmed, or when no code is asked for.",
    )
    closure: ClosureOut | None = Field(
        None,
        description="Set when the office closed on the booking's day (or its window) after it "
        "was made: moved, or cancelled with a priority choice. Null otherwise, and in the "
        "answer to a new booking.",
    )


class ChoiceOut(Schema):
    """A day a closure's priority choice may take, with its windows that have room."""

    date: date
    windows: list[WindowOut]


class CancelledOut(Schema):
    code: str
    status: Literal["cancelled"]
    group_code: str | None = Field(
        description="The group the booking belongs to (its other members keep their places)."
    )


class MemberOut(Schema):
    code: str = Field(examples=["7KQ2M9XH4T"], description="The member's own booking code.")
    status: str = Field(examples=["booked"], description="booked, checked_in, cancelled, no_show")
    nik_masked: str = Field(examples=["1671••••••••0001"])
    full_name: str
    purpose: str
    passport_type: str
    application_type: str = Field(examples=["new"], description="new or renewal")
    birth_date_mismatch: bool = Field(
        description="The birth date differs from the NIK's: staff check the KTP at the counter."
    )


class GroupOut(Schema):
    code: str = Field(
        examples=["4KQ2M9XH7TPW"],
        description="The group code: 12 letters and digits; with any member's NIK it opens "
        "every member.",
    )
    office: str
    date: Annotated[date, Field(description="The appointment of its members not cancelled.")]
    window: WindowOut | None
    confirm_by: datetime | None = Field(
        None,
        description="Set while a new booking waits for the code sent to its contact "
        "(POST /bookings/{code}/confirm-contact): unconfirmed by then, it lapses. Null once "
        "confirmed, or when no code is asked for.",
    )
    members: list[MemberOut] = Field(
        description="In the order they were booked. A member moved to another window alone "
        "has left the group and is not listed; one cancelled alone is, as cancelled."
    )


class ErrorOut(Schema):
    error: str = Field(
        examples=["full"],
        description="invalid, bad_request, not_found, full, duplicate, not_cancellable, "
        "not_reschedulable, reschedule_limit, same_slot, rate_limited; for a group also "
        "group_full, group_nik_held, group_nothing_active",
    )
    message: str = Field("", description="In the requested language.")
    fields: dict[str, list[str]] | None = Field(
        None,
        description="With `invalid`: each bad field and what is wrong with it. A field of a "
        "group's applicant is named by its place in the list, counted from 0: "
        "`applicants.1.nik` is the second applicant's NIK.",
    )
    places_left: int | None = Field(
        None,
        examples=[2],
        description="With `group_full`: how many applicants the window (or the day) can still "
        "take, fewer than the group.",
    )


# ---- requests ------------------------------------------------------------------------------


class AvailabilityQuery(Schema):
    start: IsoDate | None = Field(None, description="Default: the first bookable day.")
    days: int | None = Field(
        None, ge=1, le=MAX_DAYS, description="Default: up to the end of the booking horizon."
    )


class BookingIn(Input):
    office: Text = Field(max_length=40, examples=["palembang"], description="An office's code.")
    date: IsoDate = Field(description="The office-local date of the appointment.")
    window: WindowId
    nik: Text = Field(max_length=32, examples=["1671015705900001"], description=NIK_HELP)
    full_name: Text = Field(max_length=120, examples=["Siti Aminah"])
    birth_date: IsoDate
    email: Text = Field(max_length=254, examples=["siti@example.com"])
    phone: Text = Field(max_length=24, examples=["081234567890"])
    purpose: Purpose
    passport_type: PassportType = Booking.PassportType.ORDINARY.value
    language: Language | None = Field(
        None, description="Language of the messages; defaults to Accept-Language, then id."
    )


class ApplicantIn(Input):
    """One applicant of a group: their own NIK, name, birth date and passport."""

    nik: Text = Field(max_length=32, examples=["1671015705900001"], description=NIK_HELP)
    full_name: Text = Field(max_length=120, examples=["Siti Aminah"])
    birth_date: IsoDate
    purpose: Purpose
    application_type: ApplicationType = Booking.ApplicationType.NEW.value
    passport_type: PassportType = Booking.PassportType.ORDINARY.value


class GroupBookingIn(Input):
    """Two or more applicants booked into one window together, all or none, one contact."""

    office: Text = Field(max_length=40, examples=["palembang"], description="An office's code.")
    date: IsoDate = Field(description="The office-local date of the appointment.")
    window: WindowId
    email: Text = Field(
        max_length=254, examples=["siti@example.com"], description="The group's one contact."
    )
    phone: Text = Field(
        max_length=24, examples=["081234567890"], description="The group's one contact."
    )
    language: Language | None = Field(
        None, description="Language of the messages; defaults to Accept-Language, then id."
    )
    applicants: list[ApplicantIn] = Field(
        min_length=2,
        max_length=settings.BOOKING_GROUP_MAX,
        description="Each applicant of the group, in the order the app shows them.",
    )


class ChoiceIn(Input):
    """One ranked choice in a ballot: a session of a day, or any session of it (no window)."""

    date: IsoDate
    window: WindowId | None = Field(None, description="A session's id; null for any session.")


class EntryIn(Input):
    """An entry in a ballot: one applicant or a group as one entry, and 1 to 3 ranked choices."""

    email: Text = Field(max_length=254, examples=["siti@example.com"], description="The contact.")
    phone: Text = Field(max_length=24, examples=["081234567890"], description="The contact.")
    language: Language | None = Field(
        None, description="Language of the messages; defaults to Accept-Language, then id."
    )
    applicants: list[ApplicantIn] = Field(min_length=1, max_length=settings.BOOKING_GROUP_MAX)
    choices: list[ChoiceIn] = Field(min_length=1, max_length=3, description="In rank.")


# A body with "applicants" books a group; without, one applicant as before. A body with both
# the list and one applicant's own fields is refused as a whole, not field by field.
ONE, GROUP = "one_applicant", "group"
SHAPES = (ONE, GROUP)
_ONE_APPLICANT_ONLY = frozenset(BookingIn.model_fields) - frozenset(GroupBookingIn.model_fields)


def _shape(body):
    if not isinstance(body, dict) or "applicants" not in body:
        return ONE
    return None if _ONE_APPLICANT_ONLY & body.keys() else GROUP


BookingRequest = Annotated[
    Annotated[BookingIn, Tag(ONE)] | Annotated[GroupBookingIn, Tag(GROUP)],
    Discriminator(
        _shape,
        custom_error_type="booking_shape",
        custom_error_message="one applicant's fields and applicants together",
    ),
]


class NikIn(Input):
    nik: Text = Field(max_length=32, examples=["1671015705900001"], description=NIK_HELP)


class ContactCodeIn(NikIn):
    """The one-time code sent to a new booking's contact, with the NIK of one of its applicants."""

    one_time_code: Text = Field(
        max_length=12, examples=["042917"], description="The 6 digits sent by SMS or e-mail."
    )


class ContactOut(Schema):
    code: str = Field(description="The booking's or the group's code.")
    confirmed: bool
    confirm_by: datetime = Field(
        description="Unconfirmed by then, the booking lapses and its places are freed."
    )
    resend_after: datetime | None = Field(
        description="When a new code can be asked for; null once confirmed or all are sent."
    )


class ProofChallengeOut(Schema):
    algorithm: str = Field(examples=["SHA-256"])
    challenge: str
    maxnumber: int
    salt: str
    signature: str


class EntryChangeIn(NikIn):
    """New ranked choices for an entry, with the NIK of one of its applicants."""

    choices: list[ChoiceIn] = Field(min_length=1, max_length=3, description="In rank.")


class RescheduleIn(NikIn):
    date: IsoDate
    window: WindowId


# ---- the day at the office: the live queue ---------------------------------------------------


class CounterStateOut(Schema):
    name: str = Field(examples=["Loket 2"])
    number: str | None = Field(
        examples=["A-014"], description="The queue number called to it; null when idle."
    )
    state: Literal["idle", "called", "serving"]


class QueueOut(Schema):
    office: str = Field(examples=["palembang"])
    local_time: str = Field(
        pattern=_TIME, examples=["09:40"], description="Now, in the office's time (WIB/WITA/WIT)."
    )
    waiting: int = Field(description="Checked-in applicants not yet called today.")
    counters_open: int = Field(
        description="Photo-and-interview counters with a clerk signed in: those that call."
    )
    median_wait_minutes: float | None = Field(
        description="Today's median from check-in to the first call; null before anyone is called."
    )
    service_minutes: float = Field(
        description="The moving average of a service at this office, in minutes."
    )
    measured: bool = Field(
        description="Whether service_minutes comes from the office's own recent services (else "
        "the default, before it has served anyone)."
    )
    counters: list[CounterStateOut]
    upcoming: list[str] = Field(
        examples=[["P-003", "A-015", "B-007"]],
        description="The next queue numbers, in the order they will be called.",
    )


class WaitOut(Schema):
    low: int = Field(examples=[20])
    high: int = Field(examples=[30])


class PositionOut(Schema):
    number: str = Field(examples=["A-014"])
    state: Literal["waiting", "called", "serving", "done", "missed"] = Field(
        description="missed: called and did not answer; the applicant sees an officer."
    )
    counter: str | None = Field(
        examples=["Loket 2"], description="Where to go once called or served; null otherwise."
    )
    ahead: int = Field(description="Applicants to be called first; 0 unless waiting.")
    wait_minutes: WaitOut | None = Field(
        description="The estimated wait as a range, rounded to 5 minutes; null unless waiting."
    )
    window_starts: str | None = Field(
        pattern=_TIME,
        examples=["10:00"],
        description="An online applicant who came early waits for their session's start "
        "(office time); null otherwise.",
    )
