"""The booking rules under load: real threads, one PostgreSQL connection each, released together."""

import threading
from collections import Counter
from datetime import date, datetime, time, timedelta
from functools import partial

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction

from bookings import ballots, closures, services
from bookings.models import Booking, BookingGroup, EntryApplicant, Offer, Release, Visit
from bookings.queue import calls
from bookings.services import (
    cancel_booking,
    check_in,
    create_booking,
    register_walk_in,
    reschedule_booking,
)
from bookings.tests.factories import (
    WEDNESDAY,
    WIB,
    assert_counters_match_bookings,
    make_applicant,
    make_nik,
    make_release,
    on_wednesday,
    open_counter,
    window_at,
)
from offices import places
from offices.models import OfficeDay, WindowDay
from offices.schedule import day_plan
from offices.tests.factories import DayOverrideFactory, OfficeFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.usefixtures("postgres_only"),
    pytest.mark.django_db(transaction=True),
]

THURSDAY = date(2017, 9, 7)
ON_WEDNESDAY = on_wednesday(7, 30)


def run_together(actions):
    """Run each action in its own thread and connection, all released at once; return outcomes.

    An outcome is ("ok", result), ("refused", code) or ("error", repr) for anything else.
    """
    barrier = threading.Barrier(len(actions))
    outcomes = [None] * len(actions)

    def worker(index, action):
        try:
            connection.ensure_connection()  # connect first, so the race is the booking itself
            barrier.wait()
            outcomes[index] = ("ok", action())
        except ValidationError as exc:
            outcomes[index] = ("refused", exc.code)
        except Exception as exc:  # noqa: BLE001 - reported by the test as an error
            outcomes[index] = ("error", repr(exc))
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=worker, args=(index, action))
        for index, action in enumerate(actions)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [o for o in outcomes if o[0] == "error"] == []
    return outcomes


def in_thread(action):
    """Start an action in a thread with its own connection; return the thread and its outcome."""
    outcome = {}

    def worker():
        try:
            outcome["result"] = action()
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker)
    thread.start()
    return thread, outcome


def wait_until_a_transaction_waits_for_a_lock():
    """Poll PostgreSQL until one of this database's sessions waits for a row lock."""
    waiting = threading.Event()
    for _ in range(1200):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
        waiting.wait(0.05)
    pytest.fail("the second transaction never waited for the first one's lock")


def tally(outcomes):
    return Counter(code if kind == "refused" else kind for kind, code in outcomes)


def silent_applicant(**overrides):
    """An applicant without e-mail or phone: no message to hand to a broker."""
    return make_applicant(email="", phone="", **overrides)


def book(office, day, hour, now):
    return create_booking(
        office=office,
        day=day,
        window=window_at(office, day, hour),
        applicant=silent_applicant(),
        now=now,
    )


def test_fifty_applicants_race_for_the_last_five_places(now, tomorrow):
    office = OfficeFactory(code="palembang", windows=[(time(8), time(10), 45)])
    window = window_at(office, tomorrow, 8)
    for _ in range(40):
        book(office, tomorrow, 8, now)
    applicants = [silent_applicant() for _ in range(50)]

    outcomes = run_together(
        [
            partial(
                create_booking, office=office, day=tomorrow, window=window, applicant=a, now=now
            )
            for a in applicants
        ]
    )

    assert tally(outcomes) == {"ok": 5, "full": 45}
    winners = {booking.nik for kind, booking in outcomes if kind == "ok"}
    stored = Booking.objects.filter(nik__in=[a.nik for a in applicants])
    assert set(stored.values_list("nik", flat=True)) == winners
    assert WindowDay.objects.get(window=window, date=tomorrow).booked == 45
    assert OfficeDay.objects.get(office=office, date=tomorrow).booked == 45
    assert_counters_match_bookings()


