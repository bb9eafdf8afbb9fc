"""Group bookings through the applicant's pages: the form without JavaScript, check your answers,
the group's page and what it can do, look-up, signed links and who may see a group."""

import re
from datetime import date, time, timedelta
from types import SimpleNamespace

import icalendar
import pytest
from django.test import Client
from django.urls import reverse

from bookings import services
from bookings.models import Booking, BookingGroup, Notification
from bookings.notifications.links import booking_token
from bookings.tests.factories import (
    applicant_data,
    assert_counters_match_bookings,
    book_through_pages,
    book_with_service,
    bookable_days,
    check_url,
    detail_url,
    field_errors,
    first_slot,
    form_url,
    make_nik,
    parse,
)
from offices.models import OfficeDay, WindowDay
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db

NAMES = {2: "Budi Santoso", 3: "Nur Aisyah", 4: "Muhammad Rizki", 5: "Dewi Lestari"}
BIRTHS = {2: date(1975, 8, 9), 3: date(2005, 1, 20), 4: date(2010, 6, 1), 5: date(2015, 12, 24)}


# ---- helpers ---------------------------------------------------------------------------------


def member_data(number, **overrides) -> dict:
    """Return what is typed for the n-th applicant (2 on), under the names the form gives them."""
    answers = {
        "nik": make_nik(BIRTHS[number]),
        "full_name": NAMES[number],
        "birth_date": BIRTHS[number].isoformat(),
        "purpose": "umrah",
        "application_type": "new",
        "passport_type": "ordinary",
        **overrides,
    }
    return {f"applicant{number}-{name}": value for name, value in answers.items()}


def family_data(size=3, **first) -> dict:
    data = {**applicant_data(full_name="Ahmad Fauzi", **first), "applicants": str(size)}
    for number in range(2, size + 1):
        data.update(member_data(number))
    return data


def book_family_through_pages(client, office, day, window, size=3, **first) -> list[Booking]:
    """Fill the form for a family, confirm on the check page; return the members in order."""
    data = family_data(size, **first)
    response = client.post(form_url(office, day, window), data)
    assert response.status_code == 302, _summary(response)
    response = client.post(check_url(office, day, window))
    assert response.status_code == 302, _summary(response)
    members = list(Booking.objects.filter(nik=data["nik"]).get().group.members.order_by("pk"))
    assert response["Location"] == group_url(members[0].group)
    return members


def group_url(group, name="group-detail"):
    return reverse(name, args=[group.code])


def page_text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def _summary(response) -> str:
    """The error summary, as the applicant reads it ("" when there is none)."""
    return parse(response).text.get("error-summary", "")


def _nothing_written():
    assert not Booking.objects.exists()
    assert not BookingGroup.objects.exists()
    assert not Notification.objects.exists()
    assert not OfficeDay.objects.filter(booked__gt=0).exists()
    assert not WindowDay.objects.filter(booked__gt=0).exists()


@pytest.fixture
def en_client():
    return Client(headers={"accept-language": "en"})


@pytest.fixture
def slot(office):
    return first_slot(office)


@pytest.fixture(autouse=True)
def no_rate_limit(settings):
    settings.RATELIMIT_ENABLE = False


@pytest.fixture
def long_sessions(settings):
    """Sessions that outlive a clock moved to the appointment, days ahead."""
    settings.SESSION_COOKIE_AGE = 60 * 60 * 24 * 60


@pytest.fixture
def family(en_client, office, slot):
    """A family of three booked through the pages by `en_client`, which holds the group."""
    return book_family_through_pages(en_client, office, *slot)


# ---- the form: adding and removing applicants without JavaScript -----------------------------


