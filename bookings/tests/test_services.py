"""Booking services: create, cancel, reschedule, walk-in, check-in, no-show and reminders."""

from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from bookings.codes import (
    CODE_ALPHABET,
    new_code,
    new_codes,
    new_group_code,
    new_group_codes,
    normalize_code,
)
from bookings.models import Booking, Notification
from bookings.services import (
    CANCELLED_BY_APPLICANT,
    cancel_booking,
    check_in,
    create_booking,
    create_due_reminders,
    mark_due_no_shows,
    mark_no_show,
    refuse_kept_full,
    register_walk_in,
    reschedule_booking,
)
from bookings.tests.factories import (
    assert_counters_match_bookings,
    make_applicant,
    make_nik,
    window_at,
)
from bookings.tests.factories import book_at as book
from offices.models import OfficeDay, WindowDay
from offices.tests.factories import DayOverrideFactory, OfficeFactory

pytestmark = pytest.mark.django_db

WIB = ZoneInfo("Asia/Jakarta")
WEDNESDAY = date(2017, 9, 6)  # the `tomorrow` fixture
THURSDAY = date(2017, 9, 7)
ON_WEDNESDAY = datetime(2017, 9, 6, 7, 30, tzinfo=WIB)  # before the first window opens


# Helpers.


@contextmanager
def refused(code):
    """Expect a service to refuse with this code."""
    with pytest.raises(ValidationError) as caught:
        yield caught
    assert caught.value.code == code, caught.value


def day_counter(office, day):
    row = OfficeDay.objects.get(office=office, date=day)
    return row.booked, row.online_booked


def window_counter(office, day, hour):
    # A window's row is made when its first place is taken: no row, nothing booked.
    rows = WindowDay.objects.filter(window=window_at(office, day, hour), date=day)
    return rows.values_list("booked", flat=True).first() or 0


def notifications(booking, kind):
    return sorted(
        booking.notifications.filter(kind=kind).values_list("channel", "sequence", "status")
    )


@pytest.fixture
def staff(office):
    """A clerk of the office."""
    user = get_user_model().objects.create_user("petugas", password="x", is_staff=True)
    office.staff.add(user)
    return user


@pytest.fixture
def supervisor(db):
    return get_user_model().objects.create_user(
        "supervisor", password="x", is_staff=True, is_superuser=True
    )


# Booking codes.


def test_a_code_is_ten_unambiguous_symbols():
    codes = {new_code() for _ in range(200)}

    assert len(codes) == 200
    for code in codes:
        assert len(code) == 10
        assert set(code) <= set(CODE_ALPHABET)
    assert not set("01IO") & set(CODE_ALPHABET)
    assert len(set(CODE_ALPHABET)) == 32  # 10 × 5 = 50 random bits


@pytest.mark.parametrize(
    "draw",
    [
        lambda count: [new_code() for _ in range(count)],
        lambda count: [new_group_code() for _ in range(count)],
        new_codes,  # a draw's codes, drawn at once
        new_group_codes,
    ],
    ids=["code", "group code", "codes at once", "group codes at once"],
)
def test_every_symbol_comes_up_at_every_place_of_a_code(draw):
    drawn = draw(3000)

    assert len(set(drawn)) == 3000
    assert len({len(code) for code in drawn}) == 1
    for place in range(len(drawn[0])):
        assert {code[place] for code in drawn} == set(CODE_ALPHABET)


def test_a_code_typed_by_a_clerk_is_normalised():
    assert normalize_code(" abcd-efgh 23 ") == "ABCDEFGH23"
    assert normalize_code(None) == ""


# create_booking.


def test_booking_takes_a_place_in_the_window_and_the_day(office, now, tomorrow):
    booking = book(office, tomorrow, 8, now=now)

    booking.refresh_from_db()
    assert booking.status == Booking.Status.BOOKED
    assert booking.channel == Booking.Channel.ONLINE
    assert booking.office == office and booking.date == tomorrow
    assert booking.starts_at == datetime(2017, 9, 6, 8, tzinfo=WIB)
    assert booking.ends_at == datetime(2017, 9, 6, 10, tzinfo=WIB)
    assert not booking.birth_date_mismatch
    assert not booking.uses_reserve
    assert booking.queue_number == ""
    assert len(booking.code) == 10
    assert day_counter(office, tomorrow) == (1, 1)
    assert window_counter(office, tomorrow, 8) == 1
    assert window_counter(office, tomorrow, 10) == 0
    row = OfficeDay.objects.get(office=office, date=tomorrow)
    assert (row.quota, row.online_quota) == (150, 135)
    assert_counters_match_bookings()


def test_booking_writes_one_confirmation_per_channel(office, now, tomorrow):
    booking = book(office, tomorrow, now=now)

    assert notifications(booking, Notification.Kind.CONFIRMATION) == [
        ("email", 0, "pending"),
        ("sms", 0, "pending"),
    ]
    assert booking.notifications.count() == 2


def test_an_applicant_without_a_phone_gets_only_an_email(office, now, tomorrow):
    booking = book(office, tomorrow, now=now, phone="")

    assert notifications(booking, Notification.Kind.CONFIRMATION) == [("email", 0, "pending")]


def test_the_nik_is_stored_without_the_spaces_typed(office, now, tomorrow):
    booking = book(office, tomorrow, now=now, nik="1671 0117 0590 0077")

    assert Booking.objects.get(pk=booking.pk).nik == "1671011705900077"


