"""Applicant pages through Django's test client: the booking flow, access, abuse, query counts."""

import gzip
import re
from datetime import time, timedelta
from pathlib import Path
from types import SimpleNamespace

import icalendar
import pytest
from django.conf import settings as django_settings
from django.contrib import messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from antrean.sessions import SessionStore
from bookings import services
from bookings.availability import office_availability
from bookings.models import Booking, Notification
from bookings.public.views import office_calendar
from bookings.templatetags.antrean import long_date
from bookings.tests.factories import (
    applicant_data,
    book_through_pages,
    book_with_service,
    bookable_days,
    check_url,
    detail_url,
    field_errors,
    first_slot,
    form_url,
    html_lang,
    make_nik,
    parse,
)
from offices.models import DayOverride
from offices.schedule import holiday_name
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db


# ---- helpers shared with test_views_hostile.py and test_browser.py -----------------------------


def day_url(office, day):
    return reverse("office-day", args=[office.code, day.isoformat()])


def page_text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def csrf_token_of(response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())[1]


# ---- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def en_client():
    """A browser that asks for English: the source strings, stable whatever .mo files exist."""
    return Client(headers={"accept-language": "en"})


@pytest.fixture
def slot(office):
    return first_slot(office)


@pytest.fixture
def small_office(db):
    """An office whose windows hold one person each, so a window is full after one booking."""
    return OfficeFactory(
        code="kecil",
        city="Lubuklinggau",
        windows=[(time(8), time(10), 1), (time(10), time(12), 1)],
    )


@pytest.fixture
def booked(client, office, slot):
    """A booking made through the pages by `client`, who may therefore see it."""
    day, window = slot
    return book_through_pages(client, office, day, window)


@pytest.fixture
def frozen_rate_limit_clock(monkeypatch):
    """Pin the rate limiter's clock so a minute boundary cannot reset its counters mid-test."""
    monkeypatch.setattr("django_ratelimit.core.time", SimpleNamespace(time=lambda: 1_800_000_000))


# ---- finding an office, a day and a window -------------------------------------------------------


def test_home_lists_offices_with_their_next_free_day(en_client, office):
    OfficeFactory(code="makassar", city="Makassar", timezone="Asia/Makassar")
    response = en_client.get(reverse("home"))
    assert response.status_code == 200
    text = page_text(response)
    assert "Kantor Imigrasi Palembang" in text
    assert "Kantor Imigrasi Makassar" in text
    first = bookable_days(office)[0]
    with translation.override("en"):
        assert f"Next free day: {long_date(first.date)} ({first.remaining} places left)" in text


def test_home_search_finds_offices_by_city_or_name(en_client, office):
    OfficeFactory(code="makassar", city="Makassar", timezone="Asia/Makassar")
    text = page_text(en_client.get(reverse("home"), {"q": "makas"}))
    assert "Kantor Imigrasi Makassar" in text
    assert "Kantor Imigrasi Palembang" not in text
    response = en_client.get(reverse("home"), {"q": "Surabaya"})
    assert response.status_code == 200
    assert "No office matches your search." in page_text(response)


def test_home_says_when_an_office_has_no_free_day(en_client):
    OfficeFactory(code="tutup", city="Tutup", windows=False)
    assert "No free day in the coming weeks." in page_text(en_client.get(reverse("home")))


def test_calendar_shows_open_full_and_closed_days_with_the_reason(en_client, office):
    open_day, closed_day, full_day = (d.date for d in bookable_days(office)[1:4])
    DayOverride.objects.create(office=office, date=closed_day, reason="Rapat kantor")
    # A day quota of 16 leaves one online place beside the walk-in reserve of 15.
    DayOverride.objects.create(office=office, date=full_day, closed=False, quota=16, reason="")
    book_with_service(office, full_day, office.windows.filter(weekday=full_day.weekday())[0])

    states = {}
    for month in {open_day.strftime("%Y-%m"), full_day.strftime("%Y-%m")}:
        response = en_client.get(reverse("office-calendar", args=[office.code]), {"month": month})
        assert response.status_code == 200
        for state, text in re.findall(
            r'<li class="day-row day-(\w+)">(.*?)</li>', response.content.decode(), re.S
        ):
            states[" ".join(re.sub(r"<[^>]+>", "", text).split())] = state
    with translation.override("en"):
        labels = {day: long_date(day) for day in (open_day, closed_day, full_day)}
    assert states[f"{labels[closed_day]} — Closed: Rapat kantor"] == "closed"
    assert states[f"{labels[full_day]} — Quota full"] == "full"
    open_row = next(text for text in states if text.startswith(labels[open_day]))
    assert states[open_row] == "open"
    assert "135 places left" in open_row
    calendar = en_client.get(
        reverse("office-calendar", args=[office.code]), {"month": full_day.strftime("%Y-%m")}
    ).content.decode()
    assert f'<td class="day day-full"><span class="day-number">{full_day.day}</span>' in calendar


