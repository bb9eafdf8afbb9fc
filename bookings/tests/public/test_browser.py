"""A real browser on a phone-sized screen: book from the home page, look the booking up, cancel.

Drives Debian's Chromium (/usr/bin/chromium) through Playwright against pytest-django's
live server. Screenshots of every step go to a temporary directory (printed with -s).
"""

import re
from datetime import date, time

import pytest
from django.utils import translation

from bookings.models import Booking, Notification
from bookings.tests.factories import make_nik
from bookings.tests.public.conftest import CHROMIUM, PHONE
from offices.models import PassportFee

WEDNESDAY = date(2017, 9, 6)  # the day after the pinned clock's

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no browser: /usr/bin/chromium is missing"),
]


def fill_in_siti(page, nik):
    """Type one applicant's details on a booking or entry form, as a person on a phone would."""
    page.fill("#id_nik", nik)
    page.fill("#id_full_name", "Siti Aminah")
    page.fill("#id_birth_date", "1990-05-17")
    page.fill("#id_phone", "0812 3456 7890")
    page.fill("#id_email", "siti@example.com")
    page.check("#id_purpose_0")


def _focus_order(page, presses):
    """Press Tab and return the id (or name) of each element that takes the focus."""
    order = []
    for _press in range(presses):
        page.keyboard.press("Tab")
        current = page.evaluate(
            "() => document.activeElement.id || document.activeElement.name"
            " || document.activeElement.tagName"
        )
        if not order or order[-1] != current:
            order.append(current)
    return order


@pytest.mark.django_db(transaction=True)
def test_the_language_switch_keeps_the_page_and_the_choice_on_a_phone(
    live_server, clock, office, phone, screenshots, plain_http_cookies, own_connections
):
    page = phone("id-ID")
    # A link shared on a social network, with its tracking parameter.
    page.goto(f"{live_server.url}/offices/{office.code}/?month=2017-10&fbclid=IwAR0x")
    assert page.get_attribute("html", "lang") == "id"
    assert "Oktober 2017" in page.inner_text("main")
    screenshots(page, "calendar-id")

    page.get_by_role("link", name="English").click()
    page.wait_for_url(f"**/offices/{office.code}/?month=2017-10")
    assert page.get_attribute("html", "lang") == "en"
    assert "October 2017" in page.inner_text("main")
    screenshots(page, "calendar-en")

    # The choice holds on the next pages, whatever the phone's own language.
    page.get_by_role("link", name="Check a booking").click()
    page.wait_for_url("**/bookings/lookup/")
    assert page.get_attribute("html", "lang") == "en"
    page.get_by_role("link", name="Bahasa Indonesia").click()
    page.wait_for_url("**/bookings/lookup/")
    assert page.get_attribute("html", "lang") == "id"


@pytest.mark.django_db(transaction=True)
def test_book_look_up_and_cancel_on_a_phone(
    live_server, office, phone, screenshots, queued, plain_http_cookies, own_connections
):
    PassportFee.objects.get_or_create(passport_type="ordinary", defaults={"amount": 350000})
    nik = make_nik()
    page = phone("id-ID")

    # Home: find the office.
    page.goto(f"{live_server.url}/")
    assert page.get_attribute("html", "lang") == "id"
    screenshots(page, "home")
    page.get_by_role("link", name=office.name).click()

    # The month calendar: pick the first day with places left.
    page.wait_for_url(f"**/offices/{office.code}/")
    screenshots(page, "calendar")
    page.locator("td.day-open a").first.click()

    # The day: pick the first session.
    page.wait_for_url(re.compile(rf"/offices/{office.code}/\d{{4}}-\d\d-\d\d/$"))
    screenshots(page, "day")
    page.locator("a.window-choice").first.click()

    # The form, by keyboard: Tab reaches every field and the button, never the honeypot.
    page.wait_for_url("**/book/")
    screenshots(page, "form-empty")
    page.focus("#id_nik")
    order = ["id_nik", *_focus_order(page, 12)]
    assert order[:9] == [
        "id_nik",
        "id_full_name",
        "id_birth_date",
        "id_phone",
        "id_email",
        "id_purpose_0",  # a radio group takes one Tab; arrows move inside it
        "id_application_type_0",
        "id_passport_type_0",
        "BUTTON",
    ]
    assert "id_website" not in order

    # An empty form first: the error summary and the messages beside the fields.
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector("#error-summary")
    assert page.locator("#id_nik_error").is_visible()
    screenshots(page, "form-errors")

    fill_in_siti(page, nik)
    page.check("#id_application_type_0")
    page.check("#id_passport_type_0")
    screenshots(page, "form-filled")
    page.focus("#id_passport_type_0")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.type") == "submit"
    page.keyboard.press("Enter")

    # Check your answers, then confirm.
    page.wait_for_url("**/check/")
    assert nik in page.inner_text("main")
    screenshots(page, "check")
    page.locator("main form button[type=submit]").click()

    # The confirmation: the code in a panel, the QR code, the fee.
    page.wait_for_url("**/bookings/*/")
    booking = Booking.objects.get(nik=nik)
    assert page.inner_text(".booking-code").strip() == booking.code
    assert page.locator(".qr-code svg").is_visible()
    assert "Rp 350.000" in page.inner_text("main")
    assert "WIB" in page.inner_text("main")
    screenshots(page, "confirmation")
    # The confirmation is written for the outbox relay: the booking never waits on the broker.
    assert booking.notifications.filter(kind="confirmation", status="pending").count() == 2

    # Another phone, in English, knows only the code and the NIK.
    other = phone("en-US")
    other.goto(f"{live_server.url}/bookings/{booking.code}/")
    other.wait_for_url("**/bookings/lookup/?code=*")
    assert "Siti Aminah" not in other.inner_text("body")
    assert other.get_attribute("html", "lang") == "en"
    screenshots(other, "lookup")
    other.fill("#id_nik", nik)
    other.locator("main form button[type=submit]").click()
    other.wait_for_url(f"**/bookings/{booking.code}/")
    assert "Siti Aminah" in other.inner_text("main")
    screenshots(other, "looked-up")

    # Cancel from there.
    other.locator(f'a[href$="/bookings/{booking.code}/cancel/"]').click()
    other.wait_for_url("**/cancel/")
    screenshots(other, "cancel")
    other.check("#id_confirm")
    other.locator("main form button[type=submit]").click()
    other.wait_for_url(f"**/bookings/{booking.code}/")
    with translation.override("en"):
        cancelled = str(Booking.Status.CANCELLED.label)
    assert cancelled in other.inner_text("main [role=status]")
    screenshots(other, "cancelled")

    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED


