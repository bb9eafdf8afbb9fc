"""Deliver outbox notifications: lock the row, send once, record the outcome."""

import logging
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import Notification
from .outbox import queue_delivery

logger = logging.getLogger(__name__)


def deliver(notification_id, *, now=None):
    """Send a pending notification and mark it sent; return seconds to wait before a retry.

    The row is locked for the whole attempt, so a second worker given the same row
    waits and then finds it sent. Returns None when nothing is left to do.
    """
    now = now or timezone.now()
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .select_related("booking", "booking__office", "booking__window")
            .filter(pk=notification_id, status=Notification.Status.PENDING)
            .first()
        )
        if notification is None:
            return None
        notification.attempts += 1
        try:
            send(notification)
        except Exception as exc:  # noqa: BLE001 - any failure of the outside world
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
            return min(3600, 30 * 2 ** (notification.attempts - 1))
        notification.status = Notification.Status.SENT
        notification.sent_at = now
        notification.last_error = ""
        notification.save(update_fields=["attempts", "last_error", "status", "sent_at"])
    return None


def send(notification):
    booking = notification.booking
    with translation.override(booking.language):
        context = {"booking": booking, "notification": notification, "site_url": settings.SITE_URL}
        if notification.channel == Notification.Channel.EMAIL:
            subject = render_to_string("bookings/email/subject.txt", context).strip()
            body = render_to_string("bookings/email/message.txt", context)
            message = EmailMultiAlternatives(subject, body, to=[booking.email])
            message.send()
        else:
            from .sms import send_sms

            send_sms(booking.phone, render_to_string("bookings/sms/message.txt", context).strip())


def requeue_pending(*, now=None):
    """Queue again every pending notification older than the grace period; return how many."""
    now = now or timezone.now()
    stale = list(
        Notification.objects.filter(
            status=Notification.Status.PENDING,
            created_at__lt=now - settings.NOTIFICATION_REQUEUE_AFTER,
        ).values_list("pk", flat=True)[:1000]
    )
    queue_delivery(stale)
    return len(stale)
