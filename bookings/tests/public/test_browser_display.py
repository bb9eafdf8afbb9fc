"""A real browser on a TV-sized screen: the waiting-room display follows the counters' calls
without reloading, cues the tile called, survives a lost connection and fits one screen.

Drives Debian's Chromium (/usr/bin/chromium) through Playwright against pytest-django's
live server. Screenshots go to a temporary directory (printed with -s).
"""

import pytest
from playwright.sync_api import expect

from bookings.queue import calls
from bookings.tests.factories import arrive_on_wednesday as arrive
from bookings.tests.factories import call, open_counter
from bookings.tests.factories import on_wednesday as at
from bookings.tests.public.conftest import CHROMIUM
from bookings.tests.public.test_display import page_url

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no browser: /usr/bin/chromium is missing"),
]

FULL_HD = {"width": 1920, "height": 1080}
HD = {"width": 1280, "height": 720}


@pytest.fixture
def tv(browser):
    """Open a new TV-sized browser context: tv(viewport, **options) returns its page, with the
    console's errors (a CSP refusal among them) gathered in page.errors."""
    contexts = []

    def open_tv(viewport, **options):
        context = browser.new_context(viewport=viewport, locale="id-ID", **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        return page

    yield open_tv
    for context in contexts:
        context.close()


@pytest.fixture
def shots(tmp_path):
    folder = tmp_path / "display"
    folder.mkdir()
    print(f"\nscreenshots: {folder}")
    return folder


def tile(page, counter):
    return page.locator(f'[data-counter="{counter}"]')


def fits_the_screen(page):
    return page.evaluate(
        "() => document.documentElement.scrollHeight <= window.innerHeight"
        " && document.documentElement.scrollWidth <= window.innerWidth"
    )


@pytest.mark.django_db(transaction=True)
def test_the_display_follows_the_calls_on_a_tv(
    live_server, clock, office, tv, shots, queued, own_connections
):
    clock.now = at(9)
    loket1 = open_counter(office, "Loket 1", "ani")
    loket2 = open_counter(office, "Loket 2", "budi")
    numbers = [arrive(office, at(8, minute)).queue_number for minute in range(5)]
    page = tv(FULL_HD)
    page.goto(f"{live_server.url}{page_url(office)}")
    assert page.get_attribute("html", "lang") == "id"
    assert tile(page, "Loket 1").locator("[data-tile-number]").inner_text() == "–"
    page.evaluate("() => { window.sameDocument = true; }")

    first, second = call(loket1, at(9)), call(loket2, at(9))

    # Both numbers reach their counters within a poll or two, each tile cued.
    page.wait_for_selector('[data-counter="Loket 1"].display-cue', timeout=8000)
    page.wait_for_selector('[data-counter="Loket 2"].display-cue', timeout=8000)
    assert tile(page, "Loket 1").locator("[data-tile-number]").inner_text() == first
    assert tile(page, "Loket 2").locator("[data-tile-number]").inner_text() == second
    assert page.locator("[data-upcoming] li").all_inner_texts() == numbers[2:]
    assert page.locator("[data-waiting]").inner_text() == "3"
    assert page.evaluate("() => window.sameDocument") is True  # not reloaded
    # The announcement is emptied, then written 100 ms later, so that a screen reader speaks
    # it again: wait for it rather than read it at once.
    expect(page.locator("[data-announcer]")).to_contain_text(first, timeout=2000)
    page.screenshot(path=shots / "01-1920x1080-called.png")

    # The cue fades; a recall lights the same tile again.
    page.wait_for_selector('[data-counter="Loket 1"]:not(.display-cue)', timeout=8000)
    calls.recall(counter=loket1, by=loket1.clerk)
    page.wait_for_selector('[data-counter="Loket 1"].display-cue', timeout=8000)
    page.wait_for_selector(".display-cue", state="detached", timeout=8000)
    page.screenshot(path=shots / "02-1920x1080-settled.png")

    assert page.errors == []  # nothing refused by the CSP, no script error

    # A lost connection is shown and the display carries on once it is back.
    page.route("**/display.json", lambda route: route.abort())
    page.wait_for_selector("[data-offline]", state="visible", timeout=10_000)
    page.screenshot(path=shots / "03-1920x1080-offline.png")
    page.unroute("**/display.json")
    calls.start(counter=loket2, by=loket2.clerk, now=at(9, 1))
    page.wait_for_selector("[data-offline]", state="hidden", timeout=20_000)
    serving = page.get_attribute("body", "data-label-serving")
    assert tile(page, "Loket 2").locator("[data-tile-state]").inner_text() == serving
    assert fits_the_screen(page)


@pytest.mark.django_db(transaction=True)
def test_eight_counters_and_six_next_numbers_fit_a_small_tv(
    live_server, clock, office, tv, shots, queued, own_connections
):
    clock.now = at(9)
    counters = [open_counter(office, f"Loket {n}", f"clerk{n}") for n in range(1, 8)]
    counters.append(open_counter(office, "Loket Prioritas", "clerk8"))
    for minute in range(20):
        arrive(office, at(8, minute))
    for counter in counters[:6]:
        call(counter, at(9))
    page = tv(HD, reduced_motion="reduce")
    page.goto(f"{live_server.url}{page_url(office)}")

    assert page.locator(".display-tile").count() == 8
    assert page.locator("[data-upcoming] li").count() == 6
    assert fits_the_screen(page)
    numbers = page.locator("[data-tile-number]").all()
    assert all(n.evaluate("e => e.scrollWidth <= e.clientWidth") for n in numbers)
    page.screenshot(path=shots / "04-1280x720-eight-counters.png")

    # Without motion the cue is a steady highlight.
    call(counters[6], at(9, 1))
    page.wait_for_selector('[data-counter="Loket 7"].display-cue', timeout=8000)
    animation = tile(page, "Loket 7").evaluate("e => getComputedStyle(e).animationName")
    assert animation == "none"
    page.screenshot(path=shots / "05-1280x720-reduced-motion-cue.png")
    assert page.errors == []
