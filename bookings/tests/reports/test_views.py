"""The monthly applicant counts page: who may see it, its table, chart, downloads and queries."""

import csv
import io
import re
from datetime import date, time

import openpyxl
import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

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
from offices.access import SUPERVISOR_GROUP
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db

URL = reverse("monthly-report")
# Session, user, access (3), admin permissions (2), figures (3), waits, form.
MAX_PAGE_QUERIES = 12


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    # Pages render without a collected manifest, as on a fresh checkout.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def offices():
    offices = make_offices()
    build_bookings(offices, KNOWN_BOOKINGS)
    return offices


@pytest.fixture
def supervisor(django_user_model):
    user = django_user_model.objects.create_user("supervisor", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=SUPERVISOR_GROUP)[0])
    return user


@pytest.fixture
def clerk(django_user_model, offices):
    user = django_user_model.objects.create_user("petugas.palembang", is_staff=True)
    offices["palembang"].staff.add(user)
    return user


def get(client, user, **params):
    client.force_login(user)
    return client.get(URL, params, HTTP_ACCEPT_LANGUAGE="en")


def shown(response):
    """Return the page's month rows as (code, month, figures...) tuples."""
    return [
        (row.office_code, row.month, *row.figures)
        for months, _total in response.context["groups"]
        for row in months
    ]


def test_anonymous_users_are_sent_to_the_admin_login(client):
    response = client.get(URL, {"year": 2017})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_users_who_are_not_staff_are_sent_to_the_admin_login(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("pemohon"))
    response = client.get(URL, {"year": 2017})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_of_no_office_get_403(client, django_user_model, offices):
    user = django_user_model.objects.create_user("lost", is_staff=True)
    assert get(client, user, year=2017).status_code == 403
    assert get(client, user, year=2017, format="csv").status_code == 403


def test_a_supervisor_sees_every_office_with_exact_figures(client, supervisor, offices):
    response = get(client, supervisor, year=2017)
    assert response.status_code == 200
    assert shown(response) == EXPECTED_2017
    totals = [total.figures for _months, total in response.context["groups"]]
    assert totals[2] == (10, 7, 3, 2, 1, 1, 13, 0, 0, 4, 1, 1, 1, 1, 1, 1)
    assert response.context["grand_total"].figures[:7] == (16, 11, 5, 4, 2, 2, 21)
    html = response.content.decode()
    for office in offices.values():
        assert office.name in html
    assert 'Total<span class="visually-hidden"> Kantor Imigrasi Kelas I TPI Palembang' in html
    assert "All offices shown" in html


def test_a_superuser_sees_every_office(client, django_user_model, offices):
    admin_user = django_user_model.objects.create_superuser("root", password="x")
    assert shown(get(client, admin_user, year=2017)) == EXPECTED_2017


def test_a_supervisor_may_choose_offices(client, supervisor, offices):
    chosen = [offices["palembang"].pk, offices["makassar"].pk]
    response = get(client, supervisor, year=2017, offices=chosen)
    assert shown(response) == [row for row in EXPECTED_2017 if row[0] != "jayapura"]
    assert "Kantor Imigrasi Kelas I Jayapura (jayapura)" not in response.content.decode()


def test_office_staff_see_their_own_offices_only(client, clerk, offices):
    response = get(client, clerk, year=2017)
    assert response.status_code == 200
    assert shown(response) == [row for row in EXPECTED_2017 if row[0] == "palembang"]
    html = response.content.decode()
    assert "Jayapura" not in html and "Makassar" not in html


def test_office_staff_cannot_choose_another_office(client, clerk, offices):
    for file_format in ("", "csv"):
        response = get(client, clerk, year=2017, offices=offices["jayapura"].pk, format=file_format)
        assert response.status_code == 400
        assert "groups" not in response.context
        assert "Jayapura" not in response.content.decode()


def test_a_later_year_with_no_bookings(client, supervisor, offices):
    response = get(client, supervisor, year=2030)
    assert response.status_code == 200
    assert response.context["groups"] == []
    assert "No bookings in 2030." in response.content.decode()


def test_the_year_defaults_to_this_year(client, supervisor, offices):
    response = get(client, supervisor)
    assert response.status_code == 200
    assert response.context["year"] == timezone.localdate().year


