"""Office services: quotas, windows and day overrides follow what is booked, with history."""

from datetime import date, time, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import translation

from bookings.services import register_walk_in
from bookings.tests.factories import book, make_applicant, window_on
from offices import services
from offices.models import DayOverride, OfficeDay, WindowDay
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db

THURSDAY = date(2017, 9, 7)
FRIDAY = date(2017, 9, 8)
SATURDAY = date(2017, 9, 9)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def clerk(db):
    return get_user_model().objects.create_user("clerk", is_staff=True)


def _messages(excinfo):
    return " ".join(excinfo.value.messages)


# Office quota and walk-in reserve.


def test_lowering_the_quota_below_a_booked_day_is_refused_with_the_count(office, now, clerk):
    for _ in range(3):
        book(office, THURSDAY, now=now)
    office.daily_quota, office.walk_in_reserve = 2, 0
    with pytest.raises(ValidationError) as excinfo:
        services.update_office(office=office, by=clerk, now=now)
    assert "3 places are already booked on Thursday, 7 September 2017" in _messages(excinfo)
    office.refresh_from_db()
    assert office.daily_quota == 150
    assert OfficeDay.objects.get(office=office, date=THURSDAY).quota == 150


def test_the_check_alone_refuses_the_same_and_writes_nothing(office, now):
    book(office, THURSDAY, now=now)
    book(office, THURSDAY, now=now)
    office.daily_quota, office.walk_in_reserve = 1, 0
    with pytest.raises(ValidationError, match="2 places are already booked"):
        services.check_office(office=office, now=now)
    assert OfficeDay.objects.get(office=office, date=THURSDAY).quota == 150


def test_a_larger_walk_in_reserve_cannot_squeeze_online_bookings(office, now, clerk):
    for _ in range(3):
        book(office, THURSDAY, now=now)
    office.daily_quota, office.walk_in_reserve = 5, 3
    with pytest.raises(ValidationError, match="3 online bookings already hold places"):
        services.update_office(office=office, by=clerk, now=now)


def test_a_new_quota_reaches_the_counters_and_records_who(office, now, clerk):
    book(office, THURSDAY, now=now)
    office.daily_quota, office.walk_in_reserve = 120, 20
    services.update_office(office=office, by=clerk, now=now)
    row = OfficeDay.objects.get(office=office, date=THURSDAY)
    assert (row.quota, row.online_quota, row.booked) == (120, 100, 1)
    # Days not booked yet get their counter now, so a booking racing us waits on its lock.
    assert OfficeDay.objects.get(office=office, date=FRIDAY).quota == 120
    assert not OfficeDay.objects.filter(office=office, date__lt=date(2017, 9, 5)).exists()
    last = office.history.first()
    assert (last.daily_quota, last.history_user) == (120, clerk)


def test_lowering_to_exactly_the_booked_number_is_allowed(office, now, clerk):
    book(office, THURSDAY, now=now)
    book(office, THURSDAY, now=now)
    office.daily_quota, office.walk_in_reserve = 2, 0
    services.update_office(office=office, by=clerk, now=now)
    assert OfficeDay.objects.get(office=office, date=THURSDAY).quota == 2


def test_closing_a_weekday_with_bookings_is_refused(office, now, clerk):
    book(office, THURSDAY, now=now)
    office.open_weekdays = "012456"  # no Thursdays
    with pytest.raises(ValidationError, match="1 applicant is booked on Thursday"):
        services.update_office(office=office, by=clerk, now=now)


def test_places_a_supervisor_added_stay_when_the_quota_changes(now, clerk):
    office = OfficeFactory(daily_quota=1, walk_in_reserve=0)
    supervisor = get_user_model().objects.create_superuser("boss", password="x")
    today = office.local_now(now).date()
    for reason in ["far_away", "far_away"]:
        register_walk_in(
            office=office,
            applicant=make_applicant(),
            reason=reason,
            by=supervisor,
            override_reason="Came from Pagar Alam",
            now=now,
        )
    assert OfficeDay.objects.get(office=office, date=today).quota == 2
    office.daily_quota = 5
    services.update_office(office=office, by=clerk, now=now)
    assert OfficeDay.objects.get(office=office, date=today).quota == 6


def test_changing_other_details_leaves_the_counters_alone(office, now, clerk):
    book(office, THURSDAY, now=now)
    OfficeDay.objects.filter(office=office, date=THURSDAY).update(quota=149)
    office.phone = "0711 123456"
    services.update_office(office=office, by=clerk, now=now)
    assert OfficeDay.objects.get(office=office, date=THURSDAY).quota == 149


# Service windows.


def test_lowering_a_window_below_its_bookings_is_refused(office, now, clerk):
    window = window_on(office, THURSDAY)
    for _ in range(2):
        book(office, THURSDAY, now=now)
    window.capacity = 1
    with pytest.raises(ValidationError) as excinfo:
        services.save_window(window=window, by=clerk, now=now)
    assert "2 places are already booked in the session 08.00–10.00" in _messages(excinfo)
    window.refresh_from_db()
    assert window.capacity == 45


def test_a_window_capacity_reaches_its_counters(office, now, clerk):
    window = window_on(office, THURSDAY)
    book(office, THURSDAY, now=now)
    window.capacity = 30
    services.save_window(window=window, by=clerk, now=now)
    assert WindowDay.objects.get(window=window, date=THURSDAY).capacity == 30
    assert WindowDay.objects.get(window=window, date=THURSDAY + timedelta(days=7)).capacity == 30
    assert window.history.first().history_user == clerk


