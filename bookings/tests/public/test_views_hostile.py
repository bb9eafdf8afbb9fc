"""Hostile input, table-driven: every field and URL part of the applicant pages, never a 500."""

from datetime import timedelta

import pytest
from django.http import QueryDict
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from bookings.models import Booking, Notification
from bookings.public.forms import ApplicantForm, CancelForm, LookupForm
from bookings.tests.factories import (
    applicant_data,
    book_through_pages,
    book_with_service,
    bookable_days,
    check_url,
    field_errors,
    first_slot,
    form_url,
    html_lang,
    parse,
)
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_rate_limit(settings):
    settings.RATELIMIT_ENABLE = False


class Twice(tuple):
    """A field sent twice in one request (?x=a&x=b)."""


LONG = "7" * 10_000
# Values that are wrong for every text field, whatever it holds.
GARBAGE = {
    "empty": "",
    "whitespace": " \t\n  ",
    "10 000 characters": LONG,
    "NUL byte": "1671011705900001\x00",
    "bell and escape": "16710117\x07\x1b[31m05900001",
    "SQL": "' OR '1'='1'; DROP TABLE bookings_booking; --",
    "HTML": '<script>alert("x")</script>',
    "emoji": "😀😀😀",
    "RTL override": "\u202e1000095071101761",
}
NIK_VALUES = {
    **GARBAGE,
    "Arabic-Indic digits": "١٦٧١٠١١٧٠٥٩٠٠٠١",
    "full-width digits": "１６７１０１１７０５９００００１",
    "15 digits": "167101170590001",
    "17 digits": "16710117059000011",
    "unknown province": "9971011705900001",
    "impossible date": "1671013205900001",
    "serial 0000": "1671011705900000",
    "sent twice": Twice(["1671011705900001", "x"]),
}
NAME_VALUES = {
    **GARBAGE,
    "NUL byte": "Siti\x00Aminah",
    "bell": "Siti\x07Aminah",
    "DEL": "Siti\x7fAminah",
    "emoji": "Siti 😀",
    "RTL override": "\u202ehanimA itiS",
    "Arabic script": "سيتي أمينة",
    "digits": "Siti 2",
    "10 000 letters": "A" * 10_000,
    "sent twice": Twice(["Siti Aminah", "<b>x</b>"]),
}
TOMORROW = "tomorrow"  # resolved in the office's calendar when the test runs
BIRTH_DATE_VALUES = {
    **GARBAGE,
    "0000-00-00": "0000-00-00",
    "9999-12-31": "9999-12-31",
    "1899-12-31": "1899-12-31",
    "tomorrow": TOMORROW,
    "month 13": "1990-13-01",
    "30 February": "1990-02-30",
    "5-digit year": "99999-01-01",
    "sent twice": Twice(["1990-05-17", "abc"]),
}
PHONE_VALUES = {
    **GARBAGE,
    "Arabic-Indic digits": "٠٨١٢٣٤٥٦٧٨٩٠",
    "mixed digits": "08١٢٣٤٥٦٧٨٩٠",
    "landline": "0711 123456",
    "foreign": "+1 202 555 0100",
    "too short": "0812",
    "sent twice": Twice(["0812 3456 7890", "x"]),
}
EMAIL_VALUES = {
    **GARBAGE,
    "10 000 characters": "a" * 10_000 + "@example.com",
    "NUL byte": "siti\x00@example.com",
    "bell": "siti\x07@example.com",
    "emoji": "😀@example.com",
    "RTL override": "\u202esiti@example.com",
    "no domain": "siti@",
    "no at": "siti.example.com",
    "sent twice": Twice(["siti@example.com", "x"]),
}


def _choice_values(valid):
    return {
        **GARBAGE,
        "unknown choice": "space-tourism",
        "upper case": valid.upper(),
        "sent twice": Twice([valid, "bogus"]),
    }


HONEYPOT_VALUES = {
    "a word": "x",
    "a link": "https://spam.example/",
    "10 000 characters": LONG,
    "NUL byte": "\x00",
    "SQL": GARBAGE["SQL"],
    "HTML": GARBAGE["HTML"],
    "emoji": "😀",
    "sent twice": Twice(["", "x"]),
}

