"""The app's side of an office's closure: the booking says what happened; keep the new
place; left without one, list the days to choose from and choose first."""

from datetime import date, timedelta

import pytest

from bookings import closures
from bookings.models import Booking, ClosureMove
from bookings.tests.factories import book, closed_ballot_monday, make_nik, make_user, window_on
from offices.models import OfficeDay

pytestmark = pytest.mark.django_db

API = "/api/v1"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
THURSDAY = date(2017, 9, 7)
REASON = "Listrik padam"


@pytest.fixture(autouse=True)
def _pinned(clock):
    """The endpoints read Tuesday 5 September 2017, 09:00 WIB."""


@pytest.fixture
def clerk(db):
    return make_user("petugas")


def post(client, path, body):
    return client.post(f"{API}{path}", body, content_type="application/json", **EN)


@pytest.fixture
def moved(office, now, clerk):
    nik = make_nik()
    booking = book(office, THURSDAY, now=now, nik=nik)
    closures.close(office=office, day=THURSDAY, reason=REASON, by=clerk, now=now)
    return booking, nik


@pytest.fixture
def left(office, now, clerk):
    for day in (date(2017, 9, 6) + timedelta(days=n) for n in range(30)):
        if day != THURSDAY:
            OfficeDay.objects.create(
                office=office,
                date=day,
                quota=150,
                online_quota=135,
                booked=135,
                online_booked=135,
            )
    nik = make_nik()
    booking = book(office, THURSDAY, now=now, nik=nik)
    closures.close(office=office, day=THURSDAY, reason=REASON, by=clerk, raise_quota=False, now=now)
    return booking, nik


def test_a_looked_up_booking_says_it_was_moved_and_why(client, moved):
    booking, nik = moved

    answer = post(client, f"/bookings/{booking.code}/lookup", {"nik": nik})

    assert answer.status_code == 200
    body = answer.json()
    assert body["date"] == "2017-09-08"
    assert body["closure"] == {
        "outcome": "moved",
        "closed_date": "2017-09-07",
        "reason": REASON,
        "choose_until": None,
        "answer": "",
    }


def test_the_app_keeps_the_new_place_once(client, moved):
    booking, nik = moved

    kept = post(client, f"/bookings/{booking.code}/keep", {"nik": nik})

    assert kept.status_code == 200 and kept.json()["closure"]["answer"] == "kept"
    assert ClosureMove.objects.get().answer == "kept"
    wrong = post(client, f"/bookings/{booking.code}/keep", {"nik": make_nik()})
    assert wrong.status_code == 404


def test_keeping_without_a_move_is_a_conflict(client, office, now):
    nik = make_nik()
    booking = book(office, THURSDAY, now=now, nik=nik)

    answer = post(client, f"/bookings/{booking.code}/keep", {"nik": nik})

    assert answer.status_code == 409 and answer.json()["error"] == "nothing_to_keep"


def test_left_without_a_place_the_app_lists_the_days_and_chooses_first(client, office, left):
    booking, nik = left
    free = date(2017, 9, 14)
    OfficeDay.objects.filter(date=free).update(booked=0, online_booked=0)

    choices = post(client, f"/bookings/{booking.code}/choices", {"nik": nik})

    assert choices.status_code == 200
    assert [d["date"] for d in choices.json()] == ["2017-09-14"]
    window = window_on(office, free, 2)
    assert window.pk in [w["id"] for w in choices.json()[0]["windows"]]
    chosen = post(
        client,
        f"/bookings/{booking.code}/choose",
        {"nik": nik, "date": "2017-09-14", "window": window.pk},
    )
    assert chosen.status_code == 200
    assert (chosen.json()["status"], chosen.json()["date"]) == ("booked", "2017-09-14")
    assert chosen.json()["closure"]["answer"] == "chose"
    again = post(client, f"/bookings/{booking.code}/choices", {"nik": nik})
    assert again.status_code == 409 and again.json()["error"] == "not_priority"


@pytest.mark.parametrize(
    ("day", "window", "status", "field"),
    [
        ("2017-10-20", "its own", 422, "date"),  # past the horizon and the choice
        ("2017-09-14", 99999, 422, "window"),
        ("14-09-2017", 1, 422, "date"),
    ],
)
def test_a_bad_choice_gets_a_clear_answer_and_books_nothing(
    client, office, left, day, window, status, field
):
    booking, nik = left
    if window == "its own":
        window = window_on(office, date.fromisoformat(day), 0).pk

    answer = post(
        client, f"/bookings/{booking.code}/choose", {"nik": nik, "date": day, "window": window}
    )

    assert answer.status_code == status
    assert field in answer.json()["fields"]
    assert Booking.objects.get(pk=booking.pk).status == "cancelled"


def test_a_full_choice_is_a_conflict(client, office, left):
    booking, nik = left
    window = window_on(office, date(2017, 9, 14), 0)

    answer = post(
        client,
        f"/bookings/{booking.code}/choose",
        {"nik": nik, "date": "2017-09-14", "window": window.pk},
    )

    assert answer.status_code == 409 and answer.json()["error"] == "full"


def test_the_app_joins_the_front_of_a_ballots_waiting_list(client, now, clerk, settings):
    settings.OUTAGE_MOVE_DAYS = 0
    _release, (first, _second) = closed_ballot_monday(clerk, now=now)

    joined = post(client, f"/bookings/{first.code}/join-waiting-list", {"nik": first.nik})

    assert joined.status_code == 200 and joined.json()["closure"]["answer"] == "waiting"
    again = post(client, f"/bookings/{first.code}/join-waiting-list", {"nik": first.nik})
    assert again.status_code == 409 and again.json()["error"] == "not_priority"


def test_joining_a_waiting_list_where_no_ballot_runs_is_a_conflict(client, left):
    booking, nik = left

    answer = post(client, f"/bookings/{booking.code}/join-waiting-list", {"nik": nik})

    assert answer.status_code == 409 and answer.json()["error"] == "no_waiting_list"
