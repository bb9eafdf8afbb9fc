"""Fixtures shared by the bookings tests: two offices with their staff and users."""

import logging
import re

import pytest

from bookings.tests.factories import make_world


@pytest.fixture
def pinned(clock):
    """Staff pages read the pinned clock: its instant."""
    return clock.now


@pytest.fixture
def world(db):
    return make_world()


@pytest.fixture
def sent_codes(monkeypatch, settings, clock, now):
    """The one-time codes handed to Celery, each sent at once by the real task to the
    in-memory SMS backend (the gateway is outside the system); the clock pinned at `now`."""
    from bookings.notifications import sms
    from bookings.notifications.tasks import send_contact_code_task

    clock.now = now
    settings.SMS_BACKEND = "bookings.notifications.sms.MemoryBackend"
    sms.outbox.clear()
    codes = []

    def send(check_id, code):
        codes.append(code)
        assert send_contact_code_task.apply(args=(check_id, code)).successful()

    monkeypatch.setattr(send_contact_code_task, "delay", send)
    return codes


# What a full NIK, an Indonesian mobile number or an e-mail address looks like in a log line.
PERSONAL_DATA = re.compile(
    # `[0-9]`: `\d` would let ١٢٣ through; not after a point: the fraction of a duration.
    r"(?<![0-9.])[0-9]{16}(?![0-9])"
    # A phone; not inside a task's id (a UUID's last group may read 088695215802).
    r"|(?:\+62|(?<![0-9A-Za-z-])08)[0-9]{8,12}(?![0-9A-Za-z])"
    r"|[\w.+-]+@[\w-]+\.[\w.-]+"
)


@pytest.fixture(autouse=True)
def _no_personal_data_in_logs(caplog):
    """Every log line a bookings test writes is read for a full NIK, phone or e-mail."""
    caplog.set_level(logging.INFO)
    yield
    # At teardown caplog.records holds the teardown's records only: read each stage's.
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    leaked = personal_data_in(record.getMessage() for record in records)
    assert not leaked, f"personal data in the log: {leaked}"


def personal_data_in(lines) -> list[str]:
    """Return the lines that show a full NIK, a phone number or an e-mail address."""
    return [line for line in lines if PERSONAL_DATA.search(line)]
