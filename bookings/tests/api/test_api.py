"""The JSON API v1: every endpoint and error row of the table, query counts, the document."""

import re
from datetime import time, timedelta

import jsonschema_rs
import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.utils import translation

from bookings import services
from bookings.models import Booking, Notification
from bookings.tests.factories import make_applicant, make_nik, window_at
from offices.models import OfficeDay, WindowDay
from offices.tests.factories import DayOverrideFactory, OfficeFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}  # where a test reads a message, it asks for English
NIK = "1671015705900001"  # Palembang, born 17 May 1990


@pytest.fixture(autouse=True)
def _pinned(clock):
    """The endpoints read Tuesday 5 September 2017, 09:00 WIB."""


@pytest.fixture
def document(client):
    return client.get(f"{API}/openapi.json").json()


def post(client, path, body, **headers):
    return client.post(f"{API}{path}", body, content_type="application/json", **headers)


def booking_body(office, day, window, **overrides):
    body = {
        "office": office.code,
        "date": day.isoformat(),
        "window": window.pk,
        "nik": NIK,
        "full_name": "Siti Aminah",
        "birth_date": "1990-05-17",
        "email": "siti@example.com",
        "phone": "0812 3456 7890",
        "purpose": "umrah",
    }
    body.update(overrides)
    return body


def book(office, day, window, now, **applicant):
    return services.create_booking(
        office=office, day=day, window=window, applicant=make_applicant(**applicant), now=now
    )


def conforms(document, path, method, status, body):
    """Check an answer against the schema the OpenAPI document gives for it."""
    response = document["paths"][path][method]["responses"][str(status)]
    schema = response["content"]["application/json"]["schema"]
    jsonschema_rs.validate({**schema, "components": document["components"]}, body)


def english(message):
    with translation.override("en"):
        return str(message)


def assert_error(response, status, error):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == error
    assert body["message"]
    return body


# ---- offices ---------------------------------------------------------------------------------


def test_offices_lists_each_office_with_the_table_fields(client, office, document):
    OfficeFactory(code="makassar", city="Makassar", timezone="Asia/Makassar", windows=False)

    response = client.get(f"{API}/offices")

    assert response.status_code == 200
    body = response.json()
    assert {row["code"] for row in body} == {"palembang", "makassar"}
    palembang = next(row for row in body if row["code"] == "palembang")
    assert palembang == {
        "code": "palembang",
        "name": office.name,
        "city": "Palembang",
        "timezone": "Asia/Jakarta",
        "daily_quota": 150,
    }
    conforms(document, "/api/v1/offices", "get", 200, body)


def test_offices_cost_one_query(client, office, django_assert_num_queries):
    OfficeFactory.create_batch(3)
    with django_assert_num_queries(1):
        assert client.get(f"{API}/offices").status_code == 200


# ---- availability ----------------------------------------------------------------------------


def test_availability_defaults_to_the_booking_horizon_from_the_first_bookable_day(
    client, office, tomorrow, document
):
    response = client.get(f"{API}/offices/palembang/availability")

    assert response.status_code == 200
    body = response.json()
    conforms(document, "/api/v1/offices/{code}/availability", "get", 200, body)
    assert body["office"] == "palembang"
    assert body["timezone"] == "Asia/Jakarta"
    days = body["days"]
    assert days[0]["date"] == tomorrow.isoformat()
    assert len(days) == office.booking_horizon_days  # days 1 to 30 ahead
    first = days[0]
    assert set(first) == {"date", "open", "quota", "remaining", "windows", "ballot"}
    assert first["open"] is True
    assert first["quota"] == 150
    assert first["remaining"] == 135
    assert [(w["start"], w["end"], w["capacity"], w["remaining"]) for w in first["windows"]] == [
        ("08:00", "10:00", 45, 45),
        ("10:00", "12:00", 45, 45),
        ("13:00", "15:00", 45, 45),
    ]
    assert first["windows"][0]["id"] == window_at(office, tomorrow).pk


def test_availability_counts_booked_places_and_shows_closed_days(client, office, tomorrow, now):
    window = window_at(office, tomorrow)
    book(office, tomorrow, window, now)
    DayOverrideFactory(office=office, date=tomorrow + timedelta(days=1), reason="Cuti bersama")

    days = client.get(f"{API}/offices/palembang/availability?days=2").json()["days"]

    assert days[0]["remaining"] == 134
    assert days[0]["windows"][0]["remaining"] == 44
    assert days[1] == {
        "date": (tomorrow + timedelta(days=1)).isoformat(),
        "open": False,
        "quota": 0,
        "remaining": 0,
        "windows": [],
        "ballot": None,
    }


