"""The JSON API v1 for groups: booked in one request, all or none; looked up, moved, cancelled."""

import json
from datetime import time, timedelta

import jsonschema_rs
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from bookings import codes, services
from bookings.models import Booking, BookingGroup, Notification
from bookings.nik import mask_nik
from bookings.tests.factories import (
    assert_counters_match_bookings,
    book_group,
    make_applicant,
    make_family,
    make_nik,
    window_at,
)
from offices.models import OfficeDay, WindowDay
from offices.tests.factories import DayOverrideFactory, OfficeFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def _pinned(clock):
    """The endpoints read Tuesday 5 September 2017, 09:00 WIB."""


@pytest.fixture
def document(client):
    return client.get(f"{API}/openapi.json").json()


def post(client, path, body, **headers):
    return client.post(f"{API}{path}", body, content_type="application/json", **headers)


def english(message):
    with translation.override("en"):
        return str(message)


def conforms(document, path, method, status, body):
    """Check an answer against the schema the OpenAPI document gives for it."""
    response = document["paths"][path][method]["responses"][str(status)]
    schema = response["content"]["application/json"]["schema"]
    jsonschema_rs.validate({**schema, "components": document["components"]}, body)


def assert_error(response, status, error):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == error
    assert body["message"]
    return body


def item(applicant, **overrides):
    """Return one applicant of a group body as the app sends it."""
    return {
        "nik": applicant.nik,
        "full_name": applicant.full_name,
        "birth_date": applicant.birth_date.isoformat(),
        "purpose": applicant.purpose,
        **overrides,
    }


def group_body(office, day, window, size=3, **overrides):
    body = {
        "office": office.code,
        "date": day.isoformat(),
        "window": window.pk,
        "email": "keluarga@example.com",
        "phone": "0812 3456 7890",
        "applicants": [item(applicant) for applicant in make_family(size)],
    }
    body.update(overrides)
    return body


def written():
    """Return everything a request could have written: rows, counters, states."""
    return (
        list(
            Booking.objects.order_by("pk").values_list(
                "pk", "status", "date", "window_id", "group_id", "reschedule_count"
            )
        ),
        list(BookingGroup.objects.order_by("pk").values_list("pk", "reschedule_count")),
        Notification.objects.count(),
        list(OfficeDay.objects.order_by("pk").values_list("booked", "online_booked")),
        list(WindowDay.objects.order_by("pk").values_list("booked", flat=True)),
    )


@pytest.fixture
def family(office, tomorrow, now):
    """A family of three booked together into tomorrow's 08:00 window."""
    return book_group(office, tomorrow, 3, now=now, email="keluarga@example.com")


# ---- booking a group -------------------------------------------------------------------------


def test_a_group_of_three_is_booked_with_a_code_each_and_one_for_the_group(
    client, office, tomorrow, document
):
    window = window_at(office, tomorrow)
    body = group_body(office, tomorrow, window, language="en")

    response = post(client, "/bookings", body)

    assert response.status_code == 201, response.content
    answer = response.json()
    conforms(document, "/api/v1/bookings", "post", 201, answer)
    group = BookingGroup.objects.get()
    members = list(group.members.order_by("pk"))
    assert len(members) == 3
    assert answer["code"] == group.code
    assert codes.is_group_code(answer["code"])
    assert answer["office"] == "palembang"
    assert answer["date"] == tomorrow.isoformat()
    assert answer["window"] == {"id": window.pk, "start": "08:00", "end": "10:00", "zone": "WIB"}
    assert [m["code"] for m in answer["members"]] == [m.code for m in members]
    assert [m["full_name"] for m in answer["members"]] == [
        a["full_name"] for a in body["applicants"]
    ]
    assert [m["nik_masked"] for m in answer["members"]] == [
        mask_nik(a["nik"]) for a in body["applicants"]
    ]
    assert {m["status"] for m in answer["members"]} == {"booked"}
    text = response.content.decode()
    assert not any(a["nik"] in text for a in body["applicants"])
    # Each applicant a booking of their own, the contact shared; the counters hold three.
    assert [m.nik for m in members] == [a["nik"] for a in body["applicants"]]
    assert {(m.email, m.phone, m.language) for m in members} == {
        ("keluarga@example.com", "+6281234567890", "en")
    }
    assert {(m.date, m.window_id, m.channel) for m in members} == {
        (tomorrow, window.pk, Booking.Channel.ONLINE)
    }
    assert WindowDay.objects.get(window=window, date=tomorrow).booked == 3
    assert OfficeDay.objects.get(office=office, date=tomorrow).online_booked == 3
    assert_counters_match_bookings()
    # One confirmation per channel for the whole group, none per member.
    confirmations = Notification.objects.filter(kind=Notification.Kind.CONFIRMATION)
    assert sorted(confirmations.filter(group=group).values_list("channel", flat=True)) == [
        "email",
        "sms",
    ]
    assert not confirmations.filter(booking__in=members).exists()


