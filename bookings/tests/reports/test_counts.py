"""Monthly applicant counts: exact figures on a known data set, month edges in WIB and WIT."""

from datetime import UTC, date, time
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation

from bookings.models import Booking
from bookings.reports.counts import by_office, monthly_counts, served_per_month, total
from bookings.tests.factories import (
    CHECKED_IN,
    KNOWN_BOOKINGS,
    ONLINE,
    build_bookings,
    make_offices,
)
from bookings.tests.reports import EXPECTED_2017
from offices.models import Office
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def known_offices():
    offices = make_offices()
    build_bookings(offices, KNOWN_BOOKINGS)
    return offices


def as_tuples(counts):
    return [(row.office_code, row.month, *row.figures) for row in counts]


def test_figures_of_a_year_are_exact(known_offices):
    assert as_tuples(monthly_counts(year=2017)) == EXPECTED_2017


def test_rows_carry_office_and_month_names(known_offices):
    first = monthly_counts(year=2017)[0]
    assert (first.office_name, first.year, first.month) == (
        "Kantor Imigrasi Kelas I Jayapura",
        2017,
        7,
    )
    with translation.override("id"):  # Indonesian is the default language
        assert first.month_name == "Juli"


def test_a_wit_booking_counts_in_its_local_month_not_its_utc_month(known_offices):
    booking = Booking.objects.get(
        office__code="jayapura", date=date(2017, 8, 1), window__start=time(8), status=CHECKED_IN
    )
    assert booking.starts_at.astimezone(UTC).date() == date(2017, 7, 31)
    counts = {(r.office_code, r.month): r for r in monthly_counts(year=2017)}
    assert counts["jayapura", 7].served == 1
    assert counts["jayapura", 8].served == 2


@pytest.mark.parametrize("zone", ["UTC", "Asia/Jakarta", "Asia/Jayapura"])
def test_figures_do_not_depend_on_the_active_time_zone(known_offices, zone):
    with timezone.override(ZoneInfo(zone)):
        assert as_tuples(monthly_counts(year=2017)) == EXPECTED_2017


def test_wib_bookings_on_the_last_and_first_day_fall_in_their_own_months(known_offices):
    counts = {(r.office_code, r.month): r for r in monthly_counts(year=2017)}
    assert counts["palembang", 7].booked == 8  # six of them on 31 July
    assert counts["palembang", 8].served_by_purpose["other"] == 1  # 31 August, 13:00 WIB
    assert counts["palembang", 9].served == 2  # 1 September, 08:00 WIB


def test_bookings_of_other_years_are_left_out(known_offices):
    assert as_tuples(monthly_counts(year=2016)) == [
        ("palembang", 12, 1, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0)
    ]
    assert [r.month for r in monthly_counts(year=2018)] == [1]
    assert monthly_counts(year=2019) == []


@pytest.mark.parametrize("month", [7, 8, 12])
def test_one_month(known_offices, month):
    expected = [row for row in EXPECTED_2017 if row[1] == month]
    assert as_tuples(monthly_counts(year=2017, month=month)) == expected


@pytest.mark.parametrize("as_queryset", [True, False])
def test_chosen_offices_only(known_offices, as_queryset):
    chosen = Office.objects.filter(code__in=["palembang", "makassar"])
    if not as_queryset:
        chosen = list(chosen)
    expected = [row for row in EXPECTED_2017 if row[0] != "jayapura"]
    assert as_tuples(monthly_counts(year=2017, offices=chosen)) == expected


def test_served_is_online_plus_walk_ins_and_priority_is_part_of_walk_ins(known_offices):
    for row in monthly_counts(year=2017):
        assert row.served == row.online + row.walk_in
        assert row.priority <= row.walk_in
        assert sum(row.served_by_purpose.values()) == row.served
        assert row.booked >= row.served + row.no_show + row.cancelled


def test_totals_per_office_and_for_all(known_offices):
    counts = monthly_counts(year=2017)
    groups = by_office(counts)
    assert [(months[0].office_code, len(months)) for months, _ in groups] == [
        ("jayapura", 3),
        ("makassar", 2),
        ("palembang", 3),
    ]
    palembang_total = groups[2][1]
    assert palembang_total.month == 0
    assert palembang_total.office_code == "palembang"
    assert palembang_total.figures == (10, 7, 3, 2, 1, 1, 13, 0, 0, 4, 1, 1, 1, 1, 1, 1)
    assert total(counts).figures == (16, 11, 5, 4, 2, 2, 21, 0, 0, 6, 2, 2, 1, 1, 2, 2)
    assert total([]).figures == (0,) * 16


def test_served_per_month_sums_the_offices(known_offices):
    served = served_per_month(monthly_counts(year=2017))
    assert served == {1: 0, 2: 0, 3: 1, 4: 0, 5: 0, 6: 0, 7: 6, 8: 5, 9: 3, 10: 0, 11: 0, 12: 1}


@pytest.mark.parametrize("extra_offices", [0, 6])
def test_the_figures_take_one_query_whatever_the_offices_and_months(
    known_offices, extra_offices, django_assert_num_queries
):
    offices = {f"extra-{n}": OfficeFactory(code=f"extra-{n}") for n in range(extra_offices)}
    specs = [
        (code, date(2017, month, 10), time(8), ONLINE, CHECKED_IN, "umrah", "")
        for code in offices
        for month in range(1, 13)
    ]
    build_bookings(offices, specs)
    with django_assert_num_queries(1):
        counts = monthly_counts(year=2017)
    assert len(counts) == len(EXPECTED_2017) + 12 * extra_offices
    with django_assert_num_queries(1):
        monthly_counts(year=2017, offices=Office.objects.exclude(code="jayapura"))