def test_a_birth_date_that_differs_from_the_nik_flags_but_does_not_block(office, now, tomorrow):
    nik = make_nik(date(1990, 5, 17))

    booking = book(office, tomorrow, now=now, nik=nik, birth_date=date(1990, 5, 18))

    booking.refresh_from_db()
    assert booking.birth_date_mismatch
    assert booking.birth_date == date(1990, 5, 18)
    assert booking.status == Booking.Status.BOOKED


def test_a_womans_nik_matches_her_birth_date(office, now, tomorrow):
    birth = date(1985, 2, 3)

    booking = book(office, tomorrow, now=now, nik=make_nik(birth, female=True), birth_date=birth)

    assert not booking.birth_date_mismatch


@pytest.mark.parametrize(
    ("nik", "code"),
    [
        ("12345", "nik_length"),
        ("1671011705900000", "nik_serial"),
        ("9971011705900001", "nik_province"),
    ],
)
def test_a_bad_nik_books_nothing(office, now, tomorrow, nik, code):
    with refused(code):
        book(office, tomorrow, now=now, nik=nik)

    assert not Booking.objects.exists()
    assert not OfficeDay.objects.exists()


def test_a_code_clash_draws_again_and_books_once(office, now, tomorrow, monkeypatch):
    taken = book(office, tomorrow, now=now).code
    fresh = new_code()
    draws = iter([taken, fresh])
    monkeypatch.setattr("bookings.codes.new_code", lambda: next(draws))

    booking = book(office, tomorrow, now=now, nik=make_nik())

    assert booking.code == fresh
    assert Booking.objects.filter(code=fresh).count() == 1
    assert day_counter(office, tomorrow) == (2, 2)  # the clashing attempt rolled back
    assert window_counter(office, tomorrow, 8) == 2
    assert Notification.objects.filter(booking=booking).count() == 2


def test_a_booking_takes_the_window_as_stored_not_as_the_caller_read_it(office, now, tomorrow):
    window = window_at(office, tomorrow, 13)
    office.windows.filter(pk=window.pk).update(start=time(13, 30))  # after the caller read it

    booking = create_booking(
        office=office, day=tomorrow, window=window, applicant=make_applicant(), now=now
    )

    assert booking.starts_at.astimezone(WIB).time() == time(13, 30)
    assert booking.window.start == time(13, 30)


def test_a_nik_holds_one_active_booking(office, now, tomorrow):
    nik = make_nik()
    book(office, tomorrow, 8, now=now, nik=nik)

    with refused("duplicate"):
        book(office, THURSDAY, 10, now=now, nik=nik)

    assert Booking.objects.count() == 1
    assert_counters_match_bookings()


def test_a_nik_holds_one_active_booking_nationwide(office, now, tomorrow):
    makassar = OfficeFactory(code="makassar", timezone="Asia/Makassar")
    nik = make_nik()
    book(office, tomorrow, now=now, nik=nik)

    with refused("duplicate"):
        book(makassar, tomorrow, now=now, nik=nik)


def test_the_nik_may_book_again_once_its_booking_is_cancelled(office, now, tomorrow):
    nik = make_nik()
    first = book(office, tomorrow, now=now, nik=nik)
    cancel_booking(booking=first, now=now)

    second = book(office, tomorrow, now=now, nik=nik)

    assert second.status == Booking.Status.BOOKED
    assert_counters_match_bookings()


def test_a_full_window_refuses_and_counts_nothing(now, tomorrow):
    office = OfficeFactory(windows=[(time(8), time(10), 2), (time(10), time(12), 45)])
    book(office, tomorrow, 8, now=now)
    book(office, tomorrow, 8, now=now)

    with refused("full"):
        book(office, tomorrow, 8, now=now)

    assert day_counter(office, tomorrow) == (2, 2)
    assert window_counter(office, tomorrow, 8) == 2
    assert Booking.objects.count() == 2
    assert book(office, tomorrow, 10, now=now).status == Booking.Status.BOOKED


def test_a_day_whose_online_quota_is_used_refuses_every_window(office, now, tomorrow):
    # Quota 17 − reserve 15 = 2 online places, whatever the windows hold.
    DayOverrideFactory(office=office, date=tomorrow, closed=False, quota=17, reason="Rapat")
    book(office, tomorrow, 8, now=now)
    book(office, tomorrow, 10, now=now)

    with refused("day_full"):
        book(office, tomorrow, 13, now=now)

    assert day_counter(office, tomorrow) == (2, 2)
    assert window_counter(office, tomorrow, 13) == 0
    row = OfficeDay.objects.get(office=office, date=tomorrow)
    assert (row.quota, row.online_quota) == (17, 2)


def test_a_closed_day_cannot_be_booked(office, now, tomorrow):
    DayOverrideFactory(office=office, date=tomorrow, reason="Pemadaman listrik")

    with refused("closed"):
        book(office, tomorrow, now=now)

    assert not OfficeDay.objects.exists()


def test_a_day_whose_plan_is_overridden_is_booked_by_its_override(office, now, tomorrow):
    # The booking's first read sees that the day has an override; the plan is read with it.
    morning = window_at(office, tomorrow, 8)
    DayOverrideFactory(
        office=office,
        date=tomorrow,
        closed=False,
        quota=office.walk_in_reserve + 2,
        closed_windows=[morning.pk],
    )

    with refused("window_mismatch"):
        book(office, tomorrow, 8, now=now)
    book(office, tomorrow, 10, now=now)

    row = OfficeDay.objects.get(office=office, date=tomorrow)
    assert (row.quota, row.online_quota) == (office.walk_in_reserve + 2, 2)


