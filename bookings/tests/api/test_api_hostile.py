"""Hostile requests to the JSON API: each gets a 4xx JSON answer and nothing is written."""

import json
from datetime import time

import pytest
from django.test import Client

from bookings import services
from bookings.models import Booking, Notification
from bookings.tests.factories import make_applicant
from offices.models import OfficeDay, WindowDay

pytestmark = pytest.mark.django_db

API = "/api/v1"
NIK = "1671015705900001"
HUGE = "a" * 100_000

# Values no text field may take; each is refused on its own.
BAD_TEXT = [
    None,
    123,
    1.5,
    True,
    [],
    ["palembang"],
    {},
    {"$gt": ""},
    HUGE,
    "Siti\x00Aminah",
    "\x00",
    "\ud800",
    "\u202e\x1b[31m",
]
BAD_WINDOW = [None, 0, -1, 2**63, 2**64, 10**100, "1", 1.5, True, [1], {"id": 1}, 1e308, HUGE]
BAD_DATE = [
    None,
    "",
    "0000-01-01",
    "9999-12-31",
    "2017-13-01",
    "2017-02-29",
    "2017-09-06T08:00:00",
    "06/09/2017",
    "+2017-09-06",
    "２０１７-０９-０６",
    "2017-09-06\x00",
    1504656000,
    [2017, 9, 6],
    HUGE,
]


@pytest.fixture(autouse=True)
def _pinned(clock):
    """The endpoints read FIXED_NOW."""


@pytest.fixture
def valid_body(office, tomorrow):
    window = office.windows.get(weekday=tomorrow.weekday(), start=time(8))
    return {
        "office": "palembang",
        "date": tomorrow.isoformat(),
        "window": window.pk,
        "nik": NIK,
        "full_name": "Siti Aminah",
        "birth_date": "1990-05-17",
        "email": "siti@example.com",
        "phone": "081234567890",
        "purpose": "umrah",
    }


@pytest.fixture
def booking(office, tomorrow, now):
    window = office.windows.get(weekday=tomorrow.weekday(), start=time(10))
    return services.create_booking(
        office=office, day=tomorrow, window=window, applicant=make_applicant(nik=NIK), now=now
    )


def written():
    """Return what a request could have written: rows and the booking's state."""
    return (
        Booking.objects.count(),
        Notification.objects.count(),
        OfficeDay.objects.count(),
        list(WindowDay.objects.order_by("pk").values_list("booked", flat=True)),
        list(
            Booking.objects.order_by("pk").values_list(
                "status", "date", "window_id", "reschedule_count"
            )
        ),
    )


def assert_refused(response):
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert isinstance(body["error"], str)
    assert isinstance(body["message"], str)
    return body


def send(client, path, data, content_type="application/json"):
    if not isinstance(data, bytes | str):
        data = json.dumps(data)
    return client.generic("POST", f"{API}{path}", data, content_type=content_type)


def mutations(body):
    """Yield (label, body) for every hostile change of one field of a valid booking body."""
    for field in ("office", "nik", "full_name", "email", "phone", "purpose", "passport_type"):
        for value in BAD_TEXT:
            yield f"{field}={value!r:.30}", {**body, field: value}
    for value in BAD_TEXT[1:]:  # a null language is allowed: it means "use Accept-Language"
        yield f"language={value!r:.30}", {**body, "language": value}
    for value in BAD_WINDOW:
        yield f"window={value!r:.30}", {**body, "window": value}
    for field in ("date", "birth_date"):
        for value in BAD_DATE:
            yield f"{field}={value!r:.30}", {**body, field: value}
    for field in ("office", "date", "window", "nik", "full_name", "birth_date", "purpose"):
        yield f"without {field}", {k: v for k, v in body.items() if k != field}
    for extra in ("id", "code", "status", "channel", "uses_reserve", "queue_number", "__proto__"):
        yield f"extra {extra}", {**body, extra: "walk_in"}
    yield "birth date in the future", {**body, "birth_date": "2030-01-01"}
    yield "birth date before 1900", {**body, "birth_date": "1899-12-31"}
    yield "nik in another script", {**body, "nik": "١٦٧١٠١٥٧٠٥٩٠٠٠٠١"}
    yield "nik with serial 0000", {**body, "nik": "1671015705900000"}
    yield "e-mail with a newline", {**body, "email": "siti@example.com\nBcc: x@example.com"}
    yield "date far ahead", {**body, "date": "2999-09-06"}
    yield "date in the past", {**body, "date": "2017-09-01"}