def test_one_nik_sent_twenty_times_at_once_gets_one_booking(now):
    office = OfficeFactory(code="palembang")
    days = [date(2017, 9, 6 + offset) for offset in range(7)]
    slots = [(day, hour) for day in days for hour in (8, 10, 13)][:20]
    nik = make_nik()

    outcomes = run_together(
        [
            partial(
                create_booking,
                office=office,
                day=day,
                window=window_at(office, day, hour),
                applicant=silent_applicant(nik=nik),
                now=now,
            )
            for day, hour in slots
        ]
    )

    assert tally(outcomes) == {"ok": 1, "duplicate": 19}
    assert Booking.objects.filter(nik=nik).count() == 1
    assert sum(WindowDay.objects.values_list("booked", flat=True)) == 1
    assert sum(OfficeDay.objects.values_list("booked", flat=True)) == 1
    assert_counters_match_bookings()


def test_the_online_quota_of_a_day_holds_across_its_windows(now, tomorrow):
    office = OfficeFactory(code="palembang")
    # Quota 25 − reserve 15 = 10 online places for 50 applicants spread over three windows.
    DayOverrideFactory(office=office, date=tomorrow, closed=False, quota=25, reason="Rapat")
    windows = [window_at(office, tomorrow, hour) for hour in (8, 10, 13)]
    applicants = [silent_applicant() for _ in range(50)]

    outcomes = run_together(
        [
            partial(
                create_booking,
                office=office,
                day=tomorrow,
                window=windows[index % 3],
                applicant=applicant,
                now=now,
            )
            for index, applicant in enumerate(applicants)
        ]
    )

    assert tally(outcomes) == {"ok": 10, "day_full": 40}
    row = OfficeDay.objects.get(office=office, date=tomorrow)
    assert (row.booked, row.online_booked) == (10, 10)
    assert sum(WindowDay.objects.filter(date=tomorrow).values_list("booked", flat=True)) == 10
    assert_counters_match_bookings()


def test_walk_ins_and_online_bookings_together_hold_both_limits(now):
    # This office books on the day; quota 20, of which 5 online and 15 kept for walk-ins.
    office = OfficeFactory(code="palembang", min_days_ahead=0)
    today = date(2017, 9, 5)
    DayOverrideFactory(office=office, date=today, closed=False, quota=20, reason="Rapat")
    online = [
        partial(
            create_booking,
            office=office,
            day=today,
            window=window_at(office, today, (10, 13)[index % 2]),
            applicant=silent_applicant(),
            now=now,
        )
        for index in range(20)
    ]
    walk_ins = [
        partial(
            register_walk_in,
            office=office,
            applicant=silent_applicant(),
            reason=reason,
            by=None,
            now=now,
        )
        for reason in ["far_away"] * 10 + ["elderly"] * 20
    ]

    outcomes = run_together(online + walk_ins)

    booked = [result for kind, result in outcomes if kind == "ok"]
    not_reserve = [b for b in booked if not b.uses_reserve]
    assert len(booked) == 20  # the elderly alone ask for more than the day holds
    assert len(not_reserve) <= 5
    row = OfficeDay.objects.get(office=office, date=today)
    assert (row.booked, row.online_booked) == (20, len(not_reserve))
    assert {code for kind, code in outcomes if kind == "refused"} <= {"day_full", "full"}
    for letter in "BP":
        numbers = sorted(b.queue_number for b in booked if b.queue_number.startswith(letter))
        assert numbers == [f"{letter}-{n:03d}" for n in range(1, len(numbers) + 1)]
    assert_counters_match_bookings()