def test_a_national_holiday_cannot_be_booked(office, now):
    with refused("closed"):
        book(office, date(2017, 9, 21), now=now)  # Tahun Baru Islam


def test_a_weekly_closing_day_cannot_be_booked(now):
    office = OfficeFactory(open_weekdays="01234")  # windows exist on Saturdays all the same

    with refused("closed"):
        book(office, date(2017, 9, 9), now=now)


@pytest.mark.parametrize(
    "day",
    [
        date(2017, 9, 5),  # today: the office books from tomorrow
        date(2017, 9, 4),  # the past
        date(2017, 10, 6),  # 31 days ahead, beyond the 30-day horizon
        date(2018, 9, 5),
    ],
)
def test_days_outside_the_booking_range_cannot_be_booked(office, now, day):
    with refused("not_bookable"):
        book(office, day, now=now)


def test_the_last_day_of_the_horizon_can_be_booked(office, now):
    assert book(office, date(2017, 10, 5), now=now).date == date(2017, 10, 5)


def test_a_window_of_another_weekday_is_refused(office, now, tomorrow):
    with refused("window_mismatch"):
        create_booking(
            office=office,
            day=tomorrow,
            window=window_at(office, THURSDAY, 8),
            applicant=make_applicant(),
            now=now,
        )


def test_a_window_of_another_office_is_refused(office, now, tomorrow):
    other = OfficeFactory(code="makassar", timezone="Asia/Makassar")

    with refused("window_mismatch"):
        create_booking(
            office=office,
            day=tomorrow,
            window=window_at(other, tomorrow, 8),
            applicant=make_applicant(),
            now=now,
        )
    assert not Booking.objects.exists()


def test_same_day_booking_refuses_a_window_that_has_begun(now):
    office = OfficeFactory(min_days_ahead=0)  # 09:00 WIB now: the 08:00 window has begun
    today = date(2017, 9, 5)

    with refused("window_started"):
        book(office, today, 8, now=now)

    assert book(office, today, 10, now=now).date == today


def test_the_first_bookable_day_is_tomorrow_in_the_office_zone():
    jayapura = OfficeFactory(timezone="Asia/Jayapura")
    # 23:30 WIB on 5 September is already 01:30 WIT on 6 September there.
    late = datetime(2017, 9, 5, 23, 30, tzinfo=WIB)

    with refused("not_bookable"):
        book(jayapura, date(2017, 9, 6), now=late)

    assert book(jayapura, date(2017, 9, 7), now=late).starts_at == datetime(
        2017, 9, 7, 8, tzinfo=ZoneInfo("Asia/Jayapura")
    )


# cancel_booking.


def test_cancelling_frees_the_place_at_once(now, tomorrow):
    office = OfficeFactory(windows=[(time(8), time(10), 1)])
    booking = book(office, tomorrow, now=now)
    with refused("full"):
        book(office, tomorrow, now=now)

    cancelled = cancel_booking(booking=booking, reason="Berhalangan", now=now)

    assert cancelled.status == Booking.Status.CANCELLED
    assert cancelled.cancelled_at == now
    assert cancelled.cancel_reason == "Berhalangan"
    assert day_counter(office, tomorrow) == (0, 0)
    assert window_counter(office, tomorrow, 8) == 0
    assert book(office, tomorrow, now=now).status == Booking.Status.BOOKED
    assert_counters_match_bookings()


def test_an_applicants_own_cancellation_records_one_reason_wherever_it_came_from(
    office, now, tomorrow
):
    booking = cancel_booking(booking=book(office, tomorrow, now=now), now=now)
    assert booking.cancel_reason == CANCELLED_BY_APPLICANT


@pytest.mark.parametrize(
    ("status", "minutes", "by_staff", "allowed"),
    [
        ("booked", -1, False, True),  # a minute before the window begins
        ("booked", 0, False, False),  # the window has begun: the applicant is too late
        ("booked", 0, True, True),  # staff may still, until the window ends
        ("booked", 120, True, False),  # the window has ended
        ("checked_in", -1, True, False),
        ("cancelled", -1, False, False),
    ],
)
def test_one_rule_says_whether_a_booking_can_still_be_cancelled(
    office, now, tomorrow, status, minutes, by_staff, allowed
):
    booking = book(office, tomorrow, now=now)
    booking.status = status
    at = booking.starts_at + timedelta(minutes=minutes)
    assert booking.can_cancel(at, by_staff=by_staff) is allowed


def test_one_rule_says_why_a_booking_can_no_longer_be_rescheduled(office, now, tomorrow, settings):
    booking = book(office, tomorrow, now=now)
    assert booking.reschedule_refusal(now) == ""
    assert booking.reschedule_refusal(booking.starts_at) == "not_reschedulable"
    booking.reschedule_count = settings.BOOKING_MAX_RESCHEDULES
    assert booking.reschedule_refusal(now) == "reschedule_limit"
    assert not booking.can_reschedule(now)


def test_a_full_day_is_said_before_a_full_window(now, tomorrow):
    office = OfficeFactory(daily_quota=1, walk_in_reserve=0, windows=[(time(8), time(10), 1)])
    book(office, tomorrow, now=now)
    with refused("day_full"):
        book(office, tomorrow, now=now)


