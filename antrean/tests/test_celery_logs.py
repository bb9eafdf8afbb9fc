"""The relay's every-second lines stay out of the worker's and beat's logs; the rest stay in."""

import logging

import pytest
from celery import beat
from celery.app import trace

from antrean.celery import BEAT_SENDING, RELAY_TASK

OTHER_TASK = "bookings.tasks.create_due_reminders"


@pytest.fixture
def logged(caplog):
    caplog.set_level(logging.INFO)
    return caplog


def worker_lines(task, returned):
    # As a worker logs a task it took and ran (celery.worker.strategy, celery.app.trace).
    trace.info(trace.LOG_RECEIVED, {"id": "1", "name": task, "args": "()", "kwargs": "{}"})
    context = {"id": "1", "name": task, "return_value": returned, "runtime": 0.003}
    trace.info(trace.LOG_SUCCESS, {**context, "args": "()", "kwargs": "{}"})


def test_a_relay_that_found_nothing_writes_no_line(logged):
    beat.info(BEAT_SENDING, "relay-notifications", RELAY_TASK)
    worker_lines(RELAY_TASK, "0")
    assert logged.records == []


def test_a_relay_that_handed_rows_on_says_how_many(logged):
    worker_lines(RELAY_TASK, "1042")
    assert [r.getMessage() for r in logged.records] == [
        f"Task {RELAY_TASK}[1] succeeded in 0.003s: 1042"
    ]


def test_other_tasks_and_failures_log_as_before(logged):
    beat.info(BEAT_SENDING, "create-due-reminders", OTHER_TASK)
    worker_lines(OTHER_TASK, "0")
    trace.logger.error(
        trace.LOG_FAILURE,
        {
            "id": "1",
            "name": RELAY_TASK,
            "description": "raised unexpected",
            "exc": "OperationalError()",
        },
    )
    assert [r.getMessage() for r in logged.records] == [
        f"Scheduler: Sending due task create-due-reminders ({OTHER_TASK})",
        f"Task {OTHER_TASK}[1] received",
        f"Task {OTHER_TASK}[1] succeeded in 0.003s: 0",
        f"Task {RELAY_TASK}[1] raised unexpected: OperationalError()",
    ]