def test_concurrent_check_ins_get_distinct_consecutive_queue_numbers(now, tomorrow):
    office = OfficeFactory(code="palembang")
    bookings = [book(office, tomorrow, (8, 10, 13)[index % 3], now) for index in range(40)]

    outcomes = run_together(
        [partial(check_in, office=office, code=b.code, now=ON_WEDNESDAY) for b in bookings]
        + [
            partial(
                register_walk_in,
                office=office,
                applicant=silent_applicant(),
                reason="far_away",
                by=None,
                now=ON_WEDNESDAY,
            )
            for _ in range(10)
        ]
    )

    assert tally(outcomes) == {"ok": 50}
    numbers = Booking.objects.filter(office=office, date=tomorrow).values_list(
        "queue_number", flat=True
    )
    assert sorted(n for n in numbers if n.startswith("A")) == [f"A-{n:03d}" for n in range(1, 41)]
    assert sorted(n for n in numbers if n.startswith("B")) == [f"B-{n:03d}" for n in range(1, 11)]
    row = OfficeDay.objects.get(office=office, date=tomorrow)
    assert (row.last_queue_a, row.last_queue_b) == (40, 10)
    assert not Booking.objects.filter(
        office=office, date=tomorrow, status=Booking.Status.BOOKED
    ).exists()
    assert_counters_match_bookings()


def test_counters_calling_at_once_never_call_one_applicant_twice(now, tomorrow):
    """Eight clerks press "call next" and "finish" as fast as they can until nobody waits."""
    office = OfficeFactory(code="palembang", priority_calls_in_row=2, online_calls_per_walk_in=2)
    for _ in range(30):
        check_in(office=office, code=book(office, tomorrow, 8, now).code, now=ON_WEDNESDAY)
    for reason in ["far_away"] * 6 + ["elderly"] * 4:
        register_walk_in(
            office=office, applicant=silent_applicant(), reason=reason, by=None, now=ON_WEDNESDAY
        )
    counters = [open_counter(office, f"Loket {i + 1}", f"loket{i}") for i in range(8)]
    at_eight = on_wednesday(8)

    def serve_until_nobody_waits(counter):
        served = []
        while (
            visit := calls.call_next(counter=counter, by=counter.clerk, now=at_eight)
        ) is not None:
            served.append(visit.pk)
            calls.finish(counter=counter, by=counter.clerk, now=at_eight)
        return served

    outcomes = run_together([partial(serve_until_nobody_waits, c) for c in counters])

    served = [pk for _kind, pks in outcomes for pk in pks]
    assert len(served) == 40
    assert len(set(served)) == 40
    assert set(Visit.objects.values_list("state", flat=True)) == {Visit.State.DONE}
    assert Visit.objects.filter(calls=1).count() == 40
    # One at a time, the calls followed the rule: no more than two priority calls in a row
    # while ordinary applicants waited.
    lines = "".join(Visit.objects.order_by("last_called_at", "pk").values_list("line", flat=True))
    assert "PPP" not in lines[: lines.rfind("A")]


def test_concurrent_reschedules_cancels_and_bookings_keep_counters_true(now):
    # The 10:00 window of each day holds 10; applicants already fill 2 on Wednesday.
    office = OfficeFactory(
        code="palembang", windows=[(time(8), time(10), 45), (time(10), time(12), 10)]
    )
    book(office, WEDNESDAY, 10, now)
    book(office, WEDNESDAY, 10, now)
    # Half start on Wednesday, half on Thursday; some move to the other day, some within it.
    moves = []
    for index in range(20):
        origin = (WEDNESDAY, THURSDAY)[index % 2]
        target = (THURSDAY, WEDNESDAY)[index % 2] if index % 4 < 2 else origin
        moves.append((book(office, origin, 8, now), target))

    actions = [
        partial(
            reschedule_booking,
            booking=booking,
            day=target,
            window=window_at(office, target, 10),
            now=now,
        )
        for booking, target in moves
    ]
    # Every other booking is cancelled while it is being moved.
    actions += [partial(cancel_booking, booking=booking, now=now) for booking, _ in moves[::2]]
    for index in range(20):
        day = (WEDNESDAY, THURSDAY)[index % 2]
        actions.append(
            partial(
                create_booking,
                office=office,
                day=day,
                window=window_at(office, day, 10),
                applicant=silent_applicant(),
                now=now,
            )
        )

    outcomes = run_together(actions)

    assert len(outcomes) == 50
    assert {code for kind, code in outcomes if kind == "refused"} <= {"full", "not_reschedulable"}
    for booking, _target in moves[::2]:
        assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CANCELLED
    for booking, target in moves[1::2]:
        kept = Booking.objects.get(pk=booking.pk)
        assert kept.status == Booking.Status.BOOKED
        slot = (kept.date, kept.window.start, kept.reschedule_count)
        assert slot in {(target, time(10), 1), (booking.date, time(8), 0)}
    assert_counters_match_bookings()