def test_a_full_window_on_a_day_with_room_is_said_as_full(now, tomorrow):
    office = OfficeFactory(windows=[(time(8), time(10), 1), (time(10), time(12), 5)])
    book(office, tomorrow, now=now)
    with refused("full"):
        book(office, tomorrow, now=now)
    book(office, tomorrow, 10, now=now)


def test_the_last_place_taken_turns_the_crowd_away_from_memory(
    now, tomorrow, settings, django_capture_on_commit_callbacks, django_assert_num_queries
):
    settings.AVAILABILITY_CACHE_SECONDS = 60
    office = OfficeFactory(windows=[(time(8), time(10), 1), (time(10), time(12), 5)])
    early, late = window_at(office, tomorrow, 8), window_at(office, tomorrow, 10)
    with django_capture_on_commit_callbacks(execute=True):
        book(office, tomorrow, now=now)  # the 08:00 window's one place
    with django_assert_num_queries(0), refused("full"):
        refuse_kept_full(window=early, day=tomorrow)
    with django_assert_num_queries(0):  # still room: left to the booking's own read
        refuse_kept_full(window=late, day=tomorrow)


def test_a_refusal_on_the_counters_turns_the_crowd_away_from_memory(
    now, tomorrow, settings, django_assert_num_queries
):
    settings.AVAILABILITY_CACHE_SECONDS = 60
    office = OfficeFactory(windows=[(time(8), time(10), 1)])
    window = window_at(office, tomorrow, 8)
    book(office, tomorrow, now=now)
    caches["refusals"].clear()  # as in a process that did not take the last place
    refuse_kept_full(window=window, day=tomorrow)
    with refused("full"):
        book(office, tomorrow, now=now)
    with django_assert_num_queries(0), refused("full"):
        refuse_kept_full(window=window, day=tomorrow)


def test_the_last_place_of_a_day_turns_away_every_window_of_it(
    now, tomorrow, settings, django_capture_on_commit_callbacks, django_assert_num_queries
):
    settings.AVAILABILITY_CACHE_SECONDS = 60
    office = OfficeFactory(
        daily_quota=1, walk_in_reserve=0, windows=[(time(8), time(10), 5), (time(10), time(12), 5)]
    )
    windows = [window_at(office, tomorrow, hour) for hour in (8, 10)]
    with django_capture_on_commit_callbacks(execute=True):
        book(office, tomorrow, now=now)
    for window in windows:
        with django_assert_num_queries(0), refused("day_full"):
            refuse_kept_full(window=window, day=tomorrow)


def test_a_booking_rolled_back_keeps_no_refusal(now, tomorrow, settings):
    settings.AVAILABILITY_CACHE_SECONDS = 60
    office = OfficeFactory(windows=[(time(8), time(10), 1)])
    with transaction.atomic():
        book(office, tomorrow, now=now)
        transaction.set_rollback(True)
    refuse_kept_full(window=window_at(office, tomorrow, 8), day=tomorrow)  # room again
    book(office, tomorrow, now=now)


def test_cancelling_writes_a_cancellation_per_channel(office, now, tomorrow):
    booking = book(office, tomorrow, now=now)

    cancel_booking(booking=booking, now=now)

    assert notifications(booking, Notification.Kind.CANCELLATION) == [
        ("email", 0, "pending"),
        ("sms", 0, "pending"),
    ]


def test_a_booking_cannot_be_cancelled_twice(office, now, tomorrow):
    booking = book(office, tomorrow, now=now)
    cancel_booking(booking=booking, now=now)

    with refused("not_cancellable"):
        cancel_booking(booking=booking, now=now)

    assert day_counter(office, tomorrow) == (0, 0)
    assert booking.notifications.filter(kind=Notification.Kind.CANCELLATION).count() == 2


def test_an_applicant_cannot_cancel_once_the_window_has_begun(office, now, tomorrow):
    booking = book(office, tomorrow, 8, now=now)

    with refused("not_cancellable"):
        cancel_booking(booking=booking, now=booking.starts_at)

    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.BOOKED
    assert day_counter(office, tomorrow) == (1, 1)
    cancel_booking(booking=booking, now=booking.starts_at - timedelta(seconds=1))


def test_staff_may_cancel_until_the_window_ends(office, now, tomorrow, staff):
    booking = book(office, tomorrow, 8, now=now)

    with refused("not_cancellable"):
        cancel_booking(booking=booking, by=staff, now=booking.ends_at)

    cancel_booking(booking=booking, by=staff, now=booking.starts_at + timedelta(minutes=30))
    assert day_counter(office, tomorrow) == (0, 0)


# reschedule_booking.


def test_rescheduling_to_another_day_moves_both_counters(office, now, tomorrow):
    booking = book(office, tomorrow, 8, now=now)

    moved = reschedule_booking(
        booking=booking, day=THURSDAY, window=window_at(office, THURSDAY, 10), now=now
    )

    moved.refresh_from_db()
    assert (moved.date, moved.window.start) == (THURSDAY, time(10))
    assert moved.starts_at == datetime(2017, 9, 7, 10, tzinfo=WIB)
    assert moved.ends_at == datetime(2017, 9, 7, 12, tzinfo=WIB)
    assert moved.reschedule_count == 1
    assert moved.code == booking.code
    assert day_counter(office, tomorrow) == (0, 0)
    assert day_counter(office, THURSDAY) == (1, 1)
    assert window_counter(office, tomorrow, 8) == 0
    assert window_counter(office, THURSDAY, 10) == 1
    assert notifications(moved, Notification.Kind.RESCHEDULE) == [
        ("email", 1, "pending"),
        ("sms", 1, "pending"),
    ]
    assert_counters_match_bookings()


