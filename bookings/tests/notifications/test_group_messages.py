"""A group's messages: one e-mail and one SMS to the shared contact, naming each member."""

from contextlib import contextmanager
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.db.models import Max
from django.test.utils import CaptureQueriesContext

from bookings import tasks
from bookings.models import Notification
from bookings.notifications import sms
from bookings.notifications.delivery import deliver
from bookings.notifications.links import group_from_token
from bookings.notifications.outbox import queue_batches
from bookings.services import (
    cancel_booking,
    cancel_group,
    create_due_reminders,
    create_group_booking,
    reschedule_booking,
    reschedule_group,
)
from bookings.tests.factories import book_group, make_applicant, window_at

pytestmark = pytest.mark.django_db

WEDNESDAY = date(2017, 9, 6)  # the `tomorrow` fixture
THURSDAY = date(2017, 9, 7)
CONTACT = {"email": "ahmad@example.com", "phone": "+6281234567890"}
GSM_EXTENSION = set("^{}\\[~]|€`")

WHEN = {  # Wednesday's 08.00 session, as the e-mail and the SMS write it
    "id": ("Rabu, 6 September 2017, 08.00–10.00 WIB", "Rab 6 Sep 2017 08.00-10.00 WIB"),
    "en": ("Wednesday, 6 September 2017, 08:00–10:00 WIB", "Wed 6 Sep 2017 08:00-10:00 WIB"),
}


@pytest.fixture(autouse=True)
def _messages(settings, clock):
    settings.SMS_BACKEND = "bookings.notifications.sms.MemoryBackend"
    settings.REMINDER_LEAD_TIME = timedelta(hours=24)
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def sending(monkeypatch, django_capture_on_commit_callbacks):
    """Run a change; once it commits, its messages are delivered as the worker does: queued on
    commit, or handed on by the relay (a new booking's confirmation)."""
    monkeypatch.setattr(
        tasks.deliver_notifications,
        "apply_async",
        lambda args, **options: tasks.deliver_notifications.apply(args=args),
    )

    @contextmanager
    def send():
        before = Notification.objects.aggregate(last=Max("pk"))["last"] or 0
        with django_capture_on_commit_callbacks(execute=True):
            yield
        # What the change left to the relay (a new booking's confirmation), handed on as it does.
        left = Notification.objects.filter(pk__gt=before, status=Notification.Status.PENDING)
        queue_batches(left.values_list("pk", "attempts"))

    return send


def family(office, size=3, *, now, language="en", **contact):
    return book_group(office, WEDNESDAY, size, now=now, **(CONTACT | contact), language=language)


def group_rows(group, kind):
    return Notification.objects.filter(group=group, kind=kind)


def html_of(message):
    return message.alternatives[0][0]


def assert_plain_sms(text):
    assert text.isascii() and not GSM_EXTENSION & set(text), text


# The confirmation: once to the contact, everyone in it.


@pytest.mark.parametrize("language", ["id", "en"])
def test_a_group_hears_of_its_booking_in_one_email_and_one_sms(
    office, now, language, mailoutbox, sending
):
    with sending():
        members = family(office, 3, now=now, language=language)
    group = members[0].group
    long_when, short_when = WHEN[language]

    assert len(mailoutbox) == 1
    assert len(sms.outbox) == 1
    message = mailoutbox[0]
    assert message.to == ["ahmad@example.com"]
    assert message.extra_headers["Content-Language"] == language
    assert group.code in message.subject
    assert office.name in message.subject
    for text in (message.body, html_of(message)):
        assert group.code in text
        assert office.name in text
        assert office.address in text
        assert long_when in text
        assert "Rp 350.000" in text
        assert "KTP-el" in text
        assert "Kartu Keluarga" in text
        for member in members:
            assert member.full_name in text
            assert member.code in text
            assert member.nik not in text
    assert f'<html lang="{language}">' in html_of(message)

    phone, text = sms.outbox[0]
    assert phone == "+6281234567890"
    assert_plain_sms(text)
    assert group.code in text
    assert office.name in text
    assert short_when in text
    assert "KTP-el" in text
    for member in members:
        assert f"{member.full_name} {member.code}" in text

    assert set(group_rows(group, "confirmation").values_list("status", flat=True)) == {"sent"}
    assert not Notification.objects.filter(booking__in=members).exists()


def test_the_link_opens_the_group_and_the_calendar_file_names_every_code(
    office, now, mailoutbox, sending
):
    with sending():
        members = family(office, 2, now=now)
    group = members[0].group
    message = mailoutbox[0]

    link = next(word for word in message.body.split() if "/groups/" in word)
    url = urlsplit(link)
    assert url.path == f"/groups/{group.code}/"
    assert group_from_token(group.code, parse_qs(url.query)["t"][0], now=now) == group
    assert f'href="{link}"' in html_of(message)

    [(name, content, mimetype)] = message.attachments
    assert (name, mimetype) == (f"antrean-{group.code}.ics", "text/calendar")
    unfolded = content.replace("\r\n ", "")
    assert f"UID:{group.code}@antrean" in unfolded
    for member in members:
        assert member.code in unfolded