def test_availability_offers_no_place_before_the_first_bookable_day(client, office, now):
    today = now.date()
    days = client.get(f"{API}/offices/palembang/availability?start={today}&days=2").json()["days"]

    assert days[0]["open"] is True
    assert days[0]["remaining"] == 0
    assert {w["remaining"] for w in days[0]["windows"]} == {0}
    assert days[1]["remaining"] == 135


def test_availability_offers_no_place_in_a_window_that_has_begun(client, now):
    OfficeFactory(code="sameday", min_days_ahead=0)

    days = client.get(f"{API}/offices/sameday/availability?days=1").json()["days"]

    # 09:00 WIB: the 08:00 window has begun, the others have not.
    assert [w["remaining"] for w in days[0]["windows"]] == [0, 45, 45]
    assert days[0]["remaining"] == 90


def test_availability_answers_a_crowd_from_one_computation(
    client, office, tomorrow, now, settings, django_assert_num_queries
):
    settings.AVAILABILITY_CACHE_SECONDS = 60
    path = f"{API}/offices/{office.code}/availability?days=7"
    first = client.get(path)
    book(office, tomorrow, window_at(office, tomorrow), now)

    with django_assert_num_queries(0):
        again = client.get(path)

    assert again.status_code == 200
    assert again["Content-Type"].startswith("application/json")
    assert again.content == first.content  # the booking shows once the answer expires
    caches["kept"].clear()
    days = {day["date"]: day for day in client.get(path).json()["days"]}
    assert days[tomorrow.isoformat()]["windows"][0]["remaining"] == 44


def test_availability_of_an_unknown_office_is_404(client, office):
    response = client.get(f"{API}/offices/nowhere/availability", **EN)
    body = assert_error(response, 404, "not_found")
    assert body == {"error": "not_found", "message": "No office has this code."}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("days=0", "days"),
        ("days=63", "days"),
        ("days=-5", "days"),
        ("days=abc", "days"),
        ("days=99999999999999999999999", "days"),
        ("start=2017-02-30", "start"),
        ("start=06-09-2017", "start"),
        ("start=0000-01-01", "start"),
        ("start=9999-12-31", "start"),
        ("start=2016-01-01", "start"),
        ("start=1504656000", "start"),
    ],
)
def test_availability_refuses_a_bad_start_or_days_naming_it(client, office, query, field):
    response = client.get(f"{API}/offices/palembang/availability?{query}")
    body = assert_error(response, 422, "invalid")
    assert list(body["fields"]) == [field]
    assert body["fields"][field][0]


def test_availability_query_count_is_the_same_for_a_week_and_two_months(
    client, office, tomorrow, now, django_assert_num_queries
):
    book(office, tomorrow, window_at(office, tomorrow), now)
    DayOverrideFactory(office=office, date=tomorrow + timedelta(days=3))
    for days in (7, 62):
        with django_assert_num_queries(5):
            response = client.get(f"{API}/offices/palembang/availability?days={days}")
        assert len(response.json()["days"]) == days


# ---- booking ---------------------------------------------------------------------------------


def test_booking_answers_201_with_the_booking_and_a_masked_nik(client, office, tomorrow, document):
    window = window_at(office, tomorrow)

    response = post(client, "/bookings", booking_body(office, tomorrow, window))

    assert response.status_code == 201, response.content
    body = response.json()
    conforms(document, "/api/v1/bookings", "post", 201, body)
    booking = Booking.objects.get()
    assert body == {
        "code": booking.code,
        "office": "palembang",
        "date": tomorrow.isoformat(),
        "window": {"id": window.pk, "start": "08:00", "end": "10:00", "zone": "WIB"},
        "status": "booked",
        "nik_masked": "1671••••••••0001",
        "full_name": "Siti Aminah",
        "purpose": "umrah",
        "passport_type": "ordinary",
        "birth_date_mismatch": False,
        "group_code": None,
        "confirm_by": None,  # CONTACT_CONFIRMATION is off here
        "closure": None,
    }
    assert NIK not in response.content.decode()
    assert booking.nik == NIK
    assert booking.phone == "+6281234567890"
    assert booking.channel == Booking.Channel.ONLINE
    assert booking.language == "id"
    assert Notification.objects.filter(booking=booking).count() == 2


