"""Release modes: an office on a ballot opens its days only by a release on its schedule."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from bookings import ballots, services
from bookings.availability import office_availability
from bookings.models import Booking, Release, ReleaseSchedule
from bookings.tests.factories import make_applicant, make_release, window_at
from offices.models import Office
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db

WIB = ZoneInfo("Asia/Jakarta")
THURSDAY = datetime(2017, 8, 31, 10, 0, tzinfo=WIB)
FRIDAY_OPENS = datetime(2017, 9, 1, 14, 0, tzinfo=WIB)
MONDAY, SUNDAY = date(2017, 9, 11), date(2017, 9, 17)  # the week after next


@pytest.fixture(autouse=True)
def _in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def ballot_office(office):
    office.release_mode = Office.ReleaseMode.BALLOT
    office.save()
    return office


def schedule_of(office, **fields):
    return ReleaseSchedule.objects.create(
        office=office,
        public_value_source="The IDX composite index at Monday's close; fallback: Tuesday's.",
        **fields,
    )


def test_each_friday_at_14_entries_open_for_the_week_after_next(ballot_office):
    schedule = schedule_of(ballot_office)  # Friday 14.00, 10 days ahead, 7 days, 48 h, 20 h

    [opening] = schedule.openings(THURSDAY, THURSDAY + timedelta(days=7))

    opens, closes, draw_at, first, last = opening
    assert opens == FRIDAY_OPENS
    assert closes == FRIDAY_OPENS + timedelta(hours=48)
    assert draw_at == datetime(2017, 9, 4, 10, 0, tzinfo=WIB)
    assert (first, last) == (MONDAY, SUNDAY)


def test_the_schedule_is_read_in_the_office_s_own_time_zone(db):
    jayapura = OfficeFactory(code="jayapura", timezone="Asia/Jayapura")
    schedule = schedule_of(jayapura)

    [(opens, *_rest)] = schedule.openings(THURSDAY, THURSDAY + timedelta(days=7))

    assert opens == datetime(2017, 9, 1, 14, 0, tzinfo=ZoneInfo("Asia/Jayapura"))
    assert opens.astimezone(WIB).time() == time(12, 0)


def test_a_schedule_whose_draw_would_come_after_its_first_day_is_refused(ballot_office):
    schedule = ReleaseSchedule(
        office=ballot_office,
        days_ahead=3,
        entry_hours=48,
        draw_hours=20,
        public_value_source="x",
    )

    with pytest.raises(ValidationError) as caught:
        schedule.full_clean()

    assert "days_ahead" in caught.value.message_dict


def test_the_scheduled_releases_are_made_a_week_ahead_and_once(ballot_office):
    schedule_of(ballot_office)

    assert ballots.make_scheduled_releases(now=THURSDAY) == 1
    assert ballots.make_scheduled_releases(now=THURSDAY + timedelta(hours=1)) == 0

    release = Release.objects.get()
    assert (release.first_day, release.last_day) == (MONDAY, SUNDAY)
    assert release.opens_at == FRIDAY_OPENS and release.state == Release.State.OPEN
    assert release.public_value_source.startswith("The IDX composite index")
    assert len(release.seed_hash) == 64
    # A week on, the next one: the days after.
    assert ballots.make_scheduled_releases(now=THURSDAY + timedelta(days=7)) == 1
    assert Release.objects.order_by("first_day").last().first_day == MONDAY + timedelta(days=7)


def test_no_release_is_made_for_a_first_come_office_an_inactive_schedule_or_days_taken(
    office,
):
    schedule_of(office)  # the office is first come, first served
    inactive = OfficeFactory(code="makassar", release_mode=Office.ReleaseMode.BALLOT)
    schedule_of(inactive, active=False)
    covered = OfficeFactory(code="jayapura", release_mode=Office.ReleaseMode.BALLOT)
    schedule_of(covered)
    make_release(covered, MONDAY + timedelta(days=2))  # made by hand, inside the week

    assert ballots.make_scheduled_releases(now=THURSDAY) == 0
    assert Release.objects.count() == 1


def test_run_due_makes_the_scheduled_releases(ballot_office):
    schedule_of(ballot_office)

    ballots.run_due(now=THURSDAY)

    assert Release.objects.filter(office=ballot_office).count() == 1


# ---- booking at an office on a ballot -----------------------------------------------------


def _book(office, day, now):
    return services.create_booking(
        office=office, day=day, window=window_at(office, day), applicant=make_applicant(), now=now
    )


def test_a_day_no_drawn_release_covers_cannot_be_booked(ballot_office, now):
    day = now.date() + timedelta(days=6)  # within the horizon, in no release
    make_release(ballot_office, MONDAY + timedelta(days=7))  # a later week's, not drawn

    with pytest.raises(ValidationError) as caught:
        _book(ballot_office, day, now)

    assert caught.value.code == "not_released"
    assert not Booking.objects.exists()


def test_the_days_of_a_release_open_to_booking_once_it_is_drawn(ballot_office, now):
    release = make_release(ballot_office, MONDAY, SUNDAY)
    with pytest.raises(ValidationError) as caught:
        _book(ballot_office, MONDAY, now)
    assert caught.value.code == "not_released"

    ballots.close_release(release=release, now=release.closes_at)
    ballots.draw_release(release=release, public_value="7310.52", now=release.draw_at)

    assert _book(ballot_office, MONDAY, now).status == Booking.Status.BOOKED


def test_a_first_come_office_books_as_before(office, now):
    make_release(office, MONDAY, SUNDAY)  # a release does not close a first-come office's days

    assert _book(office, MONDAY, now).status == Booking.Status.BOOKED


def test_the_calendar_shows_a_ballot_s_days_and_the_days_not_released_yet(
    ballot_office, now, django_assert_num_queries
):
    release = make_release(ballot_office, MONDAY, SUNDAY)

    with django_assert_num_queries(5):
        days = {d.date: d for d in office_availability(ballot_office, now.date(), 20, now=now)}

    assert days[MONDAY].state == "ballot" and days[MONDAY].release.pk == release.pk
    assert not days[MONDAY].bookable
    assert days[date(2017, 9, 7)].state == "unavailable"  # before any release
    assert days[SUNDAY].state == "ballot"
    assert days[date(2017, 9, 18)].state == "unavailable"  # after it


def test_a_drawn_release_s_days_show_their_places(ballot_office, now):
    release = make_release(ballot_office, MONDAY, SUNDAY)
    ballots.close_release(release=release, now=release.closes_at)
    ballots.draw_release(release=release, public_value="7310.52", now=release.draw_at)

    [monday] = office_availability(ballot_office, MONDAY, 1, now=now)

    assert monday.state == "open" and monday.remaining == 135


def test_a_first_come_office_s_calendar_costs_four_queries(office, now, django_assert_num_queries):
    make_release(office, MONDAY, SUNDAY)

    with django_assert_num_queries(4):
        days = office_availability(office, now.date(), 20, now=now)

    assert {d.date: d for d in days}[MONDAY].state == "open"