def test_each_applicant_keeps_their_own_passport_and_birth_date_check(client, office, tomorrow):
    body = group_body(office, tomorrow, window_at(office, tomorrow), size=2)
    first, second = body["applicants"]
    first.update(application_type="renewal", passport_type="electronic")
    second["birth_date"] = "2010-06-02"  # the NIK says 1 June 2010

    answer = post(client, "/bookings", body).json()

    members = answer["members"]
    assert (members[0]["application_type"], members[0]["passport_type"]) == (
        "renewal",
        "electronic",
    )
    assert (members[1]["application_type"], members[1]["passport_type"]) == ("new", "ordinary")
    assert [m["birth_date_mismatch"] for m in members] == [False, True]
    stored = Booking.objects.order_by("pk")
    assert list(stored.values_list("application_type", "birth_date_mismatch")) == [
        ("renewal", False),
        ("new", True),
    ]


def test_one_applicant_in_todays_shape_is_booked_alone(client, office, tomorrow):
    applicant = make_applicant()
    body = {
        "office": office.code,
        "date": tomorrow.isoformat(),
        "window": window_at(office, tomorrow).pk,
        **item(applicant),
        "email": "siti@example.com",
        "phone": "0812 3456 7890",
    }

    response = post(client, "/bookings", body)

    assert response.status_code == 201, response.content
    assert response.json()["group_code"] is None
    assert BookingGroup.objects.count() == 0
    assert Booking.objects.get().group is None


# ---- refusals: each writes nothing -----------------------------------------------------------


def test_a_repeated_nik_is_refused_naming_the_applicant(client, office, tomorrow):
    body = group_body(office, tomorrow, window_at(office, tomorrow))
    repeated = body["applicants"][0]["nik"]
    body["applicants"][2]["nik"] = repeated
    before = written()

    response = post(client, "/bookings", body, **EN)

    answer = assert_error(response, 422, "invalid")
    message = services.MESSAGES["group_repeated_nik"] % {"number": 3, "nik": mask_nik(repeated)}
    assert answer["fields"] == {"applicants": [english(message)]}
    assert repeated not in response.content.decode()
    assert written() == before


def test_a_nik_holding_a_booking_is_refused_naming_the_applicant_and_masked(
    client, office, tomorrow, now
):
    body = group_body(office, tomorrow, window_at(office, tomorrow, 10))
    held = body["applicants"][1]
    services.create_booking(
        office=office,
        day=tomorrow,
        window=window_at(office, tomorrow),
        applicant=make_applicant(nik=held["nik"]),
        now=now,
    )
    before = written()

    response = post(client, "/bookings", body, **EN)

    answer = assert_error(response, 409, "group_nik_held")
    message = services.MESSAGES["group_nik_held"] % {"number": 2, "nik": mask_nik(held["nik"])}
    assert answer["message"] == english(message)
    assert held["nik"] not in response.content.decode()
    assert written() == before


def test_too_few_places_in_the_window_says_how_many_are_left(client, tomorrow, now, document):
    office = OfficeFactory(code="small", windows=[(time(8), time(10), 4), (time(10), time(12), 9)])
    window = window_at(office, tomorrow)
    for _ in range(2):
        services.create_booking(
            office=office, day=tomorrow, window=window, applicant=make_applicant(), now=now
        )
    before = written()

    response = post(client, "/bookings", group_body(office, tomorrow, window), **EN)

    answer = assert_error(response, 409, "group_full")
    assert answer["places_left"] == 2
    message = services.MESSAGES["group_full"] % {"left": 2, "count": 3}
    assert answer["message"] == english(message)
    conforms(document, "/api/v1/bookings", "post", 409, answer)
    assert written() == before


