"""Waits in the monthly report: percentiles on known waits, months in each office's calendar,
office scoping, the page's table and charts, the export's columns and the queries."""

import csv
import io
import re
from datetime import UTC, date, time, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from bookings.models import Visit
from bookings.queue import calls
from bookings.reports import exports
from bookings.reports.counts import monthly_counts
from bookings.reports.waits import CAP, by_office, percentile, wait_months
from bookings.services import register_walk_in
from bookings.tests.factories import (
    CHECKED_IN,
    WALK_IN,
    build_bookings,
    make_applicant,
    make_clerk,
    make_user,
    on_wednesday,
    open_counter,
)
from offices.access import SUPERVISOR_GROUP
from offices.models import Office
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db

URL = reverse("monthly-report")
WAIT_TITLES = [
    "Median wait (minutes)",
    "90th percentile wait (minutes)",
    "Median service (minutes)",
    "Applicants called",
    "Did not answer",
]
MISSED, DONE, SERVING = Visit.State.MISSED, Visit.State.DONE, Visit.State.SERVING


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def make_office(code, zone="Asia/Jakarta"):
    return OfficeFactory(code=code, name=f"Kantor Imigrasi {code.title()}", timezone=zone)


def visits(office, day, specs, *, at=time(8)):
    """Check applicants in at `at` on an office-local day, then give each visit its call and
    service: specs are (wait, service, state) with spans in minutes (or timedeltas)."""
    bookings = build_bookings(
        {office.code: office},
        [(office.code, day, at, WALK_IN, CHECKED_IN, "umrah", "far_away") for _ in specs],
    )
    made = []
    for booking, (wait, service, state) in zip(bookings, specs, strict=True):
        arrived = booking.checked_in_at
        called = serving = finished = None
        if wait is not None:
            called = arrived + as_span(wait)
        if service is not None:
            serving = called + timedelta(minutes=1)
            finished = serving + as_span(service)
        elif state == MISSED:
            finished = called + timedelta(minutes=3)
        made.append(
            Visit(
                booking=booking,
                office=office,
                date=day,
                line=Visit.Line.WALK_IN,
                state=state,
                queued_at=arrived,
                called_at=called,
                last_called_at=called,
                serving_at=serving,
                finished_at=finished,
                calls=int(called is not None),
            )
        )
    return Visit.objects.bulk_create(made)


def as_span(value):
    return value if isinstance(value, timedelta) else timedelta(minutes=value)


def as_tuples(months):
    return [(row.office_code, row.month, *row.figures) for row in months]


# The percentile: nearest rank, whole minutes.


@pytest.mark.parametrize(
    ("histogram", "median", "p90"),
    [
        (dict.fromkeys(range(1, 11), 1), 5, 9),  # 1..10: the 5th and the 9th
        (dict.fromkeys(range(1, 12), 1), 6, 10),  # 1..11: ranks 6 and ceil(9.9) = 10
        ({7: 1}, 7, 7),
        ({0: 5, 30: 5}, 0, 30),  # at least half waited no time at all
        ({2: 9, 50: 1}, 2, 2),  # nine in ten within 2 minutes
        ({2: 8, 50: 2}, 2, 50),
        ({}, None, None),
    ],
)
def test_percentiles_are_the_nearest_rank(histogram, median, p90):
    assert (percentile(histogram, 50), percentile(histogram, 90)) == (median, p90)


def test_waits_of_one_month_are_exact():
    office = make_office("palembang")
    # Waits of 1 to 10 minutes and 30 seconds (whole minutes round down); the first eight are
    # served in 2 to 9 minutes, the last two did not answer.
    specs = [(timedelta(minutes=n, seconds=30), n + 1, DONE) for n in range(1, 9)]
    specs += [(9, None, MISSED), (10, None, MISSED)]
    visits(office, date(2017, 9, 6), specs)

    (row,) = wait_months(year=2017)

    assert (row.office_code, row.year, row.month) == ("palembang", 2017, 9)
    assert (row.median_wait, row.p90_wait) == (5, 9)
    assert row.median_service == 5  # 2..9: the 4th
    assert (row.called, row.missed) == (10, 2)
    assert row.figures == (5, 9, 5, 10, 2)


