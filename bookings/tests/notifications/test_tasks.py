"""Celery tasks run in-process: delivery, retries, the relay, reminders and no-shows by beat."""

import smtplib
from datetime import UTC, date, datetime, time, timedelta

import pytest
from celery.exceptions import Retry
from django.core.mail.backends.base import BaseEmailBackend

from antrean.celery import app
from bookings import tasks
from bookings.models import Booking
from bookings.notifications import sms
from bookings.services import create_booking
from bookings.tests.factories import make_applicant, make_nik
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db

WEDNESDAY = date(2017, 9, 6)


class BrokenSMTPBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


@pytest.fixture(autouse=True)
def _messages(settings):
    settings.SMS_BACKEND = "bookings.notifications.sms.MemoryBackend"
    settings.NOTIFICATION_MAX_ATTEMPTS = 5
    settings.NOTIFICATION_RETRY_DELAY = timedelta(minutes=2)
    settings.NOTIFICATION_REQUEUE_AFTER = timedelta(minutes=5)
    settings.REMINDER_LEAD_TIME = timedelta(hours=24)
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def offices(office):
    """One office in each of Indonesia's zones."""
    return {
        "WIB": office,
        "WITA": OfficeFactory(code="makassar", timezone="Asia/Makassar"),
        "WIT": OfficeFactory(code="jayapura", timezone="Asia/Jayapura"),
    }


def book(office, day=WEDNESDAY, hour=8, *, now, **applicant):
    window = office.windows.get(weekday=day.weekday(), start=time(hour))
    return create_booking(
        office=office, day=day, window=window, applicant=make_applicant(**applicant), now=now
    )


def email_row(booking):
    return booking.notifications.get(kind="confirmation", channel="email")


# Delivery.


def test_the_delivery_task_run_twice_sends_once(office, now, mailoutbox):
    notification = email_row(book(office, now=now))

    assert tasks.deliver_notification.apply(args=(notification.pk, 0)).successful()
    assert tasks.deliver_notification.apply(args=(notification.pk, 0)).successful()
    assert tasks.deliver_notification.apply(args=(notification.pk,)).successful()

    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("sent", 1)


def test_a_change_is_delivered_from_one_message_each_row_once(office, now, mailoutbox):
    booking = book(office, now=now)
    pairs = [(n.pk, 0) for n in booking.notifications.order_by("channel")]

    assert tasks.deliver_notifications.apply(args=(pairs,)).successful()
    assert tasks.deliver_notifications.apply(args=(pairs,)).successful()  # redelivered

    assert len(mailoutbox) == 1
    assert len(sms.outbox) == 1
    assert set(booking.notifications.values_list("status", "attempts")) == {("sent", 1)}


def test_a_failed_row_of_a_change_is_retried_alone(office, now, settings, mailoutbox, monkeypatch):
    settings.EMAIL_BACKEND = "bookings.tests.notifications.test_tasks.BrokenSMTPBackend"
    booking = book(office, now=now)
    email, text = (booking.notifications.get(channel=c) for c in ("email", "sms"))
    scheduled = []
    monkeypatch.setattr(
        tasks.deliver_notification, "apply_async", lambda **options: scheduled.append(options)
    )

    tasks.deliver_notifications.apply(args=([(email.pk, 0), (text.pk, 0)],))

    assert scheduled == [{"args": (email.pk, 1), "countdown": 120}]
    email.refresh_from_db()
    text.refresh_from_db()
    assert (email.status, email.attempts) == ("pending", 1)
    assert (text.status, len(sms.outbox)) == ("sent", 1)


def test_a_failed_send_schedules_its_retry_minutes_ahead(office, now, settings, monkeypatch):
    settings.EMAIL_BACKEND = "bookings.tests.notifications.test_tasks.BrokenSMTPBackend"
    notification = email_row(book(office, now=now))
    scheduled = []

    def retry(**options):
        scheduled.append(options)
        return Retry()

    monkeypatch.setattr(tasks.deliver_notification, "retry", retry)
    tasks.deliver_notification.apply(args=(notification.pk, 0))
    tasks.deliver_notification.apply(args=(notification.pk, 1))

    assert scheduled == [
        {"args": (notification.pk, 1), "countdown": 120},
        {"args": (notification.pk, 2), "countdown": 240},
    ]


def test_each_retry_carries_its_attempt_until_the_message_fails(office, now, settings, mailoutbox):
    settings.EMAIL_BACKEND = "bookings.tests.notifications.test_tasks.BrokenSMTPBackend"
    settings.NOTIFICATION_MAX_ATTEMPTS = 4
    settings.NOTIFICATION_RETRY_TAIL = timedelta(0)  # the quick retries only
    notification = email_row(book(office, now=now))

    # Run eagerly, each retry runs at once: a retry that lost count would be dropped as stale.
    tasks.deliver_notification.apply(args=(notification.pk, 0))

    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("failed", 4)
    assert "SMTPServerDisconnected" in notification.last_error
    assert mailoutbox == []


