"""The outbox and its delivery: rows per change, sent once, retried, swept; the messages."""

import smtplib
import threading
from datetime import date, time, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, transaction
from kombu.exceptions import OperationalError

from bookings import tasks
from bookings.models import Booking, Notification
from bookings.notifications import outbox, sms
from bookings.notifications.delivery import RetryLater, deliver, retry_delay
from bookings.notifications.links import booking_from_token
from bookings.notifications.messages import email_message, sms_text
from bookings.notifications.outbox import relay_due, retry_notification
from bookings.services import cancel_booking, create_due_reminders
from bookings.services import reschedule_booking as reschedule
from bookings.tests.factories import book_at as book
from offices.models import PassportFee
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db

THURSDAY = date(2017, 9, 7)


class BrokenSMTPBackend(BaseEmailBackend):
    """An SMTP server that drops every connection."""

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


BROKEN_SMTP = "bookings.tests.notifications.test_outbox.BrokenSMTPBackend"


def rows(booking):
    return sorted(booking.notifications.values_list("kind", "channel", "sequence", "status"))


def row(booking, kind="confirmation", channel="email"):
    return booking.notifications.get(kind=kind, channel=channel, sequence=booking.reschedule_count)


@pytest.fixture(autouse=True)
def sms_outbox(settings):
    settings.SMS_BACKEND = "bookings.notifications.sms.MemoryBackend"
    settings.NOTIFICATION_MAX_ATTEMPTS = 5
    settings.NOTIFICATION_RETRY_DELAY = timedelta(minutes=2)
    settings.NOTIFICATION_REQUEUE_AFTER = timedelta(minutes=5)
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


@pytest.fixture
def queued(monkeypatch):
    """What is handed to the broker, as (notification id, attempts)."""
    calls = []
    monkeypatch.setattr(tasks.deliver_notification, "delay", lambda *args: calls.append(args))
    # A booking change queues its rows together, in one message.
    monkeypatch.setattr(
        tasks.deliver_notifications, "apply_async", lambda args, **options: calls.extend(args[0])
    )
    return calls


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(*args, **options):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.deliver_notification, "delay", refuse)
    monkeypatch.setattr(tasks.deliver_notifications, "apply_async", refuse)


# The outbox: each change writes its rows in its own transaction, queued on commit (a new
# booking's confirmation: by the relay).