def test_only_visits_with_both_times_count():
    office = make_office("palembang")
    visits(
        office,
        date(2017, 9, 6),
        [
            (None, None, Visit.State.WAITING),  # not called yet: no wait
            (4, None, SERVING),  # at a counter: a wait, no service yet
            (6, 12, DONE),
        ],
    )
    (row,) = wait_months(year=2017)
    assert (row.called, row.missed, row.median_wait, row.p90_wait) == (2, 0, 4, 6)
    assert row.median_service == 12


def test_a_month_of_calls_without_a_finished_service_has_no_service_time():
    office = make_office("palembang")
    visits(office, date(2017, 9, 6), [(3, None, MISSED)])
    (row,) = wait_months(year=2017)
    assert (row.median_wait, row.median_service, row.called, row.missed) == (3, None, 1, 1)


def test_very_long_spans_are_capped():
    office = make_office("palembang")
    visits(office, date(2017, 9, 6), [(CAP + 200, CAP * 2, DONE)], at=time(0, 5))
    (row,) = wait_months(year=2017)
    assert (row.median_wait, row.median_service) == (CAP, CAP)


def test_each_office_and_month_apart_in_the_offices_own_calendar():
    palembang, jayapura = make_office("palembang"), make_office("jayapura", "Asia/Jayapura")
    visits(palembang, date(2017, 7, 31), [(2, 3, DONE), (4, 5, DONE)], at=time(14))
    visits(palembang, date(2017, 8, 1), [(20, 30, DONE)])
    # 08:00 WIT on 1 August is still 31 July in UTC: the office's calendar decides.
    (early,) = visits(jayapura, date(2017, 8, 1), [(7, 8, DONE)])
    assert early.booking.checked_in_at.astimezone(UTC).date() == date(2017, 7, 31)
    visits(jayapura, date(2016, 12, 30), [(1, 1, DONE)])  # another year

    expected = [
        ("jayapura", 8, 7, 7, 8, 1, 0),
        ("palembang", 7, 2, 4, 3, 2, 0),
        ("palembang", 8, 20, 20, 30, 1, 0),
    ]
    for zone in ("UTC", "Asia/Jakarta", "Asia/Jayapura"):
        with timezone.override(ZoneInfo(zone)):
            assert as_tuples(wait_months(year=2017)) == expected
    assert as_tuples(wait_months(year=2017, month=8)) == [expected[0], expected[2]]
    assert as_tuples(wait_months(year=2016)) == [("jayapura", 12, 1, 1, 1, 1, 0)]
    chosen = Office.objects.filter(code="palembang")
    assert as_tuples(wait_months(year=2017, offices=chosen)) == expected[1:]
    assert as_tuples(wait_months(year=2017, offices=list(chosen))) == expected[1:]


def test_the_counters_own_steps_give_the_waits():
    # Through the real services, with the times pinned: a walk-in at 07:40 WIB is called at
    # 07:52, served from 07:53 to 08:00; the next is called at 08:01 and does not answer.
    office = make_office("palembang")
    for minute in (40, 45):
        register_walk_in(
            office=office,
            applicant=make_applicant(),
            reason="far_away",
            by=None,
            now=on_wednesday(7, minute),
        )
    office.skips_before_no_show = 1
    office.save()
    counter = open_counter(office, "Loket 1", "ani")
    clerk = counter.clerk
    calls.call_next(counter=counter, by=clerk, now=on_wednesday(7, 52))
    calls.start(counter=counter, by=clerk, now=on_wednesday(7, 53))
    calls.finish(counter=counter, by=clerk, now=on_wednesday(8, 0))
    calls.call_next(counter=counter, by=clerk, now=on_wednesday(8, 1))
    calls.skip(counter=counter, by=clerk, now=on_wednesday(8, 4))

    (row,) = wait_months(year=2017)
    assert as_tuples([row]) == [("palembang", 9, 12, 16, 7, 2, 1)]


