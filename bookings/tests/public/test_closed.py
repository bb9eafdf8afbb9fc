"""An applicant whose office closed: the message, the booking page that says why, keeping the
new place or choosing another, and choosing first when the closure left no place."""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from bookings import closures
from bookings.models import Booking, ClosureMove, Notification
from bookings.notifications.delivery import obsolete_reason
from bookings.notifications.messages import email_message, sms_text
from bookings.tests.factories import (
    book,
    book_group,
    closed_ballot_monday,
    make_user,
    window_on,
)
from offices.models import OfficeDay
from offices.schedule import day_plan

pytestmark = pytest.mark.django_db

THURSDAY = date(2017, 9, 7)
FRIDAY = date(2017, 9, 8)
REASON = "Banjir di sekitar kantor"


@pytest.fixture
def clerk(db):
    return make_user("petugas")


def holding(*codes, language="en"):
    """A browser that holds these bookings or groups, as after opening a message's link."""
    browser = Client(headers={"accept-language": language})
    session = browser.session
    session["antrean_bookings"] = list(codes)
    session.save()
    return browser


def crowd_the_following_days(office):
    """Every day from tomorrow on but THURSDAY has no place left (taken by bookings these
    tests ignore)."""
    for day in (date(2017, 9, 6) + timedelta(days=n) for n in range(40)):
        if day == THURSDAY:
            continue
        OfficeDay.objects.create(
            office=office, date=day, quota=150, online_quota=135, booked=135, online_booked=135
        )


def test_the_moved_message_says_why_where_and_how_to_answer(office, now, clerk, clock):
    booking = book(office, THURSDAY, now=now, language="en")
    closures.close(office=office, day=THURSDAY, reason=REASON, by=clerk, now=now)

    email, sms = Notification.objects.filter(booking=booking, kind="moved").order_by("channel")
    mail = email_message(email)

    assert "Office closed" in mail.subject and booking.code in mail.subject
    assert REASON in mail.body and "Thursday, 7 September 2017" in mail.body
    assert "Friday, 8 September 2017" in mail.body
    assert "Keep the new time, choose another, or cancel" in mail.body
    assert f"/bookings/{booking.code}/?t=" in mail.body
    assert mail.attachments  # the new time for the calendar
    text = sms_text(sms)
    assert REASON in text and booking.code in text and "/bookings/" in text


def test_the_moved_message_goes_in_the_applicants_language(office, now, clerk):
    booking = book(office, THURSDAY, now=now, language="id")
    closures.close(office=office, day=THURSDAY, reason=REASON, by=clerk, now=now)

    email = Notification.objects.get(booking=booking, kind="moved", channel="email")
    mail = email_message(email)

    assert "Kamis, 7 September 2017" in mail.body and REASON in mail.body


def test_the_booking_page_says_it_was_moved_and_keeps_it_in_one_click(office, now, clerk, clock):
    booking = book(office, THURSDAY, now=now)
    closures.close(office=office, day=THURSDAY, reason=REASON, by=clerk, now=now)
    browser = holding(booking.code)

    page = browser.get(reverse("booking-detail", args=[booking.code]))

    text = page.content.decode()
    assert "Your appointment was moved" in text and REASON in text
    assert reverse("booking-reschedule", args=[booking.code]) in text
    kept = browser.post(reverse("booking-keep", args=[booking.code]), follow=True)
    assert ClosureMove.objects.get(booking=booking).answer == "kept"
    text = kept.content.decode()
    assert "Your appointment was moved" not in text and "Moved here because" in text


def test_a_moved_group_is_kept_together_from_the_group_page(office, now, clerk, clock):
    family = book_group(office, THURSDAY, 3, now=now)
    closures.close(office=office, day=THURSDAY, reason=REASON, by=clerk, now=now)
    group = family[0].group
    browser = holding(group.code)

    assert "Your appointment was moved" in browser.get(f"/groups/{group.code}/").content.decode()
    browser.post(reverse("group-keep", args=[group.code]))

    assert set(ClosureMove.objects.values_list("answer", flat=True)) == {"kept"}


def test_keeping_needs_the_booking_held_and_a_post(office, now, clerk, clock):
    booking = book(office, THURSDAY, now=now)
    closures.close(office=office, day=THURSDAY, reason=REASON, by=clerk, now=now)
    stranger = Client()

    assert stranger.post(reverse("booking-keep", args=[booking.code])).status_code == 302
    assert (
        holding(booking.code).get(reverse("booking-keep", args=[booking.code])).status_code == 405
    )
    assert ClosureMove.objects.get().answer == ""