@pytest.mark.parametrize("second", ["cancel", "reschedule"])
def test_a_change_that_waited_for_a_reschedule_sees_the_new_window(now, settings, second):
    settings.BOOKING_MAX_RESCHEDULES = 2
    office = OfficeFactory(code="palembang")
    booking = book(office, WEDNESDAY, 8, now)
    moved, release = threading.Event(), threading.Event()

    def reschedule_and_hold_the_lock():
        with transaction.atomic():
            reschedule_booking(
                booking=booking, day=THURSDAY, window=window_at(office, THURSDAY, 10), now=now
            )
            moved.set()
            release.wait()

    def change_again():
        if second == "cancel":
            return cancel_booking(booking=booking, now=now)
        return reschedule_booking(
            booking=booking, day=THURSDAY, window=window_at(office, THURSDAY, 13), now=now
        )

    first, first_outcome = in_thread(reschedule_and_hold_the_lock)
    moved.wait()
    waiter, outcome = in_thread(change_again)
    wait_until_a_transaction_waits_for_a_lock()
    release.set()
    first.join()
    waiter.join()

    assert "error" not in first_outcome
    assert "error" not in outcome, outcome.get("error")
    final = Booking.objects.get(pk=booking.pk)
    if second == "cancel":
        assert final.status == Booking.Status.CANCELLED
        assert (
            WindowDay.objects.get(window=window_at(office, THURSDAY, 10), date=THURSDAY).booked == 0
        )
    else:
        assert (final.date, final.window.start, final.reschedule_count) == (THURSDAY, time(13), 2)
        assert (
            WindowDay.objects.get(window=window_at(office, THURSDAY, 10), date=THURSDAY).booked == 0
        )
        assert (
            WindowDay.objects.get(window=window_at(office, THURSDAY, 13), date=THURSDAY).booked == 1
        )
    assert WindowDay.objects.get(window=window_at(office, WEDNESDAY, 8), date=WEDNESDAY).booked == 0
    assert_counters_match_bookings()


def test_taking_a_full_window_waits_for_no_other_counter_row(now):
    # A reschedule into a full window holds its old window's row; another transaction holds
    # the office-day and then wants that old window. Taking the full window must not wait
    # for the office-day (creating a day's rows did, and PostgreSQL saw a deadlock).
    office = OfficeFactory(
        code="palembang", windows=[(time(8), time(10), 45), (time(10), time(12), 1)]
    )
    book(office, WEDNESDAY, 10, now)  # the 10:00 window is now full
    moving = book(office, WEDNESDAY, 8, now)
    plan = day_plan(office, WEDNESDAY)
    day_held, go = threading.Event(), threading.Event()

    def hold_the_day_then_take_the_old_window():
        with transaction.atomic():
            places.take_day(office, plan, uses_reserve=False)
            day_held.set()
            go.wait()
            places.take_window(window_at(office, WEDNESDAY, 8), WEDNESDAY)
            transaction.set_rollback(True)  # counted nothing for good

    holder, held = in_thread(hold_the_day_then_take_the_old_window)
    day_held.wait()
    mover, moved = in_thread(
        partial(
            reschedule_booking,
            booking=moving,
            day=WEDNESDAY,
            window=window_at(office, WEDNESDAY, 10),
            now=now,
        )
    )
    mover.join(timeout=5)  # refused at once; it used to wait here for the held day
    go.set()
    holder.join()
    mover.join()

    assert "error" not in held, held.get("error")
    assert isinstance(moved.get("error"), ValidationError), moved
    assert moved["error"].code == "full"
    assert Booking.objects.get(pk=moving.pk).window.start == time(8)
    assert_counters_match_bookings()


