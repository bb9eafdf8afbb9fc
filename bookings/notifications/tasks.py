"""Celery tasks that deliver outbox notifications: thin, each calls delivery.deliver.

Their names stay those of bookings.tasks, where they were first registered, so messages
already queued and the beat schedule keep finding them.
"""

from celery import shared_task

from .delivery import deliver


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
