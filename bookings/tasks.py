"""Celery tasks: thin wrappers that call the notification and booking services."""

from celery import shared_task

from . import notifications, services


@shared_task(bind=True, max_retries=None, acks_late=True)
def deliver_notification(self, notification_id, attempts=None):
    """Send one notification once; on failure queue the next attempt after a back-off."""
    retry = notifications.deliver(notification_id, attempts=attempts)
    if retry is not None:
        # The countdown is minutes, never days: reminders are found by create_due_reminders.
        raise self.retry(args=(notification_id, retry.attempts), countdown=retry.delay)


@shared_task(acks_late=True)
def deliver_notifications(pairs):
    """Send the (id, attempts) pairs of one booking change, each once; a failure retries alone."""
    for notification_id, attempts in pairs:
        retry = notifications.deliver(notification_id, attempts=attempts)
        if retry is not None:
            deliver_notification.apply_async(
                args=(notification_id, retry.attempts), countdown=retry.delay
            )


@shared_task
def requeue_pending_notifications():
    """Queue again the notifications still pending after the grace period (every 2 minutes)."""
    return notifications.requeue_pending()


@shared_task
def create_due_reminders():
    """Write the reminders of appointments that start within the lead time (every 5 minutes)."""
    return services.create_due_reminders()


@shared_task
def mark_no_shows():
    """Mark bookings still booked after their office-day as no-shows (every 15 minutes)."""
    return services.mark_due_no_shows()