@pytest.mark.parametrize(("start", "target"), [(8, 13), (13, 8)])
def test_rescheduling_within_the_day_moves_only_the_window(office, now, tomorrow, start, target):
    booking = book(office, tomorrow, start, now=now)

    reschedule_booking(
        booking=booking, day=tomorrow, window=window_at(office, tomorrow, target), now=now
    )

    assert day_counter(office, tomorrow) == (1, 1)
    assert window_counter(office, tomorrow, start) == 0
    assert window_counter(office, tomorrow, target) == 1
    assert_counters_match_bookings()


def test_a_full_target_window_keeps_the_old_place(now, tomorrow):
    office = OfficeFactory(windows=[(time(8), time(10), 45), (time(10), time(12), 1)])
    booking = book(office, tomorrow, 8, now=now)
    book(office, tomorrow, 10, now=now)

    with refused("full"):
        reschedule_booking(
            booking=booking, day=tomorrow, window=window_at(office, tomorrow, 10), now=now
        )

    kept = Booking.objects.get(pk=booking.pk)
    assert (kept.date, kept.window.start, kept.reschedule_count) == (tomorrow, time(8), 0)
    assert window_counter(office, tomorrow, 8) == 1
    assert window_counter(office, tomorrow, 10) == 1
    assert day_counter(office, tomorrow) == (2, 2)
    assert not kept.notifications.filter(kind=Notification.Kind.RESCHEDULE).exists()
    assert_counters_match_bookings()


@pytest.mark.parametrize(("origin", "target"), [(WEDNESDAY, THURSDAY), (THURSDAY, WEDNESDAY)])
def test_a_full_target_day_keeps_the_old_place(office, now, origin, target):
    DayOverrideFactory(office=office, date=target, closed=False, quota=16, reason="Rapat")
    book(office, target, 8, now=now)  # the one online place of the target day
    booking = book(office, origin, 8, now=now)

    with refused("day_full"):
        reschedule_booking(
            booking=booking, day=target, window=window_at(office, target, 10), now=now
        )

    kept = Booking.objects.get(pk=booking.pk)
    assert (kept.date, kept.reschedule_count) == (origin, 0)
    assert day_counter(office, origin) == (1, 1)
    assert day_counter(office, target) == (1, 1)
    assert window_counter(office, origin, 8) == 1
    assert_counters_match_bookings()


def test_a_booking_is_rescheduled_once_by_default(office, now, tomorrow):
    booking = book(office, tomorrow, 8, now=now)
    reschedule_booking(
        booking=booking, day=tomorrow, window=window_at(office, tomorrow, 10), now=now
    )

    with refused("reschedule_limit") as caught:
        reschedule_booking(
            booking=booking, day=THURSDAY, window=window_at(office, THURSDAY, 8), now=now
        )

    assert "1" in caught.value.messages[0]
    assert Booking.objects.get(pk=booking.pk).window.start == time(10)
    assert_counters_match_bookings()


def test_the_reschedule_limit_is_a_setting(office, now, tomorrow, settings):
    settings.BOOKING_MAX_RESCHEDULES = 2
    booking = book(office, tomorrow, 8, now=now)

    reschedule_booking(
        booking=booking, day=tomorrow, window=window_at(office, tomorrow, 10), now=now
    )
    reschedule_booking(
        booking=booking, day=THURSDAY, window=window_at(office, THURSDAY, 8), now=now
    )
    with refused("reschedule_limit"):
        reschedule_booking(
            booking=booking, day=THURSDAY, window=window_at(office, THURSDAY, 13), now=now
        )

    assert Booking.objects.get(pk=booking.pk).reschedule_count == 2


def test_no_rescheduling_once_the_window_has_begun(office, now, tomorrow):
    booking = book(office, tomorrow, 8, now=now)

    with refused("not_reschedulable"):
        reschedule_booking(
            booking=booking,
            day=THURSDAY,
            window=window_at(office, THURSDAY, 8),
            now=booking.starts_at,
        )

    assert day_counter(office, tomorrow) == (1, 1)


def test_a_cancelled_booking_cannot_be_rescheduled(office, now, tomorrow):
    booking = book(office, tomorrow, 8, now=now)
    cancel_booking(booking=booking, now=now)

    with refused("not_reschedulable"):
        reschedule_booking(
            booking=booking, day=THURSDAY, window=window_at(office, THURSDAY, 8), now=now
        )


def test_rescheduling_into_the_same_window_is_refused(office, now, tomorrow):
    booking = book(office, tomorrow, 8, now=now)

    with refused("same_slot"):
        reschedule_booking(
            booking=booking, day=tomorrow, window=window_at(office, tomorrow, 8), now=now
        )


def test_rescheduling_follows_the_booking_rules_of_the_target(office, now, tomorrow):
    booking = book(office, tomorrow, 8, now=now)
    other = OfficeFactory(code="makassar", timezone="Asia/Makassar")
    DayOverrideFactory(office=office, date=THURSDAY, reason="Pemadaman listrik")

    with refused("window_mismatch"):
        reschedule_booking(
            booking=booking, day=tomorrow, window=window_at(other, tomorrow, 10), now=now
        )
    with refused("closed"):
        reschedule_booking(
            booking=booking, day=THURSDAY, window=window_at(office, THURSDAY, 8), now=now
        )
    with refused("not_bookable"):
        day = date(2017, 10, 6)
        reschedule_booking(booking=booking, day=day, window=window_at(office, day, 8), now=now)

    assert Booking.objects.get(pk=booking.pk).reschedule_count == 0
    assert_counters_match_bookings()


