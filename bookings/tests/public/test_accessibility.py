"""Accessibility in a real browser: axe-core finds nothing serious on any applicant or staff
page in either language, a booking is made with the keyboard alone, and no applicant page
scrolls sideways at 320 CSS pixels or at 200% zoom.

Drives Debian's Chromium (/usr/bin/chromium) through Playwright against pytest-django's live
server; axe-core is the copy axe-playwright-python ships (no network). 200% zoom is a 640 CSS
pixel viewport drawn at a device scale factor of 2: what Chromium's own zoom makes of a
1280-pixel window, media queries included (CSS `zoom` would leave them at 1280).
"""

import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import Group, Permission

from bookings.models import Booking, Visit
from bookings.notifications.links import booking_token
from bookings.queue.turn import turn_token
from bookings.tests.factories import (
    PASSWORD,
    arrive_on_wednesday,
    book_group,
    make_nik,
    make_release,
    make_user,
)
from bookings.tests.factories import on_wednesday as at
from bookings.tests.public.conftest import CHROMIUM
from bookings.tests.public.test_browser import fill_in_siti
from offices.access import OFFICE_STAFF_GROUP
from offices.models import Counter, Office, PassportFee
from offices.tests.factories import OfficeFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no browser: /usr/bin/chromium is missing"),
]

# WCAG 2.2 A and AA as axe-core tags them; best practices (landmarks, headings) ride along,
# but only a serious or critical finding fails a page.
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}
FAILING = {"serious", "critical"}
NARROW = {"width": 320, "height": 720}  # WCAG 1.4.10: 1280 px at 400%
ZOOMED = {"width": 640, "height": 720}  # 1280 px at 200%, with device_scale_factor=2
LANGUAGES = ["id-ID", "en-US"]
CLERK = ["view_booking", "change_booking", "add_booking"]

axe = Axe()


def serious_violations(page) -> list[str]:
    """Run axe-core on the page as it stands: one line per serious or critical violation."""
    found = axe.run(page, options=AXE_OPTIONS).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in found
        if v["impact"] in FAILING
    ]