def book_group_of(office, day, hour, size, now):
    return services.create_group_booking(
        office=office,
        day=day,
        window=window_at(office, day, hour),
        applicants=[silent_applicant() for _ in range(size)],
        now=now,
    )


@pytest.mark.parametrize("capacity", [7, 12])
def test_groups_and_single_bookings_racing_never_overfill_and_never_split(capacity):
    # Forty threads want the last places of one window: groups of two to five and single
    # applicants, each on its own connection, released at once.
    office = OfficeFactory(windows=[(time(8), time(10), capacity)])
    now = datetime(2017, 9, 5, 9, 0, tzinfo=WIB)
    sizes = [1, 2, 3, 4, 5] * 8
    outcomes = run_together(
        [
            partial(book, office, WEDNESDAY, 8, now)
            if size == 1
            else partial(book_group_of, office, WEDNESDAY, 8, size, now)
            for size in sizes
        ]
    )

    taken = sum(size for size, (kind, _r) in zip(sizes, outcomes, strict=True) if kind == "ok")
    assert taken == Booking.objects.count() <= capacity
    assert set(tally(outcomes)) <= {"ok", "full", "group_full"}
    # Nobody left out while places remained for one: the window is full for a single booking.
    assert WindowDay.objects.get().booked == capacity or "full" not in tally(outcomes)
    for group in BookingGroup.objects.all():
        members = list(group.members.all())
        assert len({(m.date, m.window_id, m.status) for m in members}) == 1
        assert len(members) == next(
            size
            for size, (kind, result) in zip(sizes, outcomes, strict=True)
            if kind == "ok" and size > 1 and result[0].group_id == group.pk
        )
    assert_counters_match_bookings()


def test_a_group_and_a_single_booking_race_for_the_same_nik():
    office = OfficeFactory()
    now = datetime(2017, 9, 5, 9, 0, tzinfo=WIB)
    shared = make_nik()
    family = [silent_applicant(nik=shared), silent_applicant(), silent_applicant()]
    actions = [
        partial(
            services.create_group_booking,
            office=office,
            day=WEDNESDAY,
            window=window_at(office, WEDNESDAY, 8),
            applicants=family,
            now=now,
        ),
        partial(
            create_booking,
            office=office,
            day=THURSDAY,
            window=window_at(office, THURSDAY, 8),
            applicant=silent_applicant(nik=shared),
            now=now,
        ),
    ]

    outcomes = run_together(actions)

    assert sorted(kind for kind, _code in outcomes) == ["ok", "refused"]
    assert Booking.objects.filter(nik=shared).count() == 1
    assert Booking.objects.count() in (1, 3)  # the single booking alone, or the whole family
    assert_counters_match_bookings()


def test_whole_groups_moving_and_singles_booking_keep_the_counters_true():
    office = OfficeFactory(windows=[(time(8), time(10), 45), (time(10), time(12), 6)])
    now = datetime(2017, 9, 5, 9, 0, tzinfo=WIB)
    groups = [book_group_of(office, WEDNESDAY, 8, size, now)[0].group for size in (2, 3, 4)]
    target = window_at(office, WEDNESDAY, 10)
    actions = [
        partial(services.reschedule_group, group=group, day=WEDNESDAY, window=target, now=now)
        for group in groups
    ] + [partial(book, office, WEDNESDAY, 10, now) for _ in range(4)]

    outcomes = run_together(actions)

    assert WindowDay.objects.get(window=target).booked <= 6
    for group in groups:
        windows = set(group.members.values_list("window_id", flat=True))
        assert len(windows) == 1  # all moved, or none
    assert set(tally(outcomes)) <= {"ok", "full", "group_full"}
    assert_counters_match_bookings()


