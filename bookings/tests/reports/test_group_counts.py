"""Monthly counts of group bookings: each member one applicant, and how many came in groups."""

import csv
import io
from datetime import UTC, date, datetime, time

import openpyxl
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from bookings import services
from bookings.codes import new_group_code
from bookings.models import Booking, BookingGroup
from bookings.reports import exports
from bookings.reports.counts import by_office, monthly_counts, total
from bookings.tests.factories import (
    BOOKED,
    CANCELLED,
    CHECKED_IN,
    NO_SHOW,
    ONLINE,
    TODAY,
    book,
    book_group,
    build_bookings,
    login,
    make_offices,
    make_user,
)
from bookings.tests.reports import WAIT_COLUMNS
from offices.access import SUPERVISOR_GROUP

pytestmark = pytest.mark.django_db

# (office, date, window start, channel, status, purpose, walk-in reason) per member.
FAMILY_OF_FOUR = [  # 31 July in Palembang: three came, one did not
    *[("palembang", date(2017, 7, 31), time(8), ONLINE, CHECKED_IN, "umrah", "")] * 3,
    ("palembang", date(2017, 7, 31), time(8), ONLINE, NO_SHOW, "umrah", ""),
]
# 08:00 WIT on 1 August is 23:00 UTC on 31 July: the pair counts in August.
PAIR_AT_DAWN = [("jayapura", date(2017, 8, 1), time(8), ONLINE, CHECKED_IN, "hajj", "")] * 2
CANCELLED_THREE = [("jayapura", date(2017, 7, 31), time(13), ONLINE, CANCELLED, "umrah", "")] * 3
SINGLES = [
    ("palembang", date(2017, 7, 31), time(10), ONLINE, CHECKED_IN, "umrah", ""),
    (
        "palembang",
        date(2017, 7, 31),
        time(9),
        Booking.Channel.WALK_IN,
        CHECKED_IN,
        "work",
        "far_away",
    ),
    ("jayapura", date(2017, 8, 1), time(10), ONLINE, BOOKED, "umrah", ""),
]

# code, month, served, online, walk-in, priority, no-show, cancelled, booked,
# group members booked, group members checked in, then served by purpose.
EXPECTED = [
    ("jayapura", 7, 0, 0, 0, 0, 0, 3, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0),
    ("jayapura", 8, 2, 2, 0, 0, 0, 0, 3, 2, 2, 0, 2, 0, 0, 0, 0, 0),
    ("palembang", 7, 5, 4, 1, 0, 1, 0, 6, 4, 3, 4, 0, 0, 1, 0, 0, 0),
]


def as_group(members):
    group = BookingGroup.objects.create(code=new_group_code())
    Booking.objects.filter(pk__in=[member.pk for member in members]).update(group=group)
    return group


@pytest.fixture
def groups():
    offices = make_offices()
    made = iter(
        build_bookings(offices, [*FAMILY_OF_FOUR, *PAIR_AT_DAWN, *CANCELLED_THREE, *SINGLES])
    )
    for spec in (FAMILY_OF_FOUR, PAIR_AT_DAWN, CANCELLED_THREE):
        as_group([next(made) for _member in spec])
    return offices


def as_tuples(counts):
    return [(row.office_code, row.month, *row.figures) for row in counts]


def test_each_member_is_one_applicant_and_the_group_columns_count_the_members(groups):
    assert as_tuples(monthly_counts(year=2017)) == EXPECTED


def test_a_group_counts_in_its_offices_own_month(groups):
    pair = Booking.objects.filter(office__code="jayapura", status=CHECKED_IN)
    assert {b.starts_at.astimezone(UTC).date() for b in pair} == {date(2017, 7, 31)}
    july = {row.office_code: row for row in monthly_counts(year=2017, month=7)}
    august = {row.office_code: row for row in monthly_counts(year=2017, month=8)}
    assert (july["jayapura"].group_booked, july["jayapura"].group_checked_in) == (3, 0)
    assert (august["jayapura"].group_booked, august["jayapura"].group_checked_in) == (2, 2)
    assert "palembang" not in august


def test_the_group_figures_are_part_of_the_bookings_and_the_online_check_ins(groups):
    for row in monthly_counts(year=2017):
        assert row.group_booked <= row.booked
        assert row.group_checked_in <= row.online
        assert row.group_checked_in <= row.group_booked