def scrolls_sideways(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


class Audit:
    """What the pages visited got wrong, page by page: axe's findings, sideways scrolling."""

    def __init__(self):
        self.problems = {}
        self.seen = []

    def check(self, page, name, *, reflow=True):
        """Audit the page now shown at 320 px and at 200% zoom, then leave it at 320 px."""
        self.seen.append(name)
        found = serious_violations(page)
        if reflow:
            for label, viewport in (("320 px", NARROW), ("200% zoom", ZOOMED)):
                page.set_viewport_size(viewport)
                if scrolls_sideways(page):
                    found.append(f"scrolls sideways at {label}")
            page.set_viewport_size(NARROW)
        if found:
            self.problems[name] = found

    def report(self) -> str:
        return "\n".join(
            f"{name}: {line}" for name, lines in self.problems.items() for line in lines
        )


@pytest.fixture
def narrow(browser):
    """Open a context 320 CSS px wide at a device scale factor of 2, in a language."""
    contexts = []

    def open_narrow(locale):
        context = browser.new_context(viewport=NARROW, device_scale_factor=2, locale=locale)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_narrow
    for context in contexts:
        context.close()


def ballot_office(now):
    """An office that gives its places out by ballot, entries open from `now`."""
    makassar = OfficeFactory(
        code="makassar",
        name="Kanim Makassar",
        city="Makassar",
        timezone="Asia/Makassar",
        release_mode=Office.ReleaseMode.BALLOT,
    )
    today = makassar.today(now)
    monday = today + timedelta(days=14 - today.weekday())
    return make_release(makassar, monday, monday + timedelta(days=4), opens_at=now)


@pytest.mark.parametrize("locale", LANGUAGES)
@pytest.mark.django_db(transaction=True)
def test_every_applicant_page_passes_axe_and_reflows(
    live_server, clock, office, narrow, locale, queued, plain_http_cookies, own_connections
):
    # Tuesday 5 September 2017 09:00 WIB (the pinned clock): Wednesday is the first free day.
    PassportFee.objects.get_or_create(passport_type="ordinary", defaults={"amount": 350000})
    release = ballot_office(clock.now)
    friday = at(8).date() + timedelta(days=2)
    group = book_group(office, friday, now=clock.now)[0].group
    audit = Audit()
    page = narrow(locale)
    url = live_server.url

    page.goto(f"{url}/")
    audit.check(page, "home")
    page.goto(f"{url}/offices/{office.code}/")
    audit.check(page, "office calendar")
    page.locator("td.day-open a").first.click()
    page.wait_for_url(f"**/offices/{office.code}/*/")
    audit.check(page, "day")
    page.locator("a.window-choice").first.click()
    page.wait_for_url("**/book/")
    audit.check(page, "booking form")
    form_url = page.url

    page.locator("main form button[type=submit]").click()
    page.wait_for_selector("#error-summary")
    audit.check(page, "booking form with errors")
    nik = make_nik()
    fill_in_siti(page, nik)
    page.check("#id_application_type_0")
    page.check("#id_passport_type_0")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/check/")
    audit.check(page, "check your answers")
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector(".booking-code")
    audit.check(page, "booking")

    code = Booking.objects.get(nik=nik).code
    for name, path in [
        ("cancel", f"/bookings/{code}/cancel/"),
        ("reschedule", f"/bookings/{code}/reschedule/"),
        ("look-up", "/bookings/lookup/"),
        ("group page", f"/groups/{group.code}/?t={booking_token(group)}"),
        ("ballot", f"/ballots/{release.pk}/"),
        ("ballot entry form", f"/ballots/{release.pk}/enter/"),
    ]:
        assert page.goto(f"{url}{path}").ok, path
        assert urlsplit(page.url).path == urlsplit(path).path, path  # not sent elsewhere
        audit.check(page, name)

    page.goto(form_url)
    page.locator("main input[name=add]").click()
    page.wait_for_selector("#id_applicant2-nik")
    audit.check(page, "group booking form")

    # Wednesday at the office: a ticket's turn page, and the waiting room's TV.
    clock.now = at(9)
    visit = Visit.objects.get(booking=arrive_on_wednesday(office, at(7, 30)))
    assert page.goto(f"{url}/queue/{turn_token(visit)}/").ok
    audit.check(page, "turn")
    assert page.goto(f"{url}/offices/{office.code}/display/").ok
    audit.check(page, "waiting-room display", reflow=False)  # a TV's page, drawn for 16:9

    assert len(audit.seen) == 16
    assert audit.problems == {}, audit.report()


@pytest.mark.parametrize("locale", LANGUAGES)
@pytest.mark.django_db(transaction=True)
def test_the_staff_pages_pass_axe(
    live_server, clock, office, narrow, locale, queued, plain_http_cookies, own_connections
):
    clock.now = at(9)
    Counter.objects.create(office=office, name="Loket 1")
    arrive_on_wednesday(office, at(7, 30))
    clerks, _new = Group.objects.get_or_create(name=OFFICE_STAFF_GROUP)
    clerks.permissions.add(
        *Permission.objects.filter(content_type__app_label="bookings", codename__in=CLERK)
    )
    make_user("petugas.axe", group=OFFICE_STAFF_GROUP, offices=[office], password=PASSWORD)
    audit = Audit()
    page = narrow(locale)
    url = live_server.url

    page.goto(f"{url}/admin/login/?next=/admin/bookings/booking/today/")
    audit.check(page, "log-in", reflow=False)
    page.fill("#id_username", "petugas.axe")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/bookings/booking/today/")
    page.select_option("#counter-choice", label="Loket 1")
    page.click(".staff-counter-choice input[type=submit]")
    page.wait_for_selector("button[value=call_next]")
    audit.check(page, "today, signed in to a counter", reflow=False)
    page.click("button[value=call_next]")
    page.wait_for_selector(".staff-at-counter")
    audit.check(page, "today, an applicant called", reflow=False)
    for name, path in [
        ("walk-in", "/admin/bookings/booking/walk-in/"),
        ("monthly report", "/admin/reports/monthly/"),
    ]:
        assert page.goto(f"{url}{path}").ok, path
        audit.check(page, name, reflow=False)

    assert audit.problems == {}, audit.report()


def tab_to(page, selector, *, presses=60) -> list[str]:
    """Press Tab until the focus is on an element matching the selector; every element that
    takes the focus on the way must show it (an outline or a ring)."""
    hidden_focus = []
    for _press in range(presses):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """(selector) => {
                const el = document.activeElement, style = getComputedStyle(el);
                // Not :focus while the focus is on a part of the field's own (a date field's
                // calendar button): the browser draws that part's ring itself.
                const shown = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
                    || style.boxShadow !== 'none' || !el.matches(':focus');
                return {match: el.matches(selector), shown, name: el.id || el.name || el.tagName};
            }""",
            selector,
        )
        if not focused["shown"]:
            hidden_focus.append(focused["name"])
        if focused["match"]:
            return hidden_focus
    raise AssertionError(f"{presses} presses of Tab never reached {selector}")