def test_calendar_names_a_national_holiday(client, office):
    office.booking_horizon_days = 366  # a year ahead always holds a national holiday
    office.save()
    now = timezone.now()
    first = office.first_bookable_day(now)
    days = office_availability(office, first, 367, now=now)
    holiday = next(d for d in days if holiday_name(d.date, "id"))
    assert holiday.state == "closed"
    response = client.get(
        reverse("office-calendar", args=[office.code]), {"month": holiday.date.strftime("%Y-%m")}
    )
    assert response.status_code == 200
    assert holiday_name(holiday.date, "id") in page_text(response)
    cell = re.search(
        rf'<td class="day day-closed" title="([^"]*)"><span class="day-number">'
        rf"{holiday.date.day}</span>",
        response.content.decode(),
    )
    assert cell is not None
    assert holiday_name(holiday.date, "id") in cell[1]


def test_calendar_shows_the_address_hours_and_zone(en_client, office):
    response = en_client.get(reverse("office-calendar", args=[office.code]))
    text = page_text(response)
    assert "Jl. Merdeka No. 1" in text
    assert "All times are in WIB." in text
    assert "08:00–10:00, 10:00–12:00, 13:00–15:00 WIB" in text


def test_calendar_month_outside_the_booking_range_falls_back_to_the_first(client, office):
    first = office.first_bookable_day(timezone.now())
    response = client.get(reverse("office-calendar", args=[office.code]), {"month": "2001-01"})
    assert response.status_code == 200
    assert response.context["month"] == first.replace(day=1)


def test_day_page_lists_windows_with_places_left(en_client, office, slot):
    day, window = slot
    book_with_service(office, day, window)
    response = en_client.get(day_url(office, day))
    assert response.status_code == 200
    html = response.content.decode()
    link = re.search(rf'href="{form_url(office, day, window)}">(.*?)</a>', html, re.S)
    assert link is not None
    assert "Session 08:00–10:00 WIB" in " ".join(link[1].split())
    assert "44 places left" in " ".join(link[1].split())
    assert html.count("45 places left") == 2


@pytest.mark.parametrize(
    ("zone", "abbreviation", "absent"),
    [
        ("Asia/Jakarta", "WIB", "WIT"),
        ("Asia/Makassar", "WITA", "WIB"),
        ("Asia/Jayapura", "WIT", "WITA"),
    ],
)
def test_pages_name_the_office_zone(client, zone, abbreviation, absent):
    office = OfficeFactory(code="zona", city="Zona", timezone=zone)
    day, window = first_slot(office)
    day_text = page_text(client.get(day_url(office, day)))
    assert f" {abbreviation}" in day_text
    assert absent not in day_text
    booking = book_through_pages(client, office, day, window)
    text = page_text(client.get(detail_url(booking)))
    assert f"08.00–10.00 {abbreviation}" in text
    assert absent not in text


def test_a_full_window_is_shown_full_and_the_next_free_days_are_offered(en_client, small_office):
    day, _window = first_slot(small_office)
    for window in small_office.windows.filter(weekday=day.weekday()):
        book_with_service(small_office, day, window)
    response = en_client.get(day_url(small_office, day))
    assert response.status_code == 200
    text = page_text(response)
    assert "The quota of this day is full." in text
    assert text.count("Quota full") == 2
    alternatives = [d.date for d in response.context["alternatives"]]
    assert alternatives and day not in alternatives
    assert all(d > day for d in alternatives)
    assert f'href="{day_url(small_office, alternatives[0])}"' in response.content.decode()
    assert "Days with places left" in text


def test_the_form_of_a_full_window_says_so_and_offers_other_days(en_client, small_office):
    day, window = first_slot(small_office)
    book_with_service(small_office, day, window)
    response = en_client.get(form_url(small_office, day, window))
    assert response.status_code == 409
    assert "This session is full." in page_text(response)
    assert response.context["alternatives"]


def test_the_crowd_at_a_full_window_reads_the_kept_refusal_in_its_language(
    small_office, settings, django_assert_max_num_queries
):
    settings.AVAILABILITY_CACHE_SECONDS = 60
    day, window = first_slot(small_office)
    book_with_service(small_office, day, window)
    Client(HTTP_ACCEPT_LANGUAGE="en").get(form_url(small_office, day, window))
    with django_assert_max_num_queries(0):
        response = Client(HTTP_ACCEPT_LANGUAGE="en").get(form_url(small_office, day, window))
    assert response.status_code == 409
    assert "This session is full." in page_text(response)
    indonesian = Client(HTTP_ACCEPT_LANGUAGE="id").get(form_url(small_office, day, window))
    assert "Kuota sesi ini sudah penuh" in page_text(indonesian)


def test_the_form_says_full_once_a_booking_found_the_window_full(small_office, settings, en_client):
    # The calendar's places are kept a while; a refusal for want of a place reaches the form
    # at once, so the crowd stops typing details for a place already gone.
    settings.AVAILABILITY_CACHE_SECONDS = 60
    day, window = first_slot(small_office)
    assert en_client.get(form_url(small_office, day, window)).status_code == 200
    book_with_service(small_office, day, window)
    assert en_client.get(form_url(small_office, day, window)).status_code == 200  # kept: room
    with pytest.raises(ValidationError):
        book_with_service(small_office, day, window)  # another NIK, no place
    response = en_client.get(form_url(small_office, day, window))
    assert response.status_code == 409
    assert "This session is full." in page_text(response)


