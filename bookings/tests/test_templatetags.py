"""Template filters: dates, sessions and fees in the applicant's language and office zone."""

from datetime import UTC, date, datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import translation

from bookings.templatetags.antrean import appointment, long_date, rupiah, session

WEDNESDAY = date(2017, 9, 6)
WINDOW = SimpleNamespace(start=time(8), end=time(10))


@pytest.mark.parametrize(
    ("language", "expected"),
    [("id", "Rabu, 6 September 2017"), ("en", "Wednesday, 6 September 2017")],
)
def test_long_date_in_the_page_language(language, expected):
    with translation.override(language):
        assert long_date(WEDNESDAY) == expected


def test_long_date_kept_per_language_and_an_instant_in_its_own_zone():
    for language, expected in [("id", "Rabu"), ("en", "Wednesday"), ("id", "Rabu")]:
        with translation.override(language):
            assert long_date(WEDNESDAY).startswith(expected)
    evening = datetime(2017, 9, 6, 23, tzinfo=UTC)
    with translation.override("id"):
        assert long_date(evening) == "Rabu, 6 September 2017"
        assert long_date(evening.astimezone(ZoneInfo("Asia/Jakarta"))) == "Kamis, 7 September 2017"


def test_long_date_of_nothing_is_empty():
    assert long_date(None) == ""


@pytest.mark.parametrize(("language", "expected"), [("id", "08.00–10.00"), ("en", "08:00–10:00")])
def test_session_uses_the_language_time_separator(language, expected):
    with translation.override(language):
        assert session(WINDOW) == expected


def test_session_keeps_minutes_and_leading_zeros():
    with translation.override("id"):
        assert session(SimpleNamespace(start=time(7, 5), end=time(13, 30))) == "07.05–13.30"


def test_session_of_nothing_is_empty():
    assert session(None) == ""


@pytest.mark.parametrize(
    ("zone", "abbreviation"),
    [("Asia/Jakarta", "WIB"), ("Asia/Makassar", "WITA"), ("Asia/Jayapura", "WIT")],
)
def test_appointment_names_the_office_zone(zone, abbreviation):
    from offices.models import Office

    booking = SimpleNamespace(
        office=Office(timezone=zone), date=WEDNESDAY, window_id=1, window=WINDOW
    )
    with translation.override("id"):
        assert appointment(booking) == f"Rabu, 6 September 2017, 08.00–10.00 {abbreviation}"
    with translation.override("en"):
        assert appointment(booking) == f"Wednesday, 6 September 2017, 08:00–10:00 {abbreviation}"


def test_appointment_of_a_walk_in_has_no_session():
    from offices.models import Office

    booking = SimpleNamespace(
        office=Office(timezone="Asia/Jakarta"), date=WEDNESDAY, window_id=None, window=None
    )
    with translation.override("id"):
        assert appointment(booking) == "Rabu, 6 September 2017 (WIB)"


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (350000, "Rp 350.000"),
        (650000, "Rp 650.000"),
        (355000, "Rp 355.000"),
        (1234567, "Rp 1.234.567"),
        (0, "Rp 0"),
        (999, "Rp 999"),
        ("300000", "Rp 300.000"),
        (None, ""),
    ],
)
def test_rupiah_groups_thousands_with_a_dot(amount, expected):
    assert rupiah(amount) == expected


def test_rupiah_is_the_same_in_english():
    with translation.override("en"):
        assert rupiah(350000) == "Rp 350.000"


def test_filters_load_in_a_template():
    template = Template(
        "{% load antrean %}{{ day|long_date }} {{ window|session }} {{ fee|rupiah }}"
    )
    with translation.override("id"):
        rendered = template.render(Context({"day": WEDNESDAY, "window": WINDOW, "fee": 350000}))
    assert rendered == "Rabu, 6 September 2017 08.00–10.00 Rp 350.000"


@pytest.mark.parametrize(
    ("language", "other", "name"), [("id", "en", "English"), ("en", "id", "Bahasa Indonesia")]
)
def test_language_switch_links_to_the_other_language_and_back_here(language, other, name):
    template = Template("{% load antrean %}{% language_switch language back %}")
    back = '/offices/palembang/?month=2027-01&x="><b>'

    rendered = template.render(Context({"language": language, "back": back}))

    assert rendered == (
        f'<a href="/language/{other}/?next=/offices/palembang/'
        '%3Fmonth%3D2027-01%26x%3D%22%3E%3Cb%3E"'
        f' class="btn btn-light btn-sm" lang="{other}" hreflang="{other}" rel="nofollow">'
        f"{name}</a>"
    )
