"""Run Celery beat on the app's schedule, the outbox sweep every DRILL_SWEEP_SECONDS instead."""

import os
import sys
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "antrean.settings")

from antrean.celery import app

SWEEP = "requeue-pending-notifications"


def main(argv):
    seconds = int(os.environ.get("DRILL_SWEEP_SECONDS", "15"))
    schedule = dict(app.conf.beat_schedule)
    entry = schedule[SWEEP]
    # As in settings: each run expires when the next is due.
    schedule[SWEEP] = {
        **entry,
        "schedule": timedelta(seconds=seconds),
        "options": {**entry.get("options", {}), "expires": seconds},
    }
    app.conf.beat_schedule = schedule
    app.start(["beat", *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
