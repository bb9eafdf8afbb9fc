"""Availability: each day's state and places left, from the first bookable day to the horizon."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from bookings.availability import next_free_days, office_availability
from bookings.services import cancel_booking, register_walk_in
from bookings.tests.factories import book_at as book
from bookings.tests.factories import make_applicant
from offices.schedule import Closure
from offices.tests.factories import DayOverrideFactory, OfficeFactory

pytestmark = pytest.mark.django_db

WIB = ZoneInfo("Asia/Jakarta")
TODAY = date(2017, 9, 5)  # a Tuesday
WEDNESDAY = date(2017, 9, 6)
THURSDAY = date(2017, 9, 7)


def by_date(days):
    return {d.date: d for d in days}


def remaining_by_window(day):
    return {w.window.start.hour: w.remaining for w in day.windows}


@pytest.fixture
def weekday_office(db):
    return OfficeFactory(code="palembang", open_weekdays="01234")


def test_an_untouched_open_day_offers_every_window(office, now):
    day = office_availability(office, WEDNESDAY, 1, now=now)[0]

    assert day.state == "open"
    assert day.bookable
    assert (day.quota, day.remaining) == (150, 135)
    assert remaining_by_window(day) == {8: 45, 10: 45, 13: 45}
    assert all(w.capacity == 45 and w.bookable for w in day.windows)


def test_states_over_two_weeks(weekday_office, now):
    DayOverrideFactory(office=weekday_office, date=THURSDAY, reason="Pemadaman listrik")

    with translation.override("id"):
        days = by_date(office_availability(weekday_office, TODAY, 17, now=now))

    assert len(days) == 17
    assert days[TODAY].state == "unavailable"  # today: bookable from tomorrow
    assert days[WEDNESDAY].state == "open"
    assert days[THURSDAY].state == "closed"
    assert days[THURSDAY].plan.closure == Closure.OVERRIDE
    assert days[THURSDAY].plan.closed_label == "Pemadaman listrik"
    assert days[date(2017, 9, 9)].state == "closed"
    assert days[date(2017, 9, 9)].plan.closure == Closure.WEEKLY
    assert days[date(2017, 9, 21)].state == "closed"
    assert days[date(2017, 9, 21)].plan.reason == "Tahun Baru Islam"
    closed = days[date(2017, 9, 9)]
    assert (closed.remaining, closed.windows, closed.bookable) == (0, (), False)


def test_remaining_places_after_bookings_and_a_cancellation(office, now):
    book(office, WEDNESDAY, 8, now=now)
    book(office, WEDNESDAY, 8, now=now)
    cancelled = book(office, WEDNESDAY, 10, now=now)
    book(office, WEDNESDAY, 13, now=now)
    cancel_booking(booking=cancelled, now=now)

    day = office_availability(office, WEDNESDAY, 1, now=now)[0]

    assert remaining_by_window(day) == {8: 43, 10: 45, 13: 44}
    assert day.remaining == 132
    assert day.state == "open"


def test_a_window_that_is_full_leaves_the_day_open(now):
    office = OfficeFactory(windows=[(time(8), time(10), 1), (time(10), time(12), 45)])
    book(office, WEDNESDAY, 8, now=now)

    day = office_availability(office, WEDNESDAY, 1, now=now)[0]

    assert remaining_by_window(day) == {8: 0, 10: 45}
    assert not day.windows[0].bookable
    assert day.state == "open"


def test_a_day_whose_windows_are_all_full_is_full(now):
    office = OfficeFactory(windows=[(time(8), time(10), 1), (time(10), time(12), 1)])
    book(office, WEDNESDAY, 8, now=now)
    book(office, WEDNESDAY, 10, now=now)

    days = by_date(office_availability(office, WEDNESDAY, 2, now=now))

    assert days[WEDNESDAY].state == "full"
    assert days[WEDNESDAY].remaining == 0
    assert not days[WEDNESDAY].bookable
    assert days[THURSDAY].state == "open"


def test_the_online_quota_caps_every_window(office, now):
    # Quota 20 − reserve 15 leaves 5 online places however large the windows are.
    DayOverrideFactory(office=office, date=WEDNESDAY, closed=False, quota=20, reason="Rapat")

    day = office_availability(office, WEDNESDAY, 1, now=now)[0]
    assert (day.quota, day.remaining) == (20, 5)
    assert remaining_by_window(day) == {8: 5, 10: 5, 13: 5}

    for hour in (8, 10, 13, 8, 10):
        book(office, WEDNESDAY, hour, now=now)
    day = office_availability(office, WEDNESDAY, 1, now=now)[0]
    assert day.state == "full"
    assert remaining_by_window(day) == {8: 0, 10: 0, 13: 0}


def test_priority_walk_ins_use_the_reserve_and_others_the_online_places(now):
    # Quota 20 − reserve 15: five online places; this office also books on the day.
    office = OfficeFactory(min_days_ahead=0)
    DayOverrideFactory(office=office, date=TODAY, closed=False, quota=20, reason="Rapat")

    register_walk_in(office=office, applicant=make_applicant(), reason="elderly", by=None, now=now)
    assert office_availability(office, TODAY, 1, now=now)[0].remaining == 5

    register_walk_in(office=office, applicant=make_applicant(), reason="far_away", by=None, now=now)
    day = office_availability(office, TODAY, 1, now=now)[0]
    assert day.remaining == 4
    assert remaining_by_window(day) == {8: 4, 10: 4, 13: 4}


def test_started_windows_are_not_offered_on_the_same_day(now):
    office = OfficeFactory(min_days_ahead=0)

    day = office_availability(office, TODAY, 1, now=now)[0]  # 09:00 WIB

    assert [w.started for w in day.windows] == [True, False, False]
    assert [w.bookable for w in day.windows] == [False, True, True]
    assert day.remaining == 90
    assert day.state == "open"


def test_today_is_unavailable_when_booking_starts_tomorrow(office, now):
    days = office_availability(office, TODAY, 2, now=now)

    assert [d.state for d in days] == ["unavailable", "open"]
    assert not days[0].bookable


def test_the_horizon_ends_the_bookable_range(office, now):
    days = by_date(office_availability(office, date(2017, 10, 4), 3, now=now))

    assert days[date(2017, 10, 5)].state == "open"  # 30 days ahead
    assert days[date(2017, 10, 6)].state == "unavailable"
    assert not days[date(2017, 10, 6)].bookable


@pytest.mark.parametrize(
    ("utc_time", "first_in_wib", "first_in_wit"),
    [
        # 23:30 on the 5th in Palembang, already 01:30 on the 6th in Jayapura.
        (datetime(2017, 9, 5, 16, 30, tzinfo=UTC), WEDNESDAY, THURSDAY),
        # Still the 5th in UTC, but the 6th in both offices.
        (datetime(2017, 9, 5, 23, 30, tzinfo=UTC), THURSDAY, THURSDAY),
        (datetime(2017, 9, 6, 0, 30, tzinfo=UTC), THURSDAY, THURSDAY),
        # Just before midnight in Palembang, and in Jayapura.
        (datetime(2017, 9, 5, 16, 59, tzinfo=UTC), WEDNESDAY, THURSDAY),
        (datetime(2017, 9, 5, 14, 59, tzinfo=UTC), WEDNESDAY, WEDNESDAY),
    ],
)
def test_the_first_bookable_day_is_tomorrow_in_each_office_zone(
    utc_time, first_in_wib, first_in_wit
):
    wib = OfficeFactory(code="palembang", timezone="Asia/Jakarta")
    wit = OfficeFactory(code="jayapura", timezone="Asia/Jayapura")

    for office, first in ((wib, first_in_wib), (wit, first_in_wit)):
        days = office_availability(office, TODAY, 4, now=utc_time)
        assert [d.date for d in days if d.state == "unavailable"] == [
            d.date for d in days if d.date < first
        ]
        assert [d.date for d in days if d.state == "open"] == [
            d.date for d in days if d.date >= first
        ]
    free = next_free_days([wib, wit], now=utc_time)
    assert (free[wib.pk].date, free[wit.pk].date) == (first_in_wib, first_in_wit)


def test_next_free_day_skips_full_and_closed_days(now):
    office = OfficeFactory(windows=[(time(8), time(10), 1)], open_weekdays="01234")
    book(office, WEDNESDAY, 8, now=now)
    DayOverrideFactory(office=office, date=THURSDAY, reason="Rapat")

    free = next_free_days([office], now=now)

    assert free[office.pk].date == date(2017, 9, 8)  # Friday


def test_an_office_with_nothing_free_has_no_next_free_day(now):
    office = OfficeFactory(windows=[(time(8), time(10), 1)], booking_horizon_days=1)
    book(office, WEDNESDAY, 8, now=now)

    assert next_free_days([office], now=now) == {office.pk: None}
    assert next_free_days([], now=now) == {}


def _queries(action):
    with CaptureQueriesContext(connection) as captured:
        action()
    return len(captured.captured_queries)


def test_availability_costs_the_same_queries_for_a_week_or_two_months(
    office, now, django_assert_num_queries
):
    for day in (WEDNESDAY, THURSDAY, date(2017, 9, 20)):
        book(office, day, 8, now=now)
    DayOverrideFactory(office=office, date=date(2017, 9, 12), reason="Rapat")

    week = _queries(lambda: office_availability(office, TODAY, 7, now=now))
    two_months = _queries(lambda: office_availability(office, TODAY, 60, now=now))

    assert week == two_months
    with django_assert_num_queries(4):
        days = office_availability(office, TODAY, 60, now=now)
    assert len(days) == 60


def test_next_free_days_costs_the_same_queries_for_one_office_or_many(
    now, django_assert_num_queries
):
    offices = [
        OfficeFactory(code=code, timezone=zone)
        for code, zone in [
            ("palembang", "Asia/Jakarta"),
            ("makassar", "Asia/Makassar"),
            ("jayapura", "Asia/Jayapura"),
            ("batam", "Asia/Jakarta"),
        ]
    ]
    for office in offices:
        book(office, WEDNESDAY, 8, now=now)

    one = _queries(lambda: next_free_days(offices[:1], now=now))
    many = _queries(lambda: next_free_days(offices, now=now))

    assert one == many
    with django_assert_num_queries(4):
        free = next_free_days(offices, now=now)
    assert {office.pk: free[office.pk].date for office in offices} == {
        office.pk: WEDNESDAY for office in offices
    }


def test_readers_on_the_real_clock_share_one_computation(
    office, settings, django_assert_num_queries
):
    settings.AVAILABILITY_CACHE_SECONDS = 60
    start = office.first_bookable_day(timezone.now())
    first = office_availability(office, start, 7)
    with django_assert_num_queries(0):
        again = office_availability(office, start, 7)
    assert [d.remaining for d in again] == [d.remaining for d in first]


def test_a_pinned_clock_or_no_cache_always_computes(office, settings, django_assert_num_queries):
    settings.AVAILABILITY_CACHE_SECONDS = 60
    start = office.first_bookable_day(timezone.now())
    office_availability(office, start, 7, now=timezone.now())
    with django_assert_num_queries(4):
        office_availability(office, start, 7, now=timezone.now())
    settings.AVAILABILITY_CACHE_SECONDS = 0
    with django_assert_num_queries(4):
        office_availability(office, start, 7)
