"""Celery's two queues: messages apart from periodic work, and every queue has a consumer."""

import re

import pytest
from django.conf import settings

from antrean import run
from antrean.celery import app
from antrean.tests import BASE_DIR

MESSAGE_TASKS = [
    "bookings.tasks.deliver_notification",
    "bookings.tasks.deliver_notifications",
    "bookings.tasks.split_notifications",
    "bookings.tasks.send_contact_code",
]


def queue_of(task_name):
    """Return the queue Celery's own router sends this task to."""
    return app.amqp.router.route({}, task_name)["queue"].name


@pytest.mark.parametrize("task_name", MESSAGE_TASKS)
def test_every_message_goes_to_the_messages_queue(task_name):
    assert queue_of(task_name) == "messages"


RELAY = "relay-notifications"


@pytest.mark.parametrize("entry", sorted(set(settings.CELERY_BEAT_SCHEDULE) - {RELAY}))
def test_every_task_beat_starts_goes_to_the_periodic_queue(entry):
    assert queue_of(settings.CELERY_BEAT_SCHEDULE[entry]["task"]) == "periodic"


def test_the_outbox_relay_goes_with_the_messages_so_that_no_draw_holds_it_up():
    assert queue_of(settings.CELERY_BEAT_SCHEDULE[RELAY]["task"]) == "messages"


def test_a_draw_handed_on_by_beat_goes_to_the_periodic_queue():
    assert queue_of("bookings.tasks.draw_due_release") == "periodic"


def test_every_task_of_ours_is_in_one_of_the_two_queues():
    app.loader.import_default_modules()
    ours = [name for name in app.tasks if name.startswith("bookings.")]

    assert set(MESSAGE_TASKS) < set(ours)
    assert {queue_of(name) for name in ours} == {"messages", "periodic"}


def worker_queues(command):
    """Return the queues a `celery worker` command line consumes (the default without -Q)."""
    for argument in command:
        if found := re.match(r"--queues[= ](\S+)", argument):
            return set(found[1].split(","))
    return {settings.CELERY_TASK_DEFAULT_QUEUE}


def test_make_run_has_one_worker_consume_both_queues():
    assert worker_queues(run._commands("8000")["worker"]) == {"messages", "periodic"}


def test_the_production_units_consume_both_queues_one_each():
    consumed = {}
    for unit in sorted((BASE_DIR / "deploy" / "systemd").glob("antrean-worker*.service")):
        command = unit.read_text(encoding="utf-8").replace("\\\n", " ")
        start = re.search(r"^ExecStart=(.*)$", command, re.MULTILINE)[1].split()
        consumed[unit.name] = worker_queues(start)

    assert consumed == {
        "antrean-worker.service": {"messages"},
        "antrean-worker-periodic.service": {"periodic"},
    }