def test_too_few_places_on_the_day_says_how_many_are_left(client, office, tomorrow):
    # Quota 17 less the walk-in reserve of 15 leaves two places online.
    DayOverrideFactory(office=office, date=tomorrow, closed=False, quota=17, reason="Rapat")
    before = written()

    response = post(
        client, "/bookings", group_body(office, tomorrow, window_at(office, tomorrow)), **EN
    )

    answer = assert_error(response, 409, "group_full")
    assert answer["places_left"] == 2
    message = services.MESSAGES["group_day_full"] % {"left": 2, "count": 3}
    assert answer["message"] == english(message)
    assert written() == before


def test_a_full_window_is_full_for_a_group_too_before_any_lock(client, tomorrow, now):
    office = OfficeFactory(code="tiny", windows=[(time(8), time(10), 1)])
    window = window_at(office, tomorrow)
    services.create_booking(
        office=office, day=tomorrow, window=window, applicant=make_applicant(), now=now
    )
    before = written()

    with CaptureQueriesContext(connection) as captured:
        response = post(client, "/bookings", group_body(office, tomorrow, window), **EN)

    # A crowd of groups after a sell-out does not queue on the counters' locks to hear it.
    statements = [query["sql"].split()[0].upper() for query in captured.captured_queries]
    assert statements == ["SELECT", "SELECT"]  # the window (then kept), "full?"
    answer = assert_error(response, 409, "full")
    assert answer["message"] == english(services.MESSAGES["full"])
    assert "places_left" not in answer
    assert written() == before


@pytest.mark.parametrize("size", [0, 1, 6, 50])
def test_a_list_too_short_or_too_long_is_refused_on_applicants(client, office, tomorrow, size):
    body = group_body(office, tomorrow, window_at(office, tomorrow), size=min(size, 5))
    body["applicants"] = (body["applicants"] * 10)[:size]

    response = post(client, "/bookings", body, **EN)

    answer = assert_error(response, 422, "invalid")
    assert answer["fields"] == {"applicants": ["A group booking holds from 2 to 5 applicants."]}
    assert written() == ([], [], 0, [], [])


def test_a_smaller_group_maximum_is_kept_by_the_service(client, office, tomorrow, settings):
    settings.BOOKING_GROUP_MAX = 3

    response = post(
        client, "/bookings", group_body(office, tomorrow, window_at(office, tomorrow), 4), **EN
    )

    answer = assert_error(response, 422, "invalid")
    assert answer["fields"] == {"applicants": ["A group booking holds from 2 to 3 applicants."]}
    assert Booking.objects.count() == 0


def test_each_bad_field_of_an_applicant_is_named_by_its_place(client, office, tomorrow):
    body = group_body(office, tomorrow, window_at(office, tomorrow), size=4, email="not-an-address")
    body["applicants"][1].update(nik="1671013205900001", birth_date="2030-01-01")
    body["applicants"][2]["full_name"] = "..."
    body["applicants"][3]["birth_date"] = "1899-12-31"

    response = post(client, "/bookings", body, **EN)

    answer = assert_error(response, 422, "invalid")
    fields = answer["fields"]
    assert set(fields) == {
        "applicants.1.nik",
        "applicants.1.birth_date",
        "applicants.2.full_name",
        "applicants.3.birth_date",
        "email",
    }
    assert fields["applicants.1.nik"] == ["Digits 7 to 12 of this NIK are not a valid birth date."]
    assert fields["applicants.1.birth_date"] == ["The birth date cannot be in the future."]
    assert fields["email"] == ["Enter an e-mail address such as name@example.com."]
    assert written() == ([], [], 0, [], [])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"extra": 1}, "applicants.0.extra"),
        ({"nik": None}, "applicants.0.nik"),
        ({"nik": "1671\x000157"}, "applicants.0.nik"),
        ({"birth_date": "17-05-1990"}, "applicants.0.birth_date"),
        ({"purpose": "shopping"}, "applicants.0.purpose"),
        ({"application_type": "lost"}, "applicants.0.application_type"),
        ({"passport_type": "diplomatic"}, "applicants.0.passport_type"),
    ],
)
def test_a_malformed_applicant_is_refused_naming_its_field(client, office, tomorrow, change, field):
    body = group_body(office, tomorrow, window_at(office, tomorrow))
    body["applicants"][0].update(change)

    answer = assert_error(post(client, "/bookings", body), 422, "invalid")

    assert list(answer["fields"]) == [field]
    assert written() == ([], [], 0, [], [])