def test_no_page_breaks_the_content_security_policy(
    live_server, office, phone, queued, plain_http_cookies, own_connections
):
    from bookings.notifications.links import booking_token
    from bookings.services import create_booking
    from bookings.tests.factories import PASSWORD, make_applicant, make_user, window_at
    from offices import clock

    day = office.first_bookable_day(clock.now())
    while not office.windows.filter(weekday=day.weekday()).exists():
        day = day.replace(day=day.day + 1)
    booking = create_booking(
        office=office, day=day, window=window_at(office, day), applicant=make_applicant()
    )
    make_user("petugas.csp", password=PASSWORD, superuser=True)
    page = phone("en-US")
    refused = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    paths = [
        "/",
        f"/offices/{office.code}/",
        f"/offices/{office.code}/{day.isoformat()}/",
        f"/offices/{office.code}/{day.isoformat()}/{booking.window_id}/book/",
        f"/bookings/{booking.code}/?t={booking_token(booking)}",  # the booking, with its QR
        f"/bookings/{booking.code}/print/",
        "/bookings/lookup/",
        "/api/v1/docs",
        "/admin/login/",
    ]
    for path in paths:
        response = page.goto(f"{live_server.url}{path}")
        assert response.ok, path
        assert "default-src 'self'" in response.headers["content-security-policy"], path
        page.wait_for_load_state("networkidle")
        if path == "/api/v1/docs":
            page.wait_for_selector(".swagger-ui .info .title")  # it ran, under the policy
    page.fill("#id_username", "petugas.csp")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    for path in ("/admin/", "/admin/bookings/booking/walk-in/", "/admin/reports/monthly/"):
        assert page.goto(f"{live_server.url}{path}").ok, path
        page.wait_for_load_state("networkidle")
    assert refused == []


