"""The waiting list in the API: an offer read, accepted or declined through its link's token."""

from datetime import timedelta

import pytest

from bookings import ballots
from bookings.models import Booking, Offer
from bookings.notifications.links import offer_token
from bookings.tests.api.test_api import conforms
from bookings.tests.api.test_api import document as document
from bookings.tests.factories import make_release
from bookings.tests.test_waitlist import AFTER_DRAW, drawn, free_a_place, singles
from bookings.tests.test_waitlist import office as office
from offices.models import Office

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def offer(office, clock):
    _release, entries = drawn(office, singles(office, 4, language="en"))
    free_a_place(entries)
    ballots.offer_free_places(now=AFTER_DRAW)
    return Offer.objects.get()


def path(offer, action=""):
    return f"{API}/offers/{offer_token(offer)}{action}"


def test_an_offer_shows_its_session_places_and_time(client, offer, document):
    response = client.get(path(offer))

    body = response.json()
    assert response.status_code == 200
    conforms(document, "/api/v1/offers/{token}", "get", 200, body)
    assert body["state"] == "open" and body["places"] == 1
    assert body["date"] == "2017-09-11" and body["window"]["start"] == "08:00"
    assert body["expires_at"] == "2017-09-05T21:00:00+07:00"
    assert body["entry_code"] == offer.entry.code and body["booking_code"] is None


def test_accepting_answers_the_booking_code_and_again_409(client, offer, document):
    response = client.post(path(offer, "/accept"), {}, "application/json")

    body = response.json()
    assert response.status_code == 200, body
    conforms(document, "/api/v1/offers/{token}/accept", "post", 200, body)
    assert body["state"] == "accepted"
    assert Booking.objects.get(code=body["booking_code"]).status == "booked"
    again = client.post(path(offer, "/accept"), {}, "application/json")
    assert again.status_code == 409 and again.json()["error"] == "offer_over"


def test_declining_passes_the_place_on(client, offer):
    response = client.post(path(offer, "/decline"), {}, "application/json")

    assert response.status_code == 200 and response.json()["state"] == "declined"
    assert Offer.objects.filter(state=Offer.State.OPEN).count() == 1  # the next entry's
    assert (
        client.post(path(offer, "/decline"), {}, "application/json").json()["error"] == "offer_over"
    )


def test_a_lapsed_offer_reads_expired_and_cannot_be_accepted(client, offer, clock):
    clock.now = offer.expires_at

    assert client.get(path(offer)).json()["state"] == "expired"
    assert client.post(path(offer, "/accept"), {}, "application/json").status_code == 409


@pytest.mark.parametrize("token", ["1", "1.abc", "x" * 101])
def test_a_forged_token_is_a_404_or_422_json_error(client, offer, token):
    response = client.get(f"{API}/offers/{token}")

    assert response.status_code in (404, 422)
    assert response.json()["error"] in ("not_found", "invalid")


def test_availability_names_the_ballot_of_days_not_drawn_yet(client, office, clock):
    release = make_release(office, office.today(clock.now) + timedelta(days=6))
    office.release_mode = Office.ReleaseMode.BALLOT
    office.save()

    days = client.get(f"{API}/offices/{office.code}/availability?days=10").json()["days"]

    ballot = [d for d in days if d["ballot"] is not None]
    assert [d["ballot"] for d in ballot] == [release.pk]
    assert ballot[0]["remaining"] == 0
