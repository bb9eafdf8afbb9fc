"""The notification outbox: rows written with a booking change, queued for delivery on commit."""

import logging

from django.db import transaction

from .models import Booking, Notification

logger = logging.getLogger(__name__)


def record_notifications(booking: Booking, kind: str) -> list[Notification]:
    """Write one pending row per channel the applicant can be reached on; queue them on commit.

    A row that exists already for this booking, kind and change is left as it is, so
    calling this twice for the same change writes nothing more.
    """
    channels = []
    if booking.email:
        channels.append(Notification.Channel.EMAIL)
    if booking.phone:
        channels.append(Notification.Channel.SMS)
    rows = [
        Notification(booking=booking, kind=kind, channel=channel, sequence=booking.reschedule_count)
        for channel in channels
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    created = list(
        Notification.objects.filter(
            booking=booking,
            kind=kind,
            sequence=booking.reschedule_count,
            status=Notification.Status.PENDING,
            attempts=0,
        ).values_list("pk", flat=True)
    )
    transaction.on_commit(lambda: queue_delivery(created))
    return created


def queue_delivery(notification_ids):
    """Hand notifications to Celery; a broker outage is logged and left to the sweep."""
    from .tasks import deliver_notification

    for pk in notification_ids:
        try:
            deliver_notification.delay(pk)
        except Exception as exc:  # noqa: BLE001 - any broker error; the sweep re-queues
            logger.warning("notification %s not queued (%s); the sweep will retry", pk, exc)
            return
