"""Signed booking links: they open the booking once, until it changes or the link grows old."""

from datetime import time, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from bookings.notifications.links import (
    booking_from_token,
    booking_link,
    booking_token,
    redeem_booking_link,
)
from bookings.services import cancel_booking, check_in, create_booking, reschedule_booking
from bookings.tests.factories import make_applicant

pytestmark = pytest.mark.django_db


@pytest.fixture
def booking(office, now, tomorrow):
    window = office.windows.get(weekday=tomorrow.weekday(), start=time(8))
    return create_booking(
        office=office, day=tomorrow, window=window, applicant=make_applicant(), now=now
    )


def test_the_link_is_the_booking_page_with_a_token_and_no_personal_data(booking, now, settings):
    settings.SITE_URL = "https://antrean.example.go.id/"
    url = urlsplit(booking_link(booking, now=now))
    token = parse_qs(url.query)["t"][0]

    assert f"{url.scheme}://{url.netloc}{url.path}" == (
        f"https://antrean.example.go.id/bookings/{booking.code}/"
    )
    assert booking_from_token(booking.code, token, now=now) == booking
    for personal in (booking.nik, booking.nik[-4:], booking.phone, booking.email, "booked"):
        assert personal not in url.geturl()


def test_a_code_typed_in_lower_case_still_opens_it(booking, now):
    token = booking_token(booking, now=now)
    assert booking_from_token(booking.code.lower(), token, now=now) == booking


@pytest.mark.parametrize(
    "change",
    [
        lambda b, now: cancel_booking(booking=b, now=now),
        lambda b, now: reschedule_booking(
            booking=b,
            day=b.date + timedelta(days=1),
            window=b.office.windows.get(weekday=(b.date.weekday() + 1) % 7, start=time(8)),
            now=now,
        ),
        lambda b, now: check_in(office=b.office, code=b.code, now=b.starts_at),
    ],
    ids=["cancelled", "rescheduled", "checked-in"],
)
def test_a_link_stops_working_once_the_booking_changes(booking, now, change):
    token = booking_token(booking, now=now)
    change(booking, now)

    assert booking_from_token(booking.code, token, now=now) is None


def test_a_new_link_works_for_the_new_schedule(booking, now):
    old = booking_token(booking, now=now)
    day = booking.date + timedelta(days=1)
    window = booking.office.windows.get(weekday=day.weekday(), start=time(10))
    moved = reschedule_booking(booking=booking, day=day, window=window, now=now)

    assert booking_from_token(moved.code, booking_token(moved, now=now), now=now) == moved
    assert booking_from_token(moved.code, old, now=now) is None


def test_a_tampered_token_or_another_bookings_code_opens_nothing(booking, office, now, tomorrow):
    window = office.windows.get(weekday=tomorrow.weekday(), start=time(10))
    other = create_booking(
        office=office, day=tomorrow, window=window, applicant=make_applicant(), now=now
    )
    token = booking_token(booking, now=now)
    stamp, signature = token.split(".")
    later_stamp = booking_token(booking, now=now + timedelta(days=1)).split(".")[0]
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")

    assert booking_from_token(other.code, token, now=now) is None
    assert booking_from_token(booking.code, f"{stamp}.{flipped}", now=now) is None
    assert booking_from_token(booking.code, f"{later_stamp}.{signature}", now=now) is None


@pytest.mark.parametrize(
    "code, token",
    [
        ("", "x"),
        ("NOSUCHCODE", "1dp39k.abc"),
        ("ABC", ""),
        ("ABC", None),
        ("ABC", "x" * 500),
        ("ABC", "..."),
        ("ABC", "\x00"),
        ("ABC", "é.ü"),
    ],
)
def test_garbage_opens_nothing(booking, now, code, token):
    assert booking_from_token(code or booking.code, token, now=now) is None


def test_a_link_lasts_until_fourteen_days_after_the_appointment(booking, now):
    token = booking_token(booking, now=now)
    last = booking.ends_at + timedelta(days=14)

    assert booking_from_token(booking.code, token, now=last) == booking
    assert booking_from_token(booking.code, token, now=last + timedelta(seconds=1)) is None


def test_a_link_works_once(booking, now):
    token = booking_token(booking, now=now)

    assert redeem_booking_link(booking.code, token, now=now) == booking
    assert redeem_booking_link(booking.code, token, now=now) is None
    booking.refresh_from_db()
    fresh = booking_token(booking, now=now)  # the next message carries a working link
    assert redeem_booking_link(booking.code, fresh, now=now) == booking


def test_a_link_made_with_another_secret_opens_nothing(booking, now, settings):
    token = booking_token(booking, now=now)
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40

    assert booking_from_token(booking.code, token, now=now) is None
