"""Fixtures shared by the bookings tests: two offices with their staff and users."""

import pytest

from bookings.tests.factories import make_world


@pytest.fixture
def pinned(clock):
    """Staff pages read the pinned clock: its instant."""
    return clock.now


@pytest.fixture
def world(db):
    return make_world()