APPLICANT_REFUSED = {
    "nik": NIK_VALUES,
    "full_name": NAME_VALUES,
    "birth_date": BIRTH_DATE_VALUES,
    "phone": PHONE_VALUES,
    "email": EMAIL_VALUES,
    "purpose": _choice_values("umrah"),
    "application_type": _choice_values("new"),
    "passport_type": _choice_values("ordinary"),
    "website": HONEYPOT_VALUES,
}
APPLICANT_ACCEPTED = {
    "nik": {"spaces": "1671 0117 0590 0001", "dots and dashes": "1671.0117-0590.0001"},
    "full_name": {
        "titles": "Dr. Ir. H. Muhammad Yusuf, S.H.",
        "apostrophe and hyphen": "Nur'aini Ayu-Dewi",
        "Latin accents": "José Ramos-Horta",
        "many spaces": "  Siti    Aminah ",
    },
    "birth_date": {"day first": "17-05-1990", "slashes": "17/05/1990"},
    "phone": {
        "+62 with dashes": "+62 812-3456-7890",
        "brackets and dots": "(0812) 3456.7890",
        "62 without plus": "6281234567890",
    },
    "email": {"plus and subdomain": "Siti.Aminah+paspor@mail.example.co.id"},
    "website": {"empty": "", "whitespace": "   "},
}


def _rows(table):
    return [
        pytest.param(field, value, id=f"{field}-{label}")
        for field, values in table.items()
        for label, value in values.items()
    ]


def _post_data(base, field, value):
    data = QueryDict(mutable=True)
    for key, item in base.items():
        data[key] = item
    data.setlist(field, list(value) if isinstance(value, Twice) else [value])
    return data


def _resolve(value, office):
    if value == TOMORROW:
        return (office.local_now(timezone.now()).date() + timedelta(days=1)).isoformat()
    return value


def _payload(data):
    """The QueryDict as the test client posts it: lists for fields sent twice."""
    return {key: data.getlist(key) for key in data}


def _expected_errors(form_class, data, field, language, **kwargs):
    with translation.override(language):
        form = form_class(data, **kwargs)
        assert not form.is_valid()
        return [" ".join(str(message).split()) for message in form.errors[field]]


def _error_fields(response):
    return {
        ident.removeprefix("id_").removesuffix("_error")
        for ident in parse(response).text
        if ident.startswith("id_") and ident.endswith("_error")
    }


def _assert_nothing_written():
    assert not Booking.objects.exists()
    assert not Notification.objects.exists()


@pytest.fixture
def slot(office):
    return first_slot(office)


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize(("field", "value"), _rows(APPLICANT_REFUSED))
def test_applicant_form_refuses_hostile_values(office, slot, field, value, language):
    day, window = slot
    value = _resolve(value, office)
    data = _post_data(applicant_data(), field, value)
    browser = Client(headers={"accept-language": language})
    response = browser.post(form_url(office, day, window), _payload(data))
    assert response.status_code == 200
    assert html_lang(response) == language
    today = office.local_now(timezone.now()).date()
    expected = _expected_errors(ApplicantForm, data, field, language, today=today)
    assert field_errors(response, field) == expected
    assert _error_fields(response) == {field}
    assert browser.get(check_url(office, day, window)).status_code == 302  # nothing pending
    _assert_nothing_written()


@pytest.mark.parametrize(("field", "value"), _rows(APPLICANT_ACCEPTED))
def test_applicant_form_accepts_what_people_type(client, office, slot, field, value):
    day, window = slot
    data = _post_data(applicant_data(), field, value)
    response = client.post(form_url(office, day, window), _payload(data))
    assert response.status_code == 302, _error_fields(response)
    assert client.get(check_url(office, day, window)).status_code == 200
    _assert_nothing_written()  # the booking is made only on the check page


def test_builtin_messages_follow_the_page_language(office, slot):
    day, window = slot
    data = applicant_data(application_type="")
    messages = {}
    for language in ("id", "en"):
        browser = Client(headers={"accept-language": language})
        response = browser.post(form_url(office, day, window), data)
        messages[language] = field_errors(response, "application_type")
    assert messages["en"] == ["This field is required."]
    assert messages["id"] and messages["id"] != messages["en"]


