"""Tests of the monthly counts, their page and their exports, on the known data set."""

from bookings.tests.factories import EXPECTED_2017

__all__ = ["EXPECTED_2017"]