def test_a_booked_window_cannot_move(office, now, clerk):
    window = window_on(office, THURSDAY)
    book(office, THURSDAY, now=now)
    window.start, window.end = time(8, 30), time(9, 45)
    with pytest.raises(ValidationError, match="weekday and times cannot change"):
        services.save_window(window=window, by=clerk, now=now)


def test_a_window_that_held_bookings_cannot_be_deleted(office, now, clerk):
    window = window_on(office, THURSDAY)
    book(office, THURSDAY, now=now)
    with pytest.raises(ValidationError, match="holds bookings"):
        services.delete_window(window=window, by=clerk)


# Day overrides.


def test_closing_a_booked_day_is_refused(office, now, clerk):
    book(office, THURSDAY, now=now)
    closure = DayOverride(office=office, date=THURSDAY, closed=True, reason="Banjir")
    with pytest.raises(ValidationError, match="1 applicant is booked on Thursday"):
        services.save_day_override(override=closure, by=clerk, now=now)
    assert not DayOverride.objects.exists()


def test_closing_and_reopening_a_day_moves_its_counter(office, now, clerk):
    book(office, THURSDAY, now=now)
    booking = book(office, FRIDAY, now=now)
    from bookings.services import cancel_booking

    cancel_booking(booking=booking, now=now)
    closure = services.save_day_override(
        override=DayOverride(office=office, date=FRIDAY, closed=True, reason="Banjir"),
        by=clerk,
        now=now,
    )
    assert OfficeDay.objects.get(office=office, date=FRIDAY).quota == 0
    assert closure.history.first().history_user == clerk
    services.delete_day_override(override=closure, by=clerk, now=now)
    assert OfficeDay.objects.get(office=office, date=FRIDAY).quota == 150
    assert DayOverride.history.filter(history_type="-").first().history_user == clerk


def test_a_day_quota_below_its_bookings_is_refused(office, now, clerk):
    for _ in range(3):
        book(office, THURSDAY, now=now)
    override = DayOverride(office=office, date=THURSDAY, closed=False, quota=2, reason="Rapat")
    with pytest.raises(ValidationError, match="3 places are already booked"):
        services.check_day_override(override=override, now=now)
    with pytest.raises(ValidationError, match="3 places are already booked"):
        services.save_day_override(override=override, by=clerk, now=now)


def test_removing_a_higher_day_quota_is_refused_when_the_day_holds_more(office, now, clerk):
    override = services.save_day_override(
        override=DayOverride(office=office, date=THURSDAY, closed=False, quota=160, reason="X"),
        by=clerk,
        now=now,
    )
    OfficeDay.objects.filter(office=office, date=THURSDAY).update(booked=155, online_booked=135)
    with pytest.raises(ValidationError, match="155 places are already booked"):
        services.delete_day_override(override=override, by=clerk, now=now)


def test_days_that_have_passed_cannot_change(office, now, clerk):
    past = DayOverride(office=office, date=date(2017, 9, 4), closed=True, reason="Late")
    with pytest.raises(ValidationError, match="passed"):
        services.save_day_override(override=past, by=clerk, now=now)


def test_a_range_closes_the_days_the_office_would_open(now, clerk):
    office = OfficeFactory(open_weekdays="01234")  # Monday to Friday
    result = services.override_days(
        office=office,
        start=THURSDAY,
        end=date(2017, 9, 12),
        reason="Renovasi gedung",
        by=clerk,
        now=now,
    )
    closed = sorted(o.date for o in DayOverride.objects.filter(office=office))
    assert closed == [THURSDAY, FRIDAY, date(2017, 9, 11), date(2017, 9, 12)]
    assert result.skipped == (SATURDAY, date(2017, 9, 10))
    record = DayOverride.history.filter(date=THURSDAY).first()
    assert (record.history_user, record.history_change_reason) == (clerk, "Renovasi gedung")


def test_a_range_quota_never_opens_a_holiday(office, now, clerk):
    holiday = date(2017, 9, 21)  # Tahun Baru Islam
    result = services.override_days(
        office=office,
        start=date(2017, 9, 20),
        end=date(2017, 9, 22),
        reason="Pelayanan terbatas",
        closed=False,
        quota=80,
        by=clerk,
        now=now,
    )
    assert result.skipped == (holiday,)
    assert [o.quota for o in result.overrides] == [80, 80]


def test_a_range_with_one_booked_day_writes_nothing(office, now, clerk):
    book(office, FRIDAY, now=now)
    with pytest.raises(ValidationError, match="1 applicant is booked on Friday"):
        services.override_days(
            office=office, start=THURSDAY, end=SATURDAY, reason="Banjir", by=clerk, now=now
        )
    assert not DayOverride.objects.exists()


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (FRIDAY, THURSDAY, "cannot be before"),
        (THURSDAY, THURSDAY + timedelta(days=400), "at most 366 days"),
        (date(2017, 9, 1), THURSDAY, "passed"),
    ],
)
def test_a_bad_range_is_refused(office, now, clerk, start, end, message):
    with pytest.raises(ValidationError, match=message):
        services.override_days(office=office, start=start, end=end, reason="X", by=clerk, now=now)


# Holidays.


def test_the_holidays_of_a_year_come_with_their_names():
    found = dict(services.national_holidays(2017, "id"))
    assert found[date(2017, 8, 17)] == "Hari Kemerdekaan Republik Indonesia"
    assert "Cuti Bersama" in found[date(2017, 6, 27)]
    blocks = services.holiday_blocks(2017, "id")
    lebaran = next(b for b in blocks if b[0] == date(2017, 6, 25))
    assert lebaran[1] == date(2017, 6, 30)
    assert "Hari Raya Idul Fitri" in lebaran[2]