# register_walk_in.


TODAY = date(2017, 9, 5)


def test_a_priority_walk_in_uses_the_reserve(office, now, staff):
    booking = register_walk_in(
        office=office, applicant=make_applicant(), reason="elderly", by=staff, now=now
    )

    booking.refresh_from_db()
    assert booking.channel == Booking.Channel.WALK_IN
    assert booking.status == Booking.Status.CHECKED_IN
    assert booking.uses_reserve and booking.is_priority
    assert booking.queue_number == "P-001"
    assert booking.window is None
    assert booking.created_by == staff
    assert booking.checked_in_at == now
    assert day_counter(office, TODAY) == (1, 0)
    assert_counters_match_bookings()


def test_a_non_priority_walk_in_counts_like_an_online_booking(office, now, staff):
    booking = register_walk_in(
        office=office, applicant=make_applicant(), reason="far_away", by=staff, now=now
    )

    assert not booking.uses_reserve
    assert booking.queue_number == "B-001"
    assert day_counter(office, TODAY) == (1, 1)


def test_when_online_places_are_gone_only_priority_walk_ins_get_in(office, now, staff):
    DayOverrideFactory(office=office, date=TODAY, closed=False, quota=17, reason="Rapat")
    yesterday = now - timedelta(days=1)
    book(office, TODAY, 8, now=yesterday)
    book(office, TODAY, 10, now=yesterday)

    with refused("day_full"):
        register_walk_in(
            office=office, applicant=make_applicant(), reason="far_away", by=staff, now=now
        )
    walk_in = register_walk_in(
        office=office, applicant=make_applicant(), reason="pregnant", by=staff, now=now
    )

    assert walk_in.queue_number == "P-001"
    assert day_counter(office, TODAY) == (3, 2)
    assert_counters_match_bookings()


def test_a_full_day_refuses_walk_ins(office, now, staff):
    DayOverrideFactory(office=office, date=TODAY, closed=False, quota=2, reason="Rapat")
    for _ in range(2):
        register_walk_in(
            office=office, applicant=make_applicant(), reason="elderly", by=staff, now=now
        )

    with refused("day_full"):
        register_walk_in(
            office=office, applicant=make_applicant(), reason="elderly", by=staff, now=now
        )
    with refused("override_not_allowed"):
        register_walk_in(
            office=office,
            applicant=make_applicant(),
            reason="elderly",
            by=staff,
            override_reason="Datang dari Lahat",
            now=now,
        )

    assert day_counter(office, TODAY) == (2, 0)
    assert Booking.objects.count() == 2


def test_a_supervisor_may_exceed_the_quota_with_a_reason(office, now, staff, supervisor):
    DayOverrideFactory(office=office, date=TODAY, closed=False, quota=2, reason="Rapat")
    for _ in range(2):
        register_walk_in(
            office=office, applicant=make_applicant(), reason="elderly", by=staff, now=now
        )

    with refused("day_full"):
        register_walk_in(
            office=office,
            applicant=make_applicant(),
            reason="elderly",
            by=supervisor,
            override_reason="  ",
            now=now,
        )
    booking = register_walk_in(
        office=office,
        applicant=make_applicant(),
        reason="elderly",
        by=supervisor,
        override_reason=" Lansia datang dari Lahat ",
        now=now,
    )

    booking.refresh_from_db()
    assert booking.override_reason == "Lansia datang dari Lahat"
    assert booking.created_by == supervisor
    assert booking.queue_number == "P-003"
    row = OfficeDay.objects.get(office=office, date=TODAY)
    assert (row.quota, row.booked) == (3, 3)
    assert_counters_match_bookings()


def test_staff_with_the_office_day_permission_may_exceed_the_quota(office, now, staff):
    staff.user_permissions.add(Permission.objects.get(codename="change_officeday"))
    staff = get_user_model().objects.get(pk=staff.pk)  # fresh permission cache
    DayOverrideFactory(office=office, date=TODAY, closed=False, quota=1, reason="Rapat")
    register_walk_in(office=office, applicant=make_applicant(), reason="elderly", by=staff, now=now)

    booking = register_walk_in(
        office=office,
        applicant=make_applicant(),
        reason="child",
        by=staff,
        override_reason="Balita sakit",
        now=now,
    )

    assert booking.override_reason == "Balita sakit"


def test_a_supervisor_may_add_a_non_priority_walk_in_when_no_online_place_exists(
    office, now, supervisor
):
    # The reserve is the whole quota and nobody has booked the day yet.
    DayOverrideFactory(office=office, date=TODAY, closed=False, quota=10, reason="Rapat")

    booking = register_walk_in(
        office=office,
        applicant=make_applicant(),
        reason="far_away",
        by=supervisor,
        override_reason="Datang dari Merauke",
        now=now,
    )

    assert booking.queue_number == "B-001"
    row = OfficeDay.objects.get(office=office, date=TODAY)
    assert (row.quota, row.online_quota, row.booked, row.online_booked) == (11, 1, 1, 1)
    assert_counters_match_bookings()


def test_walk_ins_are_refused_on_a_closed_day(office, now, staff):
    DayOverrideFactory(office=office, date=TODAY, reason="Pemadaman listrik")

    with refused("closed"):
        register_walk_in(
            office=office, applicant=make_applicant(), reason="elderly", by=staff, now=now
        )


