"""Offices, windows and day overrides: what the database refuses and what clean() explains."""

from datetime import date, time

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from offices.models import DayOverride, Office, ServiceWindow
from offices.tests.factories import DayOverrideFactory, OfficeFactory, ServiceWindowFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _refused_by_database(make):
    """Assert the database itself refuses a row, leaving the test's transaction usable."""
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def _messages(error: ValidationError):
    return [str(m) for m in error.messages]


# The database's constraints.


def test_office_codes_are_unique():
    OfficeFactory(code="palembang", windows=False)

    _refused_by_database(
        lambda: Office.objects.create(code="palembang", name="Kanim lain", city="Palembang")
    )


def test_the_walk_in_reserve_cannot_exceed_the_daily_quota():
    _refused_by_database(
        lambda: Office.objects.create(
            code="a", name="A", city="A", daily_quota=10, walk_in_reserve=11
        )
    )
    office = Office.objects.create(code="b", name="B", city="B", daily_quota=10, walk_in_reserve=10)
    assert office.online_quota == 0


def test_the_reserve_cannot_be_raised_above_the_quota_by_an_update():
    office = OfficeFactory(windows=False)

    _refused_by_database(
        lambda: Office.objects.filter(pk=office.pk).update(walk_in_reserve=office.daily_quota + 1)
    )


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "UTC", "", "Asia/Pontianak"])
def test_an_office_time_zone_other_than_wib_wita_wit_is_refused(zone):
    _refused_by_database(lambda: Office.objects.create(code="x", name="X", city="X", timezone=zone))


@pytest.mark.parametrize(
    ("zone", "abbreviation"),
    [("Asia/Jakarta", "WIB"), ("Asia/Makassar", "WITA"), ("Asia/Jayapura", "WIT")],
)
def test_the_three_indonesian_zones_are_accepted(zone, abbreviation):
    office = Office.objects.create(code="x", name="X", city="X", timezone=zone)

    assert office.zone_abbreviation == abbreviation


def test_negative_quotas_are_refused():
    _refused_by_database(
        lambda: Office.objects.create(code="x", name="X", city="X", daily_quota=-1)
    )


@pytest.mark.parametrize(("start", "end"), [(time(10), time(10)), (time(12), time(10))])
def test_a_window_must_start_before_it_ends(start, end):
    office = OfficeFactory(windows=False)

    _refused_by_database(
        lambda: ServiceWindow.objects.create(
            office=office, weekday=0, start=start, end=end, capacity=10
        )
    )


def test_a_window_weekday_is_0_to_6():
    office = OfficeFactory(windows=False)

    _refused_by_database(
        lambda: ServiceWindow.objects.create(
            office=office, weekday=7, start=time(8), end=time(10), capacity=10
        )
    )


def test_two_windows_of_a_weekday_cannot_start_together():
    window = ServiceWindowFactory()

    _refused_by_database(
        lambda: ServiceWindow.objects.create(
            office=window.office, weekday=0, start=time(8), end=time(9), capacity=1
        )
    )


def test_a_negative_window_capacity_is_refused():
    office = OfficeFactory(windows=False)

    _refused_by_database(
        lambda: ServiceWindow.objects.create(
            office=office, weekday=0, start=time(8), end=time(10), capacity=-1
        )
    )


def test_an_office_has_one_override_per_date():
    override = DayOverrideFactory(date=date(2017, 9, 6))

    _refused_by_database(
        lambda: DayOverride.objects.create(
            office=override.office, date=date(2017, 9, 6), reason="again"
        )
    )


# clean(): what a form or the admin explains.


def test_overlapping_windows_of_a_weekday_are_explained():
    office = OfficeFactory(windows=[(time(8), time(10), 40), (time(10), time(12), 40)])
    window = ServiceWindow(office=office, weekday=2, start=time(9), end=time(11), capacity=10)

    with pytest.raises(ValidationError) as caught:
        window.full_clean()

    assert _messages(caught.value) == ["This window overlaps another window of the same weekday."]


def test_a_window_inside_another_overlaps_too():
    office = OfficeFactory(windows=[(time(8), time(12), 40)])
    window = ServiceWindow(office=office, weekday=0, start=time(9), end=time(10), capacity=1)

    with pytest.raises(ValidationError):
        window.full_clean()


def test_adjacent_windows_and_other_weekdays_do_not_overlap():
    office = OfficeFactory(windows=[(time(8), time(10), 40)])
    ServiceWindow.objects.filter(office=office, weekday=3).delete()

    ServiceWindow(office=office, weekday=0, start=time(10), end=time(12), capacity=40).full_clean()
    ServiceWindow(office=office, weekday=3, start=time(9), end=time(11), capacity=40).full_clean()


