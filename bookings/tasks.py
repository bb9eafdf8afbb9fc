"""Celery tasks: thin wrappers that call the notification and booking services."""

from celery import shared_task

from . import notifications, services


@shared_task(bind=True, max_retries=None, acks_late=True)
def deliver_notification(self, notification_id):
    """Send one notification once; retry with back-off on failure."""
    retry_in = notifications.deliver(notification_id)
    if retry_in is not None:
        raise self.retry(countdown=retry_in)


@shared_task
def requeue_pending_notifications():
    """Queue again the notifications still pending after the grace period."""
    return notifications.requeue_pending()


@shared_task
def create_due_reminders():
    """Write the reminders of appointments that start within the lead time."""
    return services.create_due_reminders()


@shared_task
def mark_no_shows():
    """Mark bookings still booked after their office-day as no-shows."""
    return services.mark_due_no_shows()