def test_a_booking_writes_a_confirmation_per_channel_the_relay_hands_on(
    office, now, tomorrow, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking = book(office, tomorrow, now=now)
    assert queued == []  # the booking request does not publish it

    assert rows(booking) == [
        ("confirmation", "email", 0, "pending"),
        ("confirmation", "sms", 0, "pending"),
    ]
    assert relay_due(now=now + timedelta(seconds=1)) == 2
    assert sorted(queued) == sorted((n.pk, 0) for n in booking.notifications.all())


def test_reschedule_and_cancellation_write_their_own_rows(office, now, tomorrow, queued):
    booking = book(office, tomorrow, now=now)
    window = office.windows.get(weekday=THURSDAY.weekday(), start=time(10))
    booking = reschedule(booking=booking, day=THURSDAY, window=window, now=now)
    cancel_booking(booking=booking, now=now)

    assert rows(booking) == [
        ("cancellation", "email", 1, "pending"),
        ("cancellation", "sms", 1, "pending"),
        ("confirmation", "email", 0, "pending"),
        ("confirmation", "sms", 0, "pending"),
        ("reschedule", "email", 1, "pending"),
        ("reschedule", "sms", 1, "pending"),
    ]


def test_an_applicant_without_a_phone_gets_only_an_email(office, now, tomorrow):
    booking = book(office, tomorrow, now=now, phone="")
    assert rows(booking) == [("confirmation", "email", 0, "pending")]


def test_reminders_are_written_for_the_bookings_due(office, now, tomorrow):
    due = book(office, tomorrow, 8, now=now)  # 23 hours ahead
    later = book(office, tomorrow, 13, now=now)  # 28 hours ahead

    assert create_due_reminders(now=now) == 1
    assert create_due_reminders(now=now) == 0

    assert due.notifications.filter(kind="reminder").count() == 2
    assert not later.notifications.filter(kind="reminder").exists()


def test_a_refused_change_writes_and_queues_nothing(
    office, now, tomorrow, queued, django_capture_on_commit_callbacks
):
    booking = book(office, tomorrow, now=now)
    queued.clear()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        reschedule(booking=booking, day=tomorrow, window=booking.window, now=now)

    assert queued == []
    assert not booking.notifications.exclude(kind="confirmation").exists()


def test_a_booking_succeeds_while_the_broker_is_down_and_the_relay_sends_later(
    office, now, tomorrow, broker_down, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking = book(office, tomorrow, now=now)
    assert Booking.objects.filter(pk=booking.pk, status="booked").exists()

    assert relay_due(now=now + timedelta(seconds=1)) == 0  # the broker refuses the relay
    assert set(booking.notifications.values_list("status", flat=True)) == {"pending"}
    outbox = [r.levelname for r in caplog.records if r.name == "bookings.notifications.outbox"]
    assert outbox == ["WARNING"]
    assert booking.nik not in caplog.text

    calls = []
    monkeypatch.setattr(
        tasks.deliver_notifications, "apply_async", lambda args, **opts: calls.extend(args[0])
    )
    assert relay_due(now=now + timedelta(minutes=5, seconds=1)) == 0  # due after the grace
    assert relay_due(now=now + timedelta(minutes=5, seconds=2)) == 2
    assert sorted(calls) == sorted((n.pk, 0) for n in booking.notifications.all())


def test_a_few_rows_go_to_delivery_in_one_message(monkeypatch):
    sent = []
    monkeypatch.setattr(
        tasks.deliver_notifications, "apply_async", lambda args, **o: sent.append(args[0])
    )
    pairs = [(pk, 0) for pk in range(1, outbox.QUEUE_BATCH + 1)]

    assert outbox.queue_batches(pairs) == len(pairs)
    assert sent == [pairs]


def test_many_rows_go_in_one_message_a_worker_splits_each_row_once(monkeypatch):
    """A draw's messages: one publish from the draw, then QUEUE_BATCH rows to a delivery
    message from the worker, all over one producer."""
    split, sent = [], []

    def publish(args, *, producer, argsrepr, **options):
        sent.append((args[0], producer, argsrepr))

    monkeypatch.setattr(
        tasks.split_notifications, "apply_async", lambda args, **o: split.append((args, o))
    )
    monkeypatch.setattr(tasks.deliver_notifications, "apply_async", publish)
    pairs = [(pk, 0) for pk in range(1, 2 * outbox.QUEUE_BATCH + 8)]

    assert outbox.queue_batches(pairs) == len(pairs)
    [(args, options)] = split
    assert options["argsrepr"] == f"({len(pairs)} notifications)"  # not every pair logged
    assert sent == []

    tasks.split_notifications(*args)  # as the worker runs it
    assert [len(batch) for batch, _p, _r in sent] == [outbox.QUEUE_BATCH] * 2 + [7]
    assert [pair for batch, _p, _r in sent for pair in batch] == pairs
    assert len({id(producer) for _b, producer, _r in sent}) == 1
    assert sent[-1][2] == "(7 notifications)"


def test_a_broker_refusing_leaves_the_rows_to_the_relay(monkeypatch, caplog):
    def refuse(args, **options):
        raise OperationalError("Connection refused.")

    monkeypatch.setattr(tasks.split_notifications, "apply_async", refuse)
    pairs = [(pk, 0) for pk in range(1, outbox.QUEUE_BATCH + 3)]

    assert outbox.queue_batches(pairs) == 0
    assert "notifications 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13" in caplog.text
    assert "the relay will retry" in caplog.text


# Delivery: once per row.


def test_delivering_twice_sends_once(office, now, tomorrow, mailoutbox, sms_outbox):
    booking = book(office, tomorrow, now=now)
    email, text = row(booking), row(booking, channel="sms")

    for notification in (email, text, email, text):
        assert deliver(notification.pk, now=now) is None

    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["siti@example.com"]
    assert sms_outbox == [("+6281234567890", sms_outbox[0][1])]
    email.refresh_from_db()
    assert (email.status, email.attempts, email.sent_at, email.last_error) == ("sent", 1, now, "")


def test_a_duplicate_queued_before_another_attempt_is_dropped(
    office, now, tomorrow, mailoutbox, settings
):
    notification = row(book(office, tomorrow, now=now))
    settings.EMAIL_BACKEND = BROKEN_SMTP
    assert deliver(notification.pk, attempts=0, now=now) == RetryLater(120, 1)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert deliver(notification.pk, attempts=0, now=now) is None  # a stale copy
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("pending", 1)
    assert mailoutbox == []

    assert deliver(notification.pk, attempts=1, now=now) is None  # the retry itself
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("sent", 2)
    assert len(mailoutbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_row_another_worker_is_sending_is_left_to_it(postgres_only, now, mailoutbox):
    office = OfficeFactory(code="palembang", timezone="Asia/Jakarta")
    notification = row(book(office, date(2017, 9, 6), now=now))
    locked, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                Notification.objects.select_for_update().get(pk=notification.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(timeout=30)
        assert deliver(notification.pk, now=now) is None
        assert mailoutbox == []
    finally:
        release.set()
        thread.join(timeout=30)
    assert deliver(notification.pk, now=now) is None
    assert len(mailoutbox) == 1


def test_failures_back_off_and_end_as_failed_after_the_limit(
    office, now, tomorrow, settings, mailoutbox
):
    settings.EMAIL_BACKEND = BROKEN_SMTP
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    settings.NOTIFICATION_RETRY_TAIL = timedelta(0)  # no long tail: failed at the limit
    notification = row(book(office, tomorrow, now=now))

    assert deliver(notification.pk, now=now) == RetryLater(120, 1)
    assert deliver(notification.pk, now=now) == RetryLater(240, 2)
    assert deliver(notification.pk, now=now) is None
    assert deliver(notification.pk, now=now) is None  # failed rows are left alone

    notification.refresh_from_db()
    assert notification.status == "failed"
    assert notification.attempts == 3
    assert notification.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert mailoutbox == []


def test_the_back_off_doubles_and_stays_under_half_an_hour():
    assert [retry_delay(n) for n in range(1, 7)] == [120, 240, 480, 960, 1800, 1800]


def test_staff_can_retry_a_failed_message(
    office, now, tomorrow, settings, queued, mailoutbox, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = BROKEN_SMTP
    settings.NOTIFICATION_MAX_ATTEMPTS = 1
    settings.NOTIFICATION_RETRY_TAIL = timedelta(0)
    notification = row(book(office, tomorrow, now=now))
    deliver(notification.pk, now=now)
    queued.clear()

    with django_capture_on_commit_callbacks(execute=True):
        retried = retry_notification(notification=notification)
        assert queued == []

    assert (retried.status, retried.attempts) == ("pending", 0)
    assert retried.last_error.startswith("SMTPServerDisconnected")
    assert queued == [(notification.pk, 0)]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    deliver(notification.pk, attempts=0, now=now)
    assert len(mailoutbox) == 1


def test_only_a_failed_message_can_be_retried(office, now, tomorrow):
    notification = row(book(office, tomorrow, now=now))
    with pytest.raises(ValidationError) as caught:
        retry_notification(notification=notification)
    assert caught.value.code == "not_failed"


def test_a_reminder_for_a_booking_cancelled_meanwhile_is_not_sent(
    office, now, tomorrow, mailoutbox
):
    booking = book(office, tomorrow, now=now, phone="")
    create_due_reminders(now=now)
    reminder = row(booking, kind="reminder")
    cancel_booking(booking=booking, now=now)

    deliver(reminder.pk, now=now)
    deliver(row(booking, kind="cancellation").pk, now=now)

    reminder.refresh_from_db()
    assert reminder.status == "failed"
    assert "dibatalkan" in reminder.last_error  # cancelled, in the applicant's Indonesian
    assert len(mailoutbox) == 1  # the cancellation


# The relay.


def test_the_relay_hands_on_what_is_due_once_and_again_once_it_is_lost(
    office, now, tomorrow, settings, queued
):
    booking = book(office, tomorrow, now=now)
    settings.EMAIL_BACKEND = BROKEN_SMTP
    failing, waiting = row(booking), row(booking, channel="sms")
    deliver(failing.pk, now=now)  # one attempt made; its retry is queued with a back-off
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    for notification in book(office, tomorrow, now=now).notifications.all():
        deliver(notification.pk, now=now)  # sent: never relayed
    queued.clear()
    moment, grace = timedelta(microseconds=1), timedelta(minutes=5)

    assert relay_due(now=now) == 0
    assert relay_due(now=now + moment) == 1  # the new confirmation not tried yet
    assert queued == [(waiting.pk, 0)]
    # Handed on, it is left to the worker; lost on the way, it is due again after the grace.
    assert relay_due(now=now + moment + grace) == 0
    assert relay_due(now=now + 2 * moment + grace) == 1

    # The failing row's own retry runs 2 minutes on: it is left to it, and the grace, till then.
    retry = timedelta(minutes=2)
    queued.clear()
    relay_due(now=now + retry + grace)
    assert (failing.pk, 1) not in queued
    relay_due(now=now + retry + grace + moment)
    assert (failing.pk, 1) in queued


def test_the_relay_hands_on_a_rush_in_batches_and_stops_at_a_refusing_broker(
    office, now, tomorrow, monkeypatch
):
    monkeypatch.setattr(outbox, "RELAY_BATCH", 2)
    for _ in range(3):
        book(office, tomorrow, now=now)  # 6 rows: an e-mail and an SMS each
    messages = []
    monkeypatch.setattr(
        tasks.deliver_notifications, "apply_async", lambda args, **opts: messages.append(args[0])
    )
    later = now + timedelta(seconds=1)

    assert relay_due(now=later) == 6
    assert [len(message) for message in messages] == [2, 2, 2]
    assert relay_due(now=later) == 0

    def refuse(args, **options):
        raise OperationalError("Connection refused.")

    monkeypatch.setattr(tasks.deliver_notifications, "apply_async", refuse)
    lost = later + timedelta(minutes=5, seconds=1)  # none was delivered: all due again
    assert relay_due(now=lost) == 0
    waiting = Notification.objects.filter(next_attempt_at__lt=lost).count()
    assert waiting == 4  # the first batch was tried; the rest wait for the next run


def test_after_the_last_quick_retry_a_message_waits_the_long_tail_then_fails(
    office, now, tomorrow, settings, queued
):
    settings.EMAIL_BACKEND = BROKEN_SMTP
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    settings.NOTIFICATION_RETRY_TAIL = timedelta(hours=6)
    notification = row(book(office, tomorrow, now=now))
    assert deliver(notification.pk, now=now) == RetryLater(120, 1)
    assert deliver(notification.pk, now=now) is None  # no countdown of hours: the relay

    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("pending", 2)
    assert notification.next_attempt_at == now + timedelta(hours=6)
    queued.clear()
    relay_due(now=now + timedelta(hours=6))
    assert (notification.pk, 2) not in queued
    relay_due(now=now + timedelta(hours=6, seconds=1))
    assert (notification.pk, 2) in queued

    assert deliver(notification.pk, attempts=2, now=now + timedelta(hours=6)) is None
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("failed", 3)
    assert notification.next_attempt_at is None


# The messages: the applicant's language, the booking's details, one kind each.


def test_the_email_in_indonesian_has_everything_the_applicant_needs(office, now, tomorrow):
    booking = book(office, tomorrow, now=now, language="id")
    message = email_message(row(booking), now=now)
    html = message.alternatives[0][0]

    assert booking.code in message.subject
    assert office.name in message.subject
    for text in (message.body, html):
        assert booking.code in text
        assert office.name in text
        assert office.address in text
        assert "Rabu, 6 September 2017, 08.00–10.00 WIB" in text
        assert "Rp 350.000" in text
        assert "KTP-el" in text
        assert "Kartu Keluarga" in text
        assert booking.nik not in text
    assert message.alternatives[0][1] == "text/html"
    assert '<html lang="id">' in html
    assert message.extra_headers["Content-Language"] == "id"


def test_the_email_in_english_uses_english_dates(office, now, tomorrow):
    booking = book(office, tomorrow, 13, now=now, language="en")
    message = email_message(row(booking), now=now)

    assert "Wednesday, 6 September 2017, 13:00–15:00 WIB" in message.body
    assert "Wednesday" in message.alternatives[0][0]


def test_the_fee_follows_the_passport_type(office, now, tomorrow):
    electronic = book(office, tomorrow, now=now, passport_type="electronic")
    assert "Rp 650.000" in email_message(row(electronic), now=now).body

    PassportFee.objects.all().delete()
    ordinary = book(office, tomorrow, now=now)
    assert "Rp " not in email_message(row(ordinary), now=now).body


def test_only_a_renewal_asks_for_the_old_passport(office, now, tomorrow):
    renewal = book(office, tomorrow, now=now, application_type="renewal", language="en")
    new = book(office, tomorrow, now=now, application_type="new", language="en")

    assert "old passport" in email_message(row(renewal), now=now).body
    assert "old passport" not in email_message(row(new), now=now).body


def test_the_link_in_the_email_opens_the_booking_without_the_nik(office, now, tomorrow):
    booking = book(office, tomorrow, now=now)
    message = email_message(row(booking), now=now)
    link = next(word for word in message.body.split() if "/bookings/" in word)
    url = urlsplit(link)

    assert f"{url.scheme}://{url.netloc}" == "http://127.0.0.1:8000"
    assert url.path == f"/bookings/{booking.code}/"
    assert booking_from_token(booking.code, parse_qs(url.query)["t"][0], now=now) == booking
    assert f'href="{link}"' in message.alternatives[0][0]
    assert booking.nik not in link


def test_each_kind_has_its_own_words_and_a_calendar_file_when_the_schedule_is_new(
    office, now, tomorrow
):
    booking = book(office, tomorrow, now=now)
    create_due_reminders(now=now)
    window = office.windows.get(weekday=THURSDAY.weekday(), start=time(8))
    booking = reschedule(booking=booking, day=THURSDAY, window=window, now=now)
    cancel_booking(booking=booking, now=now)
    messages = {
        n.kind: email_message(n, now=now) for n in booking.notifications.filter(channel="email")
    }

    assert len({m.subject for m in messages.values()}) == 4
    assert len({m.body.split("\n\n")[1] for m in messages.values()}) == 4
    calendars = {kind: [a[0] for a in m.attachments] for kind, m in messages.items()}
    assert calendars == {
        "confirmation": [f"antrean-{booking.code}.ics"],
        "reschedule": [f"antrean-{booking.code}.ics"],
        "reminder": [],
        "cancellation": [],
    }
    _name, content, mimetype = messages["confirmation"].attachments[0]
    assert mimetype == "text/calendar"
    assert "BEGIN:VEVENT" in content
    assert booking.code in content


GSM_EXTENSION = set("^{}\\[~]|€`")


@pytest.mark.parametrize("language", ["id", "en"])
def test_sms_is_one_plain_segment_with_code_office_date_window_and_zone(now, language):
    office = OfficeFactory(
        code="makassar", name="Kantor Imigrasi Kelas I TPI Makassar", timezone="Asia/Makassar"
    )
    booking = book(office, date(2017, 9, 6), 13, now=now, language=language)
    create_due_reminders(now=now.replace(hour=16))
    cancel_booking(booking=booking, now=now)
    clock = "13.00-15.00" if language == "id" else "13:00-15:00"
    day = "Rab 6 Sep 2017" if language == "id" else "Wed 6 Sep 2017"

    texts = [sms_text(n) for n in booking.notifications.filter(channel="sms")]

    assert len(texts) == 3
    for text in texts:
        assert len(text) <= 160, text
        assert text.isascii() and not GSM_EXTENSION & set(text), text
        assert booking.code in text
        assert office.name in text
        assert f"{day} {clock} WITA" in text
    assert len(set(texts)) == 3


@pytest.mark.skipif(
    not (Path(django_settings.BASE_DIR) / "locale/id/LC_MESSAGES/django.mo").exists(),
    reason="no compiled Indonesian translations (locale/id/LC_MESSAGES/django.mo) yet",
)
def test_indonesian_messages_are_translated_and_the_sms_still_fits(office, now, tomorrow):
    indonesian = book(office, tomorrow, now=now, language="id")
    english = book(office, tomorrow, now=now, language="en")
    id_mail = email_message(row(indonesian), now=now)
    en_mail = email_message(row(english), now=now)

    assert id_mail.body.split("\n\n")[1] != en_mail.body.split("\n\n")[1]  # the opening words
    id_sms = sms_text(row(indonesian, channel="sms"))
    assert len(id_sms) <= 160
    assert id_sms.split(".")[0] != sms_text(row(english, channel="sms")).split(".")[0]


@pytest.mark.parametrize(
    ("language", "reason"),
    [
        ("id", "Tidak dikirim: sesi layanan sudah dimulai."),
        ("en", "Not sent: the session had begun."),
    ],
)
def test_a_skipped_reminder_says_why_in_the_applicants_language(
    office, now, tomorrow, queued, language, reason
):
    booking = book(office, tomorrow, now=now, language=language)
    create_due_reminders(now=booking.starts_at - timedelta(hours=1))
    reminder = booking.notifications.get(kind="reminder", channel="email")

    deliver(reminder.pk, now=booking.starts_at + timedelta(minutes=1))

    reminder.refresh_from_db()
    assert (reminder.status, reminder.last_error) == ("failed", reason)


def test_a_message_for_a_cancelled_booking_says_its_status_in_the_applicants_language(
    office, now, tomorrow, queued
):
    booking = book(office, tomorrow, now=now, language="id")
    create_due_reminders(now=booking.starts_at - timedelta(hours=1))
    reminder = booking.notifications.get(kind="reminder", channel="sms")
    cancel_booking(booking=booking, now=now)

    deliver(reminder.pk, now=now)

    reminder.refresh_from_db()
    assert reminder.last_error == "Tidak dikirim: pendaftaran kini berstatus dibatalkan."