def test_each_applicant_is_shown_with_their_own_passport_and_fee(office, now, mailoutbox, sending):
    applicants = [
        make_applicant(full_name="Ahmad Fauzi", **CONTACT, language="en"),
        make_applicant(
            full_name="Siti Aminah",
            passport_type="electronic",
            application_type="renewal",
            email="",
            phone="",
        ),
    ]
    with sending():
        create_group_booking(
            office=office,
            day=WEDNESDAY,
            window=window_at(office, WEDNESDAY),
            applicants=applicants,
            now=now,
        )

    body = mailoutbox[0].body
    ahmad, siti = body.split("Siti Aminah")
    assert "New passport" in ahmad and "Rp 350.000" in ahmad
    assert "Passport renewal" in siti and "Rp 650.000" in siti
    assert "old passport" in body  # a renewal among them


def test_a_name_with_marks_reaches_the_sms_in_plain_letters(office, now, sending):
    applicants = [
        make_applicant(full_name="Ahmad Fauzi", **CONTACT, language="en"),
        make_applicant(full_name="Zoë Şahin", email="", phone=""),
    ]
    with sending():
        members = create_group_booking(
            office=office,
            day=WEDNESDAY,
            window=window_at(office, WEDNESDAY),
            applicants=applicants,
            now=now,
        )

    [(_phone, text)] = sms.outbox
    assert_plain_sms(text)
    assert f"Zoe Sahin {members[1].code}" in text


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_delivering_a_group_message_costs_the_same_whatever_the_groups_size(
    office, now, channel, mailoutbox
):
    counts = []
    for index, size in enumerate((2, 5)):
        members = book_group(office, WEDNESDAY, size, index=index, now=now, **CONTACT)
        row = group_rows(members[0].group, "confirmation").get(channel=channel)
        with CaptureQueriesContext(connection) as queries:
            deliver(row.pk, now=now)
        row.refresh_from_db()
        assert row.status == "sent"
        counts.append(len(queries))

    assert counts[0] == counts[1]


# Reminders: once per group, naming those still booked.


def test_a_group_is_reminded_once_in_one_email_and_one_sms(office, now, mailoutbox, sending):
    members = family(office, 3, now=now)
    group = members[0].group

    with sending():
        assert create_due_reminders(now=now) == 1
    with sending():
        assert create_due_reminders(now=now) == 0

    assert group_rows(group, "reminder").count() == 2
    assert not Notification.objects.filter(booking__in=members, kind="reminder").exists()
    assert len(mailoutbox) == 1
    assert len(sms.outbox) == 1
    assert mailoutbox[0].subject.startswith("Reminder")
    assert mailoutbox[0].attachments == []
    for member in members:
        assert member.code in mailoutbox[0].body
        assert member.code in sms.outbox[0][1]


def test_a_member_cancelled_alone_hears_alone_and_is_left_out_of_the_reminder(
    office, now, mailoutbox, sending
):
    members = family(office, 3, now=now)
    group = members[0].group

    with sending():
        cancel_booking(booking=members[1], now=now - timedelta(hours=1))

    assert [m.to for m in mailoutbox] == [["ahmad@example.com"]]
    assert members[1].code in mailoutbox[0].subject
    assert members[0].code not in mailoutbox[0].body
    assert not group_rows(group, "cancellation").exists()

    mailoutbox.clear()
    sms.outbox.clear()
    with sending():
        create_due_reminders(now=now)
    [reminder] = mailoutbox
    [(_phone, text)] = sms.outbox
    for message in (reminder.body, text):
        assert members[0].code in message
        assert members[2].code in message
        assert members[1].code not in message


# The whole group cancelled or moved: one message, everyone it changed.


def test_a_group_cancelled_together_hears_once_naming_everyone_cancelled(
    office, now, mailoutbox, sending
):
    members = family(office, 3, now=now)
    group = members[0].group

    with sending():
        cancel_group(group=group, now=now)

    assert len(mailoutbox) == 1
    assert len(sms.outbox) == 1
    message = mailoutbox[0]
    assert message.subject.startswith("Group booking cancelled")
    assert group.code in message.subject
    assert message.attachments == []
    assert "Book again" in message.body
    assert "/groups/" not in message.body
    text = sms.outbox[0][1]
    assert_plain_sms(text)
    assert "cancelled" in text
    for member in members:
        assert member.code in message.body
        assert member.code in text
    assert not Notification.objects.filter(booking__in=members, kind="cancellation").exists()


def test_a_group_cancellation_names_only_the_members_it_cancelled(office, now, mailoutbox, sending):
    members = family(office, 3, now=now)
    group = members[0].group
    cancel_booking(booking=members[0], now=now - timedelta(hours=2))

    with sending():
        cancel_group(group=group, now=now)

    [message] = mailoutbox
    [(_phone, text)] = sms.outbox
    assert message.to == ["ahmad@example.com"]  # the first applicant's contact, for everyone
    for content in (message.body, text):
        assert members[0].code not in content
        assert members[1].code in content
        assert members[2].code in content


