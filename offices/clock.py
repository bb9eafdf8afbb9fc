"""The one clock: the current instant, and the date it is at an office (WIB, WITA or WIT).

Pages, staff pages, admin and tasks read the time here; services take `now=` and default
to it. Tests pin it in one place: the `clock` fixture of the root conftest.py.
"""

from django.utils import timezone


def now():
    """Return the current instant, aware."""
    return timezone.now()


def office_today(office, at=None):
    """Return the office's own date at the instant `at` (default: now)."""
    return office.today(at or now())
