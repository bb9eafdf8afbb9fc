"""A phone number or e-mail address holds at most BOOKINGS_PER_CONTACT active bookings."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation

from bookings import services
from bookings.models import Booking
from bookings.tests.factories import make_applicant, make_family, window_at
from offices.tests.factories import OfficeFactory

pytestmark = [pytest.mark.django_db, pytest.mark.contact_limit]

DAY = date(2017, 9, 12)


def book(office, now, **contact):
    return services.create_booking(
        office=office,
        day=DAY,
        window=window_at(office, DAY),
        applicant=make_applicant(**contact),
        now=now,
    )


def test_the_sixth_booking_of_one_phone_is_refused_at_any_office(office, now):
    other = OfficeFactory()
    for number in range(5):
        book(office if number % 2 else other, now, email=f"a{number}@example.com")

    with pytest.raises(ValidationError) as caught:
        book(office, now, email="another@example.com")

    assert caught.value.code == "contact_limit"
    with translation.override("en"):
        assert "already holds 5 of the 5 active bookings" in caught.value.messages[0]
    assert Booking.objects.count() == 5


def test_an_e_mail_address_counts_however_it_is_typed(office, now, settings):
    settings.BOOKINGS_PER_CONTACT = 2
    book(office, now, email="siti@example.com", phone="081211110001")
    book(office, now, email="siti@example.com", phone="081211110002")

    with pytest.raises(ValidationError) as caught:
        book(office, now, email="SITI@Example.com", phone="081211110003")

    assert caught.value.code == "contact_limit"


def test_a_cancelled_or_past_booking_frees_its_contact(office, now, settings):
    settings.BOOKINGS_PER_CONTACT = 1
    first = book(office, now)
    services.cancel_booking(booking=first, now=now)

    assert book(office, now).status == Booking.Status.BOOKED


def test_a_group_counts_each_of_its_applicants(office, now, settings):
    settings.BOOKINGS_PER_CONTACT = 4
    book(office, now, email="siti@example.com")
    book(office, now, email="siti@example.com")
    window = window_at(office, DAY)

    with pytest.raises(ValidationError) as caught:
        services.create_group_booking(
            office=office, day=DAY, window=window, applicants=make_family(3), now=now
        )
    members = services.create_group_booking(
        office=office, day=DAY, window=window, applicants=make_family(2), now=now
    )

    assert caught.value.code == "contact_limit" and len(members) == 2


def test_no_limit_when_it_is_0(office, now, settings):
    settings.BOOKINGS_PER_CONTACT = 0
    for _ in range(7):
        book(office, now)

    assert Booking.objects.count() == 7


def test_the_api_says_why_in_the_applicant_s_language(client, office, now, settings, clock):
    settings.BOOKINGS_PER_CONTACT = 1
    book(office, now, phone="+6281234567890", email="siti@example.com")
    applicant = make_applicant()
    window = window_at(office, DAY)

    response = client.post(
        "/api/v1/bookings",
        {
            "office": office.code,
            "date": DAY.isoformat(),
            "window": window.pk,
            "nik": applicant.nik,
            "full_name": "Siti Aminah",
            "birth_date": applicant.birth_date.isoformat(),
            "purpose": "umrah",
            "phone": "0812 3456 7890",
            "email": "other@example.com",
            "language": "id",
        },
        "application/json",
    )

    assert response.status_code == 409, response.json()
    assert response.json()["error"] == "contact_limit"
    assert "sudah memiliki" in response.json()["message"]
    assert Booking.objects.count() == 1


def test_the_count_takes_a_lock_and_one_query(office, now, django_assert_num_queries, is_postgres):
    for number in range(3):
        book(office, now, phone=f"08121111000{number}", email=f"x{number}@example.com")
    with transaction.atomic(), django_assert_num_queries(1 if not is_postgres else 2):
        services._refuse_over_contact_limit("+6281211110000", "x0@example.com")
