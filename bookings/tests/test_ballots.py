"""Ballot releases: entries while open, one per NIK, the list fixed at the close."""

from contextlib import contextmanager
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from bookings import ballots, draw
from bookings.models import Entry, EntryApplicant, Release
from bookings.tests.factories import book_at, make_applicant, make_family, window_at
from offices.tests.factories import DayOverrideFactory

pytestmark = pytest.mark.django_db

WIB = ZoneInfo("Asia/Jakarta")
OPENS = datetime(2017, 9, 1, 14, 0, tzinfo=WIB)  # a Friday, 14.00
CLOSES = OPENS + timedelta(days=3)
DRAW = CLOSES + timedelta(hours=1)
DURING = OPENS + timedelta(days=1)
MONDAY, FRIDAY = date(2017, 9, 11), date(2017, 9, 15)  # the week after next


@pytest.fixture(autouse=True)
def _in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def release(office):
    return ballots.make_release(
        office=office,
        first_day=MONDAY,
        last_day=FRIDAY,
        opens_at=OPENS,
        closes_at=CLOSES,
        draw_at=DRAW,
        public_value_source="The closing IDX composite index of Monday, to two decimals.",
    )


@contextmanager
def refused(code):
    """Expect a refusal with this code, and nothing written."""
    before = (Entry.objects.count(), EntryApplicant.objects.count())
    with pytest.raises(ValidationError) as caught:
        yield caught
    assert caught.value.code == code, caught.value
    assert (Entry.objects.count(), EntryApplicant.objects.count()) == before


def enter(release, applicants=None, preferences=None, now=DURING):
    office = release.office
    return ballots.enter(
        release=release,
        applicants=applicants or [make_applicant()],
        preferences=preferences or [(MONDAY, window_at(office, MONDAY))],
        now=now,
    )


def test_a_release_shows_the_hash_of_a_seed_it_keeps_secret(release):
    published = ballots.published(release)

    assert published["seed_hash"] == draw.sha256_hex(release.seed)
    assert release.seed not in str(published)
    assert published["entries"] is None and published["entries_hash"] is None


def test_a_release_refuses_times_out_of_order(office):
    with pytest.raises(ValidationError):
        ballots.make_release(
            office=office,
            first_day=MONDAY,
            last_day=FRIDAY,
            opens_at=CLOSES,
            closes_at=OPENS,
            draw_at=DRAW,
            public_value_source="-",
        )
    assert not Release.objects.exists()


def test_an_entry_gets_a_code_and_a_salted_receipt(release):
    applicant = make_applicant()

    entry = enter(release, [applicant])

    assert len(entry.code) == 10
    assert len(entry.receipt) == 64 and applicant.nik not in entry.receipt
    assert entry.preferences == [[MONDAY.isoformat(), window_at(release.office, MONDAY).pk]]
    assert list(entry.applicants.values_list("nik", flat=True)) == [applicant.nik]


def test_a_group_enters_as_one_entry_with_its_preferences_in_rank(release):
    office = release.office
    wishes = [
        (MONDAY, window_at(office, MONDAY, 10)),
        (FRIDAY, None),  # any session that Friday
        (date(2017, 9, 13), window_at(office, date(2017, 9, 13), 13)),
    ]

    entry = enter(release, make_family(3), wishes)

    assert entry.applicants.count() == 3
    assert entry.preferences[1] == [FRIDAY.isoformat(), None]


@pytest.mark.parametrize("now", [OPENS - timedelta(seconds=1), CLOSES, CLOSES + timedelta(days=1)])
def test_no_entry_before_the_opening_or_from_the_close(release, now):
    with refused("release_not_open"):
        enter(release, now=now)


def test_one_entry_per_nik_per_release_a_group_members_too(release):
    family = make_family(3)
    enter(release, family)

    with refused("entered_already") as caught:
        enter(release, [make_applicant(nik=family[2].nik)])
    assert "Applicant 1" in caught.value.messages[0]
    assert family[2].nik not in caught.value.messages[0]


