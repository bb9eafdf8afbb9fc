"""The monthly report's closures: days closed after their bookings, applicants moved or left."""

from datetime import date

import pytest

from bookings import closures
from bookings.reports.counts import ClosureMonth, closure_months
from bookings.tests.factories import book, login

pytestmark = pytest.mark.django_db

THURSDAY = date(2017, 9, 7)


@pytest.fixture
def closed(world, now):
    for index in range(3):
        book(world.palembang, THURSDAY, index=index, now=now)
    closures.close(office=world.palembang, day=THURSDAY, reason="Banjir", by=world.clerk, now=now)
    return world


def test_a_month_counts_closures_and_the_applicants_moved(closed):
    office = closed.palembang

    assert closure_months(year=2017) == [
        ClosureMonth(office.code, office.name, month=9, closures=1, moved=3, cancelled=0)
    ]
    assert closure_months(year=2017, month=8) == []
    assert closure_months(year=2017, offices=[closed.makassar]) == []


def test_the_figures_take_one_query(closed, django_assert_num_queries):
    with django_assert_num_queries(1):
        closure_months(year=2017)


def test_the_report_page_shows_each_user_the_closures_of_their_offices(client, closed):
    login(client, closed.supervisor)
    text = client.get("/admin/reports/monthly/", {"year": 2017}).content.decode()
    assert "Closures" in text and "Applicants moved" in text

    login(client, closed.makassar_clerk)
    text = client.get("/admin/reports/monthly/", {"year": 2017}).content.decode()
    assert "Applicants moved" not in text
