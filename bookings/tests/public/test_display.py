"""The waiting-room display: the page for the TV and the JSON it polls, public and read-only,
showing queue numbers and counter names only, in a constant number of queries."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bookings.queue import calls
from bookings.tests.factories import WEDNESDAY, call, open_counter
from bookings.tests.factories import arrive_on_wednesday as arrive
from bookings.tests.factories import on_wednesday as at
from offices.models import Counter
from offices.tests.factories import DayOverrideFactory

pytestmark = pytest.mark.django_db

# The office (cached outside tests), the counters, those at them, the waiting, the latest calls'
# lines, the latest services, today's calls (bookings.queue.board); the day's windows and its
# override (offices.schedule).
QUERIES = 9


def page_url(office):
    return reverse("office-display", args=[office.code])


def data_url(office):
    return reverse("office-display-data", args=[office.code])


@pytest.fixture
def wednesday(clock):
    clock.now = at(9)
    return clock


def test_the_routes_come_before_the_days(client, office):
    assert reverse("office-display", args=["palembang"]) == "/offices/palembang/display/"
    assert reverse("office-display-data", args=["palembang"]) == "/offices/palembang/display.json"
    assert client.get("/offices/palembang/display/").resolver_match.url_name == "office-display"


def test_the_display_shows_each_counters_number_and_the_next_ones(client, office, wednesday):
    loket1 = open_counter(office, "Loket 1", "ani")
    loket2 = open_counter(office, "Loket 2", "budi")
    numbers = [arrive(office, at(8, i)).queue_number for i in range(5)]
    first, second = call(loket1, at(9)), call(loket2, at(9))

    response = client.get(page_url(office))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert office.name in html
    assert (first, second) == (numbers[0], numbers[1])
    tiles = html.split("data-counter=")[1:]
    assert "Loket 1" in tiles[0] and first in tiles[0]
    assert "Loket 2" in tiles[1] and second in tiles[1]
    for number in numbers[2:]:
        assert f"<li>{number}</li>" in html
    assert "data-waiting>3<" in html
    assert '<meta http-equiv="refresh" content="15">' in html
    assert "display.js" in html and "display.css" in html
    assert "<style" not in html and " style=" not in html and "<script>" not in html


def test_the_json_follows_the_calls(client, office, wednesday):
    loket1 = open_counter(office, "Loket 1", "ani")
    loket2 = open_counter(office, "Loket 2", "budi")
    numbers = [arrive(office, at(8, i)).queue_number for i in range(3)]
    call(loket1, at(9))

    data = client.get(data_url(office)).json()

    assert data["counters"] == [
        {"name": "Loket 1", "number": numbers[0], "state": "called", "calls": 1},
        {"name": "Loket 2", "number": "", "state": "", "calls": 0},
    ]
    assert data["upcoming"] == numbers[1:]
    assert data["waiting"] == 2
    assert data["counters_open"] == 2
    assert (data["day"], data["time"], data["zone"], data["open"]) == (
        "2017-09-06",
        "09.00",
        "WIB",
        True,
    )

    calls.recall(counter=loket1, by=loket1.clerk)
    calls.start(counter=loket1, by=loket1.clerk, now=at(9, 1))
    call(loket2, at(9, 1))
    again = client.get(data_url(office)).json()

    assert again["counters"][0] == {
        "name": "Loket 1",
        "number": numbers[0],
        "state": "serving",
        "calls": 2,
    }
    assert again["counters"][1]["number"] == numbers[1]
    assert again["upcoming"] == [numbers[2]]
    assert again["version"] != data["version"]

    calls.finish(counter=loket1, by=loket1.clerk, now=at(9, 5))
    assert client.get(data_url(office)).json()["counters"][0]["number"] == ""


def test_an_unchanged_queue_answers_304(client, office, wednesday):
    open_counter(office, "Loket 1", "ani")
    arrive(office, at(8))

    first = client.get(data_url(office))
    etag = first["ETag"]
    again = client.get(data_url(office), HTTP_IF_NONE_MATCH=etag)

    assert etag == f'"{first.json()["version"]}"'
    assert again.status_code == 304
    assert "max-age=2" in first["Cache-Control"]

    arrive(office, at(8, 30))
    assert client.get(data_url(office), HTTP_IF_NONE_MATCH=etag).status_code == 200


@pytest.mark.parametrize("name", ["office-display", "office-display-data"])
def test_an_unknown_office_is_not_found(client, db, name):
    assert client.get(reverse(name, args=["atlantis"])).status_code == 404


@pytest.mark.parametrize("name", ["office-display", "office-display-data"])
@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_display_only_answers_get(client, office, name, method):
    response = getattr(client, method)(reverse(name, args=[office.code]))
    assert response.status_code == 405


@pytest.mark.parametrize("name", ["office-display", "office-display-data"])
def test_no_personal_data_on_the_display(client, office, wednesday, name):
    loket = open_counter(office, "Loket 1", "ani")
    called = arrive(office, at(8), full_name="Rahmawati Kusumadewi", email="rahma@example.com")
    waiting = arrive(office, at(8, 1), full_name="Bambang Sutrisno", phone="+6281398765432")
    call(loket, at(9))

    text = client.get(reverse(name, args=[office.code])).content.decode()

    assert called.queue_number in text and waiting.queue_number in text
    for booking in (called, waiting):
        for secret in (booking.full_name, booking.nik, booking.code, booking.email, booking.phone):
            assert secret not in text


def test_the_page_speaks_the_active_language(office, wednesday):
    open_counter(office, "Loket 1", "ani")

    indonesian = Client(HTTP_ACCEPT_LANGUAGE="id").get(page_url(office)).content.decode()
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get(page_url(office)).content.decode()

    assert '<html lang="id">' in indonesian
    assert "Rabu, 6 September 2017" in indonesian
    assert "09.00</span> WIB" in indonesian
    assert 'data-time-separator="."' in indonesian
    assert '<html lang="en">' in english
    assert "Wednesday, 6 September 2017" in english
    assert "09:00</span> WIB" in english
    assert "Next numbers" in english
    assert 'data-announce="Number {number} to {counter}"' in english


def test_a_closed_day_and_no_counter_are_noted(client, office, wednesday):
    DayOverrideFactory(office=office, date=WEDNESDAY, closed=True, reason="Cuti bersama")

    html = client.get(page_url(office), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    closed_note = html.split("data-closed")[1].split("</p>")[0]

    assert "hidden" not in closed_note.split(">")[0]
    assert "Cuti bersama" in closed_note
    assert "This office has no counters on the display yet." in html
    assert client.get(data_url(office)).json()["open"] is False


def test_no_counter_calling_is_noted(client, office, wednesday):
    Counter.objects.create(office=office, name="Loket 1")  # nobody signed in

    html = client.get(page_url(office)).content.decode()

    assert "data-no-counter>" in html  # shown: not hidden
    assert "data-closed hidden" in html


@pytest.mark.parametrize("waiting", [2, 10])
@pytest.mark.parametrize("name", ["office-display", "office-display-data"])
def test_the_queries_do_not_grow_with_the_queue(
    client, office, wednesday, django_assert_max_num_queries, waiting, name
):
    for index in range(3):
        loket = open_counter(office, f"Loket {index + 1}", f"clerk{index}")
    for minute in range(waiting + 1):
        arrive(office, at(8, minute))
    call(loket, at(9))
    calls.finish(counter=loket, by=loket.clerk, now=at(9, 3))
    call(loket, at(9, 4))

    with django_assert_max_num_queries(QUERIES):
        assert client.get(reverse(name, args=[office.code])).status_code == 200


def test_two_and_ten_waiting_take_the_same_queries(client, office, wednesday):
    loket = open_counter(office, "Loket 1", "ani")
    arrive(office, at(7, 59))
    call(loket, at(9))  # one at a counter, the rest waiting
    counts = []
    for minute in range(11):
        arrive(office, at(8, minute))
        if minute in (2, 10):
            with CaptureQueriesContext(connection) as page:
                client.get(page_url(office))
            with CaptureQueriesContext(connection) as data:
                client.get(data_url(office))
            counts.append((len(page), len(data)))

    assert counts[0] == counts[1]


def test_the_json_is_plain_data(client, office, wednesday):
    open_counter(office, "Loket 1", "ani")
    response = client.get(data_url(office))

    assert response["Content-Type"] == "application/json"
    assert set(json.loads(response.content)) == {
        "day",
        "time",
        "zone",
        "open",
        "counters",
        "upcoming",
        "waiting",
        "counters_open",
        "version",
    }