@pytest.mark.parametrize("value", [None, "x", 1, [1, 2], ["a", "b"], {"nik": "1"}])
def test_applicants_that_are_not_a_list_of_objects_are_refused(client, office, tomorrow, value):
    body = group_body(office, tomorrow, window_at(office, tomorrow), applicants=value)

    answer = assert_error(post(client, "/bookings", body, **EN), 422, "invalid")

    assert all(name.startswith("applicants") for name in answer["fields"])
    assert written() == ([], [], 0, [], [])


def test_a_body_with_both_shapes_is_refused_as_a_whole(client, office, tomorrow):
    body = group_body(office, tomorrow, window_at(office, tomorrow))
    body.update(item(make_applicant()))

    answer = assert_error(post(client, "/bookings", body, **EN), 422, "invalid")

    assert answer["fields"] == {
        "applicants": [
            "Send one applicant's details, or several applicants in this list, but not both."
        ]
    }
    assert written() == ([], [], 0, [], [])


def test_a_group_without_its_contact_names_each_missing_field(client, office, tomorrow):
    body = group_body(office, tomorrow, window_at(office, tomorrow))
    del body["email"], body["phone"], body["window"]

    answer = assert_error(post(client, "/bookings", body), 422, "invalid")

    assert set(answer["fields"]) == {"email", "phone", "window"}


def test_a_group_refusal_follows_the_body_language(client, office, tomorrow):
    body = group_body(office, tomorrow, window_at(office, tomorrow), size=6, language="id")
    with translation.override("id"):
        expected = str(services.MESSAGES["group_size"] % {"max": 5})
    assert expected != "A group booking holds from 2 to 5 applicants."

    answer = post(client, "/bookings", body, **EN).json()

    assert answer["fields"] == {"applicants": [expected]}


# ---- look-up ---------------------------------------------------------------------------------


def test_any_members_nik_opens_the_group(client, family, document):
    group = family[0].group
    for member in family:
        response = post(client, f"/groups/{group.code}/lookup", {"nik": member.nik})

        assert response.status_code == 200, response.content
        answer = response.json()
        conforms(document, "/api/v1/groups/{code}/lookup", "post", 200, answer)
        assert answer["code"] == group.code
        assert [m["code"] for m in answer["members"]] == [m.code for m in family]
        assert not any(m.nik in response.content.decode() for m in family)


def test_the_group_code_is_accepted_as_people_type_it(client, family):
    group = family[0].group
    typed = codes.grouped(group.code).lower()
    response = post(client, f"/groups/{typed}/lookup", {"nik": "  " + family[1].nik})
    assert response.status_code == 200


def test_a_wrong_nik_gets_the_same_answer_as_an_unknown_code(client, family, now, tomorrow):
    group = family[0].group
    outsider = services.create_booking(
        office=family[0].office,
        day=tomorrow,
        window=family[0].window,
        applicant=make_applicant(),
        now=now,
    )
    unknown_code = post(client, "/groups/ZZZZZZZZZZZZ/lookup", {"nik": family[0].nik}, **EN)
    wrong_nik = post(client, f"/groups/{group.code}/lookup", {"nik": make_nik()}, **EN)
    outsiders_nik = post(client, f"/groups/{group.code}/lookup", {"nik": outsider.nik}, **EN)
    a_members_code = post(client, f"/groups/{family[0].code}/lookup", {"nik": family[0].nik})

    assert_error(unknown_code, 404, "not_found")
    for response in (wrong_nik, outsiders_nik):
        assert response.status_code == 404
        assert response.content == unknown_code.content
    assert unknown_code.json()["message"] == "No group booking matches this code and NIK."
    assert a_members_code.status_code == 404