def test_a_withdrawn_entry_frees_its_niks_and_stays_listed_struck(release):
    family = make_family(2)
    first = enter(release, family)

    ballots.withdraw_entry(entry=first, now=DURING)
    again = enter(release, family)
    closed = ballots.close_release(release=release, now=CLOSES)

    listed = {e["receipt"]: e["withdrawn"] for e in ballots.published(closed)["entries"]}
    assert listed == {first.receipt: True, again.receipt: False}


def test_an_entry_cannot_be_withdrawn_after_the_close(release):
    entry = enter(release)
    with refused("entry_not_changeable"):
        ballots.withdraw_entry(entry=entry, now=CLOSES)


def test_a_nik_that_holds_a_booking_cannot_enter(release, now):
    applicant = make_applicant()
    book_at(release.office, date(2017, 9, 6), nik=applicant.nik, now=now)
    with refused("group_nik_held"):
        enter(release, [applicant])


@pytest.mark.parametrize(
    "wishes, code",
    [
        ([], "preferences"),
        ([(MONDAY, None)] * 2, "preferences"),
        (
            [(MONDAY, None), (FRIDAY, None), (date(2017, 9, 12), None), (date(2017, 9, 13), None)],
            "preferences",
        ),
        ([(date(2017, 9, 18), None)], "preference_day"),
        ([(date(2017, 9, 12), None)], "preference_closed"),
    ],
)
def test_preferences_are_one_to_three_open_days_of_the_release(release, wishes, code):
    DayOverrideFactory(office=release.office, date=date(2017, 9, 12))
    with refused(code):
        ballots.enter(
            release=release, applicants=[make_applicant()], preferences=wishes, now=DURING
        )


def test_a_session_of_another_weekday_is_refused(release):
    tuesday_window = window_at(release.office, date(2017, 9, 12), 8)
    with refused("preference_window"):
        enter(release, preferences=[(MONDAY, tuesday_window)])


def test_the_close_fixes_the_list_and_publishes_its_hash(release):
    entries = [enter(release), enter(release, make_family(2))]

    closed = ballots.close_release(release=release, now=CLOSES)

    published = ballots.published(closed)
    assert closed.state == Release.State.CLOSED
    assert sorted(e["receipt"] for e in published["entries"]) == sorted(e.receipt for e in entries)
    assert {e["size"] for e in published["entries"]} == {1, 2}
    assert published["entries_hash"] == draw.entries_hash(published["entries"])
    # Nobody can enter or withdraw any more; closing again changes nothing.
    with refused("release_not_open"):
        enter(release, now=CLOSES)
    assert ballots.close_release(release=closed, now=DRAW).entries_hash == closed.entries_hash


def test_a_release_cannot_close_before_its_time(release):
    with pytest.raises(ValidationError) as caught:
        ballots.close_release(release=release, now=DURING)
    assert caught.value.code == "release_not_closing"


def test_the_published_list_holds_no_personal_data(release):
    applicant = make_applicant(full_name="Siti Aminah", phone="+6281234567890")
    enter(release, [applicant])
    closed = ballots.close_release(release=release, now=CLOSES)

    text = str(ballots.published(closed))

    assert applicant.nik not in text and "Siti" not in text and "+62" not in text


def test_the_entry_time_is_not_in_the_list(release):
    enter(release)
    closed = ballots.close_release(release=release, now=CLOSES)
    (listed,) = ballots.published(closed)["entries"]
    assert set(listed) == {"receipt", "size", "preferences", "withdrawn"}


def test_the_list_is_in_receipt_order_not_in_the_order_of_entry(release):
    entered = [enter(release).receipt for _ in range(6)]
    closed = ballots.close_release(release=release, now=CLOSES)
    listed = [e["receipt"] for e in ballots.published(closed)["entries"]]
    assert listed == sorted(entered)
