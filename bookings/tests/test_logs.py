"""The log scan that every bookings test runs (conftest.py) finds what it must, and only that."""

import pytest

from bookings.tests.conftest import personal_data_in


@pytest.mark.parametrize(
    "line",
    [
        "booking for 1671015705900001 failed",
        "SMS to +6281234567890 refused",
        "SMS to 081234567890 refused",
        "mail to siti.aminah@example.com bounced",
    ],
)
def test_a_line_with_personal_data_is_found(line):
    assert personal_data_in([line]) == [line]


@pytest.mark.parametrize(
    "line",
    [
        "notification 12 attempt 3 failed: SMTPServerDisconnected",
        "booking 4HVGSMCTTD for 1671••••••••0001 checked in",
        "notifications 1, 2 not queued (OperationalError('Error 111 connecting to 127.0.0.1'))",
        "development backend in use: a SQLite file (set DATABASE_URL)",
        "took 17167101 microseconds",
        "Task bookings.tasks.send_contact_code[1db51172-1b7c-4fa2-a150-088695215802] succeeded",
        "Task bookings.tasks.deliver[1db51172-1b7c-4fa2-a150-0812345678ab] succeeded in 0.0012s",
    ],
)
def test_a_line_without_personal_data_passes(line):
    assert personal_data_in([line]) == []
