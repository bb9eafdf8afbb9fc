"""The page a waiting-list offer's link opens: the place, until when, accept or decline."""

import pytest

from bookings import ballots
from bookings.models import Booking, Entry, Offer
from bookings.notifications.links import offer_token
from bookings.tests.test_waitlist import AFTER_DRAW, drawn, free_a_place, singles
from bookings.tests.test_waitlist import office as office

pytestmark = pytest.mark.django_db


@pytest.fixture
def offer(office, clock):
    _release, entries = drawn(office, singles(office, 4, language="en"))
    free_a_place(entries)
    ballots.offer_free_places(now=AFTER_DRAW)
    return Offer.objects.get()


def url(offer):
    return f"/offers/{offer_token(offer)}/"


def test_the_link_shows_the_place_the_applicants_masked_and_until_when(client, offer):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    response = client.get(url(offer))

    text = response.content.decode()
    nik = offer.entry.applicants.get().nik
    assert response.status_code == 200
    assert "Monday, 11 September 2017, 08:00–10:00 WIB" in text
    assert "Tuesday, 5 September 2017, 21:00 WIB" in text
    assert nik not in text and f"{nik[:4]}••••••••{nik[-4:]}" in text
    assert 'value="accept"' in text and 'value="decline"' in text


def test_accepting_shows_the_new_booking_in_this_browser(client, offer):
    response = client.post(url(offer), {"decision": "accept"})

    booking = Booking.objects.get(pk=Offer.objects.get().booking_id)
    assert response.status_code == 302 and response["Location"] == f"/bookings/{booking.code}/"
    assert client.get(response["Location"]).status_code == 200
    assert Entry.objects.get(pk=offer.entry_id).status == Entry.Status.WON


def test_declining_passes_the_place_on_and_says_so(client, offer):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    response = client.post(url(offer), {"decision": "decline"}, follow=True)

    assert "You declined this place" in response.content.decode()
    assert Offer.objects.get(pk=offer.pk).state == Offer.State.DECLINED
    assert Offer.objects.filter(state=Offer.State.OPEN).exclude(pk=offer.pk).count() == 1


def test_an_offer_over_cannot_be_accepted_and_says_why(client, offer, clock):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    clock.now = offer.expires_at

    page = client.get(url(offer)).content.decode()
    response = client.post(url(offer), {"decision": "accept"})

    assert "This offer has lapsed" in page and 'value="accept"' not in page
    assert response.status_code == 409 and "This offer is over" in response.content.decode()
    assert not Booking.objects.filter(nik=offer.entry.applicants.get().nik).exists()


@pytest.mark.parametrize("decision", ["", "maybe", "accept" * 50])
def test_a_bad_answer_is_refused_with_a_message_and_changes_nothing(client, offer, decision):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    response = client.post(url(offer), {"decision": decision})

    assert response.status_code == 200
    assert "Choose whether to accept or decline the place." in response.content.decode()
    assert Offer.objects.get(pk=offer.pk).state == Offer.State.OPEN


@pytest.mark.parametrize("token", ["1", "1.abc", f"{'9' * 200}", "..", "%00"])
def test_a_forged_or_broken_link_is_404(client, offer, token):
    assert client.get(f"/offers/{token}/").status_code == 404


def test_the_page_costs_a_few_queries(client, offer, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        assert client.get(url(offer)).status_code == 200