def test_by_office_gives_twelve_months_with_blanks():
    office = make_office("palembang")
    visits(office, date(2017, 3, 6), [(5, 6, DONE)])
    visits(office, date(2017, 9, 6), [(7, 8, DONE)])
    ((first, rows),) = by_office(wait_months(year=2017))
    assert first.office_code == "palembang"
    assert [row.month for row in rows] == list(range(1, 13))
    assert [row.measured for row in rows] == [n in (3, 9) for n in range(1, 13)]
    assert rows[0].figures == (None,) * 5


# The page, its downloads and the command.


@pytest.fixture
def two_offices():
    palembang, jayapura = make_office("palembang"), make_office("jayapura", "Asia/Jayapura")
    visits(palembang, date(2017, 9, 6), [(n, n + 1, DONE) for n in range(1, 11)])
    visits(palembang, date(2017, 10, 4), [(30, None, MISSED)])
    visits(jayapura, date(2017, 9, 6), [(45, 20, DONE)])
    return palembang, jayapura


def get(client, user, **params):
    client.force_login(user)
    return client.get(URL, params, HTTP_ACCEPT_LANGUAGE="en")


def wait_rows(response):
    return [
        (bar["row"].office_code, bar["row"].month, *bar["row"].figures)
        for chart in response.context["waits"]["offices"]
        for bar in chart["bars"]
        if bar["row"].measured
    ]


def test_the_page_shows_the_waits_table_and_a_chart_per_office(client, two_offices):
    response = get(client, make_user("supervisor", group=SUPERVISOR_GROUP), year=2017)
    assert response.status_code == 200
    assert wait_rows(response) == [
        ("jayapura", 9, 45, 45, 20, 1, 0),
        ("palembang", 9, 5, 9, 6, 10, 0),
        ("palembang", 10, 30, 30, None, 1, 1),
    ]
    html = response.content.decode()
    table = html[html.index('<table class="report-table report-waits">') :]
    table = table[: table.index("</table>")]
    for title in WAIT_TITLES:
        assert f'<th scope="col">{title}</th>' in table
    assert "<td>5</td><td>9</td><td>6</td><td>10</td><td>0</td>" in table
    assert "<td>30</td><td>30</td><td>–</td><td>1</td><td>1</td>" in table
    assert table.count("<td>–</td>" * 5) == 2 * 12 - 3  # the months without a call
    svgs = re.findall(r'<svg class="chart chart-waits".*?</svg>', html, re.S)
    assert len(svgs) == 2
    for svg in svgs:
        assert 'role="img"' in svg
        assert re.search(r'aria-labelledby="(wait-chart-\d+-title) (wait-chart-\d+-desc)"', svg)
        assert "<desc id=" in svg
        for value in re.findall(r' (?:x|y|x1|y1|x2|y2|width|height)="([^"]*)"', svg):
            assert re.fullmatch(r"\d+(\.\d+)?", value), value
    assert "Waits at Kantor Imigrasi Jayapura, 2017" in svgs[0]
    palembang = svgs[1]
    assert palembang.count('class="chart-median"') == 2  # September and October
    assert palembang.count('class="chart-p90"') == 2
    assert palembang.count(">–</text>") == 10
    assert "style=" not in html.lower().replace("stylesheet", "")
    assert "<script" not in html.split("</header>", 1)[-1].split("<footer", 1)[0]


def test_the_bars_share_one_scale_in_whole_tens_of_minutes(client, two_offices):
    waits = get(client, make_user("supervisor", group=SUPERVISOR_GROUP), year=2017).context["waits"]
    assert [tick["minutes"] for tick in waits["ticks"]] == [0, 25, 50]  # the highest p90 is 45
    jayapura = next(bar for bar in waits["offices"][0]["bars"] if bar["row"].month == 9)
    plot = waits["baseline"] - waits["ticks"][-1]["y"]
    assert jayapura["p90_height"] == round(plot * 45 / 50, 1)


