"""Celery tasks that beat runs: thin wrappers that call the booking and outbox services."""

from celery import shared_task
from django.core.management import call_command

from . import ballots, services
from .notifications import outbox

# Registered with the worker from here, where Celery looks for an app's tasks.
from .notifications.tasks import (  # noqa: F401
    deliver_notification,
    deliver_notifications,
    send_contact_code_task,
    split_notifications,
)


@shared_task
def relay_notifications():
    """Hand to Celery the notifications due: new confirmations, and those lost (every second)."""
    return outbox.relay_due()


@shared_task
def forget_past_applicants():
    """Remove the personal data of appointments RETENTION_DAYS past (once a day)."""
    return services.forget_past_applicants()


@shared_task
def clear_expired_sessions():
    """Delete the sessions that have expired, with what they held (once a day)."""
    call_command("clearsessions")


@shared_task
def create_due_reminders():
    """Write the reminders of appointments that start within the lead time (every 5 minutes)."""
    return services.create_due_reminders()


@shared_task
def mark_no_shows():
    """Mark bookings still booked after their office-day as no-shows (every 15 minutes)."""
    return services.mark_due_no_shows()


# A draw handed on and not started within the minute is dropped: the next run hands it on
# again, so workers that are down do not come back to a pile of the same draws.
DRAW_HANDOFF_SECONDS = 60


@shared_task
def run_due_ballots():
    """Close the ballots whose entries are over and hand each due draw to a task of its own
    (every minute)."""
    return ballots.run_due(
        draw_apart=lambda pk: draw_due_release.apply_async((pk,), expires=DRAW_HANDOFF_SECONDS)
    )


@shared_task(acks_late=True)
def draw_due_release(release_id):
    """Draw one due release: offices side by side on the workers, one failing alone.
    Drawing twice (a retry, a second beat) draws once."""
    return ballots.draw_due(release_id)


@shared_task
def lapse_unconfirmed():
    """Free the places of new bookings, and withdraw the ballot entries, whose contact was not
    confirmed in time (every minute); the next run of the ballots offers freed places to a
    waiting list."""
    return services.lapse_unconfirmed() + ballots.lapse_unconfirmed_entries()