def test_a_walk_in_lasts_until_the_last_window_ends(office, now, staff):
    booking = register_walk_in(
        office=office, applicant=make_applicant(), reason="far_away", by=staff, now=now
    )

    assert booking.starts_at == now
    assert booking.ends_at == datetime(2017, 9, 5, 15, tzinfo=WIB)


# check_in.


def test_check_in_numbers_each_line_in_its_own_sequence(office, now, tomorrow, staff):
    online = [book(office, tomorrow, hour, now=now) for hour in (8, 10, 8)]

    numbers = [
        check_in(office=office, code=b.code, by=staff, now=ON_WEDNESDAY).queue_number
        for b in online
    ]
    walk_ins = [
        register_walk_in(
            office=office, applicant=make_applicant(), reason=reason, by=staff, now=ON_WEDNESDAY
        )
        for reason in ("far_away", "elderly", "other", "disability")
    ]

    assert numbers == ["A-001", "A-002", "A-003"]
    assert [b.queue_number for b in walk_ins] == ["B-001", "P-001", "B-002", "P-002"]
    checked = Booking.objects.get(pk=online[0].pk)
    assert checked.status == Booking.Status.CHECKED_IN
    assert checked.checked_in_at == ON_WEDNESDAY
    assert_counters_match_bookings()


def test_queue_numbers_start_again_each_day(office, now, tomorrow, staff):
    first = book(office, tomorrow, now=now)
    second = book(office, THURSDAY, now=now)

    check_in(office=office, code=first.code, now=ON_WEDNESDAY)

    assert (
        check_in(office=office, code=second.code, now=ON_WEDNESDAY + timedelta(days=1)).queue_number
        == "A-001"
    )


def test_check_in_accepts_the_code_as_a_clerk_types_it(office, now, tomorrow):
    booking = book(office, tomorrow, now=now)
    typed = f" {booking.code[:5].lower()}-{booking.code[5:]} "

    assert check_in(office=office, code=typed, now=ON_WEDNESDAY).pk == booking.pk


def test_check_in_refuses_an_unknown_code(office):
    with refused("not_found"):
        check_in(office=office, code="ZZZZZZZZZZ", now=ON_WEDNESDAY)
    with refused("not_found"):
        check_in(office=office, code="", now=ON_WEDNESDAY)


def test_check_in_refuses_a_booking_of_another_office(office, now, tomorrow):
    booking = book(office, tomorrow, now=now)
    other = OfficeFactory(code="makassar", timezone="Asia/Makassar")

    with refused("other_office"):
        check_in(office=other, code=booking.code, now=ON_WEDNESDAY)


def test_check_in_refuses_a_booking_of_another_day(office, now, tomorrow):
    booking = book(office, tomorrow, now=now)

    with refused("other_day") as caught:
        check_in(office=office, code=booking.code, now=now)

    assert "2017-09-06" in caught.value.messages[0]
    with refused("other_day"):
        check_in(office=office, code=booking.code, now=ON_WEDNESDAY + timedelta(days=1))
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.BOOKED


def test_check_in_refuses_a_cancelled_booking(office, now, tomorrow):
    booking = book(office, tomorrow, now=now)
    cancel_booking(booking=booking, now=now)

    with refused("cancelled"):
        check_in(office=office, code=booking.code, now=ON_WEDNESDAY)


def test_check_in_refuses_a_second_check_in_and_names_the_number(office, now, tomorrow):
    booking = book(office, tomorrow, now=now)
    check_in(office=office, code=booking.code, now=ON_WEDNESDAY)

    with refused("already_checked_in") as caught:
        check_in(office=office, code=booking.code, now=ON_WEDNESDAY)

    assert "A-001" in caught.value.messages[0]
    assert OfficeDay.objects.get(office=office, date=tomorrow).last_queue_a == 1


def test_check_in_refuses_a_no_show(office, now, tomorrow):
    booking = book(office, tomorrow, 8, now=now)
    mark_no_show(booking=booking, now=booking.ends_at)

    with refused("not_checked_in_status"):
        check_in(office=office, code=booking.code, now=booking.ends_at)


# No-shows.


def test_a_no_show_is_marked_after_the_window_and_frees_the_nik(office, now, tomorrow):
    nik = make_nik()
    booking = book(office, tomorrow, 8, now=now, nik=nik)

    with refused("not_ended"):
        mark_no_show(booking=booking, now=booking.ends_at - timedelta(seconds=1))
    marked = mark_no_show(booking=booking, now=booking.ends_at)

    assert marked.status == Booking.Status.NO_SHOW
    assert day_counter(office, tomorrow) == (0, 0)
    assert window_counter(office, tomorrow, 8) == 0
    assert book(office, THURSDAY, now=booking.ends_at, nik=nik).status == Booking.Status.BOOKED
    assert_counters_match_bookings()


def test_a_checked_in_applicant_is_no_no_show(office, now, tomorrow):
    booking = book(office, tomorrow, 8, now=now)
    check_in(office=office, code=booking.code, now=ON_WEDNESDAY)

    with refused("not_checked_in_status"):
        mark_no_show(booking=booking, now=booking.ends_at)