def test_the_relay_task_hands_on_what_is_due_once(office, now, clock, monkeypatch):
    queued = []
    monkeypatch.setattr(
        tasks.deliver_notifications, "apply_async", lambda args, **opts: queued.extend(args[0])
    )
    booking = book(office, now=now)

    clock.now = now
    assert tasks.relay_notifications.apply().get() == 0
    clock.now = now + timedelta(seconds=1)
    assert tasks.relay_notifications.apply().get() == 2
    assert sorted(queued) == sorted((n.pk, 0) for n in booking.notifications.all())
    assert tasks.relay_notifications.apply().get() == 0  # handed on: left to the worker


# Reminders, found by beat across WIB, WITA and WIT.


def test_reminders_are_due_24_hours_ahead_in_every_zone(offices, now, clock):
    # 13.00 local on Wednesday is 06.00 UTC in WIB, 05.00 in WITA, 04.00 in WIT.
    bookings = {zone: book(office, hour=13, now=now) for zone, office in offices.items()}

    def reminded_after(hour, minute=0):
        clock.now = datetime(2017, 9, 5, hour, minute, tzinfo=UTC)
        tasks.create_due_reminders.apply()
        return {
            zone
            for zone, booking in bookings.items()
            if booking.notifications.filter(kind="reminder").exists()
        }

    assert reminded_after(3, 59) == set()
    assert reminded_after(4) == {"WIT"}
    assert reminded_after(4, 59) == {"WIT"}
    assert reminded_after(5) == {"WIT", "WITA"}
    assert reminded_after(6) == {"WIT", "WITA", "WIB"}
    assert (
        Booking.objects.get(pk=bookings["WIT"].pk).notifications.filter(kind="reminder").count()
        == 2
    )  # e-mail and SMS, written once


def test_no_reminder_for_a_booking_that_cannot_be_reached(office, now, clock):
    book(office, now=now, email="", phone="")
    assert tasks.create_due_reminders.apply().get() == 0


# No-shows, marked by beat when each office's day is over.


def test_no_shows_are_marked_when_each_offices_day_ends_and_free_the_nik(offices, now, clock):
    niks = {zone: make_nik() for zone in offices}
    bookings = {zone: book(office, now=now, nik=niks[zone]) for zone, office in offices.items()}

    def no_shows_at(hour, minute):
        clock.now = datetime(2017, 9, 6, hour, minute, tzinfo=UTC)
        tasks.mark_no_shows.apply()
        return {
            zone
            for zone, booking in bookings.items()
            if Booking.objects.get(pk=booking.pk).status == Booking.Status.NO_SHOW
        }

    assert no_shows_at(14, 59) == set()  # 23.59 WIT
    assert no_shows_at(15, 0) == {"WIT"}  # midnight in Jayapura
    assert no_shows_at(16, 0) == {"WIT", "WITA"}
    assert no_shows_at(16, 59) == {"WIT", "WITA"}
    assert no_shows_at(17, 0) == {"WIT", "WITA", "WIB"}

    again = book(offices["WIT"], date(2017, 9, 8), now=clock.now, nik=niks["WIT"])
    assert again.status == Booking.Status.BOOKED


def test_beat_runs_the_periodic_tasks_on_schedule_and_drops_missed_runs():
    entries = {entry["task"]: entry for entry in app.conf.beat_schedule.values()}

    assert {task: entry["schedule"] for task, entry in entries.items()} == {
        "bookings.tasks.clear_expired_sessions": timedelta(days=1),
        "bookings.tasks.forget_past_applicants": timedelta(days=1),
        "bookings.tasks.relay_notifications": timedelta(seconds=1),
        "bookings.tasks.create_due_reminders": timedelta(minutes=5),
        "bookings.tasks.mark_no_shows": timedelta(minutes=15),
        "bookings.tasks.run_due_ballots": timedelta(minutes=1),
        "bookings.tasks.lapse_unconfirmed": timedelta(minutes=1),
    }
    for entry in entries.values():
        assert entry["options"]["expires"] == entry["schedule"].total_seconds()
    assert set(entries) <= set(app.tasks)


def test_expired_sessions_are_cleared_by_the_daily_task(clock):
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session

    store = SessionStore()
    store["antrean_pending_booking"] = {"data": {"nik": "1671015705900001"}}
    store.set_expiry(60)
    store.save()
    assert Session.objects.count() == 1
    tasks.clear_expired_sessions.apply()
    assert Session.objects.count() == 1  # not expired yet
    clock.now += timedelta(minutes=2)
    tasks.clear_expired_sessions.apply()
    assert not Session.objects.exists()
