"""Group bookings: several applicants in one window, all or none; moved, cancelled, checked in."""

from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from bookings import codes, services
from bookings.models import Booking, BookingGroup, Notification
from bookings.tests.factories import (
    assert_counters_match_bookings,
    make_applicant,
    make_family,
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


@pytest.fixture(autouse=True)
def _in_english():
    with translation.override("en"):
        yield


@contextmanager
def refused(code):
    """Expect a service to refuse with this code, and nothing to be written."""
    before = _everything()
    with pytest.raises(ValidationError) as caught:
        yield caught
    assert caught.value.code == code, caught.value
    assert _everything() == before


def _everything():
    return (
        list(Booking.objects.order_by("pk").values_list("pk", "status", "date", "window", "group")),
        BookingGroup.objects.count(),
        Notification.objects.count(),
        list(OfficeDay.objects.order_by("pk").values_list("booked", "online_booked")),
        list(WindowDay.objects.order_by("pk").values_list("booked")),
    )


def book_family(office, day, size=3, hour=8, *, now, family=None, **contact):
    return services.create_group_booking(
        office=office,
        day=day,
        window=window_at(office, day, hour),
        applicants=family or make_family(size, **contact),
        now=now,
    )


def counters(office, day, hour):
    day_row = OfficeDay.objects.filter(office=office, date=day).first()
    window = WindowDay.objects.filter(window=window_at(office, day, hour), date=day).first()
    return (day_row.booked if day_row else 0, window.booked if window else 0)


# Booking a group.


def test_a_family_gets_a_booking_each_under_one_group_code(office, now, tomorrow):
    family = make_family(3, email="ahmad@example.com", phone="+6281234567890")

    members = book_family(office, tomorrow, now=now, family=family)

    group = members[0].group
    assert codes.is_group_code(group.code) and codes.is_well_formed(group.code)
    assert [m.full_name for m in members] == [a.full_name for a in family]
    assert [m.nik for m in members] == [a.nik for a in family]
    assert len({m.code for m in members}) == 3
    assert all(codes.is_well_formed(m.code) and not codes.is_group_code(m.code) for m in members)
    assert {m.group_id for m in members} == {group.pk}
    # One contact for the group: the first applicant's, on every member.
    assert {(m.email, m.phone) for m in members} == {("ahmad@example.com", "+6281234567890")}
    assert counters(office, tomorrow, 8) == (3, 3)
    assert_counters_match_bookings()


def test_a_group_hears_once_per_channel_never_once_per_member(office, now, tomorrow):
    members = book_family(office, tomorrow, 4, now=now, email="a@example.com", phone="+628111")

    rows = Notification.objects.values_list("group", "booking", "kind", "channel")
    assert sorted(rows) == [
        (members[0].group_id, None, "confirmation", "email"),
        (members[0].group_id, None, "confirmation", "sms"),
    ]


def test_one_applicant_through_book_applicants_is_a_plain_booking(office, now, tomorrow):
    (booking,) = services.book_applicants(
        office=office,
        day=tomorrow,
        window=window_at(office, tomorrow),
        applicants=[make_applicant()],
        now=now,
    )
    assert booking.group is None
    assert BookingGroup.objects.count() == 0


@pytest.mark.parametrize("size", [2, 5])
def test_a_group_holds_from_two_to_the_limit(office, now, tomorrow, size):
    assert len(book_family(office, tomorrow, size, now=now)) == size


@pytest.mark.parametrize("size", [0, 1, 6])
def test_a_group_outside_its_size_is_refused(office, now, tomorrow, size):
    with refused("group_size") as caught:
        book_family(office, tomorrow, size, now=now, family=make_family(size) or [])
    assert "5" in caught.value.messages[0]


def test_the_group_limit_is_a_setting(office, now, tomorrow, settings):
    settings.BOOKING_GROUP_MAX = 3
    with refused("group_size"):
        book_family(office, tomorrow, 4, now=now)
    assert len(book_family(office, tomorrow, 3, now=now)) == 3


def test_a_repeated_nik_is_refused_naming_the_applicant(office, now, tomorrow):
    family = make_family(3)
    family[2] = make_applicant(nik=family[0].nik, full_name="Nur Aisyah")

    with refused("group_repeated_nik") as caught:
        book_family(office, tomorrow, now=now, family=family)

    message = caught.value.messages[0]
    assert "Applicant 3" in message and family[0].nik not in message
    assert f"{family[0].nik[:4]}" in message  # the masked NIK shows its first digits


def test_a_nik_already_booked_is_refused_naming_the_applicant(office, now, tomorrow):
    family = make_family(3)
    book(office, THURSDAY, nik=family[1].nik, now=now)

    with refused("group_nik_held") as caught:
        book_family(office, tomorrow, now=now, family=family)

    message = caught.value.messages[0]
    assert "Applicant 2" in message
    assert family[1].nik not in message and family[1].nik[-4:] in message


def test_a_nik_booked_a_moment_ago_is_named_too(office, now, tomorrow, monkeypatch):
    # The early read saw nothing; the booking committed before the group's insert.
    family = make_family(2)
    book(office, THURSDAY, nik=family[1].nik, now=now)
    real = services.refuse_held_niks
    calls = []

    def only_the_second_time(niks):
        calls.append(niks)
        if len(calls) > 1:
            real(niks)

    monkeypatch.setattr(services, "refuse_held_niks", only_the_second_time)
    with refused("group_nik_held"):
        book_family(office, tomorrow, now=now, family=family)
    assert len(calls) == 2


def test_a_bad_nik_is_refused_naming_the_applicant(office, now, tomorrow):
    family = make_family(3)
    family[1] = make_applicant(nik="1234")

    with refused("group_member") as caught:
        book_family(office, tomorrow, now=now, family=family)
    assert caught.value.messages[0].startswith("Applicant 2: ")


def test_a_window_with_too_few_places_books_nobody_and_says_how_many_are_left(now, tomorrow):
    office = OfficeFactory(windows=[(time(8), time(10), 4), (time(10), time(12), 45)])
    book(office, tomorrow, 8, now=now)
    book(office, tomorrow, 8, now=now)

    with refused("group_full") as caught:
        book_family(office, tomorrow, 3, now=now)

    assert caught.value.messages[0] == "This session has only 2 places left for 3 applicants."
    assert counters(office, tomorrow, 8) == (2, 2)
    assert len(book_family(office, tomorrow, 2, now=now)) == 2
    assert counters(office, tomorrow, 8) == (4, 4)


def test_one_place_left_is_said_in_the_singular(now, tomorrow):
    office = OfficeFactory(windows=[(time(8), time(10), 3)])
    book(office, tomorrow, 8, now=now)
    book(office, tomorrow, 8, now=now)
    with refused("group_full") as caught:
        book_family(office, tomorrow, 2, now=now)
    assert caught.value.messages[0] == "This session has only 1 place left for 2 applicants."


def test_a_full_window_is_said_as_full(now, tomorrow):
    office = OfficeFactory(windows=[(time(8), time(10), 1)])
    book(office, tomorrow, 8, now=now)
    with refused("full"):
        book_family(office, tomorrow, 2, now=now)


def test_a_day_with_too_few_online_places_says_how_many_are_left(office, now, tomorrow):
    # Quota 18 − reserve 15 = 3 online places.
    DayOverrideFactory(office=office, date=tomorrow, closed=False, quota=18, reason="Rapat")
    book(office, tomorrow, 10, now=now)

    with refused("group_day_full") as caught:
        book_family(office, tomorrow, 3, now=now)

    assert caught.value.messages[0] == "This day has only 2 places left for 3 applicants."


def test_the_refusals_speak_indonesian():
    with translation.override("id"):
        error = services._no_place(services.places.NoPlace("window", 2), 3)
        assert error.messages[0] == "Sisa kuota sesi ini hanya 2 untuk 3 pemohon."


@pytest.mark.parametrize(
    "change",
    [
        {"day": date(2017, 9, 5)},  # today: not bookable online
        {"hour": 13, "closed": True},
    ],
)
def test_the_slot_rules_of_one_booking_hold_for_a_group(office, now, tomorrow, change):
    day = change.get("day", tomorrow)
    if change.get("closed"):
        DayOverrideFactory(office=office, date=day)
    with pytest.raises(ValidationError) as caught:
        book_family(office, day, now=now)
    assert caught.value.code in {"not_bookable", "closed"}
    assert not Booking.objects.exists()


def test_a_code_clash_draws_every_code_again(office, now, tomorrow, monkeypatch):
    first = book_family(office, tomorrow, 2, now=now)
    taken = iter([first[0].group.code, codes.new_group_code()])
    monkeypatch.setattr(codes, "new_group_code", lambda: next(taken))

    members = book_family(office, tomorrow, 2, now=now)

    assert members[0].group.code != first[0].group.code
    assert BookingGroup.objects.count() == 2
    assert_counters_match_bookings()


# Moving and cancelling the whole group.


def test_a_group_moves_together(office, now, tomorrow):
    members = book_family(office, tomorrow, 3, now=now)
    group = members[0].group

    moved = services.reschedule_group(
        group=group, day=THURSDAY, window=window_at(office, THURSDAY, 10), now=now
    )

    assert {(m.date, m.window.start, m.reschedule_count) for m in moved} == {
        (THURSDAY, time(10), 1)
    }
    assert {m.group_id for m in moved} == {group.pk}
    assert counters(office, tomorrow, 8) == (0, 0)
    assert counters(office, THURSDAY, 10) == (3, 3)
    group.refresh_from_db()
    assert group.reschedule_count == 1
    kinds = Notification.objects.filter(group=group).values_list("kind", flat=True)
    assert sorted(set(kinds)) == ["confirmation", "reschedule"]
    assert_counters_match_bookings()


def test_a_group_that_does_not_fit_stays_where_it_was(now, tomorrow):
    office = OfficeFactory(windows=[(time(8), time(10), 45), (time(10), time(12), 3)])
    members = book_family(office, tomorrow, 3, now=now)
    book(office, tomorrow, 10, now=now)

    with refused("group_full") as caught:
        services.reschedule_group(
            group=members[0].group, day=tomorrow, window=window_at(office, tomorrow, 10), now=now
        )
    assert "only 2 places left for 3" in caught.value.messages[0]


def test_a_group_moves_without_its_cancelled_member(office, now, tomorrow):
    members = book_family(office, tomorrow, 3, now=now)
    services.cancel_booking(booking=members[1], now=now)

    moved = services.reschedule_group(
        group=members[0].group, day=tomorrow, window=window_at(office, tomorrow, 13), now=now
    )

    assert [m.pk for m in moved] == [members[0].pk, members[2].pk]
    assert counters(office, tomorrow, 13) == (2, 2)
    assert Booking.objects.get(pk=members[1].pk).window.start == time(8)
    assert_counters_match_bookings()


def test_a_group_with_a_member_at_the_reschedule_limit_does_not_move(office, now, tomorrow):
    members = book_family(office, tomorrow, 2, now=now)
    Booking.objects.filter(pk=members[1].pk).update(reschedule_count=1)

    with refused("reschedule_limit"):
        services.reschedule_group(
            group=members[0].group, day=THURSDAY, window=window_at(office, THURSDAY), now=now
        )


def test_a_group_is_not_moved_into_its_own_window(office, now, tomorrow):
    members = book_family(office, tomorrow, 2, now=now)
    with refused("same_slot"):
        services.reschedule_group(
            group=members[0].group, day=tomorrow, window=window_at(office, tomorrow), now=now
        )


def test_a_group_is_cancelled_together(office, now, tomorrow):
    members = book_family(office, tomorrow, 3, now=now)

    cancelled = services.cancel_group(group=members[0].group, now=now)

    assert {m.status for m in cancelled} == {Booking.Status.CANCELLED}
    assert {m.cancel_reason for m in cancelled} == {services.CANCELLED_BY_APPLICANT}
    assert counters(office, tomorrow, 8) == (0, 0)
    rows = Notification.objects.filter(group=members[0].group, kind="cancellation")
    assert rows.count() == 2  # one e-mail, one SMS for everyone
    assert_counters_match_bookings()


def test_a_group_is_not_cancelled_at_all_once_its_window_began(office, now, tomorrow):
    members = book_family(office, tomorrow, 2, now=now)
    with refused("not_cancellable"):
        services.cancel_group(group=members[0].group, now=datetime(2017, 9, 6, 8, 1, tzinfo=WIB))


def test_a_group_with_nobody_booked_has_nothing_to_cancel_or_move(office, now, tomorrow):
    members = book_family(office, tomorrow, 2, now=now)
    services.cancel_group(group=members[0].group, now=now)
    with refused("group_nothing_active"):
        services.cancel_group(group=members[0].group, now=now)
    with refused("group_nothing_active"):
        services.reschedule_group(
            group=members[0].group, day=THURSDAY, window=window_at(office, THURSDAY), now=now
        )


# One member alone.


def test_a_member_cancelled_alone_leaves_the_others_their_place(office, now, tomorrow):
    members = book_family(office, tomorrow, 3, now=now)

    services.cancel_booking(booking=members[0], now=now)

    statuses = [m.status for m in Booking.objects.filter(group=members[0].group).order_by("pk")]
    assert statuses == ["cancelled", "booked", "booked"]
    assert counters(office, tomorrow, 8) == (2, 2)
    # Its own message, about itself only.
    assert Notification.objects.filter(booking=members[0], kind="cancellation").count() == 2


def test_a_member_moved_alone_leaves_the_group(office, now, tomorrow):
    members = book_family(office, tomorrow, 3, now=now)

    moved = services.reschedule_booking(
        booking=members[2], day=THURSDAY, window=window_at(office, THURSDAY), now=now
    )

    assert moved.group is None
    assert Booking.objects.filter(group=members[0].group).count() == 2
    assert counters(office, tomorrow, 8) == (2, 2)
    assert counters(office, THURSDAY, 8) == (1, 1)
    assert Notification.objects.filter(booking=moved, kind="reschedule").count() == 2
    assert_counters_match_bookings()


# Check-in at the office.


def test_a_group_is_checked_in_by_its_code_each_with_a_number(office, now, tomorrow):
    members = book_family(office, tomorrow, 3, now=now)
    services.check_in(office=office, code=members[1].code, now=ON_WEDNESDAY)

    checked = services.check_in_group(
        office=office, code=codes.grouped(members[0].group.code).lower(), now=ON_WEDNESDAY
    )

    assert [m.pk for m in checked] == [members[0].pk, members[2].pk]
    assert [m.queue_number for m in checked] == ["A-002", "A-003"]
    assert Booking.objects.get(pk=members[1].pk).queue_number == "A-001"
    with refused("group_checked_in"):
        services.check_in_group(office=office, code=members[0].group.code, now=ON_WEDNESDAY)


def test_group_check_in_refuses_another_office_another_day_and_an_unknown_code(
    office, now, tomorrow
):
    members = book_family(office, tomorrow, 2, now=now)
    code = members[0].group.code
    with refused("other_office"):
        services.check_in_group(office=OfficeFactory(), code=code, now=ON_WEDNESDAY)
    with refused("other_day"):
        services.check_in_group(office=office, code=code, now=now)
    with refused("group_not_found"):
        services.check_in_group(office=office, code=codes.new_group_code(), now=ON_WEDNESDAY)
    services.cancel_group(group=members[0].group, now=now)
    with refused("group_nothing_active"):
        services.check_in_group(office=office, code=code, now=ON_WEDNESDAY)


# Finding a group, reminders, forgetting.


def test_a_group_is_found_with_any_members_nik_only(office, now, tomorrow):
    members = book_family(office, tomorrow, 3, now=now)
    group = members[0].group

    assert services.find_group(group.code, members[2].nik) == group
    assert services.find_group(group.code, " ".join(members[1].nik)) == group
    assert services.find_group(group.code, make_nik()) is None
    assert services.find_group(codes.new_group_code(), members[0].nik) is None


def test_a_group_is_reminded_once_for_everyone(office, now, tomorrow):
    members = book_family(office, tomorrow, 3, now=now, email="a@example.com")
    book(office, tomorrow, 10, now=now)
    day_before = datetime(2017, 9, 5, 12, 0, tzinfo=WIB)

    assert services.create_due_reminders(now=day_before) == 2  # the group, the booking
    assert services.create_due_reminders(now=day_before) == 0
    reminders = Notification.objects.filter(kind="reminder")
    assert reminders.filter(group=members[0].group).count() == 2  # e-mail and SMS
    assert reminders.filter(booking__in=members).count() == 0


def test_a_group_moved_after_its_reminder_is_reminded_again(office, now, tomorrow, settings):
    members = book_family(office, tomorrow, 2, now=now, email="a@example.com")
    group = members[0].group
    services.create_due_reminders(now=datetime(2017, 9, 5, 12, 0, tzinfo=WIB))
    services.reschedule_group(
        group=group, day=THURSDAY, window=window_at(office, THURSDAY), now=ON_WEDNESDAY
    )

    assert services.create_due_reminders(now=datetime(2017, 9, 6, 12, 0, tzinfo=WIB)) == 1
    sequences = Notification.objects.filter(group=group, kind="reminder", channel="email")
    assert sorted(sequences.values_list("sequence", flat=True)) == [0, 1]


def test_a_cancelled_group_is_not_reminded(office, now, tomorrow):
    members = book_family(office, tomorrow, 2, now=now, email="a@example.com")
    services.cancel_group(group=members[0].group, now=now)
    assert services.create_due_reminders(now=datetime(2017, 9, 5, 12, 0, tzinfo=WIB)) == 0


def test_a_groups_messages_are_forgotten_with_its_members(office, now, tomorrow, settings):
    members = book_family(office, tomorrow, 2, now=now, email="a@example.com")
    services.cancel_group(group=members[0].group, now=now)

    later = datetime(2017, 9, 6, 10, 0, tzinfo=WIB) + timedelta(days=settings.RETENTION_DAYS + 1)
    assert services.forget_past_applicants(now=later) == 2

    assert not Notification.objects.exists()
    assert set(Booking.objects.values_list("nik", "email")) == {("", "")}
    assert BookingGroup.objects.count() == 1  # no personal data of its own


def test_a_code_at_the_counter_checks_in_one_applicant_or_the_whole_group(office, now, tomorrow):
    members = book_family(office, tomorrow, 3, now=now)

    (one,) = services.check_in_by_code(
        office=office, code=codes.grouped(members[0].code), now=ON_WEDNESDAY
    )
    rest = services.check_in_by_code(office=office, code=members[0].group.code, now=ON_WEDNESDAY)

    assert one.pk == members[0].pk and one.queue_number == "A-001"
    assert [m.pk for m in rest] == [members[1].pk, members[2].pk]
    with refused("already_checked_in"):
        services.check_in_by_code(office=office, code=members[2].code, now=ON_WEDNESDAY)
