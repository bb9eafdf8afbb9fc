"""The Celery app, configured from Django settings under the CELERY_ namespace."""

import logging
import os

from celery import Celery
from celery.app.trace import LOG_RECEIVED, LOG_SUCCESS

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "antrean.settings")

app = Celery("antrean")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The outbox relay beat starts every second (bookings.tasks.relay_notifications).
RELAY_TASK = "bookings.tasks.relay_notifications"
BEAT_SENDING = "Scheduler: Sending due task %s (%s)"  # celery.beat's line, word for word


class QuietRelay(logging.Filter):
    """Drop the three INFO lines a second of a relay that found nothing to hand on: beat's
    "Sending due task", the worker's "received" and its "succeeded ...: 0". A relay that
    handed rows on still logs how many; a failure, a retry, any other task log as before."""

    def filter(self, record):
        if record.levelno != logging.INFO:
            return True
        args = record.args
        if record.msg == BEAT_SENDING:
            return not (isinstance(args, tuple) and args[-1:] == (RELAY_TASK,))
        if record.msg in (LOG_RECEIVED, LOG_SUCCESS) and isinstance(args, dict):
            return not (args.get("name") == RELAY_TASK and args.get("return_value", "0") == "0")
        return True


for _name in ("celery.beat", "celery.worker.strategy", "celery.app.trace"):
    logging.getLogger(_name).addFilter(QuietRelay())
