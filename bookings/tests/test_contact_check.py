"""A new booking holds its place until the one-time code sent to its contact is typed back."""

from datetime import date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from bookings import ballots, services
from bookings.models import Booking, ContactCheck, Entry, Notification, Offer
from bookings.notifications import sms
from bookings.tests.api.test_api_ballots import entry_body
from bookings.tests.factories import (
    assert_counters_match_bookings,
    make_applicant,
    make_family,
    make_release,
    window_at,
)
from offices.models import Office, OfficeDay
from offices.tests.factories import DayOverrideFactory, OfficeFactory

pytestmark = [pytest.mark.django_db, pytest.mark.contact_confirmation]

DAY = date(2017, 9, 12)
MONDAY = date(2017, 9, 11)
API = "/api/v1"


def book(office, now, **applicant):
    return services.create_booking(
        office=office,
        day=DAY,
        window=window_at(office, DAY),
        applicant=make_applicant(**applicant),
        client="client-a",
        now=now,
    )


def refused(expected, call, **kwargs):
    with pytest.raises(ValidationError) as caught:
        call(**kwargs)
    assert caught.value.code == expected, caught.value
    return caught.value


def test_a_new_booking_holds_its_place_and_its_contact_gets_a_code_not_the_confirmation(
    office, now, sent_codes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking = book(office, now, phone="+6281234567890")

    check = ContactCheck.objects.get(booking=booking)
    assert check.state == ContactCheck.State.PENDING
    assert check.expires_at == now + timedelta(minutes=15)
    assert len(sent_codes) == 1 and len(sent_codes[0]) == 6 and sent_codes[0].isdigit()
    assert sent_codes[0] not in check.code_hash  # only a salted, keyed hash is kept
    ((phone, text),) = sms.outbox
    assert phone == "+6281234567890" and sent_codes[0] in text
    assert not Notification.objects.filter(booking=booking).exists()
    assert OfficeDay.objects.get(office=office, date=DAY).booked == 1


def test_the_code_typed_back_confirms_the_booking_and_sends_its_confirmation(
    office, now, sent_codes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking = book(office, now)

    check = services.confirm_contact(
        check=booking.contact_check, code=f" {sent_codes[0][:3]}-{sent_codes[0][3:]}", now=now
    )

    assert check.state == ContactCheck.State.CONFIRMED and check.confirmed_at == now
    kinds = Notification.objects.filter(booking=booking).values_list("kind", flat=True)
    assert set(kinds) == {Notification.Kind.CONFIRMATION}
    # Typed again (a second tap): nothing more happens.
    services.confirm_contact(check=check, code=sent_codes[0], now=now)
    assert Notification.objects.filter(booking=booking).count() == len(kinds)


def test_wrong_codes_use_the_tries_and_then_not_even_the_right_code_works(
    office, now, sent_codes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking = book(office, now)
    wrong = f"{(int(sent_codes[0]) + 1) % 10**6:06d}"
    check = booking.contact_check

    with translation.override("en"):
        error = refused("contact_code_wrong", services.confirm_contact, check=check, code=wrong)
        assert "4 tries left" in error.messages[0]
    for _try in range(4):
        with pytest.raises(ValidationError):
            services.confirm_contact(check=check, code=wrong, now=now)
    refused(
        "contact_code_tries", services.confirm_contact, check=check, code=sent_codes[0], now=now
    )
    refused("contact_code_format", services.confirm_contact, check=check, code="12a456", now=now)
    assert ContactCheck.objects.get(pk=check.pk).state == ContactCheck.State.PENDING


def test_a_new_code_comes_after_a_wait_that_doubles_and_replaces_the_last(
    office, now, sent_codes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking = book(office, now)
    check = booking.contact_check

    refused("contact_code_wait", services.resend_contact_code, check=check, now=now)
    with django_capture_on_commit_callbacks(execute=True):
        services.resend_contact_code(check=check, now=now + timedelta(seconds=30))
    later = now + timedelta(seconds=60)
    refused("contact_code_wait", services.resend_contact_code, check=check, now=later)

    assert len(sent_codes) == 2 and len(sms.outbox) == 2
    if sent_codes[0] != sent_codes[1]:
        refused(
            "contact_code_wrong", services.confirm_contact, check=check, code=sent_codes[0], now=now
        )
    confirmed = services.confirm_contact(check=check, code=sent_codes[1], now=later)
    assert confirmed.state == ContactCheck.State.CONFIRMED


def test_an_unconfirmed_booking_lapses_its_place_and_nik_free_and_nobody_is_told(
    office, now, sent_codes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking = book(office, now)

    assert services.lapse_unconfirmed(now=now + timedelta(minutes=14)) == 0
    assert services.lapse_unconfirmed(now=now + timedelta(minutes=15)) == 1

    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert OfficeDay.objects.get(office=office, date=DAY).booked == 0
    assert not Notification.objects.filter(booking=booking).exists()
    later = now + timedelta(minutes=16)
    refused("contact_check_over", services.confirm_contact, check=booking.contact_check,
            code=sent_codes[0], now=later)  # fmt: skip
    again = book(office, later, nik=booking.nik)  # the NIK books again at once
    assert again.status == Booking.Status.BOOKED


def test_a_place_freed_by_a_lapse_is_offered_to_a_ballot_s_waiting_list(
    now, sent_codes, django_capture_on_commit_callbacks
):
    # One session of 2 places on Monday; the office moves to a ballot after one booking.
    office = OfficeFactory(windows=[(time(8), time(10), 2)])
    for day in range(12, 16):
        DayOverrideFactory(office=office, date=date(2017, 9, day))
    with django_capture_on_commit_callbacks(execute=True):
        unconfirmed = services.create_booking(
            office=office,
            day=MONDAY,
            window=window_at(office, MONDAY),
            applicant=make_applicant(),
            now=now,
        )
    Office.objects.filter(pk=office.pk).update(release_mode=Office.ReleaseMode.BALLOT)
    release = make_release(Office.objects.get(pk=office.pk), MONDAY, MONDAY + timedelta(days=4))
    during = release.opens_at + timedelta(hours=1)
    entries = [
        ballots.enter(
            release=release,
            applicants=[make_applicant()],
            preferences=[(MONDAY, window_at(office, MONDAY))],
            now=during,
        )
        for _ in range(2)
    ]
    ballots.close_release(release=release, now=release.closes_at)
    ballots.draw_release(release=release, public_value="7310.52", now=release.draw_at)
    [waiting] = Entry.objects.filter(pk__in=[e.pk for e in entries], status=Entry.Status.WAITING)

    lapsed_at = unconfirmed.contact_check.expires_at
    assert services.lapse_unconfirmed(now=lapsed_at) == 1
    assert ballots.offer_free_places(now=lapsed_at) == 1

    offer = Offer.objects.get()
    assert (offer.entry_id, offer.day, offer.size) == (waiting.pk, MONDAY, 1)
    assert Booking.objects.get(pk=unconfirmed.pk).status == Booking.Status.CANCELLED
    assert_counters_match_bookings()


def test_a_group_holds_its_places_under_one_code_and_lapses_whole(
    office, now, sent_codes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        members = services.create_group_booking(
            office=office,
            day=DAY,
            window=window_at(office, DAY),
            applicants=make_family(3),
            now=now,
        )

    check = ContactCheck.objects.get(group=members[0].group)
    assert len(sent_codes) == 1
    services.lapse_unconfirmed(now=check.expires_at)
    assert not Booking.objects.active().filter(group=members[0].group).exists()
    assert OfficeDay.objects.get(office=office, date=DAY).booked == 0


def test_codes_per_client_and_per_block_of_numbers_are_limited_and_nothing_is_written(
    office, now, sent_codes, settings, django_capture_on_commit_callbacks
):
    settings.CONTACT_CODES_PER_CLIENT = 2
    with django_capture_on_commit_callbacks(execute=True):
        for number in range(2):
            book(office, now, phone=f"+628123456780{number}")

    refused("contact_codes_limit", book, office=office, now=now, phone="+6281299990000")
    assert Booking.objects.count() == 2

    settings.CONTACT_CODES_PER_CLIENT, settings.CONTACT_CODES_PER_NUMBER_BLOCK = 99, 2
    refused("contact_codes_limit", book, office=office, now=now, phone="+6281234567899")
    assert Booking.objects.count() == 2


def test_the_app_confirms_with_the_code_and_is_told_what_is_wrong(
    client, office, now, sent_codes, clock, django_capture_on_commit_callbacks
):
    clock.now = now
    with django_capture_on_commit_callbacks(execute=True):
        booking = book(office, now)
    path = f"{API}/bookings/{booking.code}"

    def post(action, body):
        return client.post(f"{path}/{action}", body, content_type="application/json")

    wrong = f"{(int(sent_codes[0]) + 1) % 10**6:06d}"
    answer = post("confirm-contact", {"nik": booking.nik, "one_time_code": wrong})
    assert answer.status_code == 422 and "one_time_code" in answer.json()["fields"]
    answer = post("resend-code", {"nik": booking.nik})
    assert answer.status_code == 429 and answer.json()["error"] == "contact_code_wait"
    answer = post("confirm-contact", {"nik": "1671015705900099", "one_time_code": sent_codes[0]})
    assert answer.status_code == 404

    answer = post("confirm-contact", {"nik": booking.nik, "one_time_code": sent_codes[0]})

    assert answer.status_code == 200
    assert answer.json()["confirmed"] is True and answer.json()["resend_after"] is None
    looked_up = client.post(f"{path}/lookup", {"nik": booking.nik}, content_type="application/json")
    assert looked_up.json()["confirm_by"] is None


def test_the_app_is_told_until_when_a_new_booking_waits_for_its_code(
    client, office, now, sent_codes, clock, django_capture_on_commit_callbacks
):
    clock.now = now
    body = {
        "office": office.code,
        "date": DAY.isoformat(),
        "window": window_at(office, DAY).pk,
        "nik": make_applicant().nik,
        "full_name": "Siti Aminah",
        "birth_date": "1990-05-17",
        "phone": "0812 3456 7890",
        "email": "siti@example.com",
        "purpose": "umrah",
    }
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"{API}/bookings", body, content_type="application/json")

    assert answer.status_code == 201, answer.json()
    code = answer.json()["code"]
    check = ContactCheck.objects.get(booking__code=code)
    assert datetime.fromisoformat(answer.json()["confirm_by"]) == check.expires_at
    assert len(sent_codes) == 1
    path = f"{API}/bookings/{code}/lookup"
    looked_up = client.post(path, {"nik": body["nik"]}, content_type="application/json")
    assert datetime.fromisoformat(looked_up.json()["confirm_by"]) == check.expires_at


def test_without_contact_confirmation_a_booking_is_confirmed_at_once(office, now, settings):
    settings.CONTACT_CONFIRMATION = False

    booking = book(office, now)

    assert not ContactCheck.objects.exists()
    confirmations = Notification.objects.filter(booking=booking, kind="confirmation")
    assert {(n.channel, n.status) for n in confirmations} == {
        ("email", "pending"),
        ("sms", "pending"),
    }


def test_the_app_confirms_a_new_entry_with_its_code(
    client, office, sent_codes, clock, django_capture_on_commit_callbacks
):
    from bookings.tests.factories import BALLOT_MONDAY, BALLOT_OPENS

    Office.objects.filter(pk=office.pk).update(release_mode=Office.ReleaseMode.BALLOT)
    release = make_release(office, BALLOT_MONDAY, BALLOT_MONDAY + timedelta(days=4))
    clock.now = BALLOT_OPENS + timedelta(hours=2)
    applicant = make_applicant()
    body = entry_body(release, applicant)
    path = f"{API}/releases/{release.pk}/entries"
    with django_capture_on_commit_callbacks(execute=True):
        entered = client.post(path, body, content_type="application/json")
    assert entered.status_code == 201, entered.json()
    code = entered.json()["code"]
    check = ContactCheck.objects.get(entry__code=code)
    assert datetime.fromisoformat(entered.json()["confirm_by"]) == check.expires_at

    def post(action, data):
        return client.post(f"{path}/{code}/{action}", data, content_type="application/json")

    assert post("resend-code", {"nik": applicant.nik}).status_code == 429
    answer = post("confirm-contact", {"nik": applicant.nik, "one_time_code": sent_codes[0]})

    assert answer.status_code == 200 and answer.json()["confirmed"] is True
    assert ContactCheck.objects.get(pk=check.pk).state == ContactCheck.State.CONFIRMED
