"""The API's queue: an office's live summary, an applicant's place by code and NIK, the 404s
and the 409 before check-in, and the queries each costs."""

from datetime import date, timedelta

import pytest

from bookings.queue import calls
from bookings.tests.factories import (
    arrive_on_wednesday,
    book_on_wednesday,
    make_nik,
    open_counter,
)
from bookings.tests.factories import on_wednesday as at
from offices.models import Counter

pytestmark = pytest.mark.django_db

API = "/api/v1"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def loket(office):
    """Loket 1 with its clerk signed in, and Loket 2 without one."""
    Counter.objects.create(office=office, name="Loket 2")
    return open_counter(office, "Loket 1", "ani")


def nik_of(index):
    """A NIK of a birth `index` days after 17 May 1990."""
    return make_nik(date(1990, 5, 17) + timedelta(days=index))


def booked(office, hour=8, index=0):
    return book_on_wednesday(office, hour, nik=nik_of(index))


def arrive(office, now, hour=8, index=0):
    return arrive_on_wednesday(office, now, hour, nik=nik_of(index))


def position(client, booking, nik=None, **headers):
    body = {"nik": nik or booking.nik}
    return client.post(
        f"{API}/bookings/{booking.code}/queue", body, content_type="application/json", **headers
    )


# The office's queue.


def test_the_summary_shows_counters_the_next_numbers_and_the_measures(
    client, clock, office, loket, django_assert_max_num_queries
):
    arrivals = [arrive(office, at(7, 30 + i), index=i) for i in range(4)]
    calls.call_next(counter=loket, by=loket.clerk, now=at(8))
    calls.finish(counter=loket, by=loket.clerk, now=at(8, 12))
    calls.call_next(counter=loket, by=loket.clerk, now=at(8, 12))
    clock.now = at(8, 15)

    # The office, the counters, those at them, the waiting, the latest calls and services,
    # today's waits.
    with django_assert_max_num_queries(7):
        response = client.get(f"{API}/offices/{office.code}/queue")

    assert response.status_code == 200
    assert (
        response.json()
        == {
            "office": office.code,
            "local_time": "08:15",
            "waiting": 2,
            "counters_open": 1,
            "median_wait_minutes": 35.5,  # 30 and 41 minutes from check-in to call
            "service_minutes": 12.0,
            "measured": True,
            "counters": [
                {"name": "Loket 1", "number": arrivals[1].queue_number, "state": "called"},
                {"name": "Loket 2", "number": None, "state": "idle"},
            ],
            "upcoming": [b.queue_number for b in arrivals[2:]],
        }
    )


def test_the_summary_of_a_quiet_office_before_anyone_is_served(client, clock, office, settings):
    settings.QUEUE_SERVICE_MINUTES = 10
    clock.now = at(7)

    body = client.get(f"{API}/offices/{office.code}/queue").json()

    assert (body["waiting"], body["counters_open"], body["counters"]) == (0, 0, [])
    assert (body["median_wait_minutes"], body["service_minutes"], body["measured"]) == (
        None,
        10.0,
        False,
    )


@pytest.mark.parametrize("code", ["atlantis", "x" * 40, "a%20b", "..%2f"])
def test_an_unknown_office_is_a_json_404(client, office, code):
    response = client.get(f"{API}/offices/{code}/queue", **EN)

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_an_office_code_too_long_is_a_422(client, office):
    response = client.get(f"{API}/offices/{'x' * 41}/queue", **EN)

    assert response.status_code == 422
    assert response.json()["error"] == "invalid"


# An applicant's place.