def test_a_group_moved_together_hears_once_of_its_new_session(office, now, mailoutbox, sending):
    members = family(office, 3, now=now)
    group = members[0].group

    with sending():
        reschedule_group(group=group, day=THURSDAY, window=window_at(office, THURSDAY, 10), now=now)

    assert len(mailoutbox) == 1
    assert len(sms.outbox) == 1
    message = mailoutbox[0]
    assert message.subject.startswith("New schedule for group")
    assert "Thursday, 7 September 2017, 10:00–12:00 WIB" in message.body
    [(name, content, _mimetype)] = message.attachments
    assert name == f"antrean-{group.code}.ics"
    assert "SEQUENCE:1" in content
    assert "Thu 7 Sep 2017 10:00-12:00 WIB" in sms.outbox[0][1]
    for member in members:
        assert member.code in message.body
        assert member.code in sms.outbox[0][1]
    rows = group_rows(group, "reschedule")
    assert set(rows.values_list("sequence", "status")) == {(1, "sent")}


def test_each_kind_of_group_message_has_its_own_words(office, now, mailoutbox, sending):
    with sending():
        members = family(office, 2, now=now)
    group = members[0].group
    with sending():
        create_due_reminders(now=now)
    with sending():
        reschedule_group(group=group, day=THURSDAY, window=window_at(office, THURSDAY, 10), now=now)
    with sending():
        cancel_group(group=group, now=now)

    assert len(mailoutbox) == 4
    assert len({m.subject for m in mailoutbox}) == 4
    assert len({m.body.split("\n\n")[1] for m in mailoutbox}) == 4
    assert len({text for _phone, text in sms.outbox}) == 4


# Messages that no longer fit are not sent, and say why.


def _delivered(row, *, now):
    deliver(row.pk, now=now)
    row.refresh_from_db()
    return row.status, row.last_error


def test_a_groups_reminder_is_not_sent_once_nobody_is_booked(office, now, mailoutbox):
    members = family(office, 2, now=now)
    group = members[0].group
    create_due_reminders(now=now)
    cancel_group(group=group, now=now)

    reminder = group_rows(group, "reminder").get(channel="sms")
    assert _delivered(reminder, now=now) == (
        "failed",
        "Not sent: no applicant of this group holds a booking any more.",
    )
    confirmation = group_rows(group, "confirmation").get(channel="email")
    assert _delivered(confirmation, now=now)[0] == "failed"
    cancellation = group_rows(group, "cancellation").get(channel="email")
    assert _delivered(cancellation, now=now) == ("sent", "")
    assert len(mailoutbox) == 1
    assert sms.outbox == []


def test_a_reminder_written_before_the_group_moved_is_not_sent(office, now, mailoutbox):
    members = family(office, 2, now=now)
    group = members[0].group
    create_due_reminders(now=now)
    old = group_rows(group, "reminder").get(channel="email")
    reschedule_group(group=group, day=THURSDAY, window=window_at(office, THURSDAY, 8), now=now)

    assert _delivered(old, now=now) == (
        "failed",
        "Not sent: the group was rescheduled after this reminder was written.",
    )
    later = now + timedelta(days=1)
    assert create_due_reminders(now=later) == 1
    new = group_rows(group, "reminder").get(channel="email", sequence=1)
    assert _delivered(new, now=later) == ("sent", "")
    assert "Thursday" in mailoutbox[0].subject


@pytest.mark.parametrize(
    ("language", "reason"),
    [
        ("id", "Tidak dikirim: sesi layanan sudah dimulai."),
        ("en", "Not sent: the session had begun."),
    ],
)
def test_a_groups_reminder_is_not_sent_once_the_session_began(
    office, now, language, reason, mailoutbox
):
    members = family(office, 2, now=now, language=language)
    create_due_reminders(now=now)
    reminder = group_rows(members[0].group, "reminder").get(channel="email")

    assert _delivered(reminder, now=members[0].starts_at) == ("failed", reason)
    assert mailoutbox == []


def test_a_group_whose_members_all_left_it_sends_nothing(office, now, mailoutbox):
    members = family(office, 2, now=now)
    group = members[0].group
    for member in members:
        reschedule_booking(
            booking=member, day=THURSDAY, window=window_at(office, THURSDAY, 8), now=now
        )
    confirmation = group_rows(group, "confirmation").get(channel="sms")

    status, reason = _delivered(confirmation, now=now)

    assert status == "failed"
    assert reason  # said in the default language: there is no member left to ask
    assert sms.outbox == []
    assert mailoutbox == []


def test_a_member_moved_alone_is_left_out_of_the_groups_messages(office, now, mailoutbox):
    members = family(office, 3, now=now)
    group = members[0].group
    reschedule_booking(
        booking=members[2], day=THURSDAY, window=window_at(office, THURSDAY, 8), now=now
    )
    confirmation = group_rows(group, "confirmation").get(channel="email")

    assert _delivered(confirmation, now=now) == ("sent", "")
    body = mailoutbox[0].body
    assert members[0].code in body
    assert members[1].code in body
    assert members[2].code not in body