def test_a_group_code_does_not_open_a_booking(client, family):
    response = post(client, f"/bookings/{family[0].group.code}/lookup", {"nik": family[0].nik})
    assert response.status_code == 404


def test_a_members_own_code_answers_with_its_group_code(client, family, document):
    response = post(client, f"/bookings/{family[1].code}/lookup", {"nik": family[1].nik})

    assert response.status_code == 200
    answer = response.json()
    conforms(document, "/api/v1/bookings/{code}/lookup", "post", 200, answer)
    assert answer["code"] == family[1].code
    assert answer["group_code"] == family[0].group.code


def test_a_malformed_nik_is_422_on_the_nik(client, family):
    response = post(client, f"/groups/{family[0].group.code}/lookup", {"nik": "12"})
    assert list(assert_error(response, 422, "invalid")["fields"]) == ["nik"]


# ---- cancel ----------------------------------------------------------------------------------


def test_cancelling_the_group_cancels_every_member_and_frees_their_places(client, family, document):
    group = family[0].group

    response = post(client, f"/groups/{group.code}/cancel", {"nik": family[2].nik})

    assert response.status_code == 200, response.content
    answer = response.json()
    conforms(document, "/api/v1/groups/{code}/cancel", "post", 200, answer)
    assert [m["status"] for m in answer["members"]] == ["cancelled"] * 3
    assert set(Booking.objects.values_list("status", flat=True)) == {"cancelled"}
    assert WindowDay.objects.get().booked == 0
    assert_counters_match_bookings()
    cancellations = Notification.objects.filter(kind=Notification.Kind.CANCELLATION)
    assert cancellations.filter(group=group).count() == 2
    assert cancellations.count() == 2


def test_cancelling_a_group_twice_is_409(client, family):
    path = f"/groups/{family[0].group.code}/cancel"
    post(client, path, {"nik": family[0].nik})
    before = written()

    answer = assert_error(
        post(client, path, {"nik": family[0].nik}, **EN), 409, "group_nothing_active"
    )

    assert answer["message"] == english(services.MESSAGES["group_nothing_active"])
    assert written() == before


def test_a_group_whose_window_has_begun_cannot_be_cancelled_and_nobody_is(client, family, clock):
    clock.now = family[0].starts_at + timedelta(minutes=5)
    before = written()

    response = post(client, f"/groups/{family[0].group.code}/cancel", {"nik": family[0].nik})

    assert_error(response, 409, "not_cancellable")
    assert written() == before


def test_cancel_with_a_wrong_nik_is_the_same_404_and_cancels_nobody(client, family):
    before = written()
    unknown_code = post(client, "/groups/ZZZZZZZZZZZZ/cancel", {"nik": family[0].nik})
    wrong_nik = post(client, f"/groups/{family[0].group.code}/cancel", {"nik": make_nik()})

    assert_error(unknown_code, 404, "not_found")
    assert wrong_nik.content == unknown_code.content
    assert written() == before


# ---- reschedule ------------------------------------------------------------------------------


def test_rescheduling_the_group_moves_every_member_together(
    client, office, family, tomorrow, document
):
    later = tomorrow + timedelta(days=2)
    window = window_at(office, later, 13)

    response = post(
        client,
        f"/groups/{family[0].group.code}/reschedule",
        {"nik": family[1].nik, "date": later.isoformat(), "window": window.pk},
    )

    assert response.status_code == 200, response.content
    answer = response.json()
    conforms(document, "/api/v1/groups/{code}/reschedule", "post", 200, answer)
    assert answer["date"] == later.isoformat()
    assert answer["window"] == {"id": window.pk, "start": "13:00", "end": "15:00", "zone": "WIB"}
    assert [m["code"] for m in answer["members"]] == [m.code for m in family]
    assert set(Booking.objects.values_list("date", "window_id")) == {(later, window.pk)}
    assert WindowDay.objects.get(window=window, date=later).booked == 3
    assert WindowDay.objects.get(window=family[0].window, date=tomorrow).booked == 0
    assert_counters_match_bookings()
    group = family[0].group
    moved = Notification.objects.filter(kind=Notification.Kind.RESCHEDULE)
    assert moved.filter(group=group).count() == moved.count() == 2


