"""Deliver outbox notifications once each, retry with back-off, and render them for applicants."""

import logging
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext_lazy as _

from offices.models import PassportFee

from .ics import booking_ics
from .links import booking_link
from .models import Booking, Notification
from .outbox import queue_delivery
from .sms import send_sms

logger = logging.getLogger(__name__)

# Kept below Redis's visibility timeout (1 hour), after which Redis hands a message that a
# worker holds for later to another worker.
MAX_RETRY_DELAY = timedelta(minutes=30)
REQUEUE_BATCH = 1000
CALENDAR_KINDS = frozenset({Notification.Kind.CONFIRMATION, Notification.Kind.RESCHEDULE})


class RetryLater(NamedTuple):
    """A failed attempt: wait `delay` seconds, then try again; `attempts` made so far."""

    delay: int
    attempts: int


def retry_delay(attempts: int) -> int:
    """Return the seconds to wait after the given number of failed attempts (doubling)."""
    delay = settings.NOTIFICATION_RETRY_DELAY * 2 ** max(0, attempts - 1)
    return int(min(delay, MAX_RETRY_DELAY).total_seconds())


def deliver(notification_id, *, attempts=None, now=None) -> RetryLater | None:
    """Send a pending notification and mark it sent; say when to retry if sending failed.

    The row is locked for the whole attempt and checked again under the lock, so running
    this twice sends once. `attempts` is the row's count when the message was queued: a
    message queued before some other attempt (a duplicate from the sweep or the broker) is
    dropped, so at most one chain of retries lives per row. After NOTIFICATION_MAX_ATTEMPTS
    failures the row ends as failed, with the last error kept. Returns None when done.
    """
    now = now or timezone.now()
    with transaction.atomic():
        notification = (
            # skip_locked: a row locked right now is being sent by another worker, which
            # also takes care of its retry; waiting for it would only hold up this worker.
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("booking", "booking__office", "booking__window")
            .filter(pk=notification_id, status=Notification.Status.PENDING)
            .first()
        )
        if notification is None:
            return None
        if attempts is not None and attempts != notification.attempts:
            return None
        reason = obsolete_reason(notification, now=now)
        if reason:
            notification.status = Notification.Status.FAILED
            notification.last_error = reason
            notification.save(update_fields=["status", "last_error"])
            return None
        notification.attempts += 1
        try:
            # The lock is held while talking to SMTP or the SMS gateway; EMAIL_TIMEOUT and
            # SMS_GATEWAY_TIMEOUT bound that wait.
            send(notification, now=now)
        except Exception as exc:  # noqa: BLE001 - any failure of the outside world
            return _record_failure(notification, exc)
        # If this commit fails after the send (the database goes away in between), the row
        # stays pending and is sent again by its retry or the sweep: the applicant may get
        # a message twice but never loses one. The alternative, committing a "sending" mark
        # before the send, turns every worker that dies mid-send into a lost message.
        notification.status = Notification.Status.SENT
        notification.sent_at = now
        notification.last_error = ""
        notification.save(update_fields=["attempts", "last_error", "status", "sent_at"])
    return None


def _record_failure(notification, exc) -> RetryLater | None:
    notification.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
    if notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        notification.status = Notification.Status.FAILED
    notification.save(update_fields=["attempts", "last_error", "status"])
    logger.warning(
        "notification %s attempt %s failed: %s",
        notification.pk,
        notification.attempts,
        exc.__class__.__name__,
    )
    if notification.status == Notification.Status.FAILED:
        return None
    return RetryLater(retry_delay(notification.attempts), notification.attempts)


def obsolete_reason(notification, *, now) -> str:
    """Return why a pending message no longer fits its booking, or an empty string."""
    booking = notification.booking
    if notification.kind == Notification.Kind.CANCELLATION:
        return ""
    if booking.status != Booking.Status.BOOKED:
        return f"Not sent: the booking is {booking.status} now."
    if notification.kind == Notification.Kind.REMINDER:
        if notification.sequence != booking.reschedule_count:
            return "Not sent: the booking was rescheduled after this reminder was written."
        if booking.starts_at <= now:
            return "Not sent: the session had begun."
    return ""


def send(notification, *, now=None):
    """Send one notification on its channel; raise whatever the channel raises."""
    if notification.channel == Notification.Channel.EMAIL:
        email_message(notification, now=now).send()
    else:
        send_sms(notification.booking.phone, sms_text(notification))


