"""Taking places on the counters: both rows or neither, whatever row is full or missing."""

from datetime import time

import pytest
from django.db import connection, transaction

from offices import places
from offices.models import OfficeDay, WindowDay
from offices.schedule import day_plan
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def office():
    # 4 places a day, 3 of them online; two windows of 2.
    windows = [(time(8), time(10), 2), (time(10), time(12), 2)]
    return OfficeFactory(code="kecil", daily_quota=4, walk_in_reserve=1, windows=windows)


@pytest.fixture
def plan(office, tomorrow):
    return day_plan(office, tomorrow)


def counted(plan):
    day = OfficeDay.objects.filter(date=plan.date).values_list("booked", "online_booked").first()
    windows = dict(WindowDay.objects.filter(date=plan.date).values_list("window__start", "booked"))
    return day, {start.hour: booked for start, booked in windows.items()}


def take(office, plan, window, **options):
    with transaction.atomic():
        return places.take(office, plan, window, **options)


def test_the_first_place_of_a_day_creates_both_rows(office, plan):
    early = plan.windows[0]
    assert take(office, plan, early) == places.Filled(day=False, window=False)
    assert counted(plan) == ((1, 1), {8: 1})


def test_a_window_without_its_row_on_a_counted_day_gets_one(office, plan):
    early, late = plan.windows
    take(office, plan, early)
    assert take(office, plan, late) == places.Filled(day=False, window=False)
    assert counted(plan) == ((2, 2), {8: 1, 10: 1})


def test_the_last_places_say_so(office, plan):
    early, late = plan.windows
    take(office, plan, early)
    assert take(office, plan, early) == places.Filled(day=False, window=True)
    assert take(office, plan, late) == places.Filled(day=True, window=False)
    assert counted(plan) == ((3, 3), {8: 2, 10: 1})


def test_a_full_window_takes_nothing_from_its_day(office, plan):
    early = plan.windows[0]
    take(office, plan, early, count=2)
    with pytest.raises(places.NoPlace) as refused:
        take(office, plan, early)
    assert (refused.value.scope, refused.value.left) == ("window", 0)
    assert counted(plan) == ((2, 2), {8: 2})


def test_a_group_too_big_for_its_window_is_told_what_is_left(office, plan):
    early = plan.windows[0]
    take(office, plan, early)
    with pytest.raises(places.NoPlace) as refused:
        take(office, plan, early, count=2)
    assert (refused.value.scope, refused.value.left) == ("window", 1)
    assert counted(plan) == ((1, 1), {8: 1})


def test_a_full_day_takes_nothing_from_any_window(office, plan):
    early, late = plan.windows
    take(office, plan, early, count=2)
    take(office, plan, late)
    with pytest.raises(places.NoPlace) as refused:
        take(office, plan, late)
    assert refused.value.scope == "day"
    assert counted(plan) == ((3, 3), {8: 2, 10: 1})


def test_a_walk_in_uses_the_reserve_and_no_window(office, plan):
    early, late = plan.windows
    take(office, plan, early, count=2)
    take(office, plan, late)
    assert take(office, plan, None, uses_reserve=True) == places.Filled(day=True, window=False)
    assert counted(plan) == ((4, 3), {8: 2, 10: 1})


def test_on_postgresql_both_counters_are_one_statement(office, plan, django_assert_num_queries):
    early = plan.windows[0]
    take(office, plan, early)  # the rows exist from here on
    one_statement = connection.vendor == "postgresql"
    with transaction.atomic(), django_assert_num_queries(1 if one_statement else 2):
        places.take(office, plan, early)
    assert counted(plan) == ((2, 2), {8: 2})