def test_hostile_text_is_escaped_in_the_page(client, office, slot):
    day, window = slot
    response = client.post(form_url(office, day, window), applicant_data(nik=GARBAGE["HTML"]))
    html = response.content.decode()
    assert '<script>alert("x")</script>' not in html
    assert "&lt;script&gt;" in html


# ---- look-up ---------------------------------------------------------------------------------

LOOKUP_REFUSED = {
    "code": {
        **GARBAGE,
        "NUL byte": "ABCDE\x00FGHJK",
        "Arabic-Indic digits": "١٢٣٤٥٦٧٨٩٠",
        "Arabic letters": "ابتثجحخدذر",
        "too short": "ABCDE",
        "too long": "ABCDEFGHJKLMN",
        "ambiguous letters": "0O1IL0O1IL",
        "sent twice": Twice(["ABCDEFGHJK", "x"]),
    },
    "nik": NIK_VALUES,
    "website": HONEYPOT_VALUES,
}


@pytest.fixture
def lookup_base(booked_by_service):
    return {"code": booked_by_service.code, "nik": booked_by_service.nik, "website": ""}


@pytest.fixture
def booked_by_service(office, slot):
    return book_with_service(office, *slot)


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize(("field", "value"), _rows(LOOKUP_REFUSED))
def test_lookup_refuses_hostile_values(lookup_base, field, value, language):
    data = _post_data(lookup_base, field, value)
    browser = Client(headers={"accept-language": language})
    response = browser.post(reverse("booking-lookup"), _payload(data))
    assert response.status_code == 200
    assert html_lang(response) == language
    assert field_errors(response, field) == _expected_errors(LookupForm, data, field, language)
    assert _error_fields(response) == {field}
    assert "Siti Aminah" not in response.content.decode()
    assert Booking.objects.count() == 1
    assert Notification.objects.filter(kind="cancellation").count() == 0


