"""An office closing a day or a session that holds bookings: preview, moves, priority, records."""

from datetime import date, time, timedelta

import pytest
from django.core.exceptions import ValidationError

from bookings import ballots, closures, services
from bookings.models import Booking, Closure, ClosureMove, Entry, Notification, Offer, Release
from bookings.tests.factories import (
    assert_counters_match_bookings,
    book,
    book_group,
    closed_ballot_monday,
    make_applicant,
    make_user,
    window_on,
)
from offices.models import DayOverride, OfficeDay, WindowDay
from offices.schedule import day_plan
from offices.tests.factories import OfficeFactory

# FIXED_NOW is Tuesday 5 September 2017, 09.00 WIB; the office opens every day.
THURSDAY = date(2017, 9, 7)
FRIDAY = date(2017, 9, 8)
SATURDAY = date(2017, 9, 9)
REASON = "Banjir: kantor tidak dapat dibuka"


@pytest.fixture
def clerk(db):
    return make_user("petugas")


def kinds(booking):
    return sorted(booking.notifications.values_list("kind", "channel"))


def fill(office, day, index, count, *, now, start=0):
    return [
        book(office, day, index=index, now=now, full_name=f"Pemohon {start + n}")
        for n in range(count)
    ]


def fill_days(office, *, quota, booked):
    """Give the days after THURSDAY counters of `quota` places, `booked` of them taken (by
    bookings these tests do not need to see)."""
    for day in (FRIDAY + timedelta(days=n) for n in range(30)):
        OfficeDay.objects.create(
            office=office,
            date=day,
            quota=quota,
            online_quota=quota,
            booked=booked,
            online_booked=booked,
        )


def test_the_preview_says_where_each_booking_goes_and_writes_nothing(office, now):
    morning = book(office, THURSDAY, index=0, now=now)
    family = book_group(office, THURSDAY, 3, index=2, now=now)

    found = closures.preview(office=office, day=THURSDAY, now=now)

    moves = {m.unit.first.pk: (m.day, m.window.start) for m in found.moves}
    assert moves == {morning.pk: (FRIDAY, time(8)), family[0].pk: (FRIDAY, time(13))}
    assert [m.unit.size for m in found.moves] == [1, 3]
    assert (found.moved, found.left, found.raise_quota) == (4, 0, False)
    assert found.fingerprint == closures.preview(office=office, day=THURSDAY, now=now).fingerprint
    assert not Closure.objects.exists() and not DayOverride.objects.exists()
    assert Booking.objects.filter(date=THURSDAY, status="booked").count() == 4


def test_closing_a_day_moves_everyone_to_the_nearest_place_and_tells_them_once(
    office, now, clerk, django_capture_on_commit_callbacks
):
    morning = book(office, THURSDAY, index=0, now=now)
    family = book_group(office, THURSDAY, 3, index=1, now=now)
    expected = closures.preview(office=office, day=THURSDAY, now=now).fingerprint

    with django_capture_on_commit_callbacks() as queued:
        closure = closures.close(
            office=office, day=THURSDAY, reason=REASON, by=clerk, expected=expected, now=now
        )

    assert len(queued) == 1  # the messages go to the broker once this commits
    morning.refresh_from_db()
    assert (morning.date, morning.window, morning.status) == (
        FRIDAY,
        window_on(office, FRIDAY, 0),
        "booked",
    )
    assert morning.starts_at == office.local_datetime(FRIDAY, time(8))
    members = Booking.objects.filter(pk__in=[m.pk for m in family])
    assert {(m.date, m.window.start, m.group_id) for m in members} == {
        (FRIDAY, time(10), family[0].group_id)
    }
    # The applicant's own reschedule is still theirs to make.
    assert morning.can_reschedule(now) and (morning.reschedule_count, morning.office_moves) == (
        1,
        1,
    )
    assert (closure.moved, closure.cancelled, closure.reason) == (4, 0, REASON)
    assert ClosureMove.objects.filter(closure=closure, outcome="moved").count() == 4
    assert kinds(morning) == [
        ("confirmation", "email"),
        ("confirmation", "sms"),
        ("moved", "email"),
        ("moved", "sms"),
    ]
    group_messages = Notification.objects.filter(group=family[0].group, kind="moved")
    assert group_messages.count() == 2  # the family's contact hears once per channel
    plan = day_plan(office, THURSDAY)
    assert not plan.open and plan.closed_label == REASON
    assert DayOverride.history.filter(history_user=clerk, reason=REASON).exists()
    assert_counters_match_bookings()