def test_entries_racing_with_the_same_nik_leave_exactly_one():
    office = OfficeFactory()
    opens = datetime(2017, 9, 1, 14, 0, tzinfo=WIB)
    release = make_release(office, date(2017, 9, 11), date(2017, 9, 15), opens_at=opens)
    shared = make_nik()
    monday = date(2017, 9, 11)

    def entry_with(nik, *others):
        return partial(
            ballots.enter,
            release=release,
            applicants=[silent_applicant(nik=nik), *(silent_applicant() for _ in others)],
            preferences=[(monday, window_at(office, monday))],
            now=opens + timedelta(hours=1),
        )

    # Twenty entries hold the same NIK: alone, or inside a group of two or three.
    outcomes = run_together([entry_with(shared, *range(n % 3)) for n in range(20)])

    assert tally(outcomes) == Counter({"ok": 1, "entered_already": 19})
    assert EntryApplicant.objects.filter(nik=shared, entered=True).count() == 1


def closed_release(office, monday, *, sizes):
    """Return a closed release of an office's Monday with an entry of each size, all for its
    8.00 session."""
    opens = datetime(2017, 9, 1, 14, 0, tzinfo=WIB)
    release = make_release(office, monday, opens_at=opens)
    for size in sizes:
        ballots.enter(
            release=release,
            applicants=[silent_applicant() for _ in range(size)],
            preferences=[(monday, window_at(office, monday))],
            now=opens + timedelta(hours=1),
        )
    ballots.close_release(release=release, now=opens + timedelta(days=3))
    return release


def test_a_draw_racing_with_bookings_and_cancellations_never_gives_a_place_twice():
    office = OfficeFactory(windows=[(time(8), time(10), 6)])
    monday = date(2017, 9, 11)
    release = closed_release(office, monday, sizes=(1, 2, 3, 1, 2))
    now = datetime(2017, 9, 5, 9, 0, tzinfo=WIB)
    early = [book(office, monday, 8, now) for _ in range(2)]
    actions = [
        partial(ballots.draw_release, release=release, public_value="42", now=release.draw_at),
        *(partial(book, office, monday, 8, now) for _ in range(6)),
        *(partial(cancel_booking, booking=booking, now=now) for booking in early),
    ]

    outcomes = run_together(actions)

    assert outcomes[0][0] == "ok"
    assert set(tally(outcomes[1:])) <= {"ok", "full"}
    assert WindowDay.objects.get().booked <= 6
    assert_counters_match_bookings()


def test_draws_handed_on_twice_and_run_side_by_side_draw_each_release_once():
    # Two offices' releases, each handed to three workers at once (a retry, a second beat).
    monday = date(2017, 9, 11)
    releases = []
    for _office in range(2):
        office = OfficeFactory(windows=[(time(8), time(10), 4)])
        release = closed_release(office, monday, sizes=(1, 2, 1, 3))
        Release.objects.filter(pk=release.pk).update(public_value="42")
        releases.append(release)
    draw_at = releases[0].draw_at

    outcomes = run_together(
        [partial(ballots.draw_due, r.pk, now=draw_at) for r in releases for _ in range(3)]
    )

    assert outcomes == [("ok", True)] * 6
    for release in Release.objects.filter(pk__in=[r.pk for r in releases]):
        won = [r for r, o in release.outcome.items() if o["result"] == "won"]
        sizes = {entry["receipt"]: entry["size"] for entry in release.entries_list}
        booked = Booking.objects.filter(office=release.office_id, status=Booking.Status.BOOKED)
        assert booked.count() == sum(sizes[receipt] for receipt in won) == 4
    assert_counters_match_bookings()


