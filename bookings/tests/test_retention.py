"""Personal data is removed RETENTION_DAYS after the appointment; the monthly counts stay."""

from datetime import UTC, datetime, timedelta

import pytest

from bookings.models import Booking, Notification
from bookings.reports.counts import monthly_counts
from bookings.services import cancel_booking, forget_past_applicants
from bookings.tests.factories import KNOWN_BOOKINGS, book_at, build_bookings, make_offices

pytestmark = pytest.mark.django_db

PERSONAL = ("nik", "full_name", "birth_date", "email", "phone")


def _personal(booking):
    booking.refresh_from_db()
    return {name: getattr(booking, name) for name in PERSONAL}


def test_personal_data_goes_retention_days_after_the_appointment(office, now, tomorrow, settings):
    settings.RETENTION_DAYS = 90
    kept = book_at(office, tomorrow, now=now)
    gone = cancel_booking(booking=book_at(office, tomorrow, 10, now=now), now=now)
    assert Notification.objects.filter(booking=gone).exists()

    # A day before the limit nothing is touched; the limit counts from the appointment's end.
    assert forget_past_applicants(now=gone.ends_at + timedelta(days=89)) == 0
    assert forget_past_applicants(now=gone.ends_at + timedelta(days=90, seconds=1)) == 1

    assert _personal(gone) == {
        "nik": "",
        "full_name": "",
        "birth_date": None,
        "email": "",
        "phone": "",
    }
    gone.refresh_from_db()
    assert gone.forgotten_at is not None
    assert (gone.code, gone.status, gone.purpose) != ("", "", "")
    assert not Notification.objects.filter(booking=gone).exists()
    # A booking still waiting for its no-show mark keeps its data until it gets it.
    assert _personal(kept)["nik"]


def test_forgetting_twice_changes_nothing_more(office, now, tomorrow):
    booking = cancel_booking(booking=book_at(office, tomorrow, now=now), now=now)
    later = booking.ends_at + timedelta(days=365)
    assert forget_past_applicants(now=later) == 1
    assert forget_past_applicants(now=later) == 0


def test_the_monthly_counts_are_the_same_before_and_after(settings):
    offices = make_offices()
    build_bookings(offices, KNOWN_BOOKINGS)
    before = [count for year in (2016, 2017, 2018) for count in monthly_counts(year=year)]
    forgotten = forget_past_applicants(now=datetime(2030, 1, 1, tzinfo=UTC))
    after = [count for year in (2016, 2017, 2018) for count in monthly_counts(year=year)]
    assert forgotten == Booking.objects.exclude(status=Booking.Status.BOOKED).count() > 0
    assert after == before
    assert not Booking.objects.exclude(nik="").exclude(status=Booking.Status.BOOKED).exists()