def test_a_window_does_not_overlap_itself_when_edited():
    office = OfficeFactory(windows=[(time(8), time(10), 40)])
    window = office.windows.get(weekday=0)
    window.end = time(11)

    window.full_clean()


def test_window_capacities_of_a_weekday_must_fit_the_online_quota():
    # 150 − 15 = 135 online places: the three windows of 45 fill them exactly.
    office = OfficeFactory()
    extra = ServiceWindow(office=office, weekday=0, start=time(15), end=time(16), capacity=1)

    with pytest.raises(ValidationError) as caught:
        extra.full_clean()

    assert caught.value.message_dict == {
        "capacity": [
            "The windows of this weekday would hold 136 places, more than the 135 the daily "
            "quota leaves after the walk-in reserve."
        ]
    }


def test_raising_one_window_above_what_the_quota_leaves_is_explained():
    office = OfficeFactory()
    window = office.windows.get(weekday=1, start=time(8))
    window.capacity = 46

    with pytest.raises(ValidationError) as caught:
        window.full_clean()

    assert "capacity" in caught.value.message_dict
    window.capacity = 45
    window.full_clean()


def test_a_larger_reserve_leaves_less_room_for_windows():
    office = OfficeFactory(daily_quota=150, walk_in_reserve=30, windows=False)
    ServiceWindow.objects.create(office=office, weekday=0, start=time(8), end=time(10), capacity=60)
    window = ServiceWindow(office=office, weekday=0, start=time(10), end=time(12), capacity=61)

    with pytest.raises(ValidationError) as caught:
        window.full_clean()

    assert "the 120 the daily quota" in caught.value.message_dict["capacity"][0]
    window.capacity = 60
    window.full_clean()


def test_a_window_that_ends_before_it_starts_is_explained_on_the_end_field():
    office = OfficeFactory(windows=False)
    window = ServiceWindow(office=office, weekday=0, start=time(10), end=time(8), capacity=1)

    with pytest.raises(ValidationError) as caught:
        window.full_clean()

    assert caught.value.message_dict["end"] == ["A window must start before it ends."]


def test_an_unknown_time_zone_is_explained():
    office = Office(code="x", name="X", city="X", timezone="Asia/Tokyo")

    with pytest.raises(ValidationError) as caught:
        office.clean()

    assert caught.value.message_dict == {"timezone": ["Choose WIB, WITA or WIT."]}
    with pytest.raises(ValidationError) as caught:
        office.full_clean()
    assert "timezone" in caught.value.message_dict


def test_a_reserve_above_the_quota_is_explained():
    office = Office(code="x", name="X", city="X", daily_quota=10, walk_in_reserve=11)

    with pytest.raises(ValidationError) as caught:
        office.full_clean()

    assert caught.value.message_dict == {
        "walk_in_reserve": ["The walk-in reserve cannot exceed the daily quota."]
    }


@pytest.mark.parametrize("weekdays", ["", "7", "0 1", "a", "01234567"])
def test_opening_weekdays_are_digits_0_to_6(weekdays):
    office = Office(code="x", name="X", city="X", open_weekdays=weekdays)

    with pytest.raises(ValidationError) as caught:
        office.full_clean()

    assert "open_weekdays" in caught.value.message_dict


def test_a_valid_office_passes_clean():
    Office(code="palembang", name="Kanim Palembang", city="Palembang").full_clean()


def test_a_closed_day_has_no_quota():
    office = OfficeFactory(windows=False)
    override = DayOverride(office=office, date=date(2017, 9, 6), closed=True, quota=100, reason="x")

    with pytest.raises(ValidationError) as caught:
        override.full_clean()

    assert caught.value.message_dict == {"quota": ["A closed day has no quota."]}
    override.closed = False
    override.full_clean()


def test_an_office_knows_its_bookable_days_in_its_own_calendar(now):
    # 09:00 WIB is 11:00 WIT: both still 5 September.
    jayapura = OfficeFactory(timezone="Asia/Jayapura", windows=False, booking_horizon_days=30)

    assert jayapura.local_now(now).hour == 11
    assert jayapura.first_bookable_day(now) == date(2017, 9, 6)
    assert jayapura.last_bookable_day(now) == date(2017, 10, 5)
    assert (
        jayapura.local_datetime(date(2017, 9, 6), time(8)).utcoffset().total_seconds() == 9 * 3600
    )
