"""An office's calendar: weekly closing days, national holidays, cuti bersama and overrides."""

from datetime import date, time

import pytest
from django.utils import translation

from offices.models import DayOverride
from offices.schedule import Closure, day_plan, day_plans, holiday_name
from offices.tests.factories import DayOverrideFactory, OfficeFactory

pytestmark = pytest.mark.django_db

INDEPENDENCE_DAY = date(2017, 8, 17)  # a Thursday
CUTI_BERSAMA = date(2017, 6, 27)  # a Tuesday after Idul Fitri
ORDINARY_THURSDAY = date(2017, 9, 7)


@pytest.fixture
def weekday_office(db):
    """An office open Monday to Friday with the demo windows."""
    return OfficeFactory(code="palembang", open_weekdays="01234")


@pytest.fixture(autouse=True)
def _indonesian():
    with translation.override("id"):
        yield


def test_an_ordinary_weekday_is_open_with_its_windows_and_quota(weekday_office):
    plan = day_plan(weekday_office, ORDINARY_THURSDAY)

    assert plan.open
    assert (plan.quota, plan.online_quota) == (150, 135)
    assert [(w.start, w.end) for w in plan.windows] == [
        (time(8), time(10)),
        (time(10), time(12)),
        (time(13), time(15)),
    ]
    assert {w.weekday for w in plan.windows} == {3}
    assert plan.closure == ""


@pytest.mark.parametrize("day", [date(2017, 9, 9), date(2017, 9, 10)])
def test_weekends_are_closed_when_the_office_opens_monday_to_friday(weekday_office, day):
    plan = day_plan(weekday_office, day)

    assert not plan.open
    assert plan.closure == Closure.WEEKLY
    assert plan.windows == ()
    assert plan.quota == 0


def test_an_office_open_on_saturdays_is_open_on_saturday():
    office = OfficeFactory(open_weekdays="012345")

    assert day_plan(office, date(2017, 9, 9)).open
    assert not day_plan(office, date(2017, 9, 10)).open


def test_a_national_holiday_is_closed_with_its_indonesian_name(weekday_office):
    plan = day_plan(weekday_office, INDEPENDENCE_DAY)

    assert not plan.open
    assert plan.closure == Closure.HOLIDAY
    assert plan.reason == "Hari Kemerdekaan Republik Indonesia"
    assert str(plan.closed_label).endswith("Hari Kemerdekaan Republik Indonesia")


def test_the_holiday_name_follows_the_language():
    assert holiday_name(INDEPENDENCE_DAY, "id") == "Hari Kemerdekaan Republik Indonesia"
    assert holiday_name(INDEPENDENCE_DAY, "en") == "Independence Day"
    assert holiday_name(ORDINARY_THURSDAY, "id") == ""
    with translation.override("en"):
        assert holiday_name(INDEPENDENCE_DAY) == "Independence Day"


def test_cuti_bersama_is_closed_too(weekday_office):
    plan = day_plan(weekday_office, CUTI_BERSAMA)

    assert not plan.open
    assert plan.closure == Closure.HOLIDAY
    assert plan.reason == "Cuti Bersama Hari Raya Idul Fitri"


def test_a_holiday_on_a_day_the_office_opens_anyway_is_still_closed():
    office = OfficeFactory(open_weekdays="0123456")

    # 25 June 2017 is a Sunday and Idul Fitri.
    plan = day_plan(office, date(2017, 6, 25))

    assert not plan.open
    assert plan.reason == "Hari Raya Idul Fitri"


def test_an_override_opens_a_holiday(weekday_office):
    DayOverrideFactory(
        office=weekday_office, date=INDEPENDENCE_DAY, closed=False, reason="Layanan umrah"
    )

    plan = day_plan(weekday_office, INDEPENDENCE_DAY)

    assert plan.open
    assert (plan.quota, plan.online_quota) == (150, 135)
    assert len(plan.windows) == 3
    assert plan.reason == "Layanan umrah"


