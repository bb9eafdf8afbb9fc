"""The pages ask for the code sent to a new booking's contact before they show its code."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from bookings.models import Booking, ContactCheck, Notification
from bookings.notifications import sms
from bookings.tests.factories import (
    book_through_pages,
    detail_url,
    first_slot,
)
from bookings.tests.public.test_groups import book_family_through_pages
from offices.models import Office

pytestmark = [pytest.mark.django_db, pytest.mark.contact_confirmation]


@pytest.fixture
def en_client():
    return Client(headers={"accept-language": "en"})


def confirm_url(code):
    return reverse("contact-confirm", args=[code])


def text_of(response):
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def test_a_new_booking_asks_for_the_code_then_shows_the_booking(
    en_client, office, sent_codes, django_capture_on_commit_callbacks
):
    day, window = first_slot(office)
    with django_capture_on_commit_callbacks(execute=True):
        booking = book_through_pages(en_client, office, day, window)

    # The booking's own pages wait for the code: no code, QR or calendar file before it.
    for name in ("booking-detail", "booking-print", "booking-ics"):
        response = en_client.get(reverse(name, args=[booking.code]))
        assert response.status_code == 302 and response["Location"] == confirm_url(booking.code)
    page = en_client.get(confirm_url(booking.code))
    text = text_of(page)
    assert "We sent a code of 6 digits by SMS to +6281••••••890." in text
    assert "<svg" not in page.content.decode() and "Send a new code" in text
    assert not Notification.objects.filter(booking=booking).exists()

    wrong = f"{(int(sent_codes[0]) + 1) % 10**6:06d}"
    response = en_client.post(confirm_url(booking.code), {"one_time_code": wrong})
    assert response.status_code == 422
    assert "That is not the code we sent" in text_of(response) and "4 tries left" in text_of(
        response
    )

    response = en_client.post(confirm_url(booking.code), {"one_time_code": sent_codes[0]})

    assert response.status_code == 302 and response["Location"] == detail_url(booking)
    page = en_client.get(detail_url(booking))
    assert page.status_code == 200 and booking.code in text_of(page)
    assert "<svg" in page.content.decode()
    assert Notification.objects.filter(booking=booking, kind="confirmation").count() == 2
    # Confirmed, the step sends the applicant to the booking.
    assert en_client.get(confirm_url(booking.code))["Location"] == detail_url(booking)


def test_a_new_code_is_refused_too_soon_and_sent_after_the_wait(
    en_client, office, sent_codes, clock, now, django_capture_on_commit_callbacks
):
    day, window = first_slot(office)
    with django_capture_on_commit_callbacks(execute=True):
        booking = book_through_pages(en_client, office, day, window)

    response = en_client.post(confirm_url(booking.code), {"resend": "1"})
    assert response.status_code == 429
    assert "A new code can be sent in 30 seconds." in text_of(response)

    clock.now = now + timedelta(seconds=30)
    with django_capture_on_commit_callbacks(execute=True):
        response = en_client.post(confirm_url(booking.code), {"resend": "1"}, follow=True)
    assert "A new code is on its way." in text_of(response)
    assert "A new code can be asked for in 60 seconds." in text_of(response)
    assert len(sent_codes) == 2 and len(sms.outbox) == 2


def test_a_lapsed_booking_shows_it_has_lapsed_and_its_page_shows_it_cancelled(
    en_client, office, sent_codes, clock, now, django_capture_on_commit_callbacks
):
    from bookings import services

    day, window = first_slot(office)
    with django_capture_on_commit_callbacks(execute=True):
        booking = book_through_pages(en_client, office, day, window)
    clock.now = now + timedelta(minutes=15)

    assert "has lapsed" in text_of(en_client.get(confirm_url(booking.code)))
    response = en_client.post(confirm_url(booking.code), {"one_time_code": sent_codes[0]})
    assert response["Location"] == detail_url(booking)

    services.lapse_unconfirmed(now=clock.now)
    page = en_client.get(confirm_url(booking.code), follow=True)
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CANCELLED
    assert "Cancelled" in text_of(page) and "Book a new appointment" in text_of(page)


def test_a_group_confirms_once_for_all_its_members(
    en_client, office, sent_codes, django_capture_on_commit_callbacks
):
    day, window = first_slot(office)
    with django_capture_on_commit_callbacks(execute=True):
        members = book_family_through_pages(en_client, office, day, window, size=2)
    group = members[0].group
    assert en_client.get(reverse("group-detail", args=[group.code]))["Location"] == confirm_url(
        group.code
    )
    # A member's page waits for the group's code too.
    assert en_client.get(detail_url(members[1]))["Location"] == confirm_url(members[1].code)
    member_step = en_client.get(confirm_url(members[1].code))
    assert member_step.status_code == 200 and "We sent a code" in text_of(member_step)

    response = en_client.post(confirm_url(group.code), {"one_time_code": sent_codes[0]})

    assert response["Location"] == reverse("group-detail", args=[group.code])
    assert ContactCheck.objects.get(group=group).state == ContactCheck.State.CONFIRMED
    assert Notification.objects.filter(group=group, kind="confirmation").count() == 2


def test_another_browser_cannot_open_the_step(
    office, sent_codes, django_capture_on_commit_callbacks
):
    day, window = first_slot(office)
    with django_capture_on_commit_callbacks(execute=True):
        booking = book_through_pages(Client(), office, day, window)

    response = Client().post(confirm_url(booking.code), {"one_time_code": sent_codes[0]})

    assert response.status_code == 302 and reverse("booking-lookup") in response["Location"]
    assert ContactCheck.objects.get(booking=booking).state == ContactCheck.State.PENDING


def test_a_new_ballot_entry_is_confirmed_with_its_code_or_withdrawn(
    en_client, office, sent_codes, clock, django_capture_on_commit_callbacks
):
    from bookings import ballots
    from bookings.models import Entry
    from bookings.tests.factories import BALLOT_MONDAY, BALLOT_OPENS, make_release
    from bookings.tests.public.test_ballot_page import entry_data

    Office.objects.filter(pk=office.pk).update(release_mode=Office.ReleaseMode.BALLOT)
    release = make_release(office, BALLOT_MONDAY, BALLOT_MONDAY + timedelta(days=4))
    clock.now = BALLOT_OPENS + timedelta(hours=2)
    data = entry_data(release)
    with django_capture_on_commit_callbacks(execute=True):
        response = en_client.post(f"/ballots/{release.pk}/enter/", data)
    entry = Entry.objects.get()
    step = reverse("ballot-entry-confirm", args=[release.pk, entry.code])
    assert response["Location"] == step
    ballot = en_client.get(f"/ballots/{release.pk}/?code={entry.code}")
    assert "This entry waits for the code we sent to its contact." in text_of(ballot)
    assert "Confirm your entry" in text_of(en_client.get(step))
    assert Client().get(step)["Location"] == f"/ballots/{release.pk}/"  # not this browser's

    response = en_client.post(step, {"one_time_code": sent_codes[0]})

    assert response["Location"] == f"/ballots/{release.pk}/?code={entry.code}"
    assert ContactCheck.objects.get(entry=entry).state == ContactCheck.State.CONFIRMED
    assert "waits for the code" not in text_of(en_client.get(response["Location"]))

    # Another entry, never confirmed, is withdrawn: its NIK may enter again.
    other = entry_data(release)
    with django_capture_on_commit_callbacks(execute=True):
        en_client.post(f"/ballots/{release.pk}/enter/", other)
    unconfirmed = Entry.objects.get(applicants__nik=other["nik"])
    assert ballots.lapse_unconfirmed_entries(now=clock.now + timedelta(minutes=15)) == 1
    assert Entry.objects.get(pk=unconfirmed.pk).status == Entry.Status.WITHDRAWN
    assert Entry.objects.get(pk=entry.pk).status == Entry.Status.ENTERED
    with django_capture_on_commit_callbacks(execute=True):
        again = en_client.post(f"/ballots/{release.pk}/enter/", other)
    assert (
        again.status_code == 302 and Entry.objects.filter(applicants__nik=other["nik"]).count() == 2
    )