def test_left_without_a_place_the_applicant_chooses_first_past_the_public_horizon(
    office, now, clerk, clock
):
    office.booking_horizon_days = 5
    office.save()
    crowd_the_following_days(office)
    booking = book(office, THURSDAY, now=now)
    closures.close(office=office, day=THURSDAY, reason=REASON, by=clerk, raise_quota=False, now=now)
    free = date(2017, 9, 15)  # past the public horizon (the 10th), within the choice (17th)
    OfficeDay.objects.filter(date=free).update(booked=0, online_booked=0)
    browser = holding(booking.code)

    page = browser.get(reverse("booking-detail", args=[booking.code]))
    assert "choose your new time first" in page.content.decode()
    days = browser.get(reverse("booking-choose", args=[booking.code])).context["days"]
    assert [d.date for d in days] == [free]
    window = window_on(office, free, 1)
    done = browser.post(
        reverse("booking-choose", args=[booking.code]),
        {"date": free.isoformat(), "window": window.pk},
    )

    assert done.status_code == 302
    booking.refresh_from_db()
    assert (booking.status, booking.date, booking.window) == ("booked", free, window)
    assert Notification.objects.filter(booking=booking, kind="reschedule").count() == 2
    again = browser.get(reverse("booking-choose", args=[booking.code]))
    assert again.status_code == 302  # chosen: nothing more to choose


def test_the_cancelled_message_is_sent_although_the_booking_is_cancelled(office, now, clerk, clock):
    crowd_the_following_days(office)
    booking = book(office, THURSDAY, now=now, language="en")
    closures.close(office=office, day=THURSDAY, reason=REASON, by=clerk, raise_quota=False, now=now)

    email = Notification.objects.get(booking=booking, kind="closed", channel="email")
    assert obsolete_reason(email, now=now) == ""
    mail = email_message(email)
    assert "Choose your new time first" in mail.body and REASON in mail.body
    assert Booking.objects.get(pk=booking.pk).status == "cancelled"


def test_a_bad_choice_is_answered_on_the_page_and_books_nothing(office, now, clerk, clock):
    crowd_the_following_days(office)
    booking = book(office, THURSDAY, now=now)
    closures.close(office=office, day=THURSDAY, reason=REASON, by=clerk, raise_quota=False, now=now)
    browser = holding(booking.code)
    url = reverse("booking-choose", args=[booking.code])

    page = browser.post(url, {"date": "2017-13-45", "window": "x"})

    assert page.status_code == 409
    assert Booking.objects.get(pk=booking.pk).status == "cancelled"


def test_at_a_ballot_office_the_page_offers_the_front_of_the_waiting_list(
    now, clerk, clock, settings
):
    settings.OUTAGE_MOVE_DAYS = 0
    _release, (first, _second) = closed_ballot_monday(clerk, now=now)
    browser = holding(first.code)

    page = browser.get(reverse("booking-detail", args=[first.code])).content.decode()
    assert "Join the front of the waiting list" in page
    after = browser.post(reverse("booking-wait", args=[first.code]), follow=True)

    assert "You are at the front of the ballot's waiting list" in after.content.decode()
    assert ClosureMove.objects.get(booking=first).answer == "waiting"


def test_the_day_page_says_which_session_is_closed_and_why(office, now, clerk, clock):
    session = window_on(office, THURSDAY, 0)
    closures.close(office=office, day=THURSDAY, windows=[session], reason=REASON, by=clerk, now=now)

    page = Client(headers={"accept-language": "en"}).get(f"/offices/{office.code}/2017-09-07/")

    text = page.content.decode()
    assert "Session 08:00–10:00 WIB is closed: " + REASON in text  # English clock
    assert [w.window for w in page.context["day"].windows] == list(
        day_plan(office, THURSDAY).windows
    )


def test_a_group_left_without_a_place_hears_once_with_every_member_named(office, now, clerk, clock):
    crowd_the_following_days(office)
    family = book_group(office, THURSDAY, 3, now=now, language="en")
    closures.close(office=office, day=THURSDAY, reason=REASON, by=clerk, raise_quota=False, now=now)

    email, sms = Notification.objects.filter(group=family[0].group, kind="closed").order_by(
        "channel"
    )

    assert obsolete_reason(email, now=now) == ""
    mail = email_message(email)
    assert family[0].group.code in mail.subject and REASON in mail.body
    assert all(member.code in mail.body for member in family)
    assert "Choose your new time first" in mail.body
    text = sms_text(sms)
    assert family[0].group.code in text and "/groups/" in text