@pytest.mark.parametrize("clock_zone", [UTC, WIB, ZoneInfo("Asia/Jayapura")])
def test_due_no_shows_are_marked_when_each_office_day_ends_in_its_own_zone(
    office, now, tomorrow, clock_zone
):
    makassar = OfficeFactory(code="makassar", timezone="Asia/Makassar")
    jayapura = OfficeFactory(code="jayapura", timezone="Asia/Jayapura")
    booked = {o.code: book(o, tomorrow, 8, now=now) for o in (office, makassar, jayapura)}
    checked_in = book(jayapura, tomorrow, 10, now=now)
    check_in(
        office=jayapura,
        code=checked_in.code,
        now=datetime(2017, 9, 6, 9, tzinfo=ZoneInfo("Asia/Jayapura")),
    )
    later = book(jayapura, THURSDAY, 8, now=now)

    def run_at(hour, minute, day=6):
        wib = datetime(2017, 9, day, hour, minute, tzinfo=WIB)
        return mark_due_no_shows(now=wib.astimezone(clock_zone))

    def status(code):
        return Booking.objects.get(pk=booked[code].pk).status

    assert run_at(21, 59) == 0  # 23:59 WIT
    assert run_at(22, 0) == 1  # midnight WIT
    assert status("jayapura") == Booking.Status.NO_SHOW
    assert run_at(22, 59) == 0  # 23:59 WITA
    assert run_at(23, 0) == 1  # midnight WITA
    assert status("makassar") == Booking.Status.NO_SHOW
    assert status("palembang") == Booking.Status.BOOKED
    assert run_at(23, 59) == 0
    assert run_at(0, 0, day=7) == 1  # midnight WIB
    assert status("palembang") == Booking.Status.NO_SHOW
    assert Booking.objects.get(pk=checked_in.pk).status == Booking.Status.CHECKED_IN
    assert Booking.objects.get(pk=later.pk).status == Booking.Status.BOOKED
    assert_counters_match_bookings()


# Reminders.


def test_reminders_go_to_bookings_within_the_lead_time_once(office, now, tomorrow):
    due = book(office, tomorrow, 8, now=now)  # 23 hours ahead
    not_yet = book(office, tomorrow, 10, now=now)  # 25 hours ahead

    assert create_due_reminders(now=now) == 1
    assert create_due_reminders(now=now) == 0
    assert create_due_reminders(now=now + timedelta(minutes=5)) == 0

    assert notifications(due, Notification.Kind.REMINDER) == [
        ("email", 0, "pending"),
        ("sms", 0, "pending"),
    ]
    assert not not_yet.notifications.filter(kind=Notification.Kind.REMINDER).exists()
    assert create_due_reminders(now=now + timedelta(hours=1, minutes=1)) == 1
    assert not_yet.notifications.filter(kind=Notification.Kind.REMINDER).count() == 2


def test_no_reminder_for_cancelled_or_begun_bookings(office, now, tomorrow):
    cancelled = book(office, tomorrow, 8, now=now)
    cancel_booking(booking=cancelled, now=now)
    begun = book(office, tomorrow, 10, now=now)

    assert create_due_reminders(now=now) == 0
    assert create_due_reminders(now=begun.starts_at) == 0
    assert not Notification.objects.filter(kind=Notification.Kind.REMINDER).exists()


def test_a_rescheduled_booking_gets_a_new_reminder(office, now, tomorrow, settings):
    settings.REMINDER_LEAD_TIME = timedelta(hours=48)
    booking = book(office, tomorrow, 8, now=now)
    assert create_due_reminders(now=now) == 1

    reschedule_booking(
        booking=booking, day=THURSDAY, window=window_at(office, THURSDAY, 8), now=now
    )

    assert create_due_reminders(now=now) == 1
    assert create_due_reminders(now=now) == 0
    assert notifications(booking, Notification.Kind.REMINDER) == [
        ("email", 0, "pending"),
        ("email", 1, "pending"),
        ("sms", 0, "pending"),
        ("sms", 1, "pending"),
    ]


# The database refuses what no service may write, whatever the code above it does.


def _refused_by_database(write):
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


def test_an_office_day_never_holds_more_than_its_quota(office, now, tomorrow):
    book(office, tomorrow, now=now)
    row = OfficeDay.objects.get(office=office, date=tomorrow)

    _refused_by_database(lambda: OfficeDay.objects.filter(pk=row.pk).update(booked=row.quota + 1))
    _refused_by_database(
        lambda: OfficeDay.objects.filter(pk=row.pk).update(online_booked=row.online_quota + 1)
    )
    _refused_by_database(
        lambda: OfficeDay.objects.filter(pk=row.pk).update(online_quota=row.quota + 1)
    )
    _refused_by_database(
        lambda: OfficeDay.objects.create(
            office=office, date=THURSDAY, quota=5, online_quota=5, booked=6
        )
    )


def test_a_window_day_never_holds_more_than_its_capacity(office, now, tomorrow):
    book(office, tomorrow, now=now)
    row = WindowDay.objects.get(window=window_at(office, tomorrow, 8), date=tomorrow)

    _refused_by_database(
        lambda: WindowDay.objects.filter(pk=row.pk).update(booked=row.capacity + 1)
    )
    _refused_by_database(lambda: WindowDay.objects.filter(pk=row.pk).update(booked=-1))


def test_the_database_holds_one_active_booking_per_nik(office, now, tomorrow):
    booking = book(office, tomorrow, now=now)
    copy = Booking.objects.filter(pk=booking.pk).values()[0]
    copy.pop("id")

    _refused_by_database(lambda: Booking.objects.create(**{**copy, "code": new_code()}))
    Booking.objects.create(**{**copy, "code": new_code(), "status": Booking.Status.CANCELLED})
    _refused_by_database(lambda: Booking.objects.create(**{**copy, "nik": make_nik()}))  # same code