def test_totals_add_the_group_columns(groups):
    counts = monthly_counts(year=2017)
    jayapura, palembang = (office_total for _months, office_total in by_office(counts))
    assert jayapura.figures[:9] == (2, 2, 0, 0, 0, 3, 6, 5, 2)
    assert palembang.figures[:9] == (5, 4, 1, 0, 1, 0, 6, 4, 3)
    assert total(counts).figures[6:9] == (12, 9, 5)


def test_a_member_moved_alone_counts_as_a_single_booking(groups):
    member = Booking.objects.filter(office__code="palembang", group__isnull=False).first()
    Booking.objects.filter(pk=member.pk).update(group=None)  # as reschedule_booking leaves it
    row = monthly_counts(year=2017, month=7)[1]
    assert (row.office_code, row.booked, row.group_booked) == ("palembang", 6, 3)


def test_the_counts_still_take_one_query(groups, django_assert_num_queries):
    with django_assert_num_queries(1):
        monthly_counts(year=2017)


def test_forgetting_the_applicants_keeps_the_group_figures(groups):
    before = monthly_counts(year=2017)
    services.forget_past_applicants(now=datetime(2030, 1, 1, tzinfo=UTC))
    assert monthly_counts(year=2017) == before


def test_a_group_of_four_booked_and_checked_in_through_the_services(world, pinned):
    palembang = world.palembang
    single = book(palembang, TODAY, now=pinned)
    family = book_group(palembang, TODAY, size=4, now=pinned)
    services.check_in(office=palembang, code=single.code, now=pinned)
    services.check_in_group(office=palembang, code=family[0].group.code, now=pinned)
    (row,) = monthly_counts(year=2017, month=9)
    assert (row.served, row.online, row.booked) == (5, 5, 5)
    assert (row.group_booked, row.group_checked_in) == (4, 4)


# Exports, the command and the page.

GROUP_TITLES = ["Group members booked", "Group members checked in"]


def english_rows(counts):
    with translation.override("en"):
        return list(exports.monthly_count_rows(counts))


def test_the_export_header_names_the_group_columns_after_the_total_bookings(groups):
    header = english_rows([])[0]
    assert header[11:14] == ["Total bookings", *GROUP_TITLES]
    assert header[14] == "Served: Umrah"
    assert len(header) == 5 + len(EXPECTED[0]) - 2 + WAIT_COLUMNS


def test_csv_and_xlsx_hold_the_group_figures(groups, tmp_path):
    rows = english_rows(monthly_counts(year=2017))
    stream = io.StringIO(newline="")
    exports.write_csv(rows, stream)
    read = list(csv.reader(io.StringIO(stream.getvalue())))
    assert read[0][12:14] == GROUP_TITLES
    assert [(r[0], int(r[3]), *map(int, r[5:-WAIT_COLUMNS])) for r in read[1:]] == EXPECTED
    path = tmp_path / "counts.xlsx"
    exports.write_xlsx(rows, str(path))
    sheet = openpyxl.load_workbook(path).active
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert cells[0][12:14] == GROUP_TITLES
    assert [(r[0], r[3], *r[5:-WAIT_COLUMNS]) for r in cells[1:]] == EXPECTED


def test_the_command_exports_the_group_figures(groups):
    out = io.StringIO()
    with translation.override("en"):
        call_command("export_monthly_counts", "--year", "2017", "--office", "palembang", stdout=out)
    header, row = csv.reader(io.StringIO(out.getvalue()))
    assert header[12:14] == GROUP_TITLES
    assert row[11:14] == ["6", "4", "3"]


def test_the_page_shows_the_group_columns(client, groups):
    login(client, make_user("supervisor", group=SUPERVISOR_GROUP))
    response = client.get(reverse("monthly-report"), {"year": 2017})
    assert response.status_code == 200
    assert response.context["columns"][7:9] == GROUP_TITLES
    html = response.content.decode()
    assert "Group members checked in</th>" in html
    assert "Each member of a group booking counts as one applicant." in html
    shown = [
        (r.office_code, r.month, *r.figures) for m, _t in response.context["groups"] for r in m
    ]
    assert [row for row in shown if row[0] in {"jayapura", "palembang"}] == EXPECTED
