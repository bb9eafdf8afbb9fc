"""A real Celery worker on the real Redis broker: confirmations arrive once, even after an outage.

The worker is a separate process, so it needs a database both it and the test can see:
these tests run on PostgreSQL (with CELERY_BROKER_URL=redis://...) and skip on SQLite.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from bookings import ballots, tasks
from bookings.models import Booking, Notification
from bookings.notifications import outbox
from bookings.notifications.outbox import relay_due
from bookings.services import create_booking
from bookings.tests.factories import BALLOT_MONDAY, book_group, make_applicant, make_release
from offices.models import Office
from offices.tests.factories import OfficeFactory

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(240),
]

BASE_DIR = Path(settings.BASE_DIR)
WEDNESDAY = date(2017, 9, 6)
STEP = 60  # seconds any one step may take before the test fails


def wait_for(condition, what, *, log=None):
    deadline = time.monotonic() + STEP
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    detail = f"\n--- worker log ---\n{log.read_text(errors='replace')}" if log else ""
    pytest.fail(f"waited {STEP} s for {what}{detail}")


def shared_database_url():
    db = connection.settings_dict  # NAME is the test database here ("test_" + NAME)
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@dataclass
class Worker:
    mail_dir: Path
    log: Path

    def mails_to(self, address):
        """Return how many e-mails the worker wrote to this address."""
        return sum(
            path.read_text(errors="replace").count(f"\nTo: {address}\n")
            for path in self.mail_dir.glob("*")
        )


@pytest.fixture(scope="module")
def worker(django_db_setup, tmp_path_factory):
    if connection.vendor == "sqlite":
        pytest.skip(
            "the worker is another process: it needs PostgreSQL, not an SQLite test database"
        )
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.fail("run these tests with CELERY_BROKER_URL=redis://... (the real broker)")
    folder = tmp_path_factory.mktemp("worker")
    mail_dir, log = folder / "mail", folder / "worker.log"
    mail_dir.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": shared_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "EMAIL_URL": "",
        "EMAIL_FILE_PATH": str(mail_dir),
        "SMS_BACKEND": "bookings.notifications.sms.FileBackend",
        "SMS_FILE_PATH": str(folder / "sms"),
        "CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "antrean", "worker", "--pool=solo",
        "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
        "--purge", f"--hostname=test-{os.getpid()}@%h",
    ]  # fmt: skip
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        wait_for(
            lambda: process.poll() is not None or " ready." in log.read_text(errors="replace"),
            "the worker to start",
            log=log,
        )
        if process.poll() is not None:
            pytest.fail(f"the worker exited:\n{log.read_text(errors='replace')}")
        yield Worker(mail_dir=mail_dir, log=log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def book(office, *, email, now):
    window = office.windows.get(weekday=WEDNESDAY.weekday(), start__hour=8)
    return create_booking(
        office=office,
        day=WEDNESDAY,
        window=window,
        applicant=make_applicant(email=email, phone=""),
        now=now,
    )


def status(booking):
    return Notification.objects.get(booking=booking, kind="confirmation", channel="email").status


def test_a_booking_confirmation_arrives_once_through_the_worker(worker, now):
    office = OfficeFactory(code="palembang", timezone="Asia/Jakarta")

    booking = book(office, email="once@example.com", now=now)
    tasks.relay_notifications.delay()  # as beat sends it every second; the worker relays
    wait_for(lambda: worker.mails_to("once@example.com"), "the confirmation", log=worker.log)

    # The same message again, as Redis hands it out once more when a worker dies before its
    # acknowledgement; then a second booking, which the one worker handles after it.
    notification = Notification.objects.get(booking=booking, channel="email")
    tasks.deliver_notification.delay(notification.pk, 0)
    book(office, email="after@example.com", now=now)
    tasks.relay_notifications.delay()
    wait_for(lambda: worker.mails_to("after@example.com"), "the second booking", log=worker.log)

    assert worker.mails_to("once@example.com") == 1
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("sent", 1)
    assert booking.code in "".join(p.read_text() for p in worker.mail_dir.glob("*"))


def test_a_group_confirmation_arrives_once_naming_every_member(worker, now):
    office = OfficeFactory(code="palembang", timezone="Asia/Jakarta")

    members = book_group(office, WEDNESDAY, 3, now=now, email="family@example.com", phone="")
    group = members[0].group
    tasks.relay_notifications.delay()
    wait_for(lambda: worker.mails_to("family@example.com"), "the confirmation", log=worker.log)

    assert worker.mails_to("family@example.com") == 1
    mail = "".join(p.read_text() for p in worker.mail_dir.glob("*") if "family@" in p.read_text())
    for code in [group.code, *(member.code for member in members)]:
        assert code in mail
    notification = Notification.objects.get(group=group, channel="email")
    assert (notification.status, notification.attempts) == ("sent", 1)
    assert not Notification.objects.filter(booking__in=members).exists()


def test_a_draws_confirmations_arrive_once_each_through_one_message_a_worker_splits(worker):
    """More messages than a delivery batch holds: the draw publishes them as one message and
    the worker splits it into delivery batches; every winner hears once."""
    office = OfficeFactory(release_mode=Office.ReleaseMode.BALLOT)
    release = make_release(office)
    during = release.opens_at + timedelta(hours=1)
    entrants = outbox.QUEUE_BATCH // 2 + 10  # an e-mail and an SMS each: over one batch
    for number in range(entrants):
        ballots.enter(
            release=release,
            applicants=[make_applicant(email=f"draw{number}@example.com")],
            preferences=[(BALLOT_MONDAY, None)],
            now=during,
        )
    ballots.close_release(release=release, now=release.closes_at)

    ballots.draw_release(release=release, public_value="7310.52", now=release.draw_at)

    sent = Notification.objects.filter(booking__office=office, kind="confirmation")
    assert sent.count() == 2 * entrants > outbox.QUEUE_BATCH
    wait_for(lambda: not sent.exclude(status="sent").exists(), "every confirmation", log=worker.log)
    assert [worker.mails_to(f"draw{n}@example.com") for n in range(entrants)] == [1] * entrants
    assert "bookings.tasks.split_notifications" in worker.log.read_text(errors="replace")


# Booking while the broker cannot be reached: in another process, whose broker is dead.

BOOK_WITH_ANOTHER_BROKER = """
import json, sys, time
import django
django.setup()
from datetime import date, datetime
from bookings.services import create_booking
from bookings.tests.factories import book_group, make_applicant
from offices.models import Office, ServiceWindow
args = json.loads(sys.argv[1])
started = time.monotonic()
booking = create_booking(
    office=Office.objects.get(pk=args["office"]),
    day=date.fromisoformat(args["day"]),
    window=ServiceWindow.objects.get(pk=args["window"]),
    applicant=make_applicant(email=args["email"], phone=""),
    now=datetime.fromisoformat(args["now"]),
)
print(json.dumps({"code": booking.code, "seconds": time.monotonic() - started}))
"""


@pytest.fixture
def silent_broker():
    """A Redis address that accepts connections and never answers: a hung or cut-off broker."""
    server = socket.create_server(("127.0.0.1", 0))
    held, stop = [], threading.Event()

    def accept():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    thread.join(timeout=10)
    for client in held:
        client.close()
    server.close()


@pytest.mark.parametrize("broker", ["refused", "silent"])
def test_a_booking_confirmed_at_once_never_waits_on_the_broker_its_message_goes_later(
    worker, now, broker, silent_broker
):
    office = OfficeFactory(code="palembang", timezone="Asia/Jakarta")
    window = office.windows.get(weekday=WEDNESDAY.weekday(), start__hour=8)
    email = f"outage-{broker}@example.com"
    dead = "redis://127.0.0.1:1/0" if broker == "refused" else silent_broker
    args = {
        "office": office.pk,
        "window": window.pk,
        "day": WEDNESDAY.isoformat(),
        "now": now.isoformat(),
        "email": email,
    }
    # The booking is confirmed at once, as in the other tests: its confirmation is the message.
    env = {
        **os.environ,
        "DATABASE_URL": shared_database_url(),
        "CELERY_BROKER_URL": dead,
        "CONTACT_CONFIRMATION": "0",
    }

    done = subprocess.run(
        [sys.executable, "-c", BOOK_WITH_ANOTHER_BROKER, json.dumps(args)],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=STEP,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    # The booking leaves its confirmation to the relay: it never asks the dead broker (whose
    # connect and read timeouts, 1 s and 2 s, would otherwise bound the wait).
    assert result["seconds"] < 1
    assert "not queued" not in done.stderr
    booking = Booking.objects.get(code=result["code"])
    assert booking.status == Booking.Status.BOOKED
    assert booking.nik not in done.stderr
    assert status(booking) == "pending"

    # The relay hands it to the broker (this process's, the real one) and the worker sends it.
    assert relay_due(now=timezone.now()) >= 1
    wait_for(lambda: status(booking) == "sent", "the worker to send it", log=worker.log)
    assert worker.mails_to(email) == 1
