"""An IntegrityError is told apart by the constraint it names, on SQLite and PostgreSQL alike."""

import pytest
from django.db import IntegrityError, transaction

from bookings.codes import new_code
from bookings.constraints import CODE_TAKEN, NIK_HELD, violated_constraint
from bookings.models import Booking
from bookings.services import create_booking
from bookings.tests.factories import make_applicant, make_nik, window_on

pytestmark = pytest.mark.django_db


@pytest.fixture
def booking(office, now, tomorrow):
    return create_booking(
        office=office,
        day=tomorrow,
        window=window_on(office, tomorrow),
        applicant=make_applicant(),
        now=now,
    )


def _violation(write) -> IntegrityError:
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        write()
    return caught.value


def _copy(booking, **changes):
    row = Booking.objects.filter(pk=booking.pk).values()[0]
    row.pop("id")
    return lambda: Booking.objects.create(**{**row, **changes})


def test_a_second_active_booking_of_a_nik_names_the_nik_rule(booking):
    exc = _violation(_copy(booking, code=new_code()))
    assert violated_constraint(exc) == NIK_HELD


def test_a_code_drawn_twice_names_the_code_rule(booking):
    exc = _violation(_copy(booking, nik=make_nik()))
    assert violated_constraint(exc) == CODE_TAKEN


def test_a_check_constraint_is_named_too(booking):
    exc = _violation(_copy(booking, nik=make_nik(), code=new_code(), starts_at=booking.ends_at))
    assert violated_constraint(exc) == "booking_times"
