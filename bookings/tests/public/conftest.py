"""What the browser tests share: Debian's Chromium driven by Playwright on a phone-sized
screen, screenshots of each step, and the broker kept out (it is outside the system)."""

from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = Path("/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def browser(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls here are synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def phone(browser):
    """Open a new phone-sized browser context (its own cookies) in a language."""
    contexts = []

    def open_phone(locale):
        context = browser.new_context(
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale=locale,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_phone
    for context in contexts:
        context.close()


@pytest.fixture
def screenshots(tmp_path):
    folder = tmp_path / "screenshots"
    folder.mkdir()
    print(f"\nscreenshots: {folder}")
    steps = iter(range(1, 100))

    def shoot(page, name):
        """Save the page one phone screen at a time, as the applicant scrolls through it."""
        step = next(steps)
        height = page.evaluate("document.documentElement.scrollHeight")
        for screen, top in enumerate(range(0, height, PHONE["height"]), start=1):
            clip = {"x": 0, "y": top, "width": PHONE["width"], "height": PHONE["height"]}
            clip["height"] = min(clip["height"], height - top)
            page.screenshot(
                path=folder / f"{step:02d}-{name}-{screen}.png", full_page=True, clip=clip
            )

    return shoot


@pytest.fixture
def queued(monkeypatch):
    """Keep notifications away from the broker (outside the system); record what was queued."""
    sent = []
    monkeypatch.setattr("bookings.notifications.outbox.queue_delivery", sent.extend)
    monkeypatch.setattr("bookings.notifications.outbox.queue_change", sent.extend)
    monkeypatch.setattr("bookings.notifications.outbox.queue_batches", sent.extend)
    return sent


@pytest.fixture
def own_connections():
    """Close the database connections this test opened beside the browser's event loop.

    The ORM calls made while Playwright runs get their own connection, which would
    otherwise stay open and keep PostgreSQL from dropping the test database.
    """
    yield
    connections.close_all()


@pytest.fixture
def plain_http_cookies(settings):
    # The live server speaks plain HTTP; production cookies are Secure-only.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.LANGUAGE_COOKIE_SECURE = False


@pytest.fixture
def clerk_page(live_server, phone):
    """Log a new clerk of an office in on a phone and open a staff page: clerk_page(office,
    username, permissions, path) returns the page, once there."""
    from django.contrib.auth.models import Group, Permission

    from bookings.tests.factories import PASSWORD, make_user
    from offices.access import OFFICE_STAFF_GROUP

    def log_in(office, username, permissions, path, locale="id-ID"):
        # The role a migration made: an earlier test's flush (transaction=True) took it away.
        clerks, _new = Group.objects.get_or_create(name=OFFICE_STAFF_GROUP)
        clerks.permissions.add(
            *Permission.objects.filter(content_type__app_label="bookings", codename__in=permissions)
        )
        make_user(username, group=OFFICE_STAFF_GROUP, offices=[office], password=PASSWORD)
        page = phone(locale)
        page.goto(f"{live_server.url}/admin/login/?next={path}")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"**{path}")
        return page

    return log_in
