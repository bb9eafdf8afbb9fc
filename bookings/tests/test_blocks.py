"""Blocks: a phone, an e-mail address or a NIK that staff stopped from booking online, with a
reason and an end date that the person is shown."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from bookings import ballots, services
from bookings.models import Block, Booking, Entry
from bookings.tests.factories import (
    login,
    make_applicant,
    make_family,
    make_nik,
    make_release,
    window_at,
)

pytestmark = pytest.mark.django_db

DAY = date(2017, 9, 12)


def block(office, kind, value, until=date(2017, 12, 31), reason="Bookings sold on by a broker"):
    return Block.objects.create(office=office, kind=kind, value=value, until=until, reason=reason)


def book(office, now, **applicant):
    return services.create_booking(
        office=office,
        day=DAY,
        window=window_at(office, DAY),
        applicant=make_applicant(**applicant),
        now=now,
    )


def test_a_blocked_phone_cannot_book_and_is_told_why_and_until_when(office, now):
    block(office, Block.Kind.PHONE, "+6281234567890")

    with translation.override("en"), pytest.raises(ValidationError) as caught:
        book(office, now)

    assert caught.value.code == "blocked"
    with translation.override("en"):
        message = caught.value.messages[0]
    assert message.startswith("This mobile number may not book online until 31 December 2017")
    assert "Bookings sold on by a broker" in message and "any immigration office" in message
    assert not Booking.objects.exists()


def test_a_block_ends_on_its_last_day(office, now):
    block(office, Block.Kind.EMAIL, "siti@example.com", until=now.date())
    with pytest.raises(ValidationError):
        book(office, now)

    assert book(office, now + timedelta(days=1)).status == Booking.Status.BOOKED


def test_a_blocked_nik_in_a_group_stops_the_whole_group(office, now):
    family = make_family(3)
    block(office, Block.Kind.NIK, family[2].nik)

    with pytest.raises(ValidationError) as caught:
        services.create_group_booking(
            office=office, day=DAY, window=window_at(office, DAY), applicants=family, now=now
        )

    assert caught.value.code == "blocked" and not Booking.objects.exists()


def test_a_blocked_contact_cannot_enter_a_ballot(office):
    release = make_release(office, date(2017, 9, 11))
    block(office, Block.Kind.EMAIL, "siti@example.com")

    with pytest.raises(ValidationError) as caught:
        ballots.enter(
            release=release,
            applicants=[make_applicant(email="Siti@Example.com")],
            preferences=[(date(2017, 9, 11), None)],
            now=release.opens_at + timedelta(hours=1),
        )

    assert caught.value.code == "blocked" and not Entry.objects.exists()


def test_the_api_answers_409_blocked_in_the_applicant_s_language(client, office, clock):
    nik = make_nik()
    block(office, Block.Kind.NIK, nik)
    applicant = make_applicant(nik=nik)

    response = client.post(
        "/api/v1/bookings",
        {
            "office": office.code,
            "date": DAY.isoformat(),
            "window": window_at(office, DAY).pk,
            "nik": nik,
            "full_name": "Siti Aminah",
            "birth_date": applicant.birth_date.isoformat(),
            "purpose": "umrah",
            "phone": "0812 3456 7890",
            "email": "siti@example.com",
            "language": "id",
        },
        "application/json",
    )

    assert response.status_code == 409 and response.json()["error"] == "blocked"
    assert (
        "NIK ini tidak dapat mendaftar online sampai 31 Desember 2017" in response.json()["message"]
    )


def test_a_clerk_blocks_a_number_as_typed_and_lists_show_it_masked(client, world):
    login(client, world.clerk)

    response = client.post(
        "/admin/bookings/block/add/",
        {
            "office": world.palembang.pk,
            "kind": "phone",
            "value": "0812 9999 0000",
            "reason": "Forty bookings for forty NIKs",
            "until": "2017-12-31",
        },
    )
    other = client.post(
        "/admin/bookings/block/add/",
        {
            "office": world.makassar.pk,
            "kind": "nik",
            "value": "123",
            "reason": "x",
            "until": "2017-12-31",
        },
    )

    assert response.status_code == 302
    saved = Block.objects.get()
    assert saved.value == "+6281299990000" and saved.created_by == world.clerk
    form = other.context["adminform"].form
    assert "office" in form.errors and "value" in form.errors
    listing = client.get("/admin/bookings/block/").content.decode()
    assert "+6281299990000" not in listing and saved.masked_value in listing
    change = client.get(f"/admin/bookings/block/{saved.pk}/change/").content.decode()
    assert "+6281299990000" not in change
