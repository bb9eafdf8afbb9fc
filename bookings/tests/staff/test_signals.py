"""The signals page: contacts and addresses behind many NIKs, bursts, birth dates that differ,
NIKs from other provinces, repeated no-shows, releases. It flags and never acts."""

from datetime import date

import pytest

from bookings import services
from bookings.models import Booking
from bookings.staff.signals import read_signals
from bookings.tests.factories import login, make_applicant, make_nik, window_at
from offices.models import Office

pytestmark = pytest.mark.django_db

URL = "/admin/bookings/booking/signals/"
DAY = date(2017, 9, 12)
SINCE = date(2017, 8, 6)


def book(office, now, *, client="", **applicant):
    return services.create_booking(
        office=office,
        day=DAY,
        window=window_at(office, DAY),
        applicant=make_applicant(**applicant),
        client=client,
        now=now,
    )


def test_one_phone_and_one_address_behind_four_niks_are_flagged(world, now):
    for _ in range(4):
        book(world.palembang, now, phone="+6281377770000", email="", client="abcdef0123456789")
    book(world.palembang, now, phone="+6281377770001", email="")
    # Made within one second, whatever else the machine is doing meanwhile.
    Booking.objects.update(created_at=Booking.objects.earliest("created_at").created_at)

    found = read_signals(Office.objects.all(), SINCE)

    assert [(row["who"], row["niks"]) for row in found.phones] == [("+6281••••••000", 4)]
    assert [(row["who"], row["niks"]) for row in found.clients] == [("abcdef", 4)]
    assert found.bursts and found.bursts[0]["bookings"] >= 5  # made within the same second
    assert Booking.objects.filter(status=Booking.Status.BOOKED).count() == 5  # nothing acted


def test_niks_from_another_province_and_birth_dates_that_differ(world, now):
    world.palembang.province_code = "16"
    world.palembang.save()
    book(world.palembang, now, nik=make_nik(region="737101"))
    book(world.palembang, now, nik=make_nik(region="167101"))
    book(world.palembang, now, nik=make_nik(region="167101"), birth_date=date(1991, 1, 1))

    found = read_signals(Office.objects.all(), SINCE)

    assert [(row["province"], row["bookings"]) for row in found.far] == [("73", 1)]
    assert found.mismatches == 1


def test_staff_see_their_offices_signals_without_personal_data(
    client, world, now, clock, django_assert_max_num_queries
):
    for _ in range(3):
        book(world.makassar, now, phone="+6281377770000", email="calo@example.com")
    login(client, world.clerk)

    own = client.get(URL).content.decode()
    login(client, world.supervisor)
    with django_assert_max_num_queries(20):
        every = client.get(URL).content.decode()

    assert "+6281••••••000" not in own  # a Makassar pattern, not this Palembang clerk's
    assert "+6281••••••000" in every and "c•••@example.com" in every
    assert "+6281377770000" not in every and "calo@example.com" not in every


def test_a_booking_keeps_a_keyed_hash_of_its_address_not_the_address(client, office, clock):
    applicant = make_applicant()
    body = {
        "office": office.code,
        "date": DAY.isoformat(),
        "window": window_at(office, DAY).pk,
        "nik": applicant.nik,
        "full_name": "Siti Aminah",
        "birth_date": applicant.birth_date.isoformat(),
        "purpose": "umrah",
        "phone": "0812 3456 7890",
        "email": "siti@example.com",
    }

    client.post("/api/v1/bookings", body, "application/json", REMOTE_ADDR="203.0.113.7")

    kept = Booking.objects.get().client
    assert len(kept) == 16 and int(kept, 16) >= 0 and "203.0.113.7" not in kept