@pytest.mark.parametrize(
    "params",
    [
        {"year": "abc"},
        {"year": "1999"},
        {"year": "99999"},
        {"year": ""},
        {"year": "2017", "format": "pdf"},
        {"year": "2017", "offices": "x"},
        {"year": "2017", "offices": "999999"},
    ],
)
def test_bad_input_shows_the_form_with_an_error_summary(client, supervisor, offices, params):
    client.force_login(supervisor)
    response = client.get(URL, params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Please correct the errors below." in html
    assert 'href="#id_' in html


def test_the_chart_is_an_accessible_inline_svg(client, supervisor, offices):
    # Indonesian is the default language: the SVG geometry must still use a decimal point.
    client.force_login(supervisor)
    html = client.get(URL, {"year": 2017}).content.decode()
    svg = html[html.index('<svg class="chart"') :]
    svg = svg[: svg.index("</svg>")]
    assert 'role="img"' in svg
    assert 'aria-labelledby="chart-title chart-desc"' in svg
    assert '<title id="chart-title">' in svg and '<desc id="chart-desc">' in svg
    assert svg.count('class="chart-bar-rect"') == 12
    values = re.findall(r'<text class="chart-value"[^>]*>([^<]*)</text>', svg)
    assert values == ["0", "0", "1", "0", "0", "0", "6", "5", "3", "0", "0", "1"]
    labels = re.findall(r'<text class="chart-label"[^>]*>([^<]*)</text>', svg)
    assert labels[6:9] == ["Jul", "Agu", "Sep"]
    for attribute in re.findall(r' (?:x|y|width|height)="([^"]*)"', svg):
        assert re.fullmatch(r"\d+(\.\d+)?", attribute), attribute
    assert "bookings/reports/report.css" in html
    assert "style=" not in html.lower().replace("stylesheet", "")


def test_the_tallest_bar_fills_the_plot(client, supervisor, offices):
    chart = get(client, supervisor, year=2017).context["chart"]
    heights = {bar["month"]: bar["height"] for bar in chart["bars"]}
    assert heights["Jul"] == chart["baseline"] - 24
    assert heights["Jan"] == 0
    assert heights["Aug"] == round(heights["Jul"] * 5 / 6, 1)


def test_download_links_keep_the_chosen_year_and_offices(client, supervisor, offices):
    pk = offices["palembang"].pk
    html = get(client, supervisor, year=2017, offices=pk).content.decode()
    assert f'href="?year=2017&amp;offices={pk}&amp;format=csv"' in html
    assert f'href="?year=2017&amp;offices={pk}&amp;format=xlsx"' in html


def read_csv(response):
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_csv_download_holds_the_figures_of_the_page(client, supervisor, offices):
    response = get(client, supervisor, year=2017, format="csv")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Disposition"] == (
        'attachment; filename="monthly-applicant-counts-2017.csv"'
    )
    rows = read_csv(response)
    assert rows[0][:5] == ["Office code", "Office", "Year", "Month", "Month name"]
    assert [(r[0], int(r[3]), *map(int, r[5:-WAIT_COLUMNS])) for r in rows[1:]] == EXPECTED_2017
    assert rows[1][:5] == ["jayapura", "Kantor Imigrasi Kelas I Jayapura", "2017", "7", "July"]


def test_xlsx_download_holds_the_figures_of_the_page(client, supervisor, offices):
    response = get(client, supervisor, year=2017, format="xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == exports.CONTENT_TYPES["xlsx"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert [(r[0], r[3], *r[5:-WAIT_COLUMNS]) for r in rows[1:]] == EXPECTED_2017
    assert rows[1][2] == 2017


def test_office_staff_download_their_own_offices_only(client, clerk, offices):
    rows = read_csv(get(client, clerk, year=2017, format="csv"))
    assert {row[0] for row in rows[1:]} == {"palembang"}


def test_a_formula_office_name_is_neutralised_in_the_download(client, supervisor):
    office = OfficeFactory(code="evil", name='=HYPERLINK("http://evil.example","x")')
    build_bookings(
        {"evil": office}, [("evil", date(2017, 7, 3), time(8), ONLINE, CHECKED_IN, "umrah", "")]
    )
    rows = read_csv(get(client, supervisor, year=2017, format="csv"))
    assert rows[1][1] == "'" + office.name


def page_queries(client, user):
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, {"year": 2017})
    assert response.status_code == 200
    return len(queries)


def test_the_page_queries_do_not_grow_with_offices_or_months(
    client, supervisor, clerk, offices, django_assert_max_num_queries
):
    before = page_queries(client, supervisor)
    extra = {f"extra-{n}": OfficeFactory(code=f"extra-{n}") for n in range(5)}
    build_bookings(
        extra,
        [
            (code, date(2017, month, 10), time(8), ONLINE, CHECKED_IN, "umrah", "")
            for code in extra
            for month in range(1, 13)
        ],
    )
    assert page_queries(client, supervisor) == before
    for user in (supervisor, clerk):
        client.force_login(user)
        with django_assert_max_num_queries(MAX_PAGE_QUERIES):
            client.get(URL, {"year": 2017})
        with django_assert_max_num_queries(MAX_PAGE_QUERIES):
            response = client.get(URL, {"year": 2017, "format": "csv"})
        b"".join(response.streaming_content)


def test_the_figures_on_the_page_are_those_of_the_report(client, supervisor, offices):
    response = get(client, supervisor, year=2017)
    assert shown(response) == [
        (r.office_code, r.month, *r.figures) for r in monthly_counts(year=2017)
    ]


def test_the_admin_index_links_to_the_report_for_those_who_may_see_it(
    client, django_user_model, supervisor, clerk
):
    lost = django_user_model.objects.create_user("lost", is_staff=True)
    for user, linked in ((supervisor, True), (clerk, True), (lost, False)):
        client.force_login(user)
        response = client.get(reverse("admin:index"))
        assert response.status_code == 200
        assert (f'href="{URL}"' in response.content.decode()) is linked, user.username