def test_without_room_the_preview_proposes_raising_the_quota_of_the_nearest_day(office, now, clerk):
    office.open_weekdays = "0123"  # Monday to Thursday: Friday to Sunday are days off
    office.save()
    fill(office, THURSDAY, 0, 3, now=now)
    fill_days(office, quota=3, booked=3)
    settings_days = closures.preview(office=office, day=THURSDAY, raise_quota=False, now=now)
    assert settings_days.left == 3 and settings_days.raise_proposed

    found = closures.preview(office=office, day=THURSDAY, now=now)

    assert found.raise_quota and found.left == 0
    assert {(m.day, m.window.start) for m in found.moves} == {(date(2017, 9, 11), time(8))}


def test_raising_adds_the_moved_on_top_of_the_target_days_places(office, now, clerk):
    fill(office, THURSDAY, 0, 2, now=now)
    before = {"quota": 150, "online_quota": 135}

    closures.close(office=office, day=THURSDAY, reason=REASON, by=clerk, raise_quota=True, now=now)

    friday = OfficeDay.objects.get(office=office, date=FRIDAY)
    assert (friday.quota, friday.online_quota, friday.booked) == (
        before["quota"] + 2,
        before["online_quota"] + 2,
        2,
    )
    window = WindowDay.objects.get(window=window_on(office, FRIDAY, 0), date=FRIDAY)
    assert (window.capacity, window.booked) == (47, 2)
    assert Closure.objects.get().raised_quota
    assert_counters_match_bookings()


def test_those_without_a_place_are_cancelled_with_priority_and_told_so(office, now, clerk):
    office.open_weekdays = "0123"
    office.save()
    fill_days(office, quota=5, booked=4)
    alone, second = fill(office, THURSDAY, 0, 2, now=now)
    family = book_group(office, THURSDAY, 2, index=1, now=now)

    closure = closures.close(
        office=office, day=THURSDAY, reason=REASON, by=clerk, raise_quota=False, now=now
    )

    alone.refresh_from_db()
    second.refresh_from_db()
    assert (alone.date, alone.status) == (date(2017, 9, 11), "booked")
    assert (second.date, second.status) == (date(2017, 9, 12), "booked")
    members = Booking.objects.filter(group=family[0].group)
    assert {(m.status, m.cancel_reason) for m in members} == {("cancelled", REASON)}
    move = ClosureMove.objects.get(booking=family[0])
    # Ten open days after Thursday: not the weekends, nor 1 Muharram on the 21st.
    assert move.outcome == "cancelled" and move.choose_until == date(2017, 9, 27)
    assert Notification.objects.filter(group=family[0].group, kind="closed").count() == 2
    assert (closure.moved, closure.cancelled) == (2, 2)
    counted = dict(OfficeDay.objects.values_list("date", "booked"))
    assert (counted[THURSDAY], counted[date(2017, 9, 11)], counted[date(2017, 9, 12)]) == (0, 5, 5)


def test_a_closed_session_moves_its_bookings_to_the_nearest_session_that_day(office, now, clerk):
    morning = book(office, THURSDAY, index=0, now=now)
    afternoon = book(office, THURSDAY, index=2, now=now)
    session = window_on(office, THURSDAY, 0)

    closures.close(office=office, day=THURSDAY, windows=[session], reason=REASON, by=clerk, now=now)

    morning.refresh_from_db()
    afternoon.refresh_from_db()
    assert (morning.date, morning.window.start) == (THURSDAY, time(10))
    assert (afternoon.date, afternoon.window.start, afternoon.reschedule_count) == (
        THURSDAY,
        time(13),
        0,
    )
    plan = day_plan(office, THURSDAY)
    assert plan.open and session not in plan.windows and plan.closed_windows == (session,)
    with pytest.raises(ValidationError):
        services.create_booking(
            office=office, day=THURSDAY, window=session, applicant=make_applicant(), now=now
        )
    assert_counters_match_bookings()


def test_a_day_of_150_bookings_is_closed_every_one_moved_and_told_once(now, clerk):
    spans = [(time(8), time(10), 50), (time(10), time(12), 50), (time(13), time(15), 50)]
    office = OfficeFactory(code="palembang", walk_in_reserve=0, windows=spans)
    for index in range(3):
        fill(office, THURSDAY, index, 50, now=now, start=index * 50)
    assert OfficeDay.objects.get(date=THURSDAY).booked == 150

    closure = closures.close(office=office, day=THURSDAY, reason=REASON, by=clerk, now=now)

    assert (closure.moved, closure.cancelled) == (150, 0)
    assert not Booking.objects.filter(date=THURSDAY, status="booked").exists()
    assert Booking.objects.filter(date=FRIDAY, status="booked").count() == 150
    messages = Notification.objects.filter(kind="moved")
    assert messages.count() == 2 * 150
    assert messages.values("booking").distinct().count() == 150
    assert_counters_match_bookings()