RAW_BODIES = [
    b"",
    b"{bad",
    b'{"office": "palembang"',
    b"null",
    b"[]",
    b'"palembang"',
    b"42",
    b"true",
    b'{"window": NaN}',
    b'{"window": Infinity}',
    b"\xff\xfe{}",
    b'{"full_name": "\xff\xfe"}',
    b"\xef\xbb\xbf{}",
    b'{"\\ud800": 1}',
    b'{"a\\u0000b": 1, "\\u202e": 2}',
    b"[" * 50_000 + b"]" * 50_000,
    b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    b'{"full_name": "' + b"a" * 3_000_000 + b'"}',  # beyond DATA_UPLOAD_MAX_MEMORY_SIZE
]


def test_every_hostile_booking_body_is_refused_and_writes_nothing(client, valid_body):
    cases = [*mutations(valid_body), *((f"raw {raw[:30]!r}", raw) for raw in RAW_BODIES)]
    failures = []
    for label, body in cases:
        response = send(client, "/bookings", body)
        if not 400 <= response.status_code < 500 or written() != (0, 0, 0, [], []):
            failures.append((label, response.status_code, response.content[:200]))
            continue
        assert_refused(response)
    assert failures == []
    assert len(cases) > 150


def test_the_valid_body_used_above_is_accepted(client, valid_body):
    # Without this, every refusal above could come from a mistake in the valid body.
    assert send(client, "/bookings", valid_body).status_code == 201


def test_the_refusal_names_the_bad_field(client, valid_body):
    body = {**valid_body, "full_name": "Siti\x00Aminah", "language": "en"}
    response = send(client, "/bookings", body)
    assert assert_refused(response)["fields"] == {
        "full_name": ["This text contains characters that are not allowed."]
    }


def test_a_body_sent_as_a_form_is_refused(client, valid_body):
    response = client.post(f"{API}/bookings", valid_body)
    assert response.status_code == 415
    assert assert_refused(response)["error"] == "unsupported_media_type"
    assert Booking.objects.count() == 0


@pytest.mark.parametrize("action", ["lookup", "cancel", "reschedule"])
def test_every_hostile_nik_body_is_refused_and_changes_nothing(client, booking, tomorrow, action):
    path = f"/bookings/{booking.code}/{action}"
    base = {"nik": NIK}
    if action == "reschedule":
        base.update(date=tomorrow.isoformat(), window=booking.window_id + 1)
    bodies = [{**base, "nik": value} for value in BAD_TEXT]
    bodies += [
        {**base, "nik": "١٦٧١٠١٥٧٠٥٩٠٠٠٠١"},
        {**base, "nik": NIK + "\x00"},
        {**base, "nik": NIK[:-1]},
        {**base, "extra": 1},
        {k: v for k, v in base.items() if k != "nik"},
    ]
    if action == "reschedule":
        bodies += [{**base, "window": value} for value in BAD_WINDOW]
        bodies += [{**base, "date": value} for value in BAD_DATE]
    before = written()

    for body in [*bodies, *RAW_BODIES]:
        assert_refused(send(client, path, body))
        assert written() == before, body

    assert before[0] == 1


@pytest.mark.parametrize(
    "code",
    [
        "%00",
        "ABC%00DEF",
        "A" * 5000,
        "..%2F..%2Fadmin",
        "%F0%9F%98%80",
        "%ED%A0%80",
        "%FF%FE",
        "'%20OR%201=1%20--",
        "%D9%A3%D9%A3",
        "%E2%80%AE",
    ],
)
def test_hostile_booking_codes_in_the_url_are_404(client, booking, code):
    before = written()
    for action in ("lookup", "cancel", "reschedule"):
        response = client.post(
            f"{API}/bookings/{code}/{action}",
            {"nik": NIK, "date": "2017-09-07", "window": booking.window_id},
            content_type="application/json",
        )
        assert assert_refused(response)["error"] in ("not_found", "invalid")
        assert response.status_code in (404, 422)  # 422 when longer than a code can be
    assert written() == before