def test_adding_an_applicant_redraws_the_form_with_the_answers_kept(en_client, office, slot):
    url = form_url(office, *slot)
    response = en_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="applicants" value="1"' in html
    assert re.search(r'<input type="submit" name="add" value="Add another applicant"', html)
    assert "applicant2-nik" not in html

    typed = applicant_data(full_name="Ahmad Fauzi", nik="1671 0117 0590 0001")
    response = en_client.post(url, {**typed, "add": "Add another applicant"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="applicants" value="2"' in html
    assert 'value="Ahmad Fauzi"' in html
    assert 'value="1671 0117 0590 0001"' in html  # as typed: nothing is checked yet
    assert 'name="applicant2-nik"' in html
    assert 'id="applicant-2"' in html
    assert 'formaction="' + url + '#applicant-3"' in html  # the next one is scrolled to
    assert "error-summary" not in html  # an empty new applicant is no error yet
    assert 'name="applicant2-remove"' in html
    assert 'name="remove"' not in html and 'name="applicant1-remove"' not in html
    assert "antrean_pending_booking" not in en_client.session
    _nothing_written()


def test_the_group_form_asks_each_applicant_what_it_asks_one_and_the_contact_once(
    en_client, office, slot
):
    response = en_client.post(form_url(office, *slot), {**family_data(2), "add": "x"})
    names = re.findall(r'<input[^>]*name="([^"]+)"', response.content.decode())
    fields = [n for n in names if n not in ("csrfmiddlewaretoken", "language", "next")]
    own = ["nik", "full_name", "birth_date", "purpose", "application_type", "passport_type"]
    for number in (2, 3):
        for name in own:
            assert f"applicant{number}-{name}" in fields
        assert f"applicant{number}-phone" not in fields
        assert f"applicant{number}-email" not in fields
    assert fields.count("phone") == fields.count("email") == 1
    assert "applicant4-nik" not in fields


def test_adding_stops_at_the_maximum_even_when_posted_by_hand(en_client, office, slot, settings):
    settings.BOOKING_GROUP_MAX = 3
    url = form_url(office, *slot)
    response = en_client.post(url, {**family_data(3), "add": "x"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="applicants" value="3"' in html
    assert 'name="applicant4-nik"' not in html
    assert 'name="add"' not in html
    assert "One booking holds at most 3 applicants." in page_text(response)


def test_removing_an_applicant_moves_the_later_ones_up(en_client, office, slot):
    data = family_data(3)
    response = en_client.post(form_url(office, *slot), {**data, "applicant2-remove": "x"})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.count == 2
    assert form.forms[1]["full_name"].value() == NAMES[3]
    assert form.forms[1]["nik"].value() == data["applicant3-nik"]
    assert form.forms[0]["full_name"].value() == "Ahmad Fauzi"
    assert form.forms[0]["phone"].value() == data["phone"]
    assert "applicant3-nik" not in response.content.decode()
    _nothing_written()


@pytest.mark.parametrize("button", ["applicant1-remove", "applicant9-remove", "applicant0-remove"])
def test_the_first_applicant_or_one_not_there_cannot_be_removed(en_client, office, slot, button):
    response = en_client.post(form_url(office, *slot), {**family_data(2), button: "x"})
    assert response.status_code == 200
    assert response.context["form"].count == 2
    assert "error-summary" not in response.content.decode()


def test_enter_in_a_field_continues_rather_than_removing_an_applicant(en_client, office, slot):
    # A form's first submit button is the one the Enter key presses.
    response = en_client.post(form_url(office, *slot), {**family_data(2), "add": "x"})
    html = response.content.decode()
    form = re.search(r'<form method="post" action=[^>]*applicant-form.*?</form>', html, re.S)[0]
    first = re.search(r"<(input|button)[^>]*type=\"submit\"[^>]*>", form)[0]
    assert "name=" not in first  # it posts nothing: the answers are checked and kept
    assert 'tabindex="-1"' in first and 'aria-hidden="true"' in first


def test_one_applicant_posts_the_form_it_always_did(en_client, office, slot):
    # No count at all: a booking for one, the fields under their own names.
    booking = book_through_pages(en_client, office, *slot)
    assert booking.group is None
    assert BookingGroup.objects.count() == 0


def test_adding_and_removing_do_not_use_up_the_rate_limit(
    client, office, slot, settings, monkeypatch
):
    # The rate limiter's clock pinned: a minute boundary cannot reset its counters mid-test.
    monkeypatch.setattr("django_ratelimit.core.time", SimpleNamespace(time=lambda: 1_800_000_000))
    settings.RATELIMIT_ENABLE = True
    settings.RATELIMIT_BOOKING = "2/m"
    url = form_url(office, *slot)
    for _press in range(4):
        assert client.post(url, {**family_data(2), "add": "x"}).status_code == 200
    assert client.post(url, {**family_data(3), "applicant3-remove": "x"}).status_code == 200
    assert client.post(url, family_data(2)).status_code == 302
    assert client.post(url, family_data(2)).status_code == 302
    assert client.post(url, family_data(2)).status_code == 429


# ---- the form: each applicant checked, and named in the errors -------------------------------


def test_each_applicant_s_errors_name_the_applicant(en_client, office, slot):
    data = {**family_data(3), "applicant2-nik": "123", "applicant3-full_name": ""}
    response = en_client.post(form_url(office, *slot), data)
    assert response.status_code == 200
    summary = parse(response).text["error-summary"]
    assert "Applicant 2 — NIK (Nomor Induk Kependudukan): " in summary
    assert "Applicant 3 — Full name as on the KTP: Enter your full name as on the KTP." in summary
    links = re.findall(r'<a href="#([^"]*)">', response.content.decode())
    assert links == ["id_applicant2-nik", "id_applicant3-full_name"]
    page = parse(response)
    for target in links:
        assert target in page.ancestors
    assert field_errors(response, "applicant3-full_name") == ["Enter your full name as on the KTP."]
    assert "antrean_pending_booking" not in en_client.session
    _nothing_written()


HOSTILE = ["", "\x00", "7" * 10_000, '<script>alert("x")</script>', "😀", "\u202e1990-01-01"]


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
@pytest.mark.parametrize(
    "name", ["nik", "full_name", "birth_date", "purpose", "application_type", "passport_type"]
)
def test_hostile_values_for_another_applicant_are_refused_beside_the_field(
    client, office, slot, name, value
):
    key = f"applicant2-{name}"
    response = client.post(form_url(office, *slot), family_data(3) | {key: value})
    assert response.status_code == 200
    assert field_errors(response, key)
    assert '<script>alert("x")</script>' not in response.content.decode()
    _nothing_written()


def test_an_empty_group_form_links_every_field_of_every_applicant(en_client, office, slot):
    data = dict.fromkeys(family_data(2), "") | {"applicants": "2"}
    response = en_client.post(form_url(office, *slot), data)
    links = re.findall(r'<a href="#([^"]*)">', response.content.decode())
    assert len(links) == 8 + 6  # the first with the contact, the second without
    page = parse(response)
    for target in links:
        assert target in page.ancestors, f"#{target} is not on the page"
    assert "id_applicant2-purpose_0" in links


@pytest.mark.parametrize("count", ["6", "99", "100000", "0", "-1", "abc", "²", "٢", "2.0", ""])
def test_a_count_of_applicants_out_of_range_is_refused(en_client, office, slot, count):
    sixth = {f"applicant6-{k.removeprefix('applicant5-')}": v for k, v in member_data(5).items()}
    data = family_data(5) | sixth | {"applicants": count}
    response = en_client.post(form_url(office, *slot), data)
    assert response.status_code == 200
    assert "One booking holds at most 5 applicants." in _summary(response)
    assert response.context["form"].count <= 5
    assert "applicant6-nik" not in response.content.decode()
    assert en_client.get(check_url(office, *slot)).status_code == 302  # nothing pending
    _nothing_written()


def test_a_count_above_the_applicants_sent_asks_for_the_missing_ones(en_client, office, slot):
    data = family_data(2) | {"applicants": "3"}
    response = en_client.post(form_url(office, *slot), data)
    assert response.status_code == 200
    assert "Applicant 3 — NIK (Nomor Induk Kependudukan): Enter your NIK." in _summary(response)
    _nothing_written()


def test_fields_of_applicants_beyond_the_count_are_ignored(en_client, office, slot):
    data = family_data(3) | {"applicants": "2"}
    response = en_client.post(form_url(office, *slot), data)
    assert response.status_code == 302
    response = en_client.post(check_url(office, *slot))
    assert response.status_code == 302
    assert Booking.objects.count() == 2


def test_every_applicant_s_details_are_hidden_from_error_reports(client, office, slot):
    response = client.post(form_url(office, *slot), family_data(5))
    hidden = set(response.wsgi_request.sensitive_post_parameters)
    for number in range(2, 6):
        assert {
            f"applicant{number}-{name}" for name in ("nik", "full_name", "birth_date")
        } <= hidden
    assert {"nik", "full_name", "birth_date", "phone", "email"} <= hidden


# ---- check your answers and booking the family ------------------------------------------------


def test_a_family_of_three_booked_through_the_pages(en_client, office, slot):
    day, window = slot
    data = family_data(3)
    response = en_client.post(form_url(office, day, window), data)
    assert response.status_code == 302
    assert response["Location"] == check_url(office, day, window)
    pending = en_client.session["antrean_pending_booking"]
    assert pending["data"]["applicants"] == "3"
    assert pending["data"]["applicant3-nik"] == data["applicant3-nik"]

    response = en_client.get(check_url(office, day, window))
    assert response.status_code == 200
    text = page_text(response)
    for number in (1, 2, 3):
        assert f"Applicant {number}" in text
    for name in ("Ahmad Fauzi", NAMES[2], NAMES[3]):
        assert name in text
    assert data["applicant2-nik"] in text
    assert text.count("+6281234567890") == 1  # the contact, once
    assert "Confirm booking for 3 applicants" in text
    assert f'href="{form_url(office, day, window)}#id_applicant3-nik"' in response.content.decode()
    assert not Booking.objects.exists()

    response = en_client.post(check_url(office, day, window))
    assert response.status_code == 302
    group = BookingGroup.objects.get()
    assert response["Location"] == group_url(group)
    members = list(group.members.order_by("pk"))
    assert [m.full_name for m in members] == ["Ahmad Fauzi", NAMES[2], NAMES[3]]
    assert [m.nik for m in members] == [data["nik"], data["applicant2-nik"], data["applicant3-nik"]]
    assert {(m.date, m.window, m.office) for m in members} == {(day, window, office)}
    assert {(m.phone, m.email) for m in members} == {("+6281234567890", "siti@example.com")}
    assert {m.language for m in members} == {"en"}
    assert len({m.code for m in members}) == 3
    assert_counters_match_bookings()
    assert WindowDay.objects.get(window=window, date=day).booked == 3
    assert OfficeDay.objects.get(office=office, date=day).online_booked == 3
    assert set(Notification.objects.values_list("group", "kind")) == {(group.pk, "confirmation")}
    assert "antrean_pending_booking" not in en_client.session
    held = en_client.session["antrean_bookings"]
    assert held[:4] == [group.code, *(m.code for m in members)]


def test_going_back_to_the_form_shows_every_applicant(en_client, office, slot):
    data = family_data(3)
    en_client.post(form_url(office, *slot), data)
    response = en_client.get(form_url(office, *slot))
    html = response.content.decode()
    assert 'name="applicants" value="3"' in html
    assert f'value="{NAMES[3]}"' in html
    assert f'value="{data["applicant2-nik"]}"' in html


def test_the_pending_group_expires_after_half_an_hour(clock, en_client, office, slot):
    en_client.post(form_url(office, *slot), family_data(3))
    clock.now += timedelta(minutes=29)
    assert en_client.get(check_url(office, *slot)).status_code == 200
    clock.now += timedelta(minutes=2)
    response = en_client.post(check_url(office, *slot))
    assert response.status_code == 302
    assert response["Location"] == form_url(office, *slot)
    _nothing_written()


def test_birth_dates_unlike_the_nik_are_named_per_applicant(en_client, office, slot):
    data = family_data(3) | {"applicant3-birth_date": "2005-01-21"}
    en_client.post(form_url(office, *slot), data)
    text = page_text(en_client.get(check_url(office, *slot)))
    assert "The birth date differs from the date in the NIK of: Applicant 3." in text


def _refusal(client, office, slot, data):
    before = Booking.objects.count()
    response = client.post(form_url(office, *slot), data)
    assert response.status_code == 302, _summary(response)
    response = client.post(check_url(office, *slot))
    assert response.status_code == 409
    assert Booking.objects.count() == before
    assert "antrean_pending_booking" in client.session  # the answers wait to be changed
    return SimpleNamespace(summary=_summary(response), days=response.context["alternatives"])


def test_a_repeated_nik_is_refused_and_nothing_is_written(en_client, office, slot):
    data = family_data(3)
    data["applicant3-nik"] = data["applicant2-nik"]
    refusal = _refusal(en_client, office, slot, data)
    assert "The booking could not be made" in refusal.summary
    assert "Applicant 3 has the same NIK (1671••••••••" in refusal.summary
    assert refusal.days == []  # another day would not help
    _nothing_written()


def test_a_nik_with_an_active_booking_names_the_applicant(en_client, office, slot):
    data = family_data(3)
    held = book_with_service(office, *slot, nik=data["applicant2-nik"])
    refusal = _refusal(en_client, office, slot, data)
    assert f"Applicant 2 (NIK {held.masked_nik}) already holds an active booking." in (
        refusal.summary
    )
    assert data["applicant2-nik"] not in refusal.summary
    assert Booking.objects.get() == held
    assert not BookingGroup.objects.exists()
    assert_counters_match_bookings()


def test_too_few_places_says_how_many_are_left(en_client):
    office = OfficeFactory(code="kecil", city="Lubuklinggau", windows=[(time(8), time(10), 3)])
    day, window = first_slot(office)
    book_with_service(office, day, window)
    refusal = _refusal(en_client, office, (day, window), family_data(3))
    assert "This session has only 2 places left for 3 applicants." in refusal.summary
    assert refusal.days  # other days with places are offered
    assert Booking.objects.count() == 1
    assert WindowDay.objects.get(window=window, date=day).booked == 1
    assert_counters_match_bookings()


def test_a_tampered_pending_group_goes_back_to_the_form(en_client, office, slot):
    en_client.post(form_url(office, *slot), family_data(3))
    session = en_client.session
    session["antrean_pending_booking"]["data"]["applicants"] = "9"
    session.save()
    response = en_client.post(check_url(office, *slot))
    assert response.status_code == 302
    assert response["Location"] == form_url(office, *slot)
    session = en_client.session
    session["antrean_pending_booking"]["data"] |= {"applicants": "3", "applicant2-nik": "bogus"}
    session.save()
    assert en_client.post(check_url(office, *slot)).status_code == 302
    _nothing_written()


def test_a_filled_honeypot_refuses_the_group(en_client, office, slot):
    response = en_client.post(form_url(office, *slot), family_data(3, website="https://x.example"))
    assert response.status_code == 200
    assert field_errors(response, "website")
    _nothing_written()


# ---- the group's page, print view, calendar file ----------------------------------------------


def test_the_group_page_shows_every_member(en_client, family):
    group = family[0].group
    response = en_client.get(group_url(group))
    assert response.status_code == 200
    text = page_text(response)
    html = response.content.decode()
    assert "3 applicants are booked" in text
    assert _group_code(html) == f"{group.code[:4]}-{group.code[4:8]}-{group.code[8:]}"
    assert "Kantor Imigrasi Palembang" in text
    assert "08:00–10:00 WIB" in text
    for member in family:
        assert member.full_name in text
        assert member.code in text
        assert member.masked_nik in text
        assert member.nik not in text
        assert f'href="{detail_url(member)}"' in html
    assert html.count("<svg") == 4  # each member's QR code, and the group's
    assert html.count('<figure class="qr-code member-qr">') == 3
    assert f"<title>{group.code}</title>" in html  # the group's QR: one scan checks all in
    for name in ("group-print", "group-ics", "group-cancel", "group-reschedule"):
        assert f'href="{group_url(group, name)}"' in html


def _group_code(html):
    return re.search(r'<p class="booking-code group-code"[^>]*>([^<]*)</p>', html)[1]


def test_the_group_page_shows_who_checked_in_with_the_queue_number(en_client, family):
    first = family[0]
    at_the_counter = first.starts_at + timedelta(minutes=5)
    checked_in = services.check_in(office=first.office, code=first.code, now=at_the_counter)
    text = page_text(en_client.get(group_url(first.group)))
    assert f"Checked in — queue number {checked_in.queue_number}" in text
    assert "2 applicants are booked" in text


def test_the_print_view_has_every_member_s_qr_code(en_client, family):
    response = en_client.get(group_url(family[0].group, "group-print"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<svg") == 3
    for member in family:
        assert member.code in html
        assert member.nik not in html


def test_the_calendar_file_names_every_member(en_client, family):
    group = family[0].group
    response = en_client.get(group_url(group, "group-ics"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert f"antrean-{group.code}.ics" in response["Content-Disposition"]
    (event,) = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert event.decoded("dtstart") == family[0].starts_at
    description = str(event["description"]).replace("\n", "")
    assert group.code in description
    for member in family:
        assert member.code in description
    assert "STATUS" not in event

    services.cancel_booking(booking=family[0])  # the first alone: the group still comes
    (event,) = icalendar.Calendar.from_ical(
        en_client.get(group_url(group, "group-ics")).content
    ).walk("VEVENT")
    assert "STATUS" not in event
    services.cancel_group(group=group)
    (event,) = icalendar.Calendar.from_ical(
        en_client.get(group_url(group, "group-ics")).content
    ).walk("VEVENT")
    assert str(event["status"]) == "CANCELLED"


# ---- cancelling and moving the whole group ----------------------------------------------------


def test_cancelling_the_group_frees_every_place(en_client, family):
    group = family[0].group
    url = group_url(group, "group-cancel")
    response = en_client.get(url)
    assert response.status_code == 200
    assert all(member.full_name in page_text(response) for member in family)
    response = en_client.post(url, {})
    assert field_errors(response, "confirm") == ["Tick the box to confirm the cancellation."]
    assert not Booking.objects.filter(status="cancelled").exists()

    response = en_client.post(url, {"confirm": "on"})
    assert response.status_code == 302
    assert response["Location"] == group_url(group)
    assert set(Booking.objects.values_list("status", flat=True)) == {"cancelled"}
    assert_counters_match_bookings()
    text = page_text(en_client.get(group_url(group)))
    assert "No applicant of this group holds a booking any more." in text
    assert "Cancel the group" not in text

    response = en_client.post(url, {"confirm": "on"})
    assert response.status_code == 409
    assert "No applicant of this group holds a booking any more." in _summary(response)


def test_a_group_too_late_to_cancel_is_refused_and_kept(long_sessions, en_client, family, clock):
    clock.now = family[0].starts_at + timedelta(minutes=1)
    url = group_url(family[0].group, "group-cancel")
    assert "This group can no longer be cancelled." in page_text(en_client.get(url))
    response = en_client.post(url, {"confirm": "on"})
    assert response.status_code == 409
    assert "can no longer be cancelled" in _summary(response)
    assert set(Booking.objects.values_list("status", flat=True)) == {"booked"}


def test_rescheduling_the_group_moves_everyone_together(en_client, office, family):
    group = family[0].group
    url = group_url(group, "group-reschedule")
    new_day = bookable_days(office)[2].date
    new_window = office.windows.filter(weekday=new_day.weekday()).order_by("start")[1]
    response = en_client.get(url)
    assert response.status_code == 200
    assert f'href="?date={new_day.isoformat()}"' in response.content.decode()
    response = en_client.get(url, {"date": new_day.isoformat()})
    assert f'value="{new_window.pk}"' in response.content.decode()

    response = en_client.post(url, {"date": new_day.isoformat(), "window": new_window.pk})
    assert response.status_code == 302
    assert response["Location"] == group_url(group)
    moved = Booking.objects.filter(group=group)
    assert set(moved.values_list("date", "window", "reschedule_count")) == {
        (new_day, new_window.pk, 1)
    }
    assert_counters_match_bookings()
    assert "This group can no longer be rescheduled." in page_text(en_client.get(url))


def test_only_windows_with_places_for_the_whole_group_are_offered(en_client):
    office = OfficeFactory(
        code="kecil", city="Lubuklinggau", windows=[(time(8), time(10), 3), (time(10), time(12), 2)]
    )
    day, window = first_slot(office)
    members = book_family_through_pages(en_client, office, day, window, size=3)
    url = group_url(members[0].group, "group-reschedule")
    new_day = bookable_days(office)[2].date
    roomy, tight = office.windows.filter(weekday=new_day.weekday()).order_by("start")
    html = en_client.get(url, {"date": new_day.isoformat()}).content.decode()
    assert f'value="{roomy.pk}"' in html
    assert f'value="{tight.pk}"' not in html

    response = en_client.post(url, {"date": new_day.isoformat(), "window": tight.pk})
    assert response.status_code == 200
    assert field_errors(response, "window") == ["Choose one of the sessions with places left."]
    assert set(Booking.objects.values_list("date", "window")) == {(day, window.pk)}

    response = en_client.post(url, {"date": "2001-01-01", "window": roomy.pk})
    assert response.status_code == 409
    assert set(Booking.objects.values_list("date", "window")) == {(day, window.pk)}


def test_a_service_refusal_shows_in_the_summary_and_moves_nobody(en_client, office, family):
    group = family[0].group
    day, window = family[0].date, family[0].window  # offered: it still has places
    response = en_client.post(
        group_url(group, "group-reschedule"), {"date": day.isoformat(), "window": window.pk}
    )
    assert response.status_code == 409
    assert "The booking is already in this session." in _summary(response)
    assert set(Booking.objects.values_list("date", "window", "reschedule_count")) == {
        (day, window.pk, 0)
    }
    assert not Notification.objects.filter(kind="reschedule").exists()
    assert_counters_match_bookings()


# ---- a member's own page --------------------------------------------------------------------


def test_a_member_s_page_says_it_is_part_of_the_group(en_client, family):
    member = family[1]
    response = en_client.get(detail_url(member))
    assert response.status_code == 200
    text = page_text(response)
    assert "This applicant is part of a group booking." in text
    assert f'href="{group_url(member.group)}"' in response.content.decode()
    assert "An applicant moved alone leaves the group" in text
    assert "Moved alone, they leave the group" in page_text(
        en_client.get(reverse("booking-reschedule", args=[member.code]))
    )


def test_a_member_moved_alone_leaves_the_group_and_stays_open_here(en_client, office, family):
    member = family[1]
    new_day = bookable_days(office)[2].date
    new_window = office.windows.filter(weekday=new_day.weekday()).order_by("start")[0]
    response = en_client.post(
        reverse("booking-reschedule", args=[member.code]),
        {"date": new_day.isoformat(), "window": new_window.pk},
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.group is None
    text = page_text(en_client.get(detail_url(member)))
    assert "part of a group" not in text
    assert member.code in text
    assert page_text(en_client.get(group_url(family[0].group))).count("Applicant ") >= 2
    assert member.full_name not in page_text(en_client.get(group_url(family[0].group)))


def test_a_member_cancelled_alone_stays_in_the_group(en_client, family):
    member = family[2]
    response = en_client.post(reverse("booking-cancel", args=[member.code]), {"confirm": "on"})
    assert response.status_code == 302
    text = page_text(en_client.get(group_url(family[0].group)))
    assert "2 applicants are booked" in text
    assert member.full_name in text
    assert "Cancelled" in text


def test_a_member_looked_up_alone_does_not_open_the_group(family):
    member = family[1]
    browser = Client(headers={"accept-language": "en"})
    response = browser.post(reverse("booking-lookup"), {"code": member.code, "nik": member.nik})
    assert response["Location"] == detail_url(member)
    response = browser.get(detail_url(member))
    assert "This applicant is part of a group booking." in page_text(response)
    assert group_url(member.group) not in response.content.decode()
    assert browser.get(group_url(member.group)).status_code == 302


# ---- look-up, signed links, and who may see a group ------------------------------------------


@pytest.mark.parametrize("index", [0, 1, 2])
def test_lookup_by_group_code_and_any_member_s_nik_opens_the_group(family, index):
    group = family[0].group
    browser = Client()
    typed = f"{group.code[:4]}-{group.code[4:8]} {group.code[8:]}".lower()
    response = browser.post(reverse("booking-lookup"), {"code": typed, "nik": family[index].nik})
    assert response.status_code == 302
    assert response["Location"] == group_url(group)
    assert browser.get(group_url(group)).status_code == 200
    for member in family:  # and every member's own page
        assert browser.get(detail_url(member)).status_code == 200


def test_a_group_looked_up_opens_its_members_only_while_they_are_in_it(en_client, office, family):
    group = family[0].group
    browser = Client()
    browser.post(reverse("booking-lookup"), {"code": group.code, "nik": family[0].nik})
    assert browser.session["antrean_bookings"] == [group.code]
    assert browser.get(detail_url(family[1])).status_code == 200
    new_day = bookable_days(office)[2].date
    new_window = office.windows.filter(weekday=new_day.weekday()).order_by("start")[0]
    services.reschedule_booking(booking=family[1], day=new_day, window=new_window)
    assert browser.get(detail_url(family[1])).status_code == 302  # it left the group
    assert en_client.get(detail_url(family[1])).status_code == 200  # the browser that booked it


def test_a_group_code_with_a_stranger_s_nik_gets_the_no_match_answer(family):
    group = family[0].group
    stranger = Client()
    wrong = stranger.post(reverse("booking-lookup"), {"code": group.code, "nik": make_nik()})
    unknown = stranger.post(reverse("booking-lookup"), {"code": "Z" * 12, "nik": make_nik()})
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()
    assert wrong.context["form"].non_field_errors()
    assert stranger.get(group_url(group)).status_code == 302
    # A member's booking code is not a group code: it opens that booking alone.
    response = stranger.post(
        reverse("booking-lookup"), {"code": family[0].code, "nik": family[1].nik}
    )
    assert response.status_code == 200


def test_someone_else_s_browser_cannot_open_a_group(family):
    group = family[0].group
    stranger = Client()
    lookup = f"{reverse('booking-lookup')}?code={group.code}"
    for name in ("group-detail", "group-print", "group-ics", "group-cancel", "group-reschedule"):
        response = stranger.get(group_url(group, name))
        assert response.status_code == 302, name
        assert response["Location"] == lookup
    response = stranger.get(group_url(group), follow=True)
    text = page_text(response)
    for member in family:
        assert member.full_name not in text
        assert member.code not in text
    assert stranger.post(group_url(group, "group-cancel"), {"confirm": "on"}).status_code == 302
    day = bookable_days(family[0].office)[2].date
    stranger.post(group_url(group, "group-reschedule"), {"date": day.isoformat(), "window": 1})
    assert set(Booking.objects.values_list("status", "reschedule_count")) == {("booked", 0)}


@pytest.mark.parametrize(
    "code", ["ZZZZZZZZZZZZ", "zzzz-zzzz-zzzz", "%3Cscript%3E", "x" * 500, "ABCDEFGHJK"]
)
def test_unknown_or_hostile_group_codes_never_fail(en_client, family, code):
    for name in ("group-detail", "group-print", "group-ics", "group-cancel", "group-reschedule"):
        assert en_client.get(reverse(name, args=[code])).status_code == 302
        assert en_client.post(reverse(name, args=[code])).status_code == 302


def test_a_signed_group_link_opens_the_group_once(family):
    group = family[0].group
    token = booking_token(group)
    browser = Client()
    response = browser.get(group_url(group), {"t": token})
    assert response.status_code == 302
    assert response["Location"] == group_url(group)  # the token leaves the address bar
    assert family[1].full_name in page_text(browser.get(group_url(group)))
    assert browser.get(detail_url(family[2])).status_code == 200
    # Clicked again in the same browser: shown; in another one: the link was used up.
    assert browser.get(group_url(group), {"t": token}).status_code == 302
    other = Client()
    response = other.get(group_url(group), {"t": token})
    assert response.status_code == 410
    assert family[1].full_name not in page_text(response)
    assert other.get(group_url(group)).status_code == 302


@pytest.mark.parametrize("token", ["forged.token", "x\x00" + "y" * 5000, "."])
def test_a_forged_group_link_says_it_no_longer_works(family, token):
    response = Client().get(group_url(family[0].group), {"t": token})
    assert response.status_code == 410
    assert family[0].full_name not in page_text(response)


def test_a_group_link_stops_working_once_the_group_is_cancelled(family):
    group = family[0].group
    token = booking_token(group)
    services.cancel_group(group=group)
    assert Client().get(group_url(group), {"t": token}).status_code == 410


# ---- query counts ----------------------------------------------------------------------------


def test_group_page_query_count(en_client, family, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        assert en_client.get(group_url(family[0].group)).status_code == 200


def test_group_page_costs_the_same_for_two_and_five(office, django_assert_max_num_queries):
    counts = []
    for size in (2, 5):
        browser = Client()
        day, window = first_slot(office, index=1 + size)
        members = book_family_through_pages(browser, office, day, window, size=size)
        with django_assert_max_num_queries(3) as queries:
            assert browser.get(group_url(members[0].group)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_group_form_costs_what_the_form_for_one_costs(office, slot, django_assert_max_num_queries):
    url = form_url(office, *slot)
    counts = {}
    for size in (1, 5):
        browser = Client()
        data = family_data(size) if size > 1 else applicant_data()
        with django_assert_max_num_queries(5) as redrawn:
            assert browser.post(url, {**data, "add": "x"}).status_code == 200
        with django_assert_max_num_queries(12) as sent:
            assert browser.post(url, data).status_code == 302
        with django_assert_max_num_queries(8) as shown:
            assert browser.get(url).status_code == 200
        counts[size] = (len(redrawn), len(sent), len(shown))
    assert counts[1] == counts[5]


def test_group_check_page_query_count(
    client, office, slot, settings, django_assert_max_num_queries
):
    settings.AVAILABILITY_CACHE_SECONDS = 60  # the day's places, read by the form, are kept
    client.post(form_url(office, *slot), family_data(5))
    with django_assert_max_num_queries(3):
        assert client.get(check_url(office, *slot)).status_code == 200


def test_group_lookup_query_count(family, django_assert_max_num_queries):
    # The group and its members' NIKs; then the new session, as a booking's look-up.
    group = family[0].group
    with django_assert_max_num_queries(6):
        response = Client().post(
            reverse("booking-lookup"), {"code": group.code, "nik": family[2].nik}
        )
    assert response.status_code == 302


def test_a_member_page_reached_through_the_group_costs_no_more(
    family, django_assert_max_num_queries
):
    browser = Client()
    session = browser.session
    session["antrean_bookings"] = [family[0].group.code]  # the group alone, not its members
    session.save()
    # The session, the member, its group with the group's check, the fee: as for a member
    # whose own code is held.
    with django_assert_max_num_queries(4):
        assert browser.get(detail_url(family[1])).status_code == 200
    session["antrean_bookings"] = [family[1].code]
    session.save()
    with django_assert_max_num_queries(4):
        assert browser.get(detail_url(family[1])).status_code == 200