def test_freed_places_racing_offers_bookings_and_cancellations_are_never_given_twice():
    # A ballot office's Monday session of 4: four winners, six singles waiting.
    office = OfficeFactory(release_mode="ballot", windows=[(time(8), time(10), 4)])
    monday = date(2017, 9, 11)
    release = closed_release(office, monday, sizes=(1,) * 10)
    ballots.draw_release(release=release, public_value="42", now=release.draw_at)
    now = datetime(2017, 9, 5, 9, 0, tzinfo=WIB)
    winners = list(Booking.objects.filter(status=Booking.Status.BOOKED))
    assert len(winners) == 4
    # Three winners cancel while two sweeps offer and eight applicants try to book at once.
    actions = [
        *(partial(cancel_booking, booking=booking, now=now) for booking in winners[:3]),
        *(partial(ballots.offer_free_places, now=now) for _ in range(2)),
        *(partial(book, office, monday, 8, now) for _ in range(8)),
    ]

    outcomes = run_together(actions)

    assert set(tally(outcomes[5:])) <= {"full", "waitlist_first"}  # nobody jumps the list
    ballots.offer_free_places(now=now)  # a sweep after the race gives what was left
    offers = list(Offer.objects.filter(state=Offer.State.OPEN))
    assert len(offers) == 3 and len({o.entry_id for o in offers}) == 3  # one offer per entry
    assert WindowDay.objects.get().booked == 4  # 1 booked and 3 offered: none twice
    assert_counters_match_bookings()
    # Accepting, declining and lapsing at once: still never more than the session holds.
    actions = [
        partial(ballots.accept_offer, offer=offers[0], now=now),
        partial(ballots.decline_offer, offer=offers[1], now=now),
        partial(ballots.expire_offers, now=offers[2].expires_at),
        *(partial(book, office, monday, 8, now) for _ in range(4)),
    ]

    outcomes = run_together(actions)

    assert WindowDay.objects.get().booked <= 4
    assert_counters_match_bookings()
    entries_offered = Offer.objects.values_list("entry_id", flat=True)
    assert len(list(entries_offered)) == len(set(entries_offered))  # nobody offered twice


@pytest.mark.contact_limit
def test_one_phone_booking_ten_times_at_once_holds_the_limit(now, settings):
    settings.BOOKINGS_PER_CONTACT = 5
    office = OfficeFactory(windows=[(time(8), time(10), 45)])
    day = date(2017, 9, 12)

    def book_with_one_phone():
        return create_booking(
            office=office,
            day=day,
            window=window_at(office, day),
            applicant=make_applicant(phone="+6281299990000", email=""),
            now=now,
        )

    outcomes = run_together([book_with_one_phone for _ in range(10)])

    assert tally(outcomes) == Counter({"ok": 5, "contact_limit": 5})
    assert Booking.objects.filter(phone="+6281299990000").count() == 5
    assert_counters_match_bookings()


def test_bookings_racing_a_closure_land_before_it_and_move_or_after_it_and_find_it_closed(now):
    """A day closed while applicants book it: each booking lands before the close (and is
    moved by it) or after (and is refused); counters stay true, no deadlock."""
    office = OfficeFactory(code="palembang", open_weekdays="0123456")
    clerk = get_user_model().objects.create_user("petugas", is_staff=True)
    earlier = now - timedelta(days=1)
    for n in range(20):
        create_booking(
            office=office,
            day=THURSDAY,
            window=window_at(office, THURSDAY, (8, 10, 13)[n % 3]),
            applicant=make_applicant(full_name=f"Awal {n}"),
            now=earlier,
        )

    def booking(n):
        return create_booking(
            office=office,
            day=THURSDAY,
            window=window_at(office, THURSDAY, (8, 10, 13)[n % 3]),
            applicant=make_applicant(full_name=f"Balapan {n}"),
            now=earlier,
        )

    def closing():
        return closures.close(office=office, day=THURSDAY, reason="Banjir", by=clerk, now=now)

    outcomes = run_together([partial(booking, n) for n in range(12)] + [closing])

    closed = outcomes[-1]
    assert closed[0] == "ok"
    booked = [o for o in outcomes[:-1] if o[0] == "ok"]
    refused = [o[1] for o in outcomes[:-1] if o[0] == "refused"]
    assert set(refused) <= {"full", "day_full", "closed"} and len(booked) + len(refused) == 12
    assert not Booking.objects.filter(date=THURSDAY, status="booked").exists()
    # Every booking that landed first was moved by the close; none was left behind.
    assert closed[1].moved == 20 + len(booked)
    assert Booking.objects.filter(status="booked").count() == 20 + len(booked)
    assert_counters_match_bookings()
