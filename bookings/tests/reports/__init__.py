"""Tests of the monthly counts, their page and their exports, on the known data set."""

from bookings.tests.factories import EXPECTED_2017

# The export ends with the waits (median and 90th percentile wait, median service, called, did
# not answer; test_waits.py checks them): the counts are the columns between.
WAIT_COLUMNS = 5

__all__ = ["EXPECTED_2017", "WAIT_COLUMNS"]