@pytest.mark.django_db(transaction=True)
def test_a_booking_made_with_the_keyboard_alone(
    live_server, clock, office, phone, queued, plain_http_cookies, own_connections
):
    PassportFee.objects.get_or_create(passport_type="ordinary", defaults={"amount": 350000})
    nik = make_nik(date(1990, 5, 5))
    page = phone("id-ID")
    page.goto(f"{live_server.url}/offices/{office.code}/")
    unseen = tab_to(page, "a.skip-link", presses=1)  # the first Tab
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    unseen += tab_to(page, "td.day-open a")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/offices/{office.code}/*/")
    unseen += tab_to(page, "a.window-choice")
    page.keyboard.press("Enter")
    page.wait_for_url("**/book/")

    unseen += tab_to(page, "#id_nik")
    page.keyboard.type(nik)
    for field, presses, typed in [
        ("#id_full_name", 1, "Siti Aminah"),
        # The date field's parts in the order the browser's own language puts them: the 5th
        # of May reads the same either way. The calendar button after them takes a Tab.
        ("#id_birth_date", 1, "05051990"),
        ("#id_phone", 2, "0812 3456 7890"),
        ("#id_email", 1, "siti@example.com"),
    ]:
        unseen += tab_to(page, field, presses=presses)
        page.keyboard.type(typed)
    assert page.input_value("#id_birth_date") == "1990-05-05"
    for group in ("purpose", "application_type", "passport_type"):
        # A radio group takes one Tab; the arrows move within it, Space picks.
        unseen += tab_to(page, f"#id_{group}_0", presses=1)
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowUp")
        page.keyboard.press("Space")
        assert page.is_checked(f"#id_{group}_0")
    unseen += tab_to(page, "main form button[type=submit]", presses=1)
    page.keyboard.press("Enter")

    page.wait_for_url("**/check/")
    unseen += tab_to(page, "main form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector(".booking-code")
    booking = Booking.objects.get(nik=nik)
    assert page.inner_text(".booking-code").strip() == booking.code
    assert booking.status == Booking.Status.BOOKED
    assert unseen == []  # every stop on the way showed where the focus was


@pytest.mark.django_db(transaction=True)
def test_every_page_has_an_icon_and_public_pages_a_description(
    live_server, office, narrow, plain_http_cookies, own_connections
):
    page = narrow("en-US")
    missing = []
    page.on("response", lambda response: response.status == 404 and missing.append(response.url))
    for path in ("/", f"/offices/{office.code}/", "/bookings/lookup/"):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        assert len(page.get_attribute("meta[name=description]", "content")) > 80, path
        icon = page.get_attribute("link[rel=icon]", "href")
        assert page.request.get(f"{live_server.url}{icon}").ok, path
    page.goto(f"{live_server.url}/admin/login/")
    page.wait_for_load_state("networkidle")
    assert page.get_attribute("link[rel=icon]", "href") == icon
    # What a browser asks for where a page names no icon (a JSON answer, a calendar file).
    answer = page.request.get(f"{live_server.url}/favicon.ico")
    assert answer.ok and answer.headers["content-type"] == "image/svg+xml"
    assert missing == []


@pytest.mark.django_db
def test_the_description_is_in_the_pages_language(client, office):
    def description(language):
        html = client.get("/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        return re.search(r'<meta name="description" content="([^"]+)">', html)[1]

    assert description("id").startswith("Daftar antrean paspor: Pilih Kantor Imigrasi")
    assert description("en").startswith("Book a passport appointment: Choose the immigration")