def test_lookup_of_a_well_formed_unknown_code_says_no_match(lookup_base):
    response = Client().post(reverse("booking-lookup"), {**lookup_base, "code": "abcde-fghjk"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not _error_fields(response)


# ---- cancel and reschedule -------------------------------------------------------------------


@pytest.fixture
def owner():
    return Client()


@pytest.fixture
def own_booking(owner, office, slot):
    return book_through_pages(owner, office, *slot)


CANCEL_REFUSED = {
    "confirm": {
        "empty": "",
        "false": "false",
        "sent twice": Twice(["on", ""]),
    },
    "website": HONEYPOT_VALUES,
}


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize(("field", "value"), _rows(CANCEL_REFUSED))
def test_cancel_refuses_hostile_values(owner, own_booking, field, value, language):
    data = _post_data({"confirm": "on", "website": ""}, field, value)
    owner.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    response = owner.post(reverse("booking-cancel", args=[own_booking.code]), _payload(data))
    assert response.status_code == 200
    assert html_lang(response) == language
    assert field_errors(response, field) == _expected_errors(CancelForm, data, field, language)
    own_booking.refresh_from_db()
    assert own_booking.status == Booking.Status.BOOKED
    assert not Notification.objects.filter(kind="cancellation").exists()


@pytest.mark.parametrize(
    "value",
    ["on", "yes", "0", LONG, GARBAGE["HTML"], "\x00"],
    ids=["on", "yes", "zero", "long", "HTML", "NUL"],
)
def test_a_ticked_box_is_a_ticked_box_whatever_it_sends(owner, own_booking, value):
    response = owner.post(reverse("booking-cancel", args=[own_booking.code]), {"confirm": value})
    assert response.status_code == 302
    own_booking.refresh_from_db()
    assert own_booking.status == Booking.Status.CANCELLED


def _other_office_window(weekday):
    other = OfficeFactory(code="lain", city="Lain")
    return other.windows.filter(weekday=weekday).first()


WINDOW_VALUES = {
    "empty": lambda ctx: "",
    "letters": lambda ctx: "abc",
    "huge": lambda ctx: "9" * 30,
    "negative": lambda ctx: "-1",
    "NUL byte": lambda ctx: f"{ctx['window'].pk}\x00",
    "SQL": lambda ctx: "1 OR 1=1",
    "another office": lambda ctx: _other_office_window(ctx["day"].weekday()).pk,
    "another weekday": lambda ctx: ctx["other_weekday_window"].pk,
    "the full window": lambda ctx: ctx["full_window"].pk,
    "sent twice": lambda ctx: Twice([ctx["window"].pk, "x"]),
}


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("label", WINDOW_VALUES)
def test_reschedule_refuses_hostile_windows(owner, office, own_booking, label, language):
    day = bookable_days(office)[2].date
    windows = list(office.windows.filter(weekday=day.weekday()).order_by("start"))
    full_window = windows[2]
    for _place in range(full_window.capacity):
        book_with_service(office, day, full_window)
    ctx = {
        "day": day,
        "window": windows[0],
        "full_window": full_window,
        "other_weekday_window": office.windows.exclude(weekday=day.weekday()).first(),
    }
    value = WINDOW_VALUES[label](ctx)
    owner.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    data = _post_data({"date": day.isoformat()}, "window", value)
    url = reverse("booking-reschedule", args=[own_booking.code])
    response = owner.post(url, _payload(data))
    assert response.status_code == 200
    assert html_lang(response) == language
    errors = field_errors(response, "window")
    assert len(errors) == 1
    with translation.override(language):
        assert errors[0] in {
            gettext("Choose one of the sessions with places left."),
            gettext("Choose a session."),
        }
    _assert_not_moved(own_booking)


def _assert_not_moved(booking):
    before = (booking.date, booking.window_id)
    booking.refresh_from_db()
    assert (booking.date, booking.window_id, booking.reschedule_count) == (*before, 0)
    assert not Notification.objects.filter(kind="reschedule").exists()


RESCHEDULE_DATES = {
    "empty": "",
    "garbage": "garbage",
    "30 February": "2017-02-30",
    "0000-00-00": "0000-00-00",
    "9999-12-31": "9999-12-31",
    "5-digit year": "99999-01-01",
    "NUL byte": "2026-12-01\x00",
    "10 000 characters": LONG,
    "HTML": GARBAGE["HTML"],
    "past": "2017-09-06",
    "sent twice": Twice(["2017-09-06", "x"]),
}


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("label", RESCHEDULE_DATES)
def test_reschedule_refuses_hostile_dates(owner, office, own_booking, label, language):
    owner.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    url = reverse("booking-reschedule", args=[own_booking.code])
    value = RESCHEDULE_DATES[label]
    response = owner.get(url, {"date": value})
    assert response.status_code == 200
    window = own_booking.window
    data = _post_data({"window": window.pk}, "date", value)
    response = owner.post(url, _payload(data))
    assert response.status_code == 409
    assert html_lang(response) == language
    with translation.override(language):
        assert (
            gettext("Choose a day with places left.") in response.context["form"].non_field_errors()
        )
    _assert_not_moved(own_booking)


# ---- URL parts -------------------------------------------------------------------------------


# The {placeholders} are filled in when the test runs.
HOSTILE_URLS = {
    "unknown office": ("/offices/nope/", {404}),
    "unknown office day": ("/offices/nope/{day}/", {404}),
    "unknown office form": ("/offices/nope/{day}/{window}/book/", {404}),
    "30 February": ("/offices/{code}/2017-02-30/", {404}),
    "5-digit year": ("/offices/{code}/99999-01-01/", {404}),
    "letters for a date": ("/offices/{code}/abc/", {404}),
    "0000-00-00": ("/offices/{code}/0000-00-00/", {404}),
    "first day of the calendar": ("/offices/{code}/0001-01-01/", {404}),
    "last day of the calendar": ("/offices/{code}/9999-12-31/", {404}),
    "two years ahead": ("/offices/{code}/{two_years_ahead}/", {404}),
    "yesterday": ("/offices/{code}/{yesterday}/", {200}),
    "basic ISO date": ("/offices/{code}/{basic_day}/", {404}),
    "form on the first day of the calendar": (
        "/offices/{code}/0001-01-01/{window}/book/",
        {404, 409},
    ),
    "form on the last day of the calendar": (
        "/offices/{code}/9999-12-31/{window}/book/",
        {404, 409},
    ),
    "check on the last day of the calendar": (
        "/offices/{code}/9999-12-31/{window}/check/",
        {302, 404},
    ),
    "form on a bad date": ("/offices/{code}/2017-02-30/{window}/book/", {404}),
    "form yesterday": ("/offices/{code}/{yesterday}/{yesterday_window}/book/", {409}),
    "form long ago": ("/offices/{code}/2017-09-06/{window}/book/", {404}),
    "window of another office": ("/offices/{code}/{day}/{other_window}/book/", {404}),
    "check with another office's window": ("/offices/{code}/{day}/{other_window}/check/", {404}),
    "window that does not exist": ("/offices/{code}/{day}/987654/book/", {404}),
    "huge window id": ("/offices/{code}/{day}/" + "9" * 40 + "/book/", {404}),
    "month 9999-99": ("/offices/{code}/?month=9999-99", {200}),
    "month garbage": ("/offices/{code}/?month=garbage", {200}),
    "month 0-0": ("/offices/{code}/?month=0-0", {200}),
    "month far ahead": ("/offices/{code}/?month=9999-12", {200}),
    "month with a NUL": ("/offices/{code}/?month=2026-12%00", {200}),
    "search with a NUL": ("/?q=Pal%00embang", {200}),
    "search with SQL": ("/?q=%27%20OR%201%3D1--", {200}),
    "search 10 000 characters": ("/?q=" + "a" * 10_000, {200}),
    "booking code unknown": ("/bookings/ZZZZZZZZZZ/", {302}),
    "booking code with a NUL": ("/bookings/AB%00CD/", {302}),
    "booking code 10 000 characters": ("/bookings/" + "A" * 10_000 + "/", {302}),
    "booking code HTML": ("/bookings/%3Cscript%3E/", {302}),
    "print of an unknown code": ("/bookings/ZZZZZZZZZZ/print/", {302}),
    "ics of an unknown code": ("/bookings/ZZZZZZZZZZ/booking.ics", {302}),
    "cancel of an unknown code": ("/bookings/ZZZZZZZZZZ/cancel/", {302}),
    "lookup with a hostile code": ("/bookings/lookup/?code=%3Cscript%3E%00", {200}),
}


@pytest.mark.parametrize("label", HOSTILE_URLS)
def test_hostile_url_parts_never_fail(client, office, slot, label):
    day, window = slot
    other_window = OfficeFactory(code="lain", city="Lain").windows.first()
    today = office.local_now(timezone.now()).date()
    yesterday = today - timedelta(days=1)
    template, statuses = HOSTILE_URLS[label]
    url = template.format(
        code=office.code,
        day=day.isoformat(),
        basic_day=f"{day:%Y%m%d}",
        yesterday=yesterday.isoformat(),
        two_years_ahead=(today + timedelta(days=731)).isoformat(),
        window=window.pk,
        yesterday_window=office.windows.filter(weekday=yesterday.weekday()).first().pk,
        other_window=other_window.pk,
    )
    assert client.get(url).status_code in statuses
    assert client.post(url).status_code in statuses | {405}


@pytest.mark.parametrize(
    "query", ["garbage", "2017-02-30", "9999-12-31", "%00", "x" * 10_000], ids=str.__len__
)
def test_reschedule_date_in_the_query_never_fails(owner, own_booking, query):
    url = reverse("booking-reschedule", args=[own_booking.code])
    response = owner.get(f"{url}?date={query}")
    assert response.status_code == 200
    assert response.context["chosen"] is None


def test_a_hostile_signed_link_is_refused_cleanly(own_booking):
    response = Client().get(
        reverse("booking-detail", args=[own_booking.code]), {"t": "x\x00" + "y" * 5000}
    )
    assert response.status_code in (302, 410)
    assert own_booking.full_name not in response.content.decode()


def test_a_session_with_a_tampered_pending_booking_goes_back_to_the_form(client, office, slot):
    day, window = slot
    session = client.session
    session["antrean_pending_booking"] = {
        "office": office.code,
        "date": day.isoformat(),
        "window": window.pk,
        "data": {**applicant_data(), "nik": "bogus"},
    }
    session.save()
    response = client.post(check_url(office, day, window))
    assert response.status_code == 302
    assert response["Location"] == form_url(office, day, window)
    _assert_nothing_written()