def test_booking_keeps_the_optional_fields_and_names_the_offices_zone(client, tomorrow):
    office = OfficeFactory(code="makassar", timezone="Asia/Makassar")
    body = booking_body(
        office,
        tomorrow,
        window_at(office, tomorrow, 10),
        passport_type="electronic",
        language="en",
        birth_date="1990-05-18",
    )

    response = post(client, "/bookings", body)

    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["window"]["zone"] == "WITA"
    assert answer["passport_type"] == "electronic"
    assert answer["birth_date_mismatch"] is True
    booking = Booking.objects.get()
    assert booking.language == "en"
    assert booking.birth_date_mismatch is True


def test_booking_language_defaults_to_accept_language(client, office, tomorrow):
    body = booking_body(office, tomorrow, window_at(office, tomorrow))
    response = post(client, "/bookings", body, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 201
    assert Booking.objects.get().language == "en"


def test_booking_a_full_window_is_409_full_and_writes_nothing(client, tomorrow, now):
    office = OfficeFactory(code="small", windows=[(time(8), time(10), 1), (time(10), time(12), 9)])
    window = window_at(office, tomorrow)
    book(office, tomorrow, window, now)
    before = Booking.objects.count(), Notification.objects.count()

    response = post(client, "/bookings", booking_body(office, tomorrow, window), **EN)

    body = assert_error(response, 409, "full")
    assert body["message"] == english(services.MESSAGES["full"])
    assert (Booking.objects.count(), Notification.objects.count()) == before


def test_a_full_window_answers_full_before_the_details_are_checked(client, tomorrow, now):
    # After a sell-out "full" is all a crowd needs to hear, whatever else is in the body.
    office = OfficeFactory(code="small", windows=[(time(8), time(10), 1)])
    window = window_at(office, tomorrow)
    book(office, tomorrow, window, now)

    response = post(client, "/bookings", booking_body(office, tomorrow, window, nik="123"), **EN)

    assert_error(response, 409, "full")
    assert Booking.objects.count() == 1


def test_a_kept_window_serves_refusals_and_the_booking_reads_it_again(
    client, office, tomorrow, settings
):
    settings.AVAILABILITY_CACHE_SECONDS = 60
    window = window_at(office, tomorrow, 13)
    refused = post(client, "/bookings", booking_body(office, tomorrow, window, nik="123"))
    assert refused.status_code == 422  # the window and its office are now kept
    office.windows.filter(pk=window.pk).update(start=time(13, 30), end=time(15, 30))

    response = post(client, "/bookings", booking_body(office, tomorrow, window))

    assert response.status_code == 201, response.content
    answer = response.json()["window"]
    assert (answer["start"], answer["end"]) == ("13:30", "15:30")


def test_booking_when_the_day_is_full_is_409_full(client, office, tomorrow, now):
    # Quota 16 less the walk-in reserve of 15 leaves one online place.
    DayOverrideFactory(office=office, date=tomorrow, closed=False, quota=16, reason="Rapat")
    book(office, tomorrow, window_at(office, tomorrow), now)

    response = post(
        client, "/bookings", booking_body(office, tomorrow, window_at(office, tomorrow, 10)), **EN
    )

    body = assert_error(response, 409, "full")
    assert body["message"] == english(services.MESSAGES["day_full"])
    assert Booking.objects.count() == 1


def test_booking_a_nik_with_an_active_booking_is_409_duplicate(client, office, tomorrow, now):
    book(office, tomorrow, window_at(office, tomorrow), now, nik=NIK)

    response = post(
        client, "/bookings", booking_body(office, tomorrow, window_at(office, tomorrow, 10))
    )

    assert_error(response, 409, "duplicate")
    assert Booking.objects.count() == 1


def test_booking_names_each_bad_field_in_one_answer(client, office, tomorrow):
    body = booking_body(
        office,
        tomorrow,
        window_at(office, tomorrow),
        nik="1671013205900001",  # day 32
        full_name="...",
        birth_date="2030-01-01",
        email="not-an-address",
        phone="12345",
    )

    response = post(client, "/bookings", body, **EN)

    answer = assert_error(response, 422, "invalid")
    assert set(answer["fields"]) == {"nik", "full_name", "birth_date", "email", "phone"}
    assert answer["fields"]["nik"] == ["Digits 7 to 12 of this NIK are not a valid birth date."]
    assert Booking.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"office": "nowhere"}, "office"),
        ({"window": 10**9}, "window"),
        ({"purpose": "shopping"}, "purpose"),
        ({"passport_type": "diplomatic"}, "passport_type"),
        ({"language": "fr"}, "language"),
        ({"date": "2017-09-31"}, "date"),
        ({"nik": "1671 0157 0590 000"}, "nik"),
        ({"unexpected": "field"}, "unexpected"),
    ],
)
def test_booking_refuses_a_bad_field_naming_it(client, office, tomorrow, change, field):
    body = {**booking_body(office, tomorrow, window_at(office, tomorrow)), **change}

    response = post(client, "/bookings", body)

    answer = assert_error(response, 422, "invalid")
    assert field in answer["fields"]
    assert Booking.objects.count() == 0


