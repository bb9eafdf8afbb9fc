"""Deliver one outbox notification once, and say when to try again after a failure."""

import logging
from datetime import timedelta
from math import ceil
from typing import NamedTuple

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from bookings.contact import code_matches
from bookings.models import Booking, ContactCheck, Entry, Notification, Offer
from offices import clock

from .messages import CANCELLING_KINDS, GROUP_MEMBERS, addressee, concerned, email_message, sms_text
from .sms import send_sms

logger = logging.getLogger(__name__)

# Kept below Redis's visibility timeout (1 hour), after which Redis hands a message that a
# worker holds for later to another worker.
MAX_RETRY_DELAY = timedelta(minutes=30)


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
    message queued before some other attempt (a duplicate from the relay or the broker) is
    dropped, so at most one chain of retries lives per row. After NOTIFICATION_MAX_ATTEMPTS
    failures the row ends as failed, with the last error kept. Returns None when done.
    """
    now = now or clock.now()
    with transaction.atomic():
        notification = (
            # skip_locked: a row locked right now is being sent by another worker, which
            # also takes care of its retry; waiting for it would only hold up this worker.
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related(
                "booking", "booking__office", "booking__window", "group", "entry__release__office"
            )
            .prefetch_related(GROUP_MEMBERS)
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
            notification.next_attempt_at = None
            notification.save(update_fields=["status", "last_error", "next_attempt_at"])
            return None
        notification.attempts += 1
        try:
            # The lock is held while talking to SMTP or the SMS gateway; EMAIL_TIMEOUT and
            # SMS_GATEWAY_TIMEOUT bound that wait.
            send(notification, now=now)
        except Exception as exc:  # noqa: BLE001 - any failure of the outside world
            return _record_failure(notification, exc, now=now)
        # If this commit fails after the send (the database goes away in between), the row
        # stays pending and is sent again by its retry or the relay: the applicant may get
        # a message twice but never loses one. The alternative, committing a "sending" mark
        # before the send, turns every worker that dies mid-send into a lost message.
        notification.status = Notification.Status.SENT
        notification.sent_at = now
        notification.last_error = ""
        notification.next_attempt_at = None
        notification.save(
            update_fields=["attempts", "last_error", "status", "sent_at", "next_attempt_at"]
        )
    return None


def _record_failure(notification, exc, *, now) -> RetryLater | None:
    """Keep the error and say when to try again: soon with a back-off, then once after the
    long tail (the relay brings that one), then never: the row ends as failed."""
    notification.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
    last_quick = settings.NOTIFICATION_MAX_ATTEMPTS
    retry = None
    if notification.attempts < last_quick:
        retry = RetryLater(retry_delay(notification.attempts), notification.attempts)
        grace = settings.NOTIFICATION_REQUEUE_AFTER  # the relay steps in if the retry is lost
        notification.next_attempt_at = now + timedelta(seconds=retry.delay) + grace
    elif notification.attempts == last_quick and settings.NOTIFICATION_RETRY_TAIL:
        notification.next_attempt_at = now + settings.NOTIFICATION_RETRY_TAIL
    else:
        notification.status = Notification.Status.FAILED
        notification.next_attempt_at = None
    notification.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
    logger.warning(
        "notification %s attempt %s failed: %s",
        notification.pk,
        notification.attempts,
        exc.__class__.__name__,
    )
    return retry


def obsolete_reason(notification, *, now) -> str:
    """Return why a pending message no longer fits its booking or group, or an empty string.

    In the applicant's language, as staff read it in admin beside the booking.
    """
    if notification.entry_id is not None:
        return _entry_obsolete_reason(notification, now=now)
    if notification.group_id is not None:
        return _group_obsolete_reason(notification, now=now)
    booking = notification.booking
    if notification.kind in CANCELLING_KINDS:
        return ""
    with translation.override(booking.language):
        if booking.status != Booking.Status.BOOKED:
            return _("Not sent: the booking is %(status)s now.") % {
                "status": booking.get_status_display().lower()
            }
        if notification.kind == Notification.Kind.REMINDER:
            if notification.sequence != booking.reschedule_count:
                return _("Not sent: the booking was rescheduled after this reminder was written.")
            if booking.starts_at <= now:
                return _("Not sent: the session had begun.")
    return ""


def _group_obsolete_reason(notification, *, now) -> str:
    # As a booking's, for the members the message would name: a cancellation names those it
    # cancelled, any other kind those still booked.
    contact = addressee(notification)
    named = concerned(notification)
    with translation.override(contact.language if contact else settings.LANGUAGE_CODE):
        if not named:
            return _("Not sent: no applicant of this group holds a booking any more.")
        if notification.kind == Notification.Kind.REMINDER:
            if notification.sequence != notification.group.reschedule_count:
                return _("Not sent: the group was rescheduled after this reminder was written.")
            if named[0].starts_at <= now:
                return _("Not sent: the session had begun.")
    return ""


def _entry_obsolete_reason(notification, *, now) -> str:
    # An offer no longer open, or an entry no longer waiting, is not worth a message.
    entry = notification.entry
    with translation.override(entry.language):
        if notification.kind == Notification.Kind.OFFER:
            if not entry.offers.filter(state=Offer.State.OPEN, expires_at__gt=now).exists():
                return _("Not sent: the offer is over.")
        elif entry.status != Entry.Status.WAITING:
            return _("Not sent: the entry is no longer on the waiting list.")
    return ""


def send(notification, *, now=None):
    """Send one notification on its channel; raise whatever the channel raises."""
    if notification.channel == Notification.Channel.EMAIL:
        email_message(notification, now=now).send()
    else:
        send_sms(addressee(notification).phone, sms_text(notification))


def send_contact_code(check_id: int, code: str, *, now=None) -> bool:
    """Send a one-time code to the contact of its check while the check still waits for it;
    return False when it no longer does (confirmed, lapsed, or a newer code sent). The code
    is in no log and no row: only the task's message carries it."""
    now = now or clock.now()
    check = (
        ContactCheck.objects.select_related("booking", "group", "entry").filter(pk=check_id).first()
    )
    if check is None or check.state != ContactCheck.State.PENDING or now >= check.expires_at:
        return False
    if not code_matches(check.code_hash, code):  # a newer code replaced this one
        return False
    to = addressee(check)  # as for any message about the booking, the group or the entry
    minutes = max(ceil((check.expires_at - now).total_seconds() / 60), 1)
    context = {"code": code, "minutes": minutes}
    with translation.override(to.language):
        if check.channel == Notification.Channel.SMS:
            text = render_to_string("bookings/notifications/sms/contact_code.txt", context)
            send_sms(to.phone, " ".join(text.split()))
        else:
            folder = "bookings/notifications/email/"
            subject = " ".join(
                render_to_string(f"{folder}contact_code_subject.txt", context).split()
            )
            text = render_to_string(f"{folder}contact_code_message.txt", context)
            headers = {"Content-Language": to.language}
            EmailMessage(subject, text, to=[to.email], headers=headers).send()
    return True