@pytest.mark.parametrize(
    "code", ["%00", "pa%00lembang", "A" * 5000, "%ED%A0%80", "%FF", "palembang'--", "%C5%BF"]
)
def test_hostile_office_codes_in_the_url_are_refused(client, office, code):
    response = client.get(f"{API}/offices/{code}/availability")
    assert response.status_code in (404, 422)  # 422 when longer than a code can be
    assert assert_refused(response)["error"] in ("not_found", "invalid")


@pytest.mark.parametrize(
    "query",
    [
        "days=",
        "days=-1",
        "days=1e3",
        "days=NaN",
        "days=0x10",
        "days=%00",
        f"days={10**40}",
        "start=",
        "start=%00",
        "start=2017-09-06%00",
        "start=0001-01-01",
        "start=9999-12-31",
        "start=2017-9-6",
        f"start={'9' * 5000}",
    ],
)
def test_hostile_availability_queries_are_422(client, office, query):
    response = client.get(f"{API}/offices/palembang/availability?{query}")
    assert response.status_code == 422, response.content
    assert assert_refused(response)["error"] == "invalid"


def test_unknown_query_parameters_are_ignored(client, office):
    response = client.get(f"{API}/offices/palembang/availability?days=1&utm_source=app")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/offices"),
        ("DELETE", "/offices/palembang/availability"),
        ("GET", "/bookings"),
        ("PATCH", "/bookings/ABCDEFGHJK/lookup"),
        ("GET", "/bookings/ABCDEFGHJK/cancel"),
        ("DELETE", "/bookings/ABCDEFGHJK/reschedule"),
    ],
)
def test_other_methods_are_405_json(client, method, path):
    response = client.generic(method, f"{API}{path}")
    assert response.status_code == 405
    assert response["Allow"]
    assert assert_refused(response)["error"] == "method_not_allowed"


@pytest.mark.parametrize(
    "path", ["/nothing", "/offices/", "/bookings/", "/bookings/ABC/lookup/", "/v2/offices"]
)
def test_unknown_paths_under_the_api_are_404_json(client, path):
    response = client.get(f"{API}{path}")
    assert response.status_code == 404
    assert assert_refused(response)["error"] == "not_found"


def test_a_post_to_an_unknown_path_is_404_json_without_a_csrf_token():
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        f"{API}/bookings/ABCDEFGHJK/lookup/", {}, content_type="application/json"
    )
    assert response.status_code == 404
    assert assert_refused(response)["error"] == "not_found"


def test_hostile_headers_do_not_break_the_answer(client, booking):
    response = client.post(
        f"{API}/bookings/{booking.code}/lookup",
        {"nik": "12"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="xx-\x00;q=abc, " + "en;q=0.5," * 500,
    )
    assert response.status_code == 422
    assert_refused(response)


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""],
)
def test_a_body_that_is_not_declared_json_is_answered_415_and_writes_nothing(
    client, office, tomorrow, content_type
):
    window = office.windows.filter(weekday=tomorrow.weekday()).first()
    body = json.dumps(
        {
            "office": office.code,
            "date": tomorrow.isoformat(),
            "window": window.pk,
            "nik": "1671015705900001",
            "full_name": "Siti Aminah",
            "birth_date": "1990-05-17",
            "purpose": "umrah",
            "email": "siti@example.com",
            "phone": "081234567890",
        }
    )

    response = client.generic(
        "POST", "/api/v1/bookings", body, content_type=content_type, HTTP_ORIGIN="https://x.example"
    )

    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"
    assert "Access-Control-Allow-Origin" not in response
    assert not Booking.objects.exists()


def test_the_document_names_the_415_of_every_post(client):
    document = client.get("/api/v1/openapi.json").json()
    posts = [ops["post"] for ops in document["paths"].values() if "post" in ops]

    assert posts and all("415" in post["responses"] for post in posts)