def test_booking_with_a_body_that_is_not_json_is_400(client, office):
    response = client.post(f"{API}/bookings", "{not json", content_type="application/json", **EN)
    assert assert_error(response, 400, "bad_request") == {
        "error": "bad_request",
        "message": "The request body is not valid JSON.",
    }


def test_booking_missing_fields_are_each_named(client, office):
    answer = assert_error(post(client, "/bookings", {}), 422, "invalid")
    assert set(answer["fields"]) == {
        "office", "date", "window", "nik", "full_name", "birth_date", "email", "phone", "purpose",
    }  # fmt: skip


def test_a_window_of_another_office_or_an_unknown_office_is_named_on_its_field(
    client, office, tomorrow
):
    other = OfficeFactory(code="makassar")
    theirs = booking_body(office, tomorrow, window_at(other, tomorrow))
    answer = assert_error(post(client, "/bookings", theirs, **EN), 422, "invalid")
    assert answer["fields"] == {"window": [english(services.MESSAGES["window_mismatch"])]}
    for code in ("nowhere", "not a code!"):
        body = {**booking_body(office, tomorrow, window_at(office, tomorrow)), "office": code}
        answer = assert_error(post(client, "/bookings", body, **EN), 422, "invalid")
        assert set(answer["fields"]) == {"office", "window"}
    assert Booking.objects.count() == 0


def test_booking_rules_of_the_service_come_back_on_their_field(client, office, tomorrow):
    closed = tomorrow + timedelta(days=1)
    DayOverrideFactory(office=office, date=closed, reason="Cuti bersama")
    too_far = tomorrow + timedelta(days=office.booking_horizon_days + 7)
    cases = [
        (closed, window_at(office, closed), "date", services.MESSAGES["closed"]),
        (too_far, window_at(office, too_far), "date", services.MESSAGES["not_bookable"]),
        (
            tomorrow,
            window_at(office, tomorrow + timedelta(days=1)),
            "window",
            services.MESSAGES["window_mismatch"],
        ),
    ]
    for day, window, field, message in cases:
        response = post(client, "/bookings", booking_body(office, day, window), **EN)
        answer = assert_error(response, 422, "invalid")
        assert answer["fields"] == {field: [english(message)]}
    assert Booking.objects.count() == 0


def test_booking_a_window_that_has_begun_is_refused_on_the_window(client, now):
    office = OfficeFactory(code="sameday", min_days_ahead=0)
    today = now.date()

    response = post(
        client, "/bookings", booking_body(office, today, window_at(office, today)), **EN
    )

    answer = assert_error(response, 422, "invalid")
    assert answer["fields"] == {"window": [english(services.MESSAGES["window_started"])]}


def test_messages_follow_the_body_language_then_accept_language(client, office):
    with translation.override("id"):
        required_in_indonesian = translation.gettext("This field is required.")
    assert required_in_indonesian != "This field is required."
    indonesian = post(client, "/bookings", {"office": "palembang"}).json()
    english = post(client, "/bookings", {"office": "palembang", "language": "en"}).json()
    header = post(client, "/bookings", {"office": "palembang"}, HTTP_ACCEPT_LANGUAGE="en").json()

    assert indonesian["fields"]["nik"] == [required_in_indonesian]
    assert english["fields"]["nik"] == ["This field is required."]
    assert header["fields"]["nik"] == ["This field is required."]


def test_booking_query_count_is_pinned(client, office, tomorrow, now, django_assert_num_queries):
    # The window and its office, then one read: "blocked? NIK held? day or window full? an
    # override of the day's plan?", the day's windows (its override only when there is one),
    # then BEGIN, the booking and notification INSERTs, the two counter UPDATEs (one
    # statement on PostgreSQL) and COMMIT: 9 (8). The day's first booking also creates its
    # two counter rows, each with an INSERT and a second UPDATE (four queries more, five on
    # PostgreSQL, where the window is asked again once the day has its row). The limit per
    # contact (off here) adds its count (and on PostgreSQL its lock).
    one_statement = connection.vendor == "postgresql"
    first = booking_body(office, tomorrow, window_at(office, tomorrow))
    with django_assert_num_queries(13):
        assert post(client, "/bookings", first).status_code == 201
    second = booking_body(office, tomorrow, window_at(office, tomorrow), nik=make_nik())
    with django_assert_num_queries(8 if one_statement else 9):
        assert post(client, "/bookings", second).status_code == 201