@pytest.mark.django_db(transaction=True)
def test_a_family_of_three_books_on_a_phone_and_one_checks_in_at_the_counter(
    live_server,
    office,
    clock,
    phone,
    clerk_page,
    screenshots,
    queued,
    plain_http_cookies,
    own_connections,
):
    # Tuesday 5 September 2017 09:00 WIB (the pinned clock): Wednesday is the first free day.
    family = [
        ("Ahmad Fauzi", "1970-03-02", make_nik(date(1970, 3, 2))),
        ("Siti Aminah", "1975-08-09", make_nik(date(1975, 8, 9), female=True)),
        ("Nur Aisyah", "2005-01-20", make_nik(date(2005, 1, 20), female=True)),
    ]
    window = office.windows.get(weekday=WEDNESDAY.weekday(), start=time(8))
    page = phone("id-ID")
    page.goto(f"{live_server.url}/offices/{office.code}/{WEDNESDAY.isoformat()}/{window.pk}/book/")

    # The first applicant and the contact, then two more, without any script of ours.
    def fill(number, name, born, nik):
        prefix = "id_" if number == 1 else f"id_applicant{number}-"
        page.fill(f"#{prefix}nik", nik)
        page.fill(f"#{prefix}full_name", name)
        page.fill(f"#{prefix}birth_date", born)
        page.check(f"#{prefix}purpose_0")
        page.check(f"#{prefix}application_type_0")
        page.check(f"#{prefix}passport_type_0")

    fill(1, *family[0])
    page.fill("#id_phone", "0812 3456 7890")
    page.fill("#id_email", "ahmad@example.com")
    for number, applicant in enumerate(family[1:], start=2):
        page.get_by_role("button", name="Tambah pemohon").click()
        page.wait_for_selector(f"#id_applicant{number}-nik")
        fill(number, *applicant)
    screenshots(page, "group-form")
    assert page.locator("#id_applicant4-nik").count() == 0
    page.get_by_role("button", name="Lanjutkan").last.click()

    # Check your answers lists everyone; confirm.
    page.wait_for_url("**/check/")
    answers = page.inner_text("main")
    assert all(name in answers for name, _born, _nik in family)
    screenshots(page, "group-check")
    page.locator("main form button[type=submit]").click()

    # The group page: the group code, and each applicant's own code and QR code.
    page.wait_for_url("**/groups/*/")
    members = list(Booking.objects.filter(nik__in=[n for *_r, n in family]).order_by("pk"))
    assert [m.full_name for m in members] == [name for name, *_rest in family]
    group = members[0].group
    assert {m.group_id for m in members} == {group.pk}
    text = page.inner_text("main")
    assert all(member.code in text for member in members)
    assert page.locator(".member-qr svg").count() == 3
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshots(page, "group-page")
    # One e-mail and one SMS for the whole family, written for the outbox relay.
    assert Notification.objects.filter(group=group, kind="confirmation").count() == 2

    # Wednesday at the counter: the clerk checks the second applicant in by their own code.
    clock.now = clock.now.replace(day=6, hour=7, minute=45)
    counter = clerk_page(
        office,
        "petugas.rombongan",
        ["view_booking", "change_booking"],
        "/admin/bookings/booking/today/",
    )
    assert group.code[:4] in counter.inner_text("#content")  # the family stands together
    counter.fill("form.staff-check-in input[name=code]", members[1].code.lower())
    counter.click("form.staff-check-in input[type=submit]")
    counter.wait_for_load_state("networkidle")
    screenshots(counter, "counter-checked-in")

    statuses = [m.status for m in Booking.objects.filter(group=group).order_by("pk")]
    assert statuses == ["booked", "checked_in", "booked"]
    assert Booking.objects.get(pk=members[1].pk).queue_number == "A-001"
    assert "A-001" in counter.inner_text("#content")


@pytest.mark.contact_confirmation
@pytest.mark.django_db(transaction=True)
def test_a_new_booking_is_confirmed_with_the_code_sent_by_sms_on_a_phone(
    live_server,
    office,
    phone,
    screenshots,
    queued,
    plain_http_cookies,
    own_connections,
    sent_codes,
):
    from bookings.notifications import sms
    from bookings.tests.factories import first_slot, form_url

    day, window = first_slot(office)
    nik = make_nik(date(1990, 5, 17))
    page = phone("en")
    page.goto(f"{live_server.url}{form_url(office, day, window)}")
    fill_in_siti(page, nik)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/check/")
    assert "Next we send a code of 6 digits" in page.inner_text("main")
    page.locator("main form button[type=submit]").click()

    # The step: the masked number, no booking code or QR code yet.
    page.wait_for_url("**/confirm/")
    assert "+6281••••••890" in page.inner_text("main")
    assert not page.locator(".booking-code, .qr-code").count()
    screenshots(page, "contact-code")
    ((to, text),) = sms.outbox
    code = sent_codes[0]
    assert code in text
    page.fill("#id_one_time_code", f"{code[:3]} {code[3:]}")  # typed with a space
    page.locator(".contact-code-form button").click()

    page.wait_for_selector(".booking-code")
    booking = Booking.objects.get(nik=nik)
    assert to == "+6281234567890"
    assert page.inner_text(".booking-code").strip() == booking.code
    assert page.locator(".qr-code svg").is_visible()
    screenshots(page, "confirmed")


@pytest.mark.proof_of_work
@pytest.mark.django_db(transaction=True)
def test_the_proof_of_work_runs_in_the_browser_under_the_sites_own_policy(
    live_server, office, phone, screenshots, queued, plain_http_cookies, own_connections, settings
):
    from bookings.tests.factories import first_slot, form_url

    settings.PROOF_OF_WORK_AFTER = 0  # due from the first attempt
    day, window = first_slot(office)
    nik = make_nik(date(1990, 5, 17))
    page = phone("en")
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    page.goto(f"{live_server.url}{form_url(office, day, window)}")
    fill_in_siti(page, nik)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/check/")

    # The widget solves the challenge by itself, in a worker served from this site.
    page.wait_for_function(
        "() => (document.querySelector('input[name=altcha]') || {}).value", timeout=30_000
    )
    screenshots(page, "proof-of-work")
    page.locator("main form button.btn-success").click()

    page.wait_for_selector(".booking-code")
    assert Booking.objects.get(nik=nik).status == Booking.Status.BOOKED
    assert refused == []  # nothing the Content Security Policy had to block
