"""A real browser, end to end at the office: a clerk checks two applicants in, two clerks call
them from their counters, and the waiting room's TV shows each number at its counter.

Drives Debian's Chromium (/usr/bin/chromium) through Playwright against pytest-django's
live server. Screenshots go to a temporary directory (printed with -s).
"""

import pytest

from bookings.models import Visit
from bookings.tests.factories import book_on_wednesday
from bookings.tests.factories import on_wednesday as at
from bookings.tests.public.conftest import CHROMIUM
from bookings.tests.public.test_display import page_url
from offices.models import Counter

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no browser: /usr/bin/chromium is missing"),
]

TODAY_PATH = "/admin/bookings/booking/today/"
CLERK = ["view_booking", "change_booking"]


def sign_in_to(page, counter):
    page.select_option("#counter-choice", label=counter)
    page.click(".staff-counter-choice input[type=submit]")
    page.wait_for_selector("button[value=call_next]")


@pytest.mark.django_db(transaction=True)
def test_two_counters_call_two_applicants_and_the_tv_shows_them(
    live_server, clock, office, clerk_page, browser, screenshots, queued, own_connections,
    plain_http_cookies,
):  # fmt: skip
    clock.now = at(9)
    for name in ("Loket 1", "Loket 2"):
        Counter.objects.create(office=office, name=name)
    bookings = [book_on_wednesday(office) for _ in range(2)]
    tv = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="id-ID")
    display = tv.new_page()
    display.goto(f"{live_server.url}{page_url(office)}")

    ani = clerk_page(office, "ani", CLERK, TODAY_PATH)
    for booking in bookings:
        ani.fill("#id_code", booking.code)
        ani.press("#id_code", "Enter")
        ani.wait_for_selector(".staff-checked-in")
    numbers = list(Visit.objects.order_by("pk").values_list("booking__queue_number", flat=True))
    assert numbers == ["A-001", "A-002"]
    budi = clerk_page(office, "budi", CLERK, TODAY_PATH)
    sign_in_to(ani, "Loket 1")
    sign_in_to(budi, "Loket 2")

    ani.click("button[value=call_next]")
    ani.wait_for_selector(".staff-at-counter")
    budi.click("button[value=call_next]")
    budi.wait_for_selector(".staff-at-counter")

    assert ani.inner_text(".staff-at-counter .queue-number") == "A-001"
    assert budi.inner_text(".staff-at-counter .queue-number") == "A-002"
    screenshots(ani, "counter-called")
    display.wait_for_selector('[data-counter="Loket 1"].display-cue', timeout=8000)
    display.wait_for_selector('[data-counter="Loket 2"].display-cue', timeout=8000)
    tiles = {
        name: display.inner_text(f'[data-counter="{name}"] [data-tile-number]')
        for name in ("Loket 1", "Loket 2")
    }
    assert tiles == {"Loket 1": "A-001", "Loket 2": "A-002"}
    screenshots(display, "tv-two-counters")

    ani.click("button[value=finish]")
    ani.wait_for_selector("button[value=call_next]")
    display.wait_for_function(
        "() => document.querySelector('[data-counter=\"Loket 1\"] [data-tile-number]')"
        ".innerText.trim() === '–'",
        timeout=8000,
    )
    tv.close()
