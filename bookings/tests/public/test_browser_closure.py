"""A real browser: a clerk closes a flooded day with its preview, and a moved applicant opens
the link of the message on a phone and keeps the new time."""

import re
from datetime import date, time

import pytest

from bookings.models import Booking, ClosureMove, Notification
from bookings.notifications.messages import email_message
from bookings.tests.factories import book
from bookings.tests.public.conftest import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no browser: /usr/bin/chromium is missing"),
]

THURSDAY = date(2017, 9, 7)
REASON = "Banjir di sekitar kantor"


@pytest.mark.django_db(transaction=True)
def test_a_clerk_closes_a_flooded_day_and_a_moved_applicant_keeps_the_new_time_on_a_phone(
    live_server,
    office,
    clock,
    now,
    phone,
    clerk_page,
    screenshots,
    queued,
    plain_http_cookies,
    own_connections,
    settings,
):
    settings.SITE_URL = live_server.url
    siti = book(office, THURSDAY, index=0, now=now, language="id")
    family_friend = book(office, THURSDAY, index=2, now=now, full_name="Budi Santoso")

    # The clerk: the form, the preview (nothing changes yet), then the close.
    clerk = clerk_page(
        office,
        "petugas.banjir",
        ["view_booking", "add_closure", "view_closure", "view_closuremove"],
        "/admin/bookings/booking/close/",
        locale="en-US",
    )
    clerk.fill("#id_day", THURSDAY.isoformat())
    clerk.fill("#id_reason", REASON)
    clerk.click("input[name=preview]")
    clerk.wait_for_selector(".staff-closure-preview")
    preview = clerk.inner_text(".staff-closure-preview")
    assert "Budi Santoso" in preview and "Fri 8 Sep 2017, 08.00–10.00" in preview
    assert Booking.objects.filter(date=THURSDAY, status="booked").count() == 2
    screenshots(clerk, "closure-preview")
    clerk.click("input[name=close]")
    clerk.wait_for_url("**/admin/bookings/closure/*/change/")
    assert "2 applicants moved" in clerk.inner_text("#content-start, body")
    screenshots(clerk, "closure-record")

    # Siti's message, in Indonesian, with its link; she opens it on her phone.
    email = Notification.objects.get(booking=siti, kind="moved", channel="email")
    body = email_message(email).body
    assert REASON in body and "Jumat, 8 September 2017" in body
    link = re.search(r"(http://\S+/bookings/\S+)", body).group(1)
    applicant = phone("id-ID")
    applicant.goto(link)
    applicant.wait_for_selector(".closure-notice")
    notice = applicant.inner_text(".closure-notice")
    assert REASON in notice
    assert applicant.evaluate("document.documentElement.scrollWidth") <= 390
    screenshots(applicant, "moved-booking")
    applicant.locator(".closure-notice form button").click()
    applicant.wait_for_load_state("networkidle")
    screenshots(applicant, "moved-kept")

    assert ClosureMove.objects.get(booking=siti).answer == "kept"
    moved = Booking.objects.get(pk=siti.pk)
    assert (moved.date, moved.window.start, moved.status) == (date(2017, 9, 8), time(8), "booked")
    assert Booking.objects.get(pk=family_friend.pk).window.start == time(13)
    # One e-mail and one SMS each about the move, handed to the broker once this committed.
    told = set(Notification.objects.filter(kind="moved").values_list("pk", flat=True))
    assert len(told) == 4 and told <= {pk for pk, _attempts in queued}