def test_a_full_window_is_refused_without_a_transaction(
    client, tomorrow, now, django_assert_num_queries
):
    # The crowd after sell-out is turned away by one read after the window's: no BEGIN, no
    # counter UPDATE, no form.
    office = OfficeFactory(code="tiny", windows=[(time(8), time(10), 1)])
    window = window_at(office, tomorrow)
    book(office, tomorrow, window, now)
    with django_assert_num_queries(2) as captured:
        response = post(client, "/bookings", booking_body(office, tomorrow, window), **EN)
    assert_error(response, 409, "full")
    assert not any("UPDATE" in query["sql"] for query in captured.captured_queries)


def test_a_sold_out_window_is_refused_from_memory_until_a_freed_place_shows(
    client, tomorrow, now, settings, django_assert_num_queries
):
    settings.AVAILABILITY_CACHE_SECONDS = 60
    office = OfficeFactory(code="tiny", windows=[(time(8), time(10), 1)])
    window = window_at(office, tomorrow)
    booked = book(office, tomorrow, window, now)
    post(client, "/bookings", booking_body(office, tomorrow, window))
    with django_assert_num_queries(0):  # the crowd after the first refusal
        response = post(client, "/bookings", booking_body(office, tomorrow, window), **EN)
    assert_error(response, 409, "full")
    services.cancel_booking(booking=booked)
    assert post(client, "/bookings", booking_body(office, tomorrow, window)).status_code == 409
    # Once the refusal is no longer kept, the freed place is offered.
    settings.AVAILABILITY_CACHE_SECONDS = 0
    caches["refusals"].clear()
    assert post(client, "/bookings", booking_body(office, tomorrow, window)).status_code == 201


# ---- lookup ----------------------------------------------------------------------------------


@pytest.fixture
def booking(office, tomorrow, now):
    return book(office, tomorrow, window_at(office, tomorrow), now, nik=NIK)


def test_lookup_answers_the_booking_with_the_nik_masked(client, booking, document):
    response = post(client, f"/bookings/{booking.code}/lookup", {"nik": NIK})

    assert response.status_code == 200
    body = response.json()
    conforms(document, "/api/v1/bookings/{code}/lookup", "post", 200, body)
    assert body["code"] == booking.code
    assert body["status"] == "booked"
    assert body["nik_masked"] == "1671••••••••0001"
    assert NIK not in response.content.decode()


def test_lookup_accepts_the_code_as_people_type_it(client, booking):
    typed = f"{booking.code[:5].lower()}-{booking.code[5:]}"
    response = post(client, f"/bookings/{typed}/lookup", {"nik": "1671 0157 0590 0001"})
    assert response.status_code == 200


def test_lookup_gives_the_same_404_for_an_unknown_code_and_a_wrong_nik(client, booking):
    unknown_code = post(client, "/bookings/ZZZZZZZZZZ/lookup", {"nik": NIK}, **EN)
    wrong_nik = post(client, f"/bookings/{booking.code}/lookup", {"nik": make_nik()}, **EN)

    assert_error(unknown_code, 404, "not_found")
    assert unknown_code.status_code == wrong_nik.status_code == 404
    assert unknown_code.content == wrong_nik.content
    assert unknown_code.json() == {
        "error": "not_found",
        "message": "No booking matches this code and NIK.",
    }


def test_lookup_with_a_malformed_nik_is_422_on_the_nik(client, booking):
    answer = assert_error(
        post(client, f"/bookings/{booking.code}/lookup", {"nik": "12"}), 422, "invalid"
    )
    assert list(answer["fields"]) == ["nik"]