def documents(booking) -> list:
    """Return what the applicant brings to the office for this application."""
    items = [
        _("Your KTP-el (electronic identity card)"),
        _("Kartu Keluarga (family card)"),
        _("Birth certificate, school diploma or marriage book"),
    ]
    if booking.application_type == Booking.ApplicationType.RENEWAL:
        items.append(_("Your old passport"))
    items.append(_("This booking code, on paper or on your phone"))
    return items


def _clock(value):
    separator = "." if (translation.get_language() or "id").startswith("id") else ":"
    return f"{value:%H}{separator}{value:%M}"


def short_appointment(booking) -> str:
    """Return 'Rab 6 Sep 2017 08.00-10.00 WIB': the appointment in a few plain characters."""
    office = booking.office
    start, end = booking.starts_at.astimezone(office.zone), booking.ends_at.astimezone(office.zone)
    # A hyphen, not an en dash: one character outside the GSM alphabet halves an SMS.
    return (
        f"{date_format(booking.date, 'D j M Y')} {_clock(start)}-{_clock(end)} "
        f"{office.zone_abbreviation}"
    )


def message_context(notification, *, now=None) -> dict:
    """Return what the message templates show; call it in the applicant's language."""
    booking = notification.booking
    fee = PassportFee.objects.filter(passport_type=booking.passport_type).first()
    return {
        "booking": booking,
        "office": booking.office,
        "kind": notification.kind,
        "fee": fee,
        "documents": documents(booking),
        "link": booking_link(booking, now=now),
        "site_url": settings.SITE_URL,
        "short_appointment": short_appointment(booking),
        "has_calendar": notification.kind in CALENDAR_KINDS,
    }


def email_message(notification, *, now=None) -> EmailMultiAlternatives:
    """Return the e-mail (text, HTML, .ics for a new schedule) in the booking's language."""
    booking = notification.booking
    with translation.override(booking.language):
        context = message_context(notification, now=now)
        subject = " ".join(render_to_string("bookings/email/subject.txt", context).split())
        text = render_to_string("bookings/email/message.txt", context)
        html = render_to_string("bookings/email/message.html", context)
        message = EmailMultiAlternatives(
            subject, text, to=[booking.email], headers={"Content-Language": booking.language}
        )
        message.attach_alternative(html, "text/html")
        if context["has_calendar"]:
            message.attach(f"antrean-{booking.code}.ics", booking_ics(booking), "text/calendar")
    return message


def sms_text(notification) -> str:
    """Return the short text message in the booking's language (one SMS where it fits)."""
    with translation.override(notification.booking.language):
        context = message_context(notification)
        return " ".join(render_to_string("bookings/sms/message.txt", context).split())


def _retry_span() -> timedelta:
    total = sum(retry_delay(n) for n in range(1, settings.NOTIFICATION_MAX_ATTEMPTS))
    return timedelta(seconds=total)


def requeue_pending(*, now=None) -> int:
    """Queue again the pending notifications that should have gone out by now; return how many.

    A row still waiting for its first attempt after NOTIFICATION_REQUEUE_AFTER was written
    while the broker was down (or the broker lost it). A row that failed before has its
    retry queued with a back-off; it is queued again only when all its retries should have
    run, so the sweep does not cut the back-off short. Duplicates are harmless (deliver).
    """
    now = now or timezone.now()
    grace = settings.NOTIFICATION_REQUEUE_AFTER
    rows = (
        Notification.objects.filter(
            Q(attempts=0) | Q(created_at__lt=now - grace - _retry_span()),
            status=Notification.Status.PENDING,
            created_at__lt=now - grace,
        )
        .order_by("created_at")
        .values_list("pk", "attempts")[:REQUEUE_BATCH]
    )
    return queue_delivery(list(rows))


def retry_notification(*, notification: Notification) -> Notification:
    """Give a failed notification a fresh set of attempts and queue it when this commits.

    For the admin's "retry" action. Raises ValidationError coded not_failed if the
    notification has not failed.
    """
    with transaction.atomic():
        notification = Notification.objects.select_for_update().get(pk=notification.pk)
        if notification.status != Notification.Status.FAILED:
            raise ValidationError(
                _("Only a message that failed can be sent again."), code="not_failed"
            )
        notification.status = Notification.Status.PENDING
        notification.attempts = 0  # last_error stays until the next attempt, for staff
        notification.save(update_fields=["status", "attempts"])
        pk = notification.pk
        transaction.on_commit(lambda: queue_delivery([(pk, 0)]))
    return notification
