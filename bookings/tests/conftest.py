"""Fixtures shared by the staff-side tests: the offices and users, and a pinned clock."""

import pytest

from bookings.tests.staff import make_world


@pytest.fixture
def pinned(monkeypatch, now):
    """Pin the staff pages' clock to the shared FIXED_NOW."""
    from bookings import staff_views

    monkeypatch.setattr(staff_views, "clock", lambda: now)
    return now


@pytest.fixture
def world(db):
    return make_world()