def test_closing_today_moves_who_is_still_to_come_and_keeps_who_is_checked_in(office, now, clerk):
    today = now.date()
    arrived = book(office, today, index=1, now=now)
    services.check_in(office=office, code=arrived.code, by=clerk, now=now)
    coming = book(office, today, index=2, now=now)

    closures.close(office=office, day=today, reason=REASON, by=clerk, now=now)

    arrived.refresh_from_db()
    coming.refresh_from_db()
    assert (arrived.status, arrived.date) == ("checked_in", today)
    assert (coming.status, coming.date, coming.window.start) == (
        "booked",
        today + timedelta(days=1),
        time(13),
    )
    counter = OfficeDay.objects.get(office=office, date=today)
    assert (counter.quota, counter.booked) == (1, 1)  # nothing more can be taken today
    assert_counters_match_bookings()


def test_a_booking_made_after_the_preview_refuses_the_close_until_looked_at_again(
    office, now, clerk
):
    book(office, THURSDAY, index=0, now=now)
    seen = closures.preview(office=office, day=THURSDAY, now=now).fingerprint
    book(office, THURSDAY, index=1, now=now)

    with pytest.raises(ValidationError) as refused:
        closures.close(office=office, day=THURSDAY, reason=REASON, by=clerk, expected=seen, now=now)

    assert refused.value.code == "changed"
    assert not Closure.objects.exists() and not DayOverride.objects.exists()
    assert Booking.objects.filter(date=THURSDAY, status="booked").count() == 2


@pytest.mark.parametrize(
    ("day", "code"),
    [(date(2017, 9, 4), "past"), (date(2017, 9, 21), "not_open")],  # yesterday; 1 Muharram
)
def test_a_day_past_or_not_open_cannot_be_closed(office, now, clerk, day, code):
    with pytest.raises(ValidationError) as refused:
        closures.close(office=office, day=day, reason=REASON, by=clerk, now=now)
    assert refused.value.code == code


def test_closing_needs_a_reason_and_leaves_one_session_at_least(office, now, clerk):
    with pytest.raises(ValidationError) as refused:
        closures.close(office=office, day=THURSDAY, reason="  ", by=clerk, now=now)
    assert refused.value.code == "no_reason"
    every = day_plan(office, THURSDAY).windows
    with pytest.raises(ValidationError) as refused:
        closures.preview(office=office, day=THURSDAY, windows=every, now=now)
    assert refused.value.code == "all_windows"


def test_a_moved_applicant_keeps_the_place_or_reschedules_without_using_their_own_change(
    office, now, clerk
):
    booking = book(office, THURSDAY, index=0, now=now)
    closures.close(office=office, day=THURSDAY, reason=REASON, by=clerk, now=now)
    booking.refresh_from_db()

    move = closures.keep_moved(booking=booking, now=now)

    assert move.answer == "kept" and move.answered_at == now
    booking = services.reschedule_booking(
        booking=booking, day=SATURDAY, window=window_on(office, SATURDAY, 1), now=now
    )
    with pytest.raises(ValidationError) as refused:
        closures.keep_moved(booking=booking, now=now)
    assert refused.value.code == "nothing_to_keep"


def test_a_cancelled_applicant_chooses_with_priority_even_past_the_public_horizon(
    office, now, clerk
):
    office.booking_horizon_days = 3  # the public books until Friday
    office.open_weekdays = "0123"
    office.save()
    fill_days(office, quota=1, booked=1)
    family = book_group(office, THURSDAY, 2, index=0, now=now)
    closures.close(office=office, day=THURSDAY, reason=REASON, by=clerk, raise_quota=False, now=now)
    first = Booking.objects.get(pk=family[0].pk)
    move = closures.latest_move(first)
    later = date(2017, 9, 25)  # a Monday past the public horizon, within the choice
    OfficeDay.objects.filter(date=later).update(quota=10, online_quota=10)

    offered = closures.priority_slots(booking=first, move=move, now=now)
    assert later in [plan.date for plan, _windows in offered]
    members = closures.choose_with_priority(
        booking=first, day=later, window=window_on(office, later, 1), now=now
    )

    assert [(m.code, m.status, m.date) for m in members] == [
        (f.code, "booked", later) for f in family
    ]
    assert set(ClosureMove.objects.values_list("answer", flat=True)) == {"chose"}
    assert Notification.objects.filter(group=first.group, kind="reschedule").count() == 2
    with pytest.raises(ValidationError) as refused:
        closures.choose_with_priority(
            booking=first, day=later, window=window_on(office, later, 2), now=now
        )
    assert refused.value.code == "not_priority"
    assert OfficeDay.objects.get(date=later).booked == 1 + 2


