"""The counters' calls on a real database: check-in to the queue, call next, recall, skip,
start, finish, sign in and out, and what the queue's readers see."""

from contextlib import contextmanager

import pytest
from django.core.exceptions import ValidationError

from bookings.models import Visit
from bookings.queue import board, calls
from bookings.services import register_walk_in
from bookings.tests.factories import arrive_on_wednesday as arrive
from bookings.tests.factories import call, make_applicant, make_clerk, open_counter
from bookings.tests.factories import on_wednesday as at
from offices.models import Counter

pytestmark = pytest.mark.django_db


@contextmanager
def refused(code):
    with pytest.raises(ValidationError) as caught:
        yield
    assert caught.value.code == code, caught.value


@pytest.fixture
def loket(office):
    """Loket 1 with its clerk signed in."""
    return open_counter(office, "Loket 1", "ani")


def walk_in(office, now, reason="far_away"):
    return register_walk_in(
        office=office, applicant=make_applicant(), reason=reason, by=None, now=now
    )


def done(counter, now):
    calls.finish(counter=counter, by=counter.clerk, now=now)


# Joining the queue at check-in.


def test_check_in_puts_each_applicant_in_their_line(office):
    early = arrive(office, at(7, 30))
    late = arrive(office, at(10, 30), hour=8)  # the 08.00–10.00 window has ended
    walking = walk_in(office, at(7, 40))
    elderly = walk_in(office, at(7, 50), reason="elderly")

    visits = {v.booking_id: v for v in Visit.objects.all()}

    assert (early.queue_number, visits[early.pk].line) == ("A-001", "A")
    assert visits[early.pk].queued_at == at(8)  # waits for the window
    assert (late.queue_number, visits[late.pk].line) == ("B-001", "B")
    assert visits[late.pk].queued_at == at(10, 30)
    assert (walking.queue_number, visits[walking.pk].line) == ("B-002", "B")
    assert (elderly.queue_number, visits[elderly.pk].line) == ("P-001", "P")
    assert {v.state for v in visits.values()} == {Visit.State.WAITING}


# Calling.


def test_the_counters_call_by_the_office_rule(office, loket):
    office.priority_calls_in_row, office.online_calls_per_walk_in = 2, 2
    office.save()
    loket.office = office
    online = [arrive(office, at(7, 30 + i)).queue_number for i in range(4)]
    walks = [walk_in(office, at(7, 40 + i)).queue_number for i in range(2)]
    priority = [walk_in(office, at(7, 50 + i), reason="elderly").queue_number for i in range(3)]

    order = []
    for minute in range(20):
        number = call(loket, at(8, minute))
        if number is None:
            break
        order.append(number)
        done(loket, at(8, minute))

    p, a, b = priority, online, walks
    assert order == [p[0], p[1], a[0], p[2], a[1], b[0], a[2], a[3], b[1]]


def test_an_early_arrival_waits_for_their_window(office, loket):
    ten = arrive(office, at(7, 30), hour=10)

    assert call(loket, at(9, 59)) is None
    assert call(loket, at(10)) == ten.queue_number


def test_online_applicants_are_called_in_the_order_of_their_window(office, loket):
    later = arrive(office, at(7, 30), hour=10)  # early for 10.00
    earlier = arrive(office, at(9, 50), hour=8)  # within 08.00–10.00

    assert call(loket, at(10, 5)) == earlier.queue_number
    done(loket, at(10, 10))
    assert call(loket, at(10, 10)) == later.queue_number


def test_a_counter_calls_nobody_else_until_it_finishes(office, loket):
    first, second = arrive(office, at(7, 30)), arrive(office, at(7, 31))
    call(loket, at(8))

    with refused("counter_busy"):
        call(loket, at(8, 1))
    calls.start(counter=loket, by=loket.clerk, now=at(8, 2))
    with refused("already_serving"):
        calls.start(counter=loket, by=loket.clerk, now=at(8, 3))
    done(loket, at(8, 9))

    assert call(loket, at(8, 10)) == second.queue_number
    served = Visit.objects.get(booking=first)
    assert (served.state, served.called_at, served.serving_at, served.finished_at) == (
        Visit.State.DONE,
        at(8),
        at(8, 2),
        at(8, 9),
    )
    assert served.counter == loket


def test_finishing_an_applicant_never_started_counts_the_service_from_the_call(office, loket):
    first = arrive(office, at(7, 30))
    call(loket, at(8))
    done(loket, at(8, 7))

    served = Visit.objects.get(booking=first)
    assert (served.serving_at, served.finished_at) == (at(8), at(8, 7))


def test_recall_calls_the_same_applicant_again(office, loket):
    first = arrive(office, at(7, 30))
    call(loket, at(8))

    visit = calls.recall(counter=loket, by=loket.clerk)

    assert (visit.booking_id, visit.calls, visit.state) == (first.pk, 2, Visit.State.CALLED)


def test_a_skipped_applicant_goes_to_the_back_then_is_marked_after_the_office_skips(office, loket):
    office.skips_before_no_show = 2
    office.save()
    first, second = arrive(office, at(7, 30)), arrive(office, at(7, 31))
    assert call(loket, at(8)) == first.queue_number

    back = calls.skip(counter=loket, by=loket.clerk, now=at(8, 3))
    assert (back.state, back.counter, back.queued_at) == (Visit.State.WAITING, None, at(8, 3))
    assert call(loket, at(8, 4)) == second.queue_number
    done(loket, at(8, 10))
    assert call(loket, at(8, 11)) == first.queue_number
    missed = calls.skip(counter=loket, by=loket.clerk, now=at(8, 14))

    assert (missed.state, missed.skips, missed.finished_at) == (
        Visit.State.MISSED,
        2,
        at(8, 14),
    )
    assert missed.called_at == at(8)  # the wait is measured to the first call
    assert call(loket, at(8, 15)) is None