def test_a_group_that_does_not_fit_the_new_window_stays_and_hears_how_many_fit(
    client, tomorrow, now
):
    office = OfficeFactory(code="small", windows=[(time(8), time(10), 9), (time(10), time(12), 4)])
    members = book_group(office, tomorrow, 3, now=now)
    target = window_at(office, tomorrow, 10)
    for _ in range(2):
        services.create_booking(
            office=office, day=tomorrow, window=target, applicant=make_applicant(), now=now
        )
    before = written()

    response = post(
        client,
        f"/groups/{members[0].group.code}/reschedule",
        {"nik": members[0].nik, "date": tomorrow.isoformat(), "window": target.pk},
        **EN,
    )

    answer = assert_error(response, 409, "group_full")
    assert answer["places_left"] == 2
    assert answer["message"] == english(services.MESSAGES["group_full"] % {"left": 2, "count": 3})
    assert written() == before


@pytest.mark.parametrize(
    ("hour", "error"),
    [(8, "same_slot"), (None, "reschedule_limit")],
)
def test_a_group_reschedule_refused_by_its_rules_moves_nobody(
    client, office, family, tomorrow, settings, hour, error
):
    path = f"/groups/{family[0].group.code}/reschedule"
    body = {"nik": family[0].nik, "date": tomorrow.isoformat()}
    if hour is None:
        settings.BOOKING_MAX_RESCHEDULES = 1
        post(client, path, {**body, "window": window_at(office, tomorrow, 10).pk})
        hour = 13
    before = written()

    response = post(client, path, {**body, "window": window_at(office, tomorrow, hour).pk})

    assert_error(response, 409, error)
    assert written() == before


def test_a_group_reschedule_to_an_unknown_window_is_422_on_the_window(client, family, tomorrow):
    elsewhere = OfficeFactory(code="elsewhere")
    path = f"/groups/{family[0].group.code}/reschedule"
    before = written()
    for window in (10**9, window_at(elsewhere, tomorrow, 10).pk):
        body = {"nik": family[0].nik, "date": tomorrow.isoformat(), "window": window}
        answer = assert_error(post(client, path, body), 422, "invalid")
        assert list(answer["fields"]) == ["window"]
    assert written() == before


# ---- one member alone ------------------------------------------------------------------------


def test_a_member_cancelled_alone_stays_in_the_group_as_cancelled(client, family, document):
    group = family[0].group

    response = post(client, f"/bookings/{family[1].code}/cancel", {"nik": family[1].nik})

    assert response.status_code == 200
    assert response.json() == {
        "code": family[1].code,
        "status": "cancelled",
        "group_code": group.code,
    }
    conforms(document, "/api/v1/bookings/{code}/cancel", "post", 200, response.json())
    answer = post(client, f"/groups/{group.code}/lookup", {"nik": family[0].nik}).json()
    assert [m["status"] for m in answer["members"]] == ["booked", "cancelled", "booked"]
    assert WindowDay.objects.get().booked == 2
    assert_counters_match_bookings()


def test_the_group_moves_without_its_member_cancelled_alone(client, office, family, tomorrow):
    group = family[0].group
    post(client, f"/bookings/{family[0].code}/cancel", {"nik": family[0].nik})
    later = tomorrow + timedelta(days=1)
    window = window_at(office, later, 10)

    answer = post(
        client,
        f"/groups/{group.code}/reschedule",
        {"nik": family[0].nik, "date": later.isoformat(), "window": window.pk},
    ).json()

    assert (answer["date"], answer["window"]["id"]) == (later.isoformat(), window.pk)
    assert [m["status"] for m in answer["members"]] == ["cancelled", "booked", "booked"]
    assert WindowDay.objects.get(window=window, date=later).booked == 2
    assert_counters_match_bookings()