def test_an_outage_closes_many_offices_each_moving_its_own_applicants(now, clerk):
    jakarta = OfficeFactory(code="jakarta", timezone="Asia/Jakarta")
    makassar = OfficeFactory(code="makassar", timezone="Asia/Makassar")
    here = book(jakarta, THURSDAY, index=0, now=now)
    there = book(makassar, THURSDAY, index=1, now=now)
    previews = closures.preview_outage(
        offices=[jakarta, makassar], day=THURSDAY, starts=time(7), ends=time(12), now=now
    )
    assert [(o.code, [w.start for w in p.windows]) for o, p in previews] == [
        ("jakarta", [time(8), time(10)]),
        ("makassar", [time(8), time(10)]),
    ]

    outage = closures.close_outage(
        offices=[jakarta, makassar],
        day=THURSDAY,
        starts=time(7),
        ends=time(12),
        reason="Sistem SIMKIM pusat tidak dapat diakses",
        by=clerk,
        expected={o.pk: p.fingerprint for o, p in previews},
        now=now,
    )

    here.refresh_from_db()
    there.refresh_from_db()
    assert (here.office, here.date, here.window.start) == (jakarta, THURSDAY, time(13))
    assert (there.office, there.date, there.window.start) == (makassar, THURSDAY, time(13))
    assert outage.closures.count() == 2
    assert_counters_match_bookings()


def test_at_a_ballot_office_the_applicants_left_without_a_place_go_ahead_of_the_waiting_list(
    now, clerk, settings
):
    settings.OUTAGE_MOVE_DAYS = 0  # no day to move to: everyone is left to choose
    release, (first, _second) = closed_ballot_monday(clerk, now=now)
    monday = release.first_day
    assert closures.waiting_list_for(first, now) == release

    entry = closures.join_waiting_list(booking=first, now=now)

    assert (entry.status, entry.waiting_position) == ("waiting", ballots.AHEAD)
    assert [c.day for c in entry.choices.order_by("rank")] == [
        monday + timedelta(days=n) for n in range(1, 5)
    ]
    assert closures.latest_move(first).answer == "waiting"
    assert Notification.objects.filter(entry=entry, kind="waiting").count() == 2
    assert entry.receipt not in Release.objects.get(pk=release.pk).outcome  # the draw's own
    ballots.offer_free_places(now=now)
    assert Offer.objects.get(entry=entry).day == monday + timedelta(days=1)  # first offered
    with pytest.raises(ValidationError) as refused:
        closures.join_waiting_list(booking=first, now=now)
    assert refused.value.code == "not_priority"
    assert Entry.objects.filter(release=release).count() == 5


def test_an_office_not_on_a_ballot_has_no_waiting_list_to_join(office, now, clerk, settings):
    settings.OUTAGE_MOVE_DAYS = 0
    booking = book(office, THURSDAY, now=now)
    closures.close(office=office, day=THURSDAY, reason=REASON, by=clerk, now=now)

    with pytest.raises(ValidationError) as refused:
        closures.join_waiting_list(booking=Booking.objects.get(pk=booking.pk), now=now)

    assert refused.value.code == "no_waiting_list"


def test_reminders_follow_the_new_time_not_the_closed_day(office, now, clerk):
    booking = book(office, THURSDAY, index=0, now=now)
    wednesday_morning = office.local_datetime(date(2017, 9, 6), time(9))
    assert services.create_due_reminders(now=wednesday_morning) == 1  # for Thursday, sent
    closures.close(office=office, day=THURSDAY, reason=REASON, by=clerk, now=wednesday_morning)

    assert services.create_due_reminders(now=wednesday_morning) == 0  # Friday is not due yet
    thursday_morning = office.local_datetime(THURSDAY, time(9))
    assert services.create_due_reminders(now=thursday_morning) == 1
    reminders = booking.notifications.filter(kind="reminder", channel="email")
    assert list(reminders.order_by("sequence").values_list("sequence", flat=True)) == [0, 1]


@pytest.mark.parametrize("whole_day", [True, False])
def test_lifting_a_closure_opens_the_sessions_again_with_their_places(
    office, now, clerk, whole_day
):
    from offices.services import delete_day_override

    book(office, THURSDAY, index=0, now=now)
    session = window_on(office, THURSDAY, 0)
    windows = () if whole_day else [session]
    closures.close(office=office, day=THURSDAY, windows=windows, reason=REASON, by=clerk, now=now)

    delete_day_override(override=DayOverride.objects.get(), by=clerk, now=now)

    assert session in day_plan(office, THURSDAY).windows
    counter = WindowDay.objects.get(window=session, date=THURSDAY)
    assert (counter.capacity, counter.booked) == (45, 0)
    again = services.create_booking(
        office=office, day=THURSDAY, window=session, applicant=make_applicant(), now=now
    )
    assert again.status == "booked"
    assert_counters_match_bookings()