def test_an_override_opens_a_saturday_that_has_windows(weekday_office):
    DayOverrideFactory(office=weekday_office, date=date(2017, 9, 9), closed=False, reason="x")

    assert day_plan(weekday_office, date(2017, 9, 9)).open


def test_an_override_closes_a_day_with_its_reason(weekday_office):
    DayOverrideFactory(office=weekday_office, date=ORDINARY_THURSDAY, reason="Pemadaman listrik")

    plan = day_plan(weekday_office, ORDINARY_THURSDAY)

    assert not plan.open
    assert plan.closure == Closure.OVERRIDE
    assert plan.reason == "Pemadaman listrik"
    assert plan.closed_label == "Pemadaman listrik"


def test_an_override_of_another_office_changes_nothing(weekday_office):
    other = OfficeFactory(code="makassar", timezone="Asia/Makassar")
    DayOverrideFactory(office=other, date=ORDINARY_THURSDAY, reason="Pemadaman listrik")

    assert day_plan(weekday_office, ORDINARY_THURSDAY).open
    assert not day_plan(other, ORDINARY_THURSDAY).open


def test_an_override_changes_the_quota_and_keeps_the_reserve(weekday_office):
    DayOverrideFactory(
        office=weekday_office, date=ORDINARY_THURSDAY, closed=False, quota=100, reason="Rapat"
    )

    plan = day_plan(weekday_office, ORDINARY_THURSDAY)

    assert plan.open
    assert (plan.quota, plan.online_quota) == (100, 85)


def test_a_quota_below_the_reserve_leaves_no_online_places(weekday_office):
    DayOverrideFactory(
        office=weekday_office, date=ORDINARY_THURSDAY, closed=False, quota=10, reason="Rapat"
    )

    plan = day_plan(weekday_office, ORDINARY_THURSDAY)

    assert (plan.quota, plan.online_quota) == (10, 0)


def test_an_override_without_a_quota_keeps_the_usual_quota(weekday_office):
    DayOverrideFactory(office=weekday_office, date=ORDINARY_THURSDAY, closed=False, reason="x")

    assert day_plan(weekday_office, ORDINARY_THURSDAY).quota == 150


def test_a_weekday_without_windows_is_closed():
    office = OfficeFactory(open_weekdays="0123456", windows=False)

    plan = day_plan(office, ORDINARY_THURSDAY)

    assert not plan.open
    assert plan.closure == Closure.NO_WINDOWS


def test_windows_of_the_plan_are_only_that_weekday_in_start_order(weekday_office):
    plans = day_plans(weekday_office, date(2017, 9, 4), date(2017, 9, 8))

    for plan in plans:
        assert [w.weekday for w in plan.windows] == [plan.date.weekday()] * 3
        assert [w.start for w in plan.windows] == sorted(w.start for w in plan.windows)


def test_day_plans_cover_the_range_inclusive_and_read_twice(
    weekday_office, django_assert_num_queries
):
    DayOverrideFactory(office=weekday_office, date=date(2017, 9, 6), reason="Rapat")

    with django_assert_num_queries(2):
        plans = day_plans(weekday_office, date(2017, 8, 14), date(2017, 9, 10))

    assert (plans[0].date, plans[-1].date) == (date(2017, 8, 14), date(2017, 9, 10))
    assert len(plans) == 28
    by_date = {p.date: p for p in plans}
    assert by_date[INDEPENDENCE_DAY].closure == Closure.HOLIDAY
    assert by_date[date(2017, 9, 1)].reason == "Hari Raya Idul Adha"
    assert by_date[date(2017, 9, 6)].closure == Closure.OVERRIDE
    assert by_date[date(2017, 9, 9)].closure == Closure.WEEKLY
    assert by_date[date(2017, 9, 5)].open


def test_day_plans_read_nothing_when_windows_and_overrides_are_given(
    weekday_office, django_assert_num_queries
):
    windows = list(weekday_office.windows.all())
    overrides = list(DayOverride.objects.filter(office=weekday_office))

    with django_assert_num_queries(0):
        day_plans(
            weekday_office,
            date(2017, 1, 1),
            date(2017, 12, 31),
            windows=windows,
            overrides=overrides,
        )