def test_the_check_page_of_a_place_gone_offers_other_days_with_the_answers_kept(
    small_office, settings, en_client
):
    settings.AVAILABILITY_CACHE_SECONDS = 60
    day, window = first_slot(small_office)
    typed = applicant_data(full_name="Rahmat Hidayat")
    assert en_client.post(form_url(small_office, day, window), typed).status_code == 302
    book_with_service(small_office, day, window)  # someone else took the place meanwhile
    with pytest.raises(ValidationError):
        book_with_service(small_office, day, window)  # and the next one found it gone

    response = en_client.get(check_url(small_office, day, window))
    assert response.status_code == 409
    assert "This session is full." in page_text(response)
    other = response.context["alternatives"][0]
    free = next(shown.window for shown in other.windows if shown.remaining)
    form = en_client.get(form_url(small_office, other.date, free))
    assert form.status_code == 200
    assert "Rahmat Hidayat" in form.content.decode()


def test_a_closed_day_names_its_reason(en_client, office, slot):
    day, window = slot
    DayOverride.objects.create(office=office, date=day, reason="Cuti bersama kantor")
    response = en_client.get(day_url(office, day))
    assert response.status_code == 200
    assert "Cuti bersama kantor" in page_text(response)
    assert form_url(office, day, window) not in response.content.decode()
    assert en_client.get(form_url(office, day, window)).status_code == 409


# ---- booking: form, check your answers, confirmation ---------------------------------------------


def test_booking_from_form_to_confirmation(en_client, office, slot):
    day, window = slot
    response = en_client.get(form_url(office, day, window))
    assert response.status_code == 200
    text = page_text(response)
    assert "Kantor Imigrasi Palembang" in text
    with translation.override("en"):
        assert f"{long_date(day)}, 08:00–10:00 WIB" in text

    data = applicant_data()
    response = en_client.post(form_url(office, day, window), data)
    assert response.status_code == 302
    assert not Booking.objects.exists()  # nothing is booked before the answers are checked

    response = en_client.get(check_url(office, day, window))
    assert response.status_code == 200
    text = page_text(response)
    assert "Check your answers" in text
    assert data["nik"] in text
    assert "+6281234567890" in text
    assert "Umrah" in text
    assert "Ordinary passport, 48 pages" in text

    response = en_client.post(check_url(office, day, window))
    booking = Booking.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(booking)
    assert booking.phone == "+6281234567890"
    assert booking.language == "en"
    assert (booking.date, booking.window) == (day, window)
    assert set(Notification.objects.values_list("kind", "channel")) == {
        ("confirmation", "email"),
        ("confirmation", "sms"),
    }

    response = en_client.get(detail_url(booking))
    assert response.status_code == 200
    text = page_text(response)
    assert booking.code in text
    assert "<svg" in response.content.decode()
    assert "Rp 350.000" in text
    assert "Kantor Imigrasi Palembang" in text
    assert "Jl. Merdeka No. 1" in text
    with translation.override("en"):
        assert f"{long_date(day)}, 08:00–10:00 WIB" in text
    assert "Your KTP-el" in text
    assert "Kartu Keluarga" in text
    assert "Your old passport" not in text  # only for a renewal
    assert booking.nik not in text
    assert "1671••••••••" in text
    assert reverse("booking-print", args=[booking.code]) in response.content.decode()
    assert reverse("booking-ics", args=[booking.code]) in response.content.decode()


def test_the_error_summary_links_to_every_field_with_an_error(en_client, office, slot):
    data = dict.fromkeys(applicant_data(), "")
    response = en_client.post(form_url(office, *slot), data)
    page = parse(response)
    links = re.findall(r'<a href="#([^"]*)">', response.content.decode())
    assert len(links) == 8  # every field but the honeypot
    for target in links:
        assert target in page.ancestors, f"#{target} is not on the page"
    assert "id_purpose_0" in links


def test_the_check_page_asks_for_the_form_first(client, office, slot):
    day, window = slot
    response = client.get(check_url(office, day, window))
    assert response.status_code == 302
    assert response["Location"] == form_url(office, day, window)
    assert client.post(check_url(office, day, window)).status_code == 302
    assert not Booking.objects.exists()


def test_the_form_keeps_the_answers_when_the_applicant_goes_back(client, office, slot):
    day, window = slot
    data = applicant_data(full_name="Budi Santoso")
    client.post(form_url(office, day, window), data)
    response = client.get(form_url(office, day, window))
    assert 'value="Budi Santoso"' in response.content.decode()


def test_electronic_passport_renewal_shows_its_fee_and_the_old_passport(en_client, office, slot):
    day, window = slot
    booking = book_through_pages(
        en_client, office, day, window, passport_type="electronic", application_type="renewal"
    )
    text = page_text(en_client.get(detail_url(booking)))
    assert "Rp 650.000" in text
    assert "Your old passport" in text


def test_a_birth_date_unlike_the_nik_warns_but_books(en_client, office, slot):
    day, window = slot
    data = applicant_data(birth_date="1991-01-02")
    en_client.post(form_url(office, day, window), data)
    response = en_client.get(check_url(office, day, window))
    assert "The birth date differs from the date in your NIK" in page_text(response)
    en_client.post(check_url(office, day, window))
    assert Booking.objects.get().birth_date_mismatch is True