def test_a_member_moved_alone_leaves_the_group(client, office, family, tomorrow, document):
    group = family[0].group
    window = window_at(office, tomorrow, 10)

    response = post(
        client,
        f"/bookings/{family[2].code}/reschedule",
        {"nik": family[2].nik, "date": tomorrow.isoformat(), "window": window.pk},
    )

    assert response.status_code == 200, response.content
    answer = response.json()
    conforms(document, "/api/v1/bookings/{code}/reschedule", "post", 200, answer)
    assert (answer["code"], answer["group_code"]) == (family[2].code, None)
    assert answer["window"]["id"] == window.pk
    others = post(client, f"/groups/{group.code}/lookup", {"nik": family[0].nik}).json()
    assert [m["code"] for m in others["members"]] == [family[0].code, family[1].code]
    assert others["window"]["id"] == family[0].window_id
    left = post(client, f"/groups/{group.code}/lookup", {"nik": family[2].nik})
    assert left.status_code == 404
    assert_counters_match_bookings()


# ---- queries: the same for two applicants and for five ---------------------------------------


def _queries(django_assert_max_num_queries, limit, request):
    with django_assert_max_num_queries(limit) as captured:
        response = request()
    assert response.status_code in (200, 201), response.content
    return len(captured.captured_queries)


def test_booking_a_group_costs_the_same_queries_for_two_and_for_five(
    client, office, tomorrow, now, django_assert_max_num_queries
):
    # The window and its office, "full?", "blocked?", "any NIK held?", the day's windows and
    # override, BEGIN, the two counter UPDATEs, the INSERTs of the group, its members (one
    # statement) and its notifications, COMMIT: 13. A day's first booking makes the counter
    # rows first.
    window = window_at(office, tomorrow)
    services.create_booking(
        office=office, day=tomorrow, window=window, applicant=make_applicant(), now=now
    )
    counts = [
        _queries(
            django_assert_max_num_queries,
            13,
            lambda size=size: post(client, "/bookings", group_body(office, tomorrow, window, size)),
        )
        for size in (2, 5)
    ]
    assert counts[0] == counts[1]


# Look-up: the group, its members' NIKs, the members with their office and window. Cancel
# and reschedule: the look-up, then the service (the group and its members locked, the
# counters, one UPDATE of every member, the group's message) and the members read once more.
@pytest.mark.parametrize(("action", "limit"), [("lookup", 3), ("cancel", 14), ("reschedule", 20)])
def test_group_operations_cost_the_same_queries_for_two_and_for_five(
    client, office, tomorrow, now, django_assert_max_num_queries, action, limit
):
    later = tomorrow + timedelta(days=1)
    for day in (tomorrow, later):  # the counter rows exist, as on any busy day
        services.create_booking(
            office=office,
            day=day,
            window=window_at(office, day, 13),
            applicant=make_applicant(),
            now=now,
        )
    counts = []
    for size, index in ((2, 0), (5, 1)):
        members = book_group(office, tomorrow, size, index=index, now=now)
        body = {"nik": members[-1].nik}
        if action == "reschedule":
            body.update(date=later.isoformat(), window=window_at(office, later, 13).pk)
        path = f"/groups/{members[0].group.code}/{action}"
        counts.append(
            _queries(
                django_assert_max_num_queries, limit, lambda p=path, b=body: post(client, p, b)
            )
        )
    assert counts[0] == counts[1]


def test_a_members_look_up_costs_one_query_as_a_lone_booking(
    client, family, django_assert_num_queries
):
    with django_assert_num_queries(1):
        response = post(client, f"/bookings/{family[0].code}/lookup", {"nik": family[0].nik})
    assert response.json()["group_code"] == family[0].group.code


# ---- rate limits -----------------------------------------------------------------------------


def test_group_operations_share_the_lookup_rate_limit(client, family, settings):
    settings.RATELIMIT_LOOKUP = "3/d"
    group = family[0].group.code
    assert post(client, f"/groups/{group}/lookup", {"nik": make_nik()}).status_code == 404
    assert (
        post(client, f"/bookings/{family[0].code}/lookup", {"nik": make_nik()}).status_code == 404
    )
    assert post(client, f"/groups/{group}/cancel", {"nik": make_nik()}).status_code == 404

    for action in ("lookup", "cancel", "reschedule"):
        response = post(client, f"/groups/{group}/{action}", {"nik": family[0].nik})
        assert_error(response, 429, "rate_limited")
    assert set(Booking.objects.values_list("status", flat=True)) == {"booked"}


