"""The clerk's counter on the today page: sign in, call next, start, recall, skip, finish."""

import pytest
from django.urls import reverse

from bookings.models import Visit
from bookings.tests.factories import TODAY, book, login
from offices.models import Counter

pytestmark = pytest.mark.django_db

TODAY_URL = "admin:bookings_booking_today"
COUNTER_URL = "admin:bookings_booking_counter"
CHECK_IN_URL = "admin:bookings_booking_check_in"


@pytest.fixture(autouse=True)
def _pinned(pinned):
    return pinned


@pytest.fixture
def loket(world):
    return Counter.objects.create(office=world.palembang, name="Loket 1")


def act(client, counter, action, office=None):
    data = {"office": (office or counter.office).pk, "counter": counter.pk, "action": action}
    return client.post(reverse(COUNTER_URL), data, follow=True)


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def arrive(client, world, now, index=0):
    booking = book(world.palembang, TODAY, index=index, now=now)
    data = {"office": world.palembang.pk, "code": booking.code}
    client.post(reverse(CHECK_IN_URL), data, follow=True)  # its message shown
    booking.refresh_from_db()
    return booking


def test_a_clerk_signs_in_calls_serves_and_finishes(clerk, world, loket, now):
    first = arrive(clerk, world, now)
    second = arrive(clerk, world, now)

    page = act(clerk, loket, "sign_in")
    assert messages_of(page) == ["You are signed in to Loket 1."]
    assert "Call next" in page.content.decode()

    page = act(clerk, loket, "call_next")
    assert messages_of(page) == [f"{first.queue_number} is called to Loket 1."]
    assert page.context["at_my_counter"].booking == first
    text = page.content.decode()
    assert first.full_name in text and "Start serving" in text and "Call again" in text

    act(clerk, loket, "start")
    page = act(clerk, loket, "finish")
    assert messages_of(page) == [f"{first.queue_number} is finished."]
    served = Visit.objects.get(booking=first)
    assert (served.state, served.counter, served.called_by) == (
        Visit.State.DONE,
        loket,
        world.clerk,
    )

    page = act(clerk, loket, "call_next")
    assert page.context["at_my_counter"].booking == second
    assert page.context["queue"].waiting == 0


def test_the_page_shows_the_live_queue(clerk, world, loket, now):
    arrivals = [arrive(clerk, world, now) for _ in range(3)]
    act(clerk, loket, "sign_in")
    act(clerk, loket, "call_next")

    page = clerk.get(reverse(TODAY_URL))

    text = page.content.decode()
    assert "2 waiting" in text
    assert "median wait today 0 min" in text
    assert f"{arrivals[1].queue_number}, {arrivals[2].queue_number}" in text


def test_skip_and_recall_answer_with_what_happened(clerk, world, loket, now):
    world.palembang.skips_before_no_show = 1
    world.palembang.save()
    first = arrive(clerk, world, now)
    act(clerk, loket, "sign_in")
    act(clerk, loket, "call_next")

    assert messages_of(act(clerk, loket, "recall")) == [
        f"{first.queue_number} is called to Loket 1."
    ]
    assert messages_of(act(clerk, loket, "skip")) == [
        f"{first.queue_number} did not answer and is marked so."
    ]
    assert messages_of(act(clerk, loket, "call_next")) == [
        "Nobody is waiting who can be called now."
    ]


def test_refusals_are_messages_not_errors(clerk, world, loket, now):
    arrive(clerk, world, now)

    page = act(clerk, loket, "call_next")  # not signed in

    assert page.status_code == 200
    assert messages_of(page) == ["Sign in to this counter first."]
    assert not Visit.objects.exclude(state=Visit.State.WAITING).exists()


def test_a_clerk_cannot_act_at_another_offices_counter(client, world, now):
    makassar = Counter.objects.create(office=world.makassar, name="Loket 1")
    login(client, world.clerk)

    assert act(client, makassar, "sign_in").status_code == 404
    assert act(client, makassar, "sign_in", office=world.palembang).status_code == 404
    assert Counter.objects.get(pk=makassar.pk).clerk is None


@pytest.mark.parametrize("action", ["", "delete", "sign_in "])
def test_an_unknown_action_is_not_found(clerk, loket, action):
    assert act(clerk, loket, action).status_code == 404


def test_counter_actions_are_posts_by_staff_who_may_check_in(client, world, loket):
    assert login(client, world.clerk).get(reverse(COUNTER_URL)).status_code == 405
    login(client, world.supervisor)  # reads every office, checks nobody in
    assert act(client, loket, "sign_in").status_code == 403


def test_an_office_without_counters_says_so(clerk, world):
    text = clerk.get(reverse(TODAY_URL)).content.decode()

    assert "This office has no counters yet." in text
    assert "Add its counters" in text


@pytest.mark.parametrize("count", [2, 20])
def test_the_page_of_a_clerk_at_a_counter_costs_the_same_whatever_the_queue(
    clerk, world, loket, now, count, django_assert_max_num_queries
):
    for _ in range(count):
        arrive(clerk, world, now)
    act(clerk, loket, "sign_in")
    act(clerk, loket, "call_next")
    act(clerk, loket, "finish")
    act(clerk, loket, "call_next")
    clerk.get(reverse(TODAY_URL))

    with django_assert_max_num_queries(20):
        page = clerk.get(reverse(TODAY_URL))

    assert page.context["queue"].waiting == count - 2