def test_a_waiting_applicant_gets_those_ahead_and_the_wait_as_a_range(
    client, clock, office, loket, django_assert_max_num_queries
):
    for i in range(3):
        arrive(office, at(7, 30 + i), index=i)
    last = arrive(office, at(7, 40), index=3)
    clock.now = at(8, 5)

    # The booking and its visit; the office-day's queue read once (the counters, those at
    # them, the waiting, the latest calls, the latest services, today's waits), then kept.
    with django_assert_max_num_queries(8):
        response = position(client, last)
    with django_assert_max_num_queries(2):
        assert position(client, last).json() == response.json()

    assert response.status_code == 200
    assert response.json() == {
        "number": last.queue_number,
        "state": "waiting",
        "counter": None,
        "ahead": 3,
        "wait_minutes": {"low": 20, "high": 40},  # 3 × 10 minutes, the default
        "window_starts": None,
    }


def test_an_early_applicant_is_told_when_their_session_starts(client, clock, office):
    early = arrive(office, at(7, 30), hour=10)
    clock.now = at(7, 35)

    body = position(client, early).json()

    assert (body["ahead"], body["window_starts"]) == (0, "10:00")


def test_a_called_applicant_gets_the_counter(client, clock, office, loket):
    booking = arrive(office, at(7, 30))
    calls.call_next(counter=loket, by=loket.clerk, now=at(8))
    clock.now = at(8, 1)

    body = position(client, booking).json()

    assert body == {
        "number": booking.queue_number,
        "state": "called",
        "counter": "Loket 1",
        "ahead": 0,
        "wait_minutes": None,
        "window_starts": None,
    }
    calls.finish(counter=loket, by=loket.clerk, now=at(8, 9))
    assert position(client, booking).json()["state"] == "done"


def test_a_wrong_nik_and_an_unknown_code_get_the_same_404(client, clock, office):
    booking = arrive(office, at(7, 30))
    clock.now = at(8)

    wrong_nik = position(client, booking, nik=make_nik(date(1980, 1, 1)), **EN)
    unknown = client.post(
        f"{API}/bookings/ABCDEFGHJK/queue",
        {"nik": booking.nik},
        content_type="application/json",
        **EN,
    )

    assert wrong_nik.status_code == unknown.status_code == 404
    assert wrong_nik.json() == unknown.json()
    assert wrong_nik.json()["error"] == "not_found"


def test_a_booking_not_checked_in_today_is_a_409(client, clock, office):
    waiting_at_home = booked(office)
    checked_in = arrive(office, at(7, 30), index=1)
    clock.now = at(8)

    before = position(client, waiting_at_home, **EN)
    assert before.status_code == 409
    assert before.json()["error"] == "not_checked_in"
    assert "checked in" in before.json()["message"]

    clock.now = at(8) + timedelta(days=1)  # the next day: yesterday's visit
    assert position(client, checked_in).json()["error"] == "not_checked_in"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 422),
        ({"nik": 1671015705900001}, 422),
        ({"nik": "1" * 40}, 422),
        ({"nik": "1671015705900001", "name": "x"}, 422),
        ({"nik": "12"}, 422),
        ("[1, 2", 400),
    ],
)
def test_bad_bodies_are_refused_as_json(client, clock, office, body, status):
    booking = arrive(office, at(7, 30))
    clock.now = at(8)

    response = client.post(
        f"{API}/bookings/{booking.code}/queue", body, content_type="application/json", **EN
    )

    assert response.status_code == status
    assert response.json()["error"] in {"invalid", "bad_request"}


def test_the_position_shares_the_lookup_rate_limit(client, clock, office, settings):
    settings.RATELIMIT_LOOKUP = "2/d"
    booking = arrive(office, at(7, 30))
    clock.now = at(8)

    answers = [position(client, booking).status_code for _ in range(3)]

    assert answers == [200, 200, 429]


def test_the_document_describes_both_operations(client):
    paths = client.get(f"{API}/openapi.json").json()["paths"]

    assert paths["/api/v1/offices/{code}/queue"]["get"]["operationId"] == "office_queue"
    operation = paths["/api/v1/bookings/{code}/queue"]["post"]
    assert operation["operationId"] == "booking_queue_position"
    assert {"200", "404", "409", "422", "429"} <= set(operation["responses"])