def test_a_nik_with_an_active_booking_cannot_book_again(en_client, office, slot):
    day, window = slot
    nik = make_nik()
    book_with_service(office, day, window, nik=nik)
    en_client.post(form_url(office, day, window), applicant_data(nik=nik))
    response = en_client.post(check_url(office, day, window))
    assert response.status_code == 409
    assert "This NIK already holds an active booking." in page_text(response)
    assert Booking.objects.count() == 1


def test_a_window_taken_while_checking_offers_other_days(en_client, small_office):
    day, window = first_slot(small_office)
    en_client.post(form_url(small_office, day, window), applicant_data())
    book_with_service(small_office, day, window)  # someone else takes the last place
    response = en_client.post(check_url(small_office, day, window))
    assert response.status_code == 409
    assert "This session is full." in page_text(response)
    assert response.context["alternatives"]
    assert Booking.objects.count() == 1


def test_calendar_file_parses_back(client, booked):
    response = client.get(reverse("booking-ics", args=[booked.code]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert f"antrean-{booked.code}.ics" in response["Content-Disposition"]
    calendar = icalendar.Calendar.from_ical(response.content)
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == booked.starts_at
    assert event.decoded("dtend") == booked.ends_at
    assert booked.code in str(event["description"])
    assert "Kantor Imigrasi Palembang" in str(event["location"])


def test_print_view(client, booked):
    response = client.get(reverse("booking-print", args=[booked.code]))
    assert response.status_code == 200
    assert booked.code in page_text(response)
    assert "<svg" in response.content.decode()
    assert booked.nik not in page_text(response)


# ---- look-up and who may see a booking -----------------------------------------------------------


def test_lookup_with_code_and_nik_opens_the_booking(office, booked):
    browser = Client()
    response = browser.post(
        reverse("booking-lookup"), {"code": booked.code.lower(), "nik": booked.nik, "website": ""}
    )
    assert response.status_code == 302
    assert response["Location"] == detail_url(booked)
    response = browser.get(detail_url(booked))
    assert response.status_code == 200
    assert "Siti Aminah" in page_text(response)


def test_lookup_accepts_a_code_typed_with_spaces_and_dashes(booked):
    typed = f"{booked.code[:5]}-{booked.code[5:]} ".lower()
    response = Client().post(reverse("booking-lookup"), {"code": typed, "nik": booked.nik})
    assert response.status_code == 302


def _without_tokens(response):
    html = response.content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    return re.sub(r'name="code"[^>]*value="[^"]*"', 'name="code"', html)


def test_a_wrong_nik_and_an_unknown_code_get_the_same_answer(booked):
    other_nik = make_nik()
    wrong_nik = Client().post(reverse("booking-lookup"), {"code": booked.code, "nik": other_nik})
    unknown_code = Client().post(
        reverse("booking-lookup"), {"code": "ZZZZZZZZZZ", "nik": other_nik}
    )
    assert wrong_nik.status_code == unknown_code.status_code == 200
    assert (
        wrong_nik.context["form"].non_field_errors()
        == unknown_code.context["form"].non_field_errors()
    )
    assert wrong_nik.context["form"].non_field_errors()
    assert _without_tokens(wrong_nik) == _without_tokens(unknown_code)
    assert "Siti Aminah" not in page_text(wrong_nik)


def test_a_browser_that_only_knows_the_code_is_sent_to_lookup(booked):
    stranger = Client(headers={"accept-language": "en"})
    lookup = f"{reverse('booking-lookup')}?code={booked.code}"
    for name in ("booking-detail", "booking-print", "booking-ics", "booking-cancel"):
        response = stranger.get(reverse(name, args=[booked.code]))
        assert response.status_code == 302, name
        assert response["Location"] == lookup
    response = stranger.get(reverse("booking-reschedule", args=[booked.code]))
    assert response["Location"] == lookup

    response = stranger.get(detail_url(booked), follow=True)
    assert response.status_code == 200
    text = page_text(response)
    assert f'value="{booked.code}"' in response.content.decode()
    for private in (booked.full_name, booked.nik, booked.phone, booked.email, "1990"):
        assert private not in text
    assert booked.nik[-4:] not in text

    response = stranger.post(reverse("booking-cancel", args=[booked.code]), {"confirm": "on"})
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.status == Booking.Status.BOOKED


def test_a_signed_link_from_an_email_opens_the_booking(booked):
    from bookings.notifications.links import booking_token

    stranger = Client()
    token = booking_token(booked)
    response = stranger.get(detail_url(booked), {"t": token})
    assert response.status_code == 302
    assert response["Location"] == detail_url(booked)  # the token leaves the address bar
    assert "Siti Aminah" in page_text(stranger.get(detail_url(booked)))
    # Clicked again in the same browser: shown; in another one: the link was used up.
    assert stranger.get(detail_url(booked), {"t": token}).status_code == 302
    third = Client().get(detail_url(booked), {"t": token})
    assert third.status_code == 410
    assert "Siti Aminah" not in page_text(third)


def test_a_forged_signed_link_says_it_no_longer_works(booked):
    response = Client().get(detail_url(booked), {"t": "forged.token"})
    assert response.status_code == 410
    assert booked.full_name not in page_text(response)


def test_a_signed_link_stops_working_once_the_booking_is_cancelled(booked):
    from bookings.notifications.links import booking_token

    token = booking_token(booked)
    services.cancel_booking(booking=booked)
    assert Client().get(detail_url(booked), {"t": token}).status_code == 410


# ---- cancel and reschedule -----------------------------------------------------------------------


def _places_left(client, office, day, window):
    response = client.get(day_url(office, day))
    day_availability = response.context["day"]
    return next(w.remaining for w in day_availability.windows if w.window == window)


def test_cancel_frees_the_place_at_once(en_client, office, slot):
    day, window = slot
    booking = book_through_pages(en_client, office, day, window)
    assert _places_left(en_client, office, day, window) == 44

    response = en_client.get(reverse("booking-cancel", args=[booking.code]))
    assert response.status_code == 200
    response = en_client.post(reverse("booking-cancel", args=[booking.code]), {"confirm": "on"})
    assert response.status_code == 302
    assert response["Location"] == detail_url(booking)

    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert _places_left(en_client, office, day, window) == 45
    text = page_text(en_client.get(detail_url(booking)))
    assert "Cancelled" in text
    assert "Cancel booking" not in text
    assert Notification.objects.filter(kind="cancellation").count() == 2


def test_cancel_needs_the_box_ticked(en_client, office, slot):
    day, window = slot
    booking = book_through_pages(en_client, office, day, window)
    response = en_client.post(reverse("booking-cancel", args=[booking.code]), {})
    assert response.status_code == 200
    assert field_errors(response, "confirm") == ["Tick the box to confirm the cancellation."]
    booking.refresh_from_db()
    assert booking.status == Booking.Status.BOOKED


def test_reschedule_moves_the_booking_and_frees_the_old_place(en_client, office, slot):
    day, window = slot
    booking = book_through_pages(en_client, office, day, window)
    url = reverse("booking-reschedule", args=[booking.code])
    new_day = bookable_days(office)[2].date
    new_window = office.windows.filter(weekday=new_day.weekday()).order_by("start")[1]

    response = en_client.get(url)
    assert response.status_code == 200
    assert f'href="?date={new_day.isoformat()}"' in response.content.decode()
    response = en_client.get(url, {"date": new_day.isoformat()})
    assert response.status_code == 200
    assert f'value="{new_window.pk}"' in response.content.decode()

    response = en_client.post(url, {"date": new_day.isoformat(), "window": new_window.pk})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert (booking.date, booking.window, booking.reschedule_count) == (new_day, new_window, 1)
    assert _places_left(en_client, office, day, window) == 45
    assert _places_left(en_client, office, new_day, new_window) == 44
    assert Notification.objects.filter(kind="reschedule").count() == 2
    # The schedule can be changed once by default.
    assert "Reschedule" not in page_text(en_client.get(detail_url(booking))).split("Change or")[-1]
    response = en_client.get(url)
    assert "This booking can no longer be rescheduled." in page_text(response)


def test_reschedule_keeps_the_old_place_when_the_new_window_fills(en_client, small_office):
    day, window = first_slot(small_office)
    booking = book_through_pages(en_client, small_office, day, window)
    new_day = bookable_days(small_office)[2].date
    target = small_office.windows.filter(weekday=new_day.weekday()).order_by("start")[0]
    url = reverse("booking-reschedule", args=[booking.code])
    response = en_client.get(url, {"date": new_day.isoformat()})
    assert f'value="{target.pk}"' in response.content.decode()

    book_with_service(small_office, new_day, target)  # someone else takes it meanwhile
    response = en_client.post(url, {"date": new_day.isoformat(), "window": target.pk})
    assert response.status_code in (200, 409)
    assert field_errors(response, "window") or response.context["form"].non_field_errors()
    booking.refresh_from_db()
    assert (booking.date, booking.window, booking.reschedule_count) == (day, window, 0)
    assert booking.status == Booking.Status.BOOKED
    assert _places_left(en_client, small_office, day, window) == 0  # the old place is still held
    assert not Notification.objects.filter(kind="reschedule").exists()


# ---- language --------------------------------------------------------------------------------


def test_indonesian_is_the_default_language(client, office):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert html_lang(response) == "id"


def test_a_browser_asking_for_english_gets_english(en_client, office):
    response = en_client.get(reverse("home"))
    assert html_lang(response) == "en"
    assert "Book a passport appointment" in page_text(response)


def test_the_header_and_footer_kept_for_every_page_are_in_each_pages_language(
    client, en_client, office
):
    # base.html keeps what is the same on every page, once per language and process.
    def header_and_footer(response):
        html = response.content.decode()
        parts = (
            re.search(r"<header.*?</header>", html, re.S)[0]
            + re.search(r"<footer.*?</footer>", html, re.S)[0]
        )
        return " ".join(re.sub(r"<[^>]+>", " ", parts).split())

    lookup = reverse("booking-lookup")
    for _ in range(2):
        indonesian = header_and_footer(client.get(lookup))
        english = header_and_footer(en_client.get(lookup))
        assert "Cek pendaftaran" in indonesian
        assert "Check a booking" not in indonesian
        assert "Check a booking" in english
        assert "Online passport appointment queue" in english
    assert client.get(lookup).content.decode().count('rel="stylesheet"') == 2


def language_link(response, code) -> str:
    """The address of the language switch's link to `code` on a page."""
    found = re.search(rf'<a href="([^"]+)"[^>]* lang="{code}"', response.content.decode())
    return found[1].replace("&amp;", "&")


def test_the_language_switch_is_a_link_back_to_the_page(clock, office):
    browser = Client(enforce_csrf_checks=True)
    calendar_url = reverse("office-calendar", args=[office.code])
    # A link shared with a tracking parameter: the switch comes back to the page itself.
    response = browser.get(f"{calendar_url}?month=2017-10&fbclid=IwAR0x")
    assert html_lang(response) == "id"
    link = language_link(response, "en")
    assert link == f"/language/en/?next=/offices/{office.code}/%3Fmonth%3D2017-10"
    response = browser.get(link)
    assert response.status_code == 302
    assert response["Location"] == f"{calendar_url}?month=2017-10"
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME]["httponly"]
    response = browser.get(response["Location"])
    assert html_lang(response) == "en"
    assert "October 2017" in page_text(response)
    assert language_link(response, "id").startswith("/language/id/?next=")


@pytest.mark.parametrize("back", ["https://evil.example/", "//evil.example/", "javascript:x"])
def test_the_language_switch_goes_nowhere_off_the_site(client, office, back):
    response = client.get(reverse("language", args=["en"]), {"next": back})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_the_language_switch_knows_only_the_sites_languages(client, office):
    assert client.get(reverse("language", args=["fr"])).status_code == 404
    assert client.post(reverse("language", args=["en"])).status_code == 405
    assert django_settings.LANGUAGE_COOKIE_NAME not in client.cookies


def test_pages_without_a_form_give_no_csrf_cookie(client, office, slot):
    day, _window = slot
    for url in (reverse("office-calendar", args=[office.code]), day_url(office, day)):
        response = client.get(url)
        assert response.status_code == 200
        assert django_settings.CSRF_COOKIE_NAME not in response.cookies
        assert "csrfmiddlewaretoken" not in response.content.decode()


@pytest.mark.skipif(
    not (Path(django_settings.BASE_DIR) / "locale/id/LC_MESSAGES/django.mo").exists(),
    reason="no compiled Indonesian translations (locale/id/LC_MESSAGES/django.mo) yet",
)
def test_indonesian_pages_are_translated(client, en_client, office):
    indonesian = client.get(reverse("home"))
    english = en_client.get(reverse("home"))
    assert parse(indonesian).text["main"] != parse(english).text["main"]


# ---- abuse: rate limits, honeypot, CSRF --------------------------------------------------------


def test_lookup_is_rate_limited(client, settings, frozen_rate_limit_clock, booked):
    settings.RATELIMIT_ENABLE = True
    settings.RATELIMIT_LOOKUP = "2/m"
    data = {"code": "ZZZZZZZZZZ", "nik": make_nik()}
    stranger = Client()
    assert stranger.post(reverse("booking-lookup"), data).status_code == 200
    assert stranger.post(reverse("booking-lookup"), data).status_code == 200
    response = stranger.post(reverse("booking-lookup"), data)
    assert response.status_code == 429
    assert "bookings/public/rate_limited.html" in [t.name for t in response.templates]
    # Even the right answer waits now.
    data = {"code": booked.code, "nik": booked.nik}
    assert stranger.post(reverse("booking-lookup"), data).status_code == 429


def test_booking_is_rate_limited(client, settings, frozen_rate_limit_clock, office, slot):
    settings.RATELIMIT_ENABLE = True
    settings.RATELIMIT_BOOKING = "2/m"
    day, window = slot
    bad = applicant_data(nik="1")
    assert client.post(form_url(office, day, window), bad).status_code == 200
    assert client.post(form_url(office, day, window), bad).status_code == 200
    assert client.post(form_url(office, day, window), applicant_data()).status_code == 429
    assert client.get(check_url(office, day, window)).status_code == 302  # nothing pending
    assert not Booking.objects.exists()


def test_rate_limits_can_be_switched_off(client, settings, frozen_rate_limit_clock, office):
    settings.RATELIMIT_ENABLE = False
    settings.RATELIMIT_LOOKUP = "1/m"
    for _attempt in range(3):
        response = client.post(reverse("booking-lookup"), {"code": "x", "nik": "y"})
        assert response.status_code == 200


def test_a_filled_honeypot_refuses_the_form_and_saves_nothing(en_client, office, slot):
    day, window = slot
    response = en_client.post(
        form_url(office, day, window), applicant_data(website="https://spam.example")
    )
    assert response.status_code == 200
    assert field_errors(response, "website") == ["This form could not be sent. Please try again."]
    assert en_client.get(check_url(office, day, window)).status_code == 302
    assert not Booking.objects.exists()
    assert not Notification.objects.exists()


def test_a_filled_honeypot_refuses_the_lookup(booked):
    response = Client().post(
        reverse("booking-lookup"), {"code": booked.code, "nik": booked.nik, "website": "x"}
    )
    assert response.status_code == 200
    assert field_errors(response, "website")


def test_the_honeypot_is_out_of_the_tab_order(client, office, slot):
    html = client.get(form_url(office, *slot)).content.decode()
    field = re.search(r'<input[^>]*name="website"[^>]*>', html)[0]
    assert 'tabindex="-1"' in field
    assert re.search(r'<div class="honeypot" aria-hidden="true">', html)


def test_forms_refuse_posts_without_a_csrf_token(office, slot):
    day, window = slot
    booker = Client()
    booking = book_through_pages(booker, office, day, window)
    session = booker.cookies[django_settings.SESSION_COOKIE_NAME].value
    forged = Client(enforce_csrf_checks=True)
    forged.cookies[django_settings.SESSION_COOKIE_NAME] = session  # even with the session
    posts = [
        (form_url(office, day, window), applicant_data()),
        (check_url(office, day, window), {}),
        (reverse("booking-lookup"), {"code": booking.code, "nik": booking.nik}),
        (reverse("booking-cancel", args=[booking.code]), {"confirm": "on"}),
        (reverse("booking-reschedule", args=[booking.code]), {"date": "", "window": ""}),
    ]
    for url, data in posts:
        assert forged.post(url, data).status_code == 403, url
    booking.refresh_from_db()
    assert booking.status == Booking.Status.BOOKED
    assert Booking.objects.count() == 1


def test_a_form_page_carries_a_csrf_token(office, slot):
    browser = Client(enforce_csrf_checks=True)
    day, window = slot
    response = browser.get(form_url(office, day, window))
    data = {**applicant_data(), "csrfmiddlewaretoken": csrf_token_of(response)}
    assert browser.post(form_url(office, day, window), data).status_code == 302


# ---- query counts --------------------------------------------------------------------------------


def test_home_costs_the_same_queries_for_3_and_10_offices(client, django_assert_max_num_queries):
    for n in range(3):
        OfficeFactory(code=f"kanim-a{n}")
    with django_assert_max_num_queries(5) as three:
        assert client.get(reverse("home")).status_code == 200
    for n in range(7):
        OfficeFactory(code=f"kanim-b{n}")
    with django_assert_max_num_queries(5) as ten:
        assert client.get(reverse("home")).status_code == 200
    assert len(three) == len(ten)


def test_calendar_query_count(client, office, settings, django_assert_max_num_queries):
    settings.AVAILABILITY_CACHE_SECONDS = 60
    DayOverride.objects.create(
        office=office, date=bookable_days(office)[3].date, reason="Rapat kantor"
    )
    with django_assert_max_num_queries(6):
        assert client.get(reverse("office-calendar", args=[office.code])).status_code == 200
    # The crowd after the first: the calendar is kept with its places, the office with its
    # windows.
    with django_assert_max_num_queries(0):
        assert client.get(reverse("office-calendar", args=[office.code])).status_code == 200


def test_day_page_query_count(client, office, slot, settings, django_assert_max_num_queries):
    settings.AVAILABILITY_CACHE_SECONDS = 60
    day, window = slot
    book_with_service(office, day, window)
    with django_assert_max_num_queries(5):
        assert client.get(day_url(office, day)).status_code == 200
    with django_assert_max_num_queries(0):
        assert client.get(day_url(office, day)).status_code == 200


def test_booking_form_query_count(client, office, slot, settings, django_assert_max_num_queries):
    settings.AVAILABILITY_CACHE_SECONDS = 60
    day, window = slot
    with django_assert_max_num_queries(5):
        assert client.get(form_url(office, day, window)).status_code == 200
    # The window and the day's places are kept: no query until the details are sent.
    with django_assert_max_num_queries(0):
        assert client.get(form_url(office, day, window)).status_code == 200
    # A new session, inserted in one statement (here in a savepoint of the test's transaction).
    with django_assert_max_num_queries(3):
        assert client.post(form_url(office, day, window), applicant_data()).status_code == 302
    # Answers sent back with a typo: the page again, without reading the session.
    with django_assert_max_num_queries(0):
        refused = client.post(form_url(office, day, window), applicant_data(nik="12345"))
        assert refused.status_code == 200
    # Come back to from "check your answers": the session's answers.
    with django_assert_max_num_queries(1):
        assert "Siti Aminah" in client.get(form_url(office, day, window)).content.decode()


def test_check_page_query_count(client, office, slot, settings, django_assert_max_num_queries):
    settings.AVAILABILITY_CACHE_SECONDS = 60
    day, window = slot
    client.post(form_url(office, day, window), applicant_data())
    with django_assert_max_num_queries(1):  # the session
        assert client.get(check_url(office, day, window)).status_code == 200


def test_a_kept_calendar_is_kept_per_language(office, settings):
    settings.AVAILABILITY_CACHE_SECONDS = 60
    url = reverse("office-calendar", args=[office.code])
    indonesian = Client(HTTP_ACCEPT_LANGUAGE="id").get(url).content.decode()
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get(url).content.decode()
    assert "Pilih hari" in indonesian and "Choose a day" not in indonesian
    assert "Choose a day" in english and "Pilih hari" not in english


def test_a_kept_page_is_the_same_for_everyone_but_a_message_is_for_its_reader(rf, office, settings):
    settings.AVAILABILITY_CACHE_SECONDS = 60
    url = reverse("office-calendar", args=[office.code])
    first, second = Client().get(url), Client().get(url)
    assert first.content == second.content
    # A visitor with a message waiting reads it on a page rendered for them alone.
    request = rf.get(url)
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    messages.success(request, "A new code is on its way.")
    assert "A new code is on its way." in office_calendar(request, office.code).content.decode()
    assert Client().get(url).content == first.content


def test_the_kept_blank_form_never_shows_anyones_answers(client, office, slot, settings):
    settings.AVAILABILITY_CACHE_SECONDS = 60
    day, window = slot
    assert "Rahmat Hidayat" not in client.get(form_url(office, day, window)).content.decode()
    client.post(form_url(office, day, window), applicant_data(full_name="Rahmat Hidayat"))
    # Back from "check your answers": the answers typed, not the blank form kept.
    assert "Rahmat Hidayat" in client.get(form_url(office, day, window)).content.decode()
    stranger = Client().get(form_url(office, day, window)).content.decode()
    assert "Rahmat Hidayat" not in stranger
    assert 'name="nik"' in stranger


def test_pages_come_compressed_to_a_browser_that_accepts_it(client, office):
    url = reverse("office-calendar", args=[office.code])
    response = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert office.name in gzip.decompress(response.content).decode()
    assert not client.get(url).has_header("Content-Encoding")  # a client that asks for none


def test_booking_page_query_count(client, booked, settings, django_assert_max_num_queries):
    settings.AVAILABILITY_CACHE_SECONDS = 2
    with django_assert_max_num_queries(3):
        assert client.get(detail_url(booked)).status_code == 200
    with django_assert_max_num_queries(2):  # the session, the booking: the fee read a moment ago
        assert client.get(detail_url(booked)).status_code == 200


def test_booking_page_shows_a_full_qr_code_any_scanner_reads(client, booked):
    # 21 × 21 modules and a quiet zone of 4 on each side, 6 pixels each: version 1, the
    # smallest full QR code. A Micro QR (15 × 15, a zone of 2) would be 114 wide, and phone
    # cameras do not read it.
    html = client.get(detail_url(booked)).content.decode()
    svg = re.search(r"<svg[^>]*>.*?</svg>", html, re.S)[0]
    assert 'viewBox="0 0 174 174"' in svg
    assert f"<title>{booked.code}</title>" in svg


def test_lookup_query_count(booked, django_assert_max_num_queries):
    browser = Client()
    with django_assert_max_num_queries(0):
        assert browser.get(reverse("booking-lookup")).status_code == 200
    with django_assert_max_num_queries(5):
        response = browser.post(reverse("booking-lookup"), {"code": booked.code, "nik": booked.nik})
        assert response.status_code == 302


# Personal data: never cached, never in an error report.


def _no_store(response):
    control = response.get("Cache-Control", "")
    return "no-store" in control and "private" in control


def test_pages_with_personal_data_are_never_stored(client, office, slot):
    day, window = slot
    data = applicant_data()
    assert _no_store(client.get(form_url(office, day, window)))
    assert _no_store(client.post(form_url(office, day, window), data))
    assert _no_store(client.get(check_url(office, day, window)))
    client.post(check_url(office, day, window))
    booking = Booking.objects.get(nik=data["nik"])
    for name in ("booking-detail", "booking-print", "booking-ics", "booking-cancel"):
        assert _no_store(client.get(reverse(name, args=[booking.code]))), name
    assert _no_store(client.get(reverse("booking-reschedule", args=[booking.code])))
    assert _no_store(client.get(reverse("booking-lookup")))


def test_the_nik_and_the_applicants_details_are_hidden_from_error_reports(client, office, slot):
    day, window = slot
    response = client.post(form_url(office, day, window), applicant_data())
    hidden = response.wsgi_request.sensitive_post_parameters
    assert {"nik", "full_name", "birth_date", "phone", "email"} <= set(hidden)
    response = client.post(reverse("booking-lookup"), {"code": "ABCDEFGHJK", "nik": "1"})
    assert "nik" in response.wsgi_request.sensitive_post_parameters


def test_an_applicants_session_ends_with_the_browser(client, office, slot):
    day, window = slot
    client.post(form_url(office, day, window), applicant_data())
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    assert (cookie["max-age"], cookie["expires"]) == ("", "")


def test_the_typed_details_wait_half_an_hour_for_the_check_and_are_then_dropped(
    clock, client, office, slot
):
    day, window = slot
    client.post(form_url(office, day, window), applicant_data())
    clock.now += timedelta(minutes=29)
    assert client.get(check_url(office, day, window)).status_code == 200
    clock.now += timedelta(minutes=2)
    response = client.get(check_url(office, day, window))
    assert response.status_code == 302
    assert response["Location"] == form_url(office, day, window)
    assert "antrean_pending_booking" not in client.session
