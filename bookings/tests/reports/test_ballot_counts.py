"""The monthly report's ballot figures: entries, places drawn, winners, offers of freed places."""

import pytest

from bookings import ballots
from bookings.reports.counts import BallotMonth, ballot_months
from bookings.tests.factories import login, make_world
from bookings.tests.test_waitlist import AFTER_DRAW, drawn, free_a_place, singles
from bookings.tests.test_waitlist import office as office

pytestmark = pytest.mark.django_db


@pytest.fixture
def offered(office, clock):
    """A drawn release of 4 entries for 2 places; a winner cancels and the first waiting entry
    accepts the freed place."""
    _release, entries = drawn(office, singles(office, 4, language="en"))
    free_a_place(entries)
    ballots.offer_free_places(now=AFTER_DRAW)
    ballots.accept_offer(offer=office.releases.get().offers.get(), now=AFTER_DRAW)
    return office


def test_a_month_counts_entries_places_winners_and_offers(offered):
    office = offered

    assert ballot_months(year=2017) == [
        BallotMonth(
            office_code=office.code,
            office_name=office.name,
            month=9,
            releases=1,
            entries=4,
            places=3,  # Monday's two sessions: 2 and 1 places
            won=3,  # two at the draw, one from the waiting list
            offered=1,
            accepted=1,
        )
    ]
    assert ballot_months(year=2017, month=8) == []
    assert ballot_months(year=2017, offices=[]) == []


def test_the_figures_take_two_queries(offered, django_assert_num_queries):
    with django_assert_num_queries(2):
        ballot_months(year=2017)


def test_the_report_page_shows_the_ballots_of_the_offices_shown(client, offered):
    world = make_world()
    login(client, world.supervisor)

    text = client.get("/admin/reports/monthly/", {"year": 2017}).content.decode()

    assert "Ballots" in text and "Freed places offered" in text and offered.name in text
    login(client, world.clerk)  # staff of Palembang only: not this office's ballot
    assert (
        "Freed places offered"
        not in client.get("/admin/reports/monthly/", {"year": 2017}).content.decode()
    )