def test_a_group_booking_counts_against_the_booking_rate_limit(client, office, tomorrow, settings):
    settings.RATELIMIT_BOOKING = "1/d"
    window = window_at(office, tomorrow)
    assert (
        post(client, "/bookings", group_body(office, tomorrow, window, size=9)).status_code == 422
    )

    response = post(client, "/bookings", group_body(office, tomorrow, window))

    assert_error(response, 429, "rate_limited")
    assert Booking.objects.count() == 0


# ---- hostile input ---------------------------------------------------------------------------

BAD_VALUES = [None, 123, True, [], {}, "a" * 100_000, "Siti\x00Aminah", "\ud800", "2017-02-29"]


def test_every_hostile_applicant_field_is_refused_and_writes_nothing(
    client, office, tomorrow, settings
):
    settings.RATELIMIT_ENABLE = False
    valid = group_body(office, tomorrow, window_at(office, tomorrow))
    fields = ("nik", "full_name", "birth_date", "purpose", "application_type", "passport_type")
    failures = []
    for field in fields:
        for value in BAD_VALUES:
            body = json.loads(json.dumps(valid))
            body["applicants"][1][field] = value
            response = client.generic(
                "POST", f"{API}/bookings", json.dumps(body), content_type="application/json"
            )
            if response.status_code != 422 or written() != ([], [], 0, [], []):
                failures.append((field, repr(value)[:20], response.status_code))
    assert failures == []
    assert post(client, "/bookings", valid).status_code == 201  # the valid body is valid


@pytest.mark.parametrize(
    "code", ["%00", "A" * 5000, "..%2F..%2Fadmin", "%ED%A0%80", "'%20OR%201=1%20--", "%E2%80%AE"]
)
def test_hostile_group_codes_in_the_url_are_refused(client, family, code):
    before = written()
    for action in ("lookup", "cancel", "reschedule"):
        response = client.post(
            f"{API}/groups/{code}/{action}",
            {"nik": family[0].nik, "date": "2017-09-07", "window": family[0].window_id},
            content_type="application/json",
        )
        assert response.status_code in (404, 422)  # 422 when longer than a code can be
        assert response.json()["error"] in ("not_found", "invalid")
    assert written() == before


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_methods_on_a_group_are_405_json(client, method):
    for action in ("lookup", "cancel", "reschedule"):
        response = client.generic(method, f"{API}/groups/ABCDEFGHJKLM/{action}")
        assert response.status_code == 405
        assert response["Allow"] == "POST"
        assert response.json()["error"] == "method_not_allowed"


# ---- the document ----------------------------------------------------------------------------


def test_the_documents_examples_book_one_applicant_and_a_group(client, office, document):
    body = document["paths"]["/api/v1/bookings"]["post"]["requestBody"]
    examples = body["content"]["application/json"]["examples"]

    one = post(client, "/bookings", examples["one_applicant"]["value"])
    group = post(client, "/bookings", examples["group"]["value"])

    assert one.status_code == 201, one.content
    assert group.status_code == 201, group.content
    assert len(group.json()["members"]) == 3
    schema = body["content"]["application/json"]["schema"]
    for example in examples.values():
        jsonschema_rs.validate({**schema, "components": document["components"]}, example["value"])


def test_the_document_describes_the_group_operations(document):
    paths = document["paths"]
    for action in ("lookup", "cancel", "reschedule"):
        operation = paths[f"/api/v1/groups/{{code}}/{action}"]["post"]
        assert operation["operationId"] == f"{action}_group"
        assert operation["description"]
        ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": "#/components/schemas/GroupOut"}
    schemas = document["components"]["schemas"]
    assert schemas["GroupBookingIn"]["additionalProperties"] is False
    assert schemas["ApplicantIn"]["additionalProperties"] is False
    assert schemas["GroupBookingIn"]["properties"]["applicants"]["maxItems"] == 5
    assert "group_code" in schemas["BookingOut"]["required"]
    assert "places_left" in schemas["ErrorOut"]["properties"]