def test_office_staff_see_the_waits_of_their_own_offices_only(client, two_offices):
    palembang, _jayapura = two_offices
    response = get(client, make_clerk("petugas", palembang), year=2017)
    assert {row[0] for row in wait_rows(response)} == {"palembang"}
    assert "Jayapura" not in response.content.decode()
    rows = read_csv(get(client, make_clerk("petugas2", palembang), year=2017, format="csv"))
    assert {row[0] for row in rows[1:]} == {"palembang"}


def test_a_year_without_calls(client, two_offices):
    response = get(client, make_user("supervisor", group=SUPERVISOR_GROUP), year=2030)
    assert response.context["waits"]["offices"] == []
    assert "No applicants were called at a counter in 2030." in response.content.decode()


def read_csv(response):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_downloads_append_the_wait_columns(client, two_offices):
    supervisor = make_user("supervisor", group=SUPERVISOR_GROUP)
    rows = read_csv(get(client, supervisor, year=2017, format="csv"))
    with translation.override("en"):
        assert rows[0] == exports.header()
    assert rows[0][:5] == ["Office code", "Office", "Year", "Month", "Month name"]
    assert rows[0][-5:] == WAIT_TITLES
    assert [(r[0], r[3], *r[-5:]) for r in rows[1:]] == [
        ("jayapura", "9", "45", "45", "20", "1", "0"),
        ("palembang", "9", "5", "9", "6", "10", "0"),
        ("palembang", "10", "30", "30", "", "1", "1"),
    ]
    response = get(client, supervisor, year=2017, format="xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert cells[0][-5:] == WAIT_TITLES
    assert cells[2][-5:] == [5, 9, 6, 10, 0]
    assert cells[3][-5:] == [30, 30, None, 1, 1]


def test_a_month_of_bookings_without_calls_has_blank_wait_cells():
    office = make_office("palembang")
    build_bookings(
        {"palembang": office},
        [("palembang", date(2017, 5, 3), time(9), WALK_IN, CHECKED_IN, "umrah", "far_away")],
    )
    with translation.override("en"):
        rows = list(exports.monthly_count_rows(monthly_counts(year=2017), wait_months(year=2017)))
    assert rows[1][5] == 1 and rows[1][-5:] == [None] * 5


def test_the_command_exports_the_waits_of_a_month(two_offices):
    out = io.StringIO()
    with translation.override("en"):
        call_command(
            "export_monthly_counts", "--year=2017", "--month=9", "--office=palembang", stdout=out
        )
    header, row = csv.reader(io.StringIO(out.getvalue()))
    assert header[-5:] == WAIT_TITLES
    assert (row[0], row[3], *row[-5:]) == ("palembang", "9", "5", "9", "6", "10", "0")


# Queries.


def test_the_waits_are_one_query(two_offices, django_assert_num_queries):
    with django_assert_num_queries(1):
        wait_months(year=2017)


def page_queries(client, user, **params):
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, {"year": 2017, **params})
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(queries)


def test_the_page_queries_do_not_grow_with_visits_or_offices(
    client, two_offices, django_assert_max_num_queries
):
    supervisor = make_user("supervisor", group=SUPERVISOR_GROUP)
    clerk = make_clerk("petugas", two_offices[0])
    before = {
        (user, fmt): page_queries(client, user, format=fmt)
        for user in (supervisor, clerk)
        for fmt in ("", "csv")
    }
    for n in range(4):
        office = make_office(f"extra{n}")
        for month in range(1, 13):
            visits(office, date(2017, month, 10), [(m, m, DONE) for m in range(5)])
        office.staff.add(clerk)
    after = {key: page_queries(client, key[0], format=key[1]) for key in before}
    assert after == before
    client.force_login(supervisor)
    with django_assert_max_num_queries(12):  # the report page's 11 and the waits
        client.get(URL, {"year": 2017})