def test_only_the_clerk_signed_in_calls_at_a_counter(office, loket):
    arrive(office, at(7, 30))
    other = make_clerk("budi", office)

    with refused("not_signed_in"):
        calls.call_next(counter=loket, by=other, now=at(8))
    with refused("nobody_called"):
        calls.recall(counter=loket, by=loket.clerk)


def test_a_counter_without_photo_and_interview_calls_nobody(office):
    payment = Counter.objects.create(office=office, name="Kasir", interview=False, payment=True)
    calls.sign_in(counter=payment, by=make_clerk("cici", office))
    arrive(office, at(7, 30))

    with refused("not_interview_counter"):
        call(payment, at(8))


def test_signing_in_moves_a_clerk_and_signing_out_waits_for_the_applicant(office, loket):
    ani = loket.clerk
    second = Counter.objects.create(office=office, name="Loket 2")
    arrive(office, at(7, 30))
    call(loket, at(8))

    with refused("counter_occupied"):
        calls.sign_out(counter=loket, by=ani)
    done(loket, at(8, 5))
    calls.sign_in(counter=second, by=ani)

    assert Counter.objects.get(pk=loket.pk).clerk is None
    assert Counter.objects.get(pk=second.pk).clerk == ani
    calls.sign_out(counter=second, by=ani)
    assert Counter.objects.get(pk=second.pk).clerk is None


def test_nobody_checked_in_today_means_nobody_to_call(office, loket):
    assert call(loket, at(8)) is None


# What the display, the applicant and the staff read.


def test_the_queue_shows_each_counter_the_next_numbers_and_the_measures(office, loket):
    idle = Counter.objects.create(office=office, name="Loket 2")
    arrivals = [arrive(office, at(7, 30 + i)) for i in range(5)]
    call(loket, at(8))
    done(loket, at(8, 10))  # waited 30 minutes, served in 10
    call(loket, at(8, 10))  # waited 39 minutes

    queue = board.read_queue(office, at(8, 12))

    assert [(c.name, c.number, c.state) for c in queue.counters] == [
        ("Loket 1", arrivals[1].queue_number, "called"),
        (idle.name, "", ""),
    ]
    assert queue.upcoming == [b.queue_number for b in arrivals[2:]]
    assert (queue.waiting, queue.counters_open) == (3, 1)
    assert (queue.service_minutes, queue.measured) == (10, True)
    assert queue.median_wait_minutes == 34.5


def test_an_applicant_sees_how_many_are_ahead_and_the_wait_as_a_range(office, loket):
    arrivals = [arrive(office, at(7, 30 + i)) for i in range(4)]
    last = Visit.objects.select_related("booking", "office").get(booking=arrivals[-1])

    before = board.position(last, at(7, 45))
    assert (before.ahead, before.wait) == (3, (20, 40))  # 3 × 10 minutes, the default
    assert before.window_starts == at(8)

    call(loket, at(8))
    done(loket, at(8, 20))
    now_ = board.position(last, at(8, 20))
    assert (now_.ahead, now_.wait, now_.window_starts) == (2, (30, 50), None)  # 2 × 20 minutes

    for minute in (21, 22, 23):
        if call(loket, at(8, minute)) == last.booking.queue_number:
            break
        done(loket, at(8, minute))
    last.refresh_from_db()
    called = board.position(last, at(8, 23))
    assert (called.state, called.counter) == (Visit.State.CALLED, "Loket 1")


def test_an_early_arrival_is_told_to_wait_at_least_until_their_window(office):
    ten = arrive(office, at(8, 5), hour=10)
    visit = Visit.objects.select_related("booking", "office").get(booking=ten)

    place = board.position(visit, at(8, 5))

    assert (place.ahead, place.window_starts) == (0, at(10))
    assert place.wait == (115, 125)  # nobody ahead, but 115 minutes until 10.00


def test_the_queue_is_read_once_until_a_change_forgets_it(
    office, loket, django_assert_max_num_queries
):
    first = arrive(office, at(7, 30))
    board.read_queue(office, at(8))

    with django_assert_max_num_queries(0):
        assert board.read_queue(office, at(8, 1)).upcoming == [first.queue_number]

    second = arrive(office, at(8, 2))  # a check-in
    assert board.read_queue(office, at(8, 2)).upcoming == [first.queue_number, second.queue_number]
    call(loket, at(8, 3))  # a call
    assert board.read_queue(office, at(8, 3)).counters[0].number == first.queue_number
    calls.recall(counter=loket, by=loket.clerk)
    assert board.read_queue(office, at(8, 3)).counters[0].calls == 2
    calls.skip(counter=loket, by=loket.clerk, now=at(8, 4))
    assert board.read_queue(office, at(8, 4)).upcoming == [second.queue_number, first.queue_number]
    calls.sign_out(counter=loket, by=loket.clerk, now=at(8, 5))
    assert board.read_queue(office, at(8, 5)).counters_open == 0
