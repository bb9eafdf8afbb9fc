"""Shared fixtures: the one pinned clock, an office with windows, a clean cache per test."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import caches
from django.db import connection
from django.utils import timezone

from offices.tests.factories import OfficeFactory

# Tuesday 5 September 2017, 09:00 WIB: Palembang's first month of online queues.
FIXED_NOW = datetime(2017, 9, 5, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta"))


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    """Serve static files without collectstatic's manifest, which a fresh clone has not built."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with empty caches: the availability entries and the rate limits."""
    for each in caches.all():
        each.clear()
    yield
    for each in caches.all():
        each.clear()


@pytest.fixture(autouse=True)
def _no_contact_limit(settings, request):
    """Most tests book many times with the factories' one contact: the limit per contact is
    off, as in the bench, except in the tests that hold it (marked contact_limit)."""
    if not request.node.get_closest_marker("contact_limit"):
        settings.BOOKINGS_PER_CONTACT = 0


@pytest.fixture(autouse=True)
def _no_contact_confirmation(settings, request):
    """Most tests look at what follows a booking: they book with the contact confirmed at
    once (CONTACT_CONFIRMATION off, as in the bench), except those marked
    contact_confirmation, which type the code back."""
    settings.CONTACT_CONFIRMATION = bool(request.node.get_closest_marker("contact_confirmation"))


@pytest.fixture
def now():
    return FIXED_NOW


class Clock:
    """The pinned instant; set `now` to move it."""

    def __init__(self, now):
        self.now = now


@pytest.fixture
def clock(monkeypatch, now):
    """Pin the time at FIXED_NOW for offices.clock and Django alike (auto_now fields too)."""
    pinned = Clock(now)
    monkeypatch.setattr(timezone, "now", lambda: pinned.now)
    return pinned


@pytest.fixture
def office(db):
    return OfficeFactory(code="palembang", city="Palembang", timezone="Asia/Jakarta")


@pytest.fixture
def tomorrow(now):
    return (now + timedelta(days=1)).date()


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://... (as .ci/run does)")


@pytest.fixture(autouse=True)
def _no_proof_of_work(settings, request):
    """Only the tests marked proof_of_work solve the ALTCHA challenge; elsewhere booking and
    entering ask none, as with RATELIMIT_ENABLE=0 in the bench."""
    settings.PROOF_OF_WORK = bool(request.node.get_closest_marker("proof_of_work"))
