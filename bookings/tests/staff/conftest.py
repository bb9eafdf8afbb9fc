"""Fixtures of the staff pages' tests: a clerk of Palembang, logged in."""

import pytest

from bookings.tests.factories import login


@pytest.fixture
def clerk(client, world):
    """The test client, logged in as Palembang's clerk (pages in English)."""
    return login(client, world.clerk)