def test_lookup_query_count_is_pinned(client, booking, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert post(client, f"/bookings/{booking.code}/lookup", {"nik": NIK}).status_code == 200


# ---- cancel ----------------------------------------------------------------------------------


def test_cancel_answers_cancelled_and_frees_the_place(client, booking, document):
    response = post(client, f"/bookings/{booking.code}/cancel", {"nik": NIK})

    assert response.status_code == 200
    assert response.json() == {"code": booking.code, "status": "cancelled", "group_code": None}
    conforms(document, "/api/v1/bookings/{code}/cancel", "post", 200, response.json())
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert WindowDay.objects.get(window=booking.window, date=booking.date).booked == 0
    assert Notification.objects.filter(booking=booking, kind="cancellation").count() == 2


def test_cancel_gives_the_same_404_for_an_unknown_code_and_a_wrong_nik(client, booking):
    unknown_code = post(client, "/bookings/ZZZZZZZZZZ/cancel", {"nik": NIK})
    wrong_nik = post(client, f"/bookings/{booking.code}/cancel", {"nik": make_nik()})

    assert_error(unknown_code, 404, "not_found")
    assert unknown_code.content == wrong_nik.content
    booking.refresh_from_db()
    assert booking.status == Booking.Status.BOOKED


def test_cancel_twice_is_409_not_cancellable(client, booking):
    post(client, f"/bookings/{booking.code}/cancel", {"nik": NIK})
    response = post(client, f"/bookings/{booking.code}/cancel", {"nik": NIK}, **EN)
    body = assert_error(response, 409, "not_cancellable")
    assert body["message"] == english(services.MESSAGES["not_cancellable"])


def test_cancel_after_the_window_has_begun_is_409(client, booking, clock):
    clock.now = booking.starts_at + timedelta(minutes=5)
    assert_error(
        post(client, f"/bookings/{booking.code}/cancel", {"nik": NIK}), 409, "not_cancellable"
    )


# ---- reschedule ------------------------------------------------------------------------------


def test_reschedule_answers_the_booking_with_its_new_date_and_window(
    client, office, booking, tomorrow, document
):
    later = tomorrow + timedelta(days=2)
    window = window_at(office, later, 13)

    response = post(
        client,
        f"/bookings/{booking.code}/reschedule",
        {"nik": NIK, "date": later.isoformat(), "window": window.pk},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    conforms(document, "/api/v1/bookings/{code}/reschedule", "post", 200, body)
    assert body["date"] == later.isoformat()
    assert body["window"] == {"id": window.pk, "start": "13:00", "end": "15:00", "zone": "WIB"}
    assert body["code"] == booking.code
    booking.refresh_from_db()
    assert (booking.date, booking.window_id) == (later, window.pk)


def test_reschedule_into_a_full_window_is_409_full_and_keeps_the_old_place(client, tomorrow, now):
    office = OfficeFactory(code="small", windows=[(time(8), time(10), 1), (time(10), time(12), 9)])
    later = tomorrow + timedelta(days=1)
    mine = book(office, tomorrow, window_at(office, tomorrow, 10), now, nik=NIK)
    book(office, later, window_at(office, later), now)
    counters = list(WindowDay.objects.order_by("pk").values_list("booked", flat=True))
    day_counters = list(OfficeDay.objects.order_by("pk").values_list("booked", flat=True))

    response = post(
        client,
        f"/bookings/{mine.code}/reschedule",
        {"nik": NIK, "date": later.isoformat(), "window": window_at(office, later).pk},
    )

    assert_error(response, 409, "full")
    looked_up = post(client, f"/bookings/{mine.code}/lookup", {"nik": NIK}).json()
    assert looked_up["date"] == tomorrow.isoformat()
    assert looked_up["window"]["start"] == "10:00"
    assert list(WindowDay.objects.order_by("pk").values_list("booked", flat=True)) == counters
    assert list(OfficeDay.objects.order_by("pk").values_list("booked", flat=True)) == day_counters


def test_reschedule_gives_the_same_404_for_an_unknown_code_and_a_wrong_nik(
    client, office, booking, tomorrow
):
    body = {"date": tomorrow.isoformat(), "window": window_at(office, tomorrow, 10).pk}
    unknown_code = post(client, "/bookings/ZZZZZZZZZZ/reschedule", {**body, "nik": NIK})
    wrong_nik = post(client, f"/bookings/{booking.code}/reschedule", {**body, "nik": make_nik()})

    assert_error(unknown_code, 404, "not_found")
    assert unknown_code.content == wrong_nik.content


def test_reschedule_beyond_the_limit_is_409(client, office, booking, tomorrow, settings):
    settings.BOOKING_MAX_RESCHEDULES = 1
    path = f"/bookings/{booking.code}/reschedule"
    first = {"nik": NIK, "date": tomorrow.isoformat(), "window": window_at(office, tomorrow, 10).pk}
    second = {**first, "window": window_at(office, tomorrow, 13).pk}

    assert post(client, path, first).status_code == 200
    assert_error(post(client, path, second), 409, "reschedule_limit")


def test_reschedule_a_cancelled_booking_is_409_not_reschedulable(client, office, booking, tomorrow):
    post(client, f"/bookings/{booking.code}/cancel", {"nik": NIK})
    body = {"nik": NIK, "date": tomorrow.isoformat(), "window": window_at(office, tomorrow, 10).pk}

    response = post(client, f"/bookings/{booking.code}/reschedule", body)

    assert_error(response, 409, "not_reschedulable")


def test_reschedule_to_the_same_window_is_409_same_slot(client, booking, tomorrow):
    body = {"nik": NIK, "date": tomorrow.isoformat(), "window": booking.window_id}
    assert_error(post(client, f"/bookings/{booking.code}/reschedule", body), 409, "same_slot")


def test_reschedule_to_an_unknown_or_foreign_window_is_422_on_the_window(client, booking, tomorrow):
    elsewhere = OfficeFactory(code="elsewhere")
    path = f"/bookings/{booking.code}/reschedule"
    for window in (10**9, window_at(elsewhere, tomorrow, 10).pk):
        body = {"nik": NIK, "date": tomorrow.isoformat(), "window": window}
        answer = assert_error(post(client, path, body), 422, "invalid")
        assert list(answer["fields"]) == ["window"]
    booking.refresh_from_db()
    assert booking.reschedule_count == 0


# ---- rate limits -----------------------------------------------------------------------------


def test_booking_is_rate_limited_per_address(client, office, tomorrow, settings):
    # A day-long period: the counting window cannot roll over during the test.
    settings.RATELIMIT_BOOKING = "2/d"
    body = booking_body(office, tomorrow, window_at(office, tomorrow), nik="x")
    for _ in range(2):
        assert post(client, "/bookings", body).status_code == 422

    response = post(
        client, "/bookings", booking_body(office, tomorrow, window_at(office, tomorrow))
    )

    assert_error(response, 429, "rate_limited")
    assert Booking.objects.count() == 0
    other_address = post(client, "/bookings", body, REMOTE_ADDR="10.0.0.9")
    assert other_address.status_code == 422


def test_lookup_cancel_and_reschedule_share_the_lookup_rate_limit(client, booking, settings):
    settings.RATELIMIT_LOOKUP = "3/d"
    assert post(client, f"/bookings/{booking.code}/lookup", {"nik": make_nik()}).status_code == 404
    assert post(client, f"/bookings/{booking.code}/cancel", {"nik": make_nik()}).status_code == 404
    assert post(client, f"/bookings/{booking.code}/lookup", {"nik": make_nik()}).status_code == 404

    for action in ("lookup", "cancel", "reschedule"):
        assert_error(
            post(client, f"/bookings/{booking.code}/{action}", {"nik": NIK}), 429, "rate_limited"
        )


def test_rate_limits_are_off_with_ratelimit_enable_0(client, booking, settings):
    settings.RATELIMIT_LOOKUP = "1/d"
    settings.RATELIMIT_ENABLE = False
    for _ in range(3):
        assert post(client, f"/bookings/{booking.code}/lookup", {"nik": NIK}).status_code == 200


# ---- for an app, not a browser session -------------------------------------------------------


def test_posts_need_no_csrf_token_and_set_no_cookie(office, tomorrow):
    client = Client(enforce_csrf_checks=True)

    response = post(
        client, "/bookings", booking_body(office, tomorrow, window_at(office, tomorrow))
    )

    assert response.status_code == 201
    assert not response.cookies


def test_a_staff_session_gives_no_access(client, booking, admin_user):
    client.force_login(admin_user)

    response = post(client, f"/bookings/{booking.code}/lookup", {"nik": make_nik()})

    assert_error(response, 404, "not_found")


def test_document_declares_no_authentication(document):
    assert "securitySchemes" not in document.get("components", {})
    assert all(
        "security" not in operation
        for methods in document["paths"].values()
        for operation in methods.values()
    )


# ---- the document and the docs page ---------------------------------------------------------


def test_openapi_document_lists_every_endpoint(document):
    assert document["openapi"].startswith("3.")
    operations = {
        (path, method) for path, methods in document["paths"].items() for method in methods
    }
    assert operations == {
        ("/api/v1/offices", "get"),
        ("/api/v1/offices/{code}/availability", "get"),
        ("/api/v1/proof-of-work", "get"),
        ("/api/v1/bookings", "post"),
        ("/api/v1/bookings/{code}/lookup", "post"),
        ("/api/v1/bookings/{code}/cancel", "post"),
        ("/api/v1/bookings/{code}/reschedule", "post"),
        ("/api/v1/bookings/{code}/confirm-contact", "post"),
        ("/api/v1/bookings/{code}/resend-code", "post"),
        ("/api/v1/bookings/{code}/keep", "post"),
        ("/api/v1/bookings/{code}/choices", "post"),
        ("/api/v1/bookings/{code}/choose", "post"),
        ("/api/v1/bookings/{code}/join-waiting-list", "post"),
        ("/api/v1/groups/{code}/lookup", "post"),
        ("/api/v1/groups/{code}/cancel", "post"),
        ("/api/v1/groups/{code}/reschedule", "post"),
        ("/api/v1/offices/{code}/releases", "get"),
        ("/api/v1/releases/{release_id}", "get"),
        ("/api/v1/releases/{release_id}/entries/{entry_code}", "get"),
        ("/api/v1/releases/{release_id}/entries", "post"),
        ("/api/v1/offices/{code}/queue", "get"),
        ("/api/v1/bookings/{code}/queue", "post"),
        ("/api/v1/releases/{release_id}/entries/{entry_code}/change", "post"),
        ("/api/v1/releases/{release_id}/entries/{entry_code}/withdraw", "post"),
        ("/api/v1/releases/{release_id}/entries/{entry_code}/confirm-contact", "post"),
        ("/api/v1/releases/{release_id}/entries/{entry_code}/resend-code", "post"),
        ("/api/v1/offers/{token}", "get"),
        ("/api/v1/offers/{token}/accept", "post"),
        ("/api/v1/offers/{token}/decline", "post"),
        ("/healthz", "get"),
    }
    booking = document["paths"]["/api/v1/bookings"]["post"]
    assert set(booking["responses"]) == {"201", "400", "409", "415", "422", "428", "429"}
    assert document["components"]["schemas"]["BookingIn"]["additionalProperties"] is False


def test_no_nik_travels_in_a_url(document):
    for path, methods in document["paths"].items():
        assert "nik" not in path
        for operation in methods.values():
            names = {p["name"] for p in operation.get("parameters", [])}
            assert "nik" not in names


def test_docs_page_loads_only_from_this_site(client, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

    response = client.get(f"{API}/docs")

    assert response.status_code == 200
    page = response.content.decode()
    addresses = re.findall(r"""(?:src|href)=["']([^"']+)""", page)
    assert any(a.endswith(".js") for a in addresses)
    assert all(a.startswith("/") and not a.startswith("//") for a in addresses), addresses
    assert "http://" not in page
    assert "https://" not in page
    assert '"validatorUrl": null' in page


def test_health_check_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


# ---- the whole journey, knowing only the table ----------------------------------------------


def test_a_client_knowing_only_the_table_books_looks_up_reschedules_and_cancels(client, office):
    offices = client.get(f"{API}/offices").json()
    code = offices[0]["code"]
    days = client.get(f"{API}/offices/{code}/availability").json()["days"]
    free = [
        (day["date"], window["id"])
        for day in days
        if day["remaining"]
        for window in day["windows"]
        if window["remaining"]
    ]
    (day, window), (new_day, new_window) = free[0], free[-1]

    booked = post(
        client,
        "/bookings",
        {
            "office": code,
            "date": day,
            "window": window,
            "nik": NIK,
            "full_name": "Siti Aminah",
            "birth_date": "1990-05-17",
            "email": "siti@example.com",
            "phone": "+62 812 3456 7890",
            "purpose": "umrah",
        },
    )
    assert booked.status_code == 201
    booking = booked.json()["code"]

    found = post(client, f"/bookings/{booking}/lookup", {"nik": NIK})
    assert (found.json()["date"], found.json()["window"]["id"]) == (day, window)

    moved = post(
        client,
        f"/bookings/{booking}/reschedule",
        {"nik": NIK, "date": new_day, "window": new_window},
    )
    assert moved.status_code == 200
    assert (moved.json()["date"], moved.json()["window"]["id"]) == (new_day, new_window)

    cancelled = post(client, f"/bookings/{booking}/cancel", {"nik": NIK})
    assert cancelled.json() == {"code": booking, "status": "cancelled", "group_code": None}
    assert post(client, f"/bookings/{booking}/lookup", {"nik": NIK}).json()["status"] == "cancelled"


def test_the_pages_and_the_api_count_one_bucket_per_client(client, booking, settings):
    settings.RATELIMIT_LOOKUP = "3/d"
    lookup_page = "/bookings/lookup/"
    # Two look-ups on the page and one in the app use the client's three.
    for _ in range(2):
        page = client.post(lookup_page, {"code": booking.code, "nik": make_nik()})
        assert page.status_code in (200, 404)
    assert post(client, f"/bookings/{booking.code}/lookup", {"nik": make_nik()}).status_code == 404

    assert_error(
        post(client, f"/bookings/{booking.code}/lookup", {"nik": NIK}), 429, "rate_limited"
    )
    assert client.post(lookup_page, {"code": booking.code, "nik": NIK}).status_code == 429
