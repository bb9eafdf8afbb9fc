"""The notification outbox: rows written with a booking change, queued for delivery on commit."""

import logging
from collections.abc import Iterable
from functools import partial

from django.db import connection, transaction

from .models import Booking, Notification

logger = logging.getLogger(__name__)


def record_notifications(booking: Booking, kind: str, *, new_booking=False) -> list[int]:
    """Write one pending row per channel the applicant can be reached on; queue them on commit.

    Call it inside the transaction of the change it reports. A row that exists already for
    this booking, kind and change is left as it is, so calling it twice writes nothing more.
    With new_booking (the booking was inserted in this transaction, so none can exist) the
    rows are inserted plainly and the database returns their ids with the insert.
    Returns the ids of the rows that wait for their first attempt.
    """
    channels = []
    if booking.email:
        channels.append(Notification.Channel.EMAIL)
    if booking.phone:
        channels.append(Notification.Channel.SMS)
    if not channels:
        return []
    rows = [
        Notification(booking=booking, kind=kind, channel=channel, sequence=booking.reschedule_count)
        for channel in channels
    ]
    if new_booking and connection.features.can_return_rows_from_bulk_insert:
        waiting = [row.pk for row in Notification.objects.bulk_create(rows)]
    else:
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        waiting = list(
            Notification.objects.filter(
                booking=booking,
                kind=kind,
                sequence=booking.reschedule_count,
                status=Notification.Status.PENDING,
                attempts=0,
            ).values_list("pk", flat=True)
        )
    transaction.on_commit(partial(queue_change, [(pk, 0) for pk in waiting]))
    return waiting


def queue_change(notifications: Iterable[tuple[int, int]]) -> int:
    """Hand the (id, attempts) pairs of one booking change to Celery as one message.

    One message for the e-mail and the SMS of a change: a booking publishes once, not once
    per channel (publishing was a fifth of a booking's time). A row that fails is retried on
    its own. Never raises, for the reasons of queue_delivery; returns how many were queued.
    """
    from .tasks import deliver_notifications

    pairs = list(notifications)
    if not pairs:
        return 0
    try:
        deliver_notifications.delay(pairs)
    except Exception as exc:  # noqa: BLE001 - any broker error; the sweep re-queues
        ids = ", ".join(str(pk) for pk, _attempts in pairs)
        logger.warning("notifications %s not queued (%r); the sweep will retry", ids, exc)
        return 0
    return len(pairs)


def queue_delivery(notifications: Iterable[tuple[int, int]]) -> int:
    """Hand (id, attempts) pairs to Celery, a message each; return how many were queued.

    Never raises: this runs after the booking has committed, and a broker outage must not
    turn a booking that succeeded into an error page. What was not queued stays pending in
    the outbox and the sweep (requeue_pending) queues it when the broker is back.
    """
    from .tasks import deliver_notification

    queued = 0
    for pk, attempts in notifications:
        try:
            deliver_notification.delay(pk, attempts)
        except Exception as exc:  # noqa: BLE001 - any broker error; the sweep re-queues
            # Stop at the first failure: each further try would wait for the same dead broker.
            logger.warning("notification %s not queued (%r); the sweep will retry", pk, exc)
            break
        queued += 1
    return queued
