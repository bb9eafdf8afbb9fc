"""Celery tasks that deliver outbox notifications: thin, each calls delivery.deliver.

Their names stay those of bookings.tasks, where they were first registered, so messages
already queued and the beat schedule keep finding them.
"""

import logging

from celery import shared_task

from .delivery import deliver, send_contact_code

logger = logging.getLogger(__name__)
# A code lapses with its hold: its message is retried soon or not at all.
CODE_RETRY_SECONDS = 10
QUEUE_BATCH = 100  # rows of many entries' messages handed to Celery in one delivery message


@shared_task(
    name="bookings.tasks.deliver_notification", bind=True, max_retries=None, acks_late=True
)
def deliver_notification(self, notification_id, attempts=None):
    """Send one notification once; on failure queue the next attempt after a back-off."""
    retry = deliver(notification_id, attempts=attempts)
    if retry is not None:
        # The countdown is minutes, never days: reminders are found by create_due_reminders.
        raise self.retry(args=(notification_id, retry.attempts), countdown=retry.delay)


@shared_task(name="bookings.tasks.deliver_notifications", acks_late=True)
def deliver_notifications(pairs):
    """Send the (id, attempts) pairs of one booking change, each once; a failure retries alone."""
    for notification_id, attempts in pairs:
        retry = deliver(notification_id, attempts=attempts)
        if retry is not None:
            deliver_notification.apply_async(
                args=(notification_id, retry.attempts), countdown=retry.delay
            )


@shared_task(name="bookings.tasks.split_notifications", acks_late=True)
def split_notifications(pairs):
    """Hand a large change's (id, attempts) pairs on, QUEUE_BATCH to a delivery message.

    A draw publishes its thousand-odd messages as this one task, and a worker splits them:
    the draw does not wait on the broker once per batch. Handed on twice (a worker lost
    before its acknowledgement), a row is still sent once (delivery.deliver).
    """
    with deliver_notifications.app.producer_or_acquire() as producer:
        for start in range(0, len(pairs), QUEUE_BATCH):
            batch = pairs[start : start + QUEUE_BATCH]
            # A short argsrepr: Celery would otherwise format every pair for its logs.
            deliver_notifications.apply_async(
                (batch,), producer=producer, argsrepr=f"({len(batch)} notifications)"
            )


@shared_task(name="bookings.tasks.send_contact_code", bind=True, max_retries=3, acks_late=True)
def send_contact_code_task(self, check_id, code):
    """Send a one-time code; a failure is retried three times, 10 s apart (it lapses soon)."""
    try:
        send_contact_code(check_id, code)
    except Exception as exc:  # noqa: BLE001 - any channel error: try again shortly
        # The error's type only: a gateway's answer may quote the text, and so the code.
        logger.warning("contact code %s not sent (%s); retrying", check_id, type(exc).__name__)
        raise self.retry(countdown=CODE_RETRY_SECONDS) from None
