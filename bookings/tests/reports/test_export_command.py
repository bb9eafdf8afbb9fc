"""The export_monthly_counts command: same figures as the page, files, and clear errors."""

import csv
import io
import re

import openpyxl
import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from bookings.tests.factories import KNOWN_BOOKINGS, build_bookings, make_offices
from bookings.tests.reports import EXPECTED_2017, WAIT_COLUMNS
from offices.access import SUPERVISOR_GROUP

pytestmark = pytest.mark.django_db


@pytest.fixture
def offices():
    offices = make_offices()
    build_bookings(offices, KNOWN_BOOKINGS)
    return offices


def export(*args):
    """Run the command in English and return what it wrote to standard output."""
    out = io.StringIO()
    with translation.override("en"):
        call_command("export_monthly_counts", *args, stdout=out)
    return out.getvalue()


def figures(rows):
    """Return CSV rows after the header as (code, month, figures...) tuples."""
    return [(r[0], int(r[3]), *map(int, r[5:-WAIT_COLUMNS])) for r in rows[1:]]


def test_csv_to_standard_output(offices):
    rows = list(csv.reader(io.StringIO(export("--year", "2017"))))
    assert rows[0][:5] == ["Office code", "Office", "Year", "Month", "Month name"]
    assert figures(rows) == EXPECTED_2017
    assert rows[1][:5] == ["jayapura", "Kantor Imigrasi Kelas I Jayapura", "2017", "7", "July"]


def test_one_month_of_one_office(offices):
    rows = list(csv.reader(io.StringIO(export("--year=2017", "--month=7", "--office=palembang"))))
    assert figures(rows) == [r for r in EXPECTED_2017 if r[:2] == ("palembang", 7)]


def test_several_offices(offices):
    output = export("--year", "2017", "--office", "palembang", "--office", "makassar")
    rows = list(csv.reader(io.StringIO(output)))
    assert figures(rows) == [r for r in EXPECTED_2017 if r[0] != "jayapura"]


def test_the_command_gives_the_numbers_of_the_page(client, django_user_model, offices, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    user = django_user_model.objects.create_user("supervisor", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=SUPERVISOR_GROUP)[0])
    client.force_login(user)
    response = client.get(
        reverse("monthly-report"), {"year": 2017, "format": "csv"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    page = b"".join(response.streaming_content).decode()
    assert export("--year", "2017") == page


def test_csv_file(offices, tmp_path):
    path = tmp_path / "counts.csv"
    message = export("--year", "2017", "--output", str(path))
    assert f"Wrote {len(EXPECTED_2017)} office-month row(s) to {path}." in message
    with open(path, newline="", encoding="utf-8") as stream:
        assert figures(list(csv.reader(stream))) == EXPECTED_2017


def test_xlsx_file(offices, tmp_path):
    path = tmp_path / "counts.xlsx"
    export("--year", "2017", "--format", "xlsx", "--output", str(path))
    sheet = openpyxl.load_workbook(path).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "Office code"
    assert [(r[0], r[3], *r[5:-WAIT_COLUMNS]) for r in rows[1:]] == EXPECTED_2017
    assert rows[1][2] == 2017


def test_a_year_without_bookings_gives_the_header_only(offices):
    assert len(list(csv.reader(io.StringIO(export("--year", "2030"))))) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--year", "1999"], "The year must be between 2000 and 2100."),
        (["--year", "10000"], "The year must be between 2000 and 2100."),
        (["--year", "2017", "--month", "13"], "The month must be between 1 and 12."),
        (["--year", "2017", "--month", "0"], "The month must be between 1 and 12."),
        (["--year", "2017", "--office", "bandung"], "Unknown office bandung."),
        (["--year", "2017", "--format", "pdf"], "Unknown format 'pdf': use csv or xlsx."),
        (["--year", "2017", "--format", "xlsx"], "XLSX is a binary file: give --output FILE."),
        (["--year", "2017", "--output", "/nonexistent/dir/counts.csv"], "Cannot write"),
        (["--year", "dua ribu"], "invalid int value"),
        ([], "the following arguments are required: --year"),
    ],
)
def test_bad_arguments_give_a_clear_error(offices, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        export(*args)


def test_the_unknown_office_error_lists_the_known_ones(offices):
    with pytest.raises(
        CommandError, match=re.escape("Known offices: jayapura, makassar, palembang.")
    ):
        export("--year", "2017", "--office", "palembang", "--office", "bandung")
