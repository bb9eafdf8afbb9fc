"""Staff pages in admin: today's queue, check-in by code, queue tickets, walk-ins."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from bookings.codes import code_from_scan
from bookings.models import Booking
from bookings.services import cancel_booking, mark_no_show
from bookings.tests.factories import TODAY, book, login, make_nik, parse
from offices.models import Office, OfficeDay

pytestmark = pytest.mark.django_db

TODAY_URL = "admin:bookings_booking_today"
CHECK_IN_URL = "admin:bookings_booking_check_in"
WALK_IN_URL = "admin:bookings_booking_walk_in"


@pytest.fixture(autouse=True)
def _pinned(pinned):
    return pinned


def _check_in(client, office, code):
    return client.post(reverse(CHECK_IN_URL), {"office": office.pk, "code": code}, follow=True)


def _messages(response):
    return [str(m) for m in response.context["messages"]]


def _walk_in(client, at, **fields):
    data = {
        "office": at.pk,
        "reason": "far_away",
        "nik": make_nik(date(1950, 3, 2)),
        "full_name": "  Haji   Abdullah ",
        "birth_date": "1950-03-02",
        "phone": "0812-3456-7890",
        "email": "",
        "purpose": "umrah",
        "passport_type": "ordinary",
        "application_type": "new",
        **fields,
    }
    return client.post(reverse(WALK_IN_URL), data)


# Today.


def test_today_shows_each_window_and_the_walk_ins(clerk, world, now):
    first = book(world.palembang, TODAY, now=now)
    book(world.palembang, TODAY, now=now)
    late = book(world.palembang, TODAY, index=1, now=now)
    gone = book(world.palembang, TODAY - timedelta(days=1), now=now)  # yesterday: not listed
    mark_no_show(booking=gone, now=now)
    cancelled = book(world.palembang, TODAY, index=2, now=now)
    cancel_booking(booking=cancelled, now=now)
    _check_in(clerk, world.palembang, first.code)
    _walk_in(clerk, world.palembang)
    response = clerk.get(reverse(TODAY_URL))
    assert response.status_code == 200
    rows = {row.label: row for row in response.context["rows"]}
    morning = rows["08.00–10.00"]
    assert (morning.capacity, morning.booked, morning.arrived, morning.free) == (45, 2, 1, 43)
    assert (rows["10.00–12.00"].booked, rows["13.00–15.00"].booked) == (1, 0)
    assert (rows["Walk-ins"].booked, rows["Walk-ins"].arrived) == (1, 1)
    total = response.context["total"]
    assert (total.capacity, total.booked, total.arrived, total.free) == (150, 4, 2, 146)
    text = response.content.decode()
    assert late.masked_nik in text
    assert late.nik not in text
    assert gone.code not in text


def test_today_counts_no_shows(clerk, world, now):
    booking = book(world.palembang, TODAY, now=now)
    mark_no_show(booking=booking, now=now + timedelta(hours=2))
    rows = clerk.get(reverse(TODAY_URL)).context["rows"]
    assert (rows[0].booked, rows[0].no_show, rows[0].free) == (0, 1, 45)


def test_today_uses_the_offices_own_date(client, world, now, clock):
    # 23.30 WIB on the 5th is already 01.30 WIT on the 6th in Jayapura.
    jayapura = Office.objects.create(
        code="jayapura", name="Kanim Jayapura", city="Jayapura", timezone="Asia/Jayapura"
    )
    jayapura.staff.add(world.clerk)
    clock.now = now.replace(hour=23, minute=30)
    login(client, world.clerk)
    response = client.get(reverse(TODAY_URL), {"office": jayapura.pk})
    assert response.context["day"] == date(2017, 9, 6)
    response = client.get(reverse(TODAY_URL), {"office": world.palembang.pk})
    assert response.context["day"] == TODAY


@pytest.mark.parametrize("value", ["makassar", "-1", "99999", "1 OR 1=1"])
def test_today_refuses_an_office_that_is_not_the_clerks(clerk, world, value):
    office = world.makassar.pk if value == "makassar" else value
    response = clerk.get(reverse(TODAY_URL), {"office": office})
    assert response.status_code == 404


def test_the_supervisor_reads_any_offices_day_without_checking_in(client, world, now):
    theirs = book(world.makassar, TODAY, now=now)
    login(client, world.supervisor)
    response = client.get(reverse(TODAY_URL), {"office": world.makassar.pk})
    assert response.status_code == 200
    assert theirs.code in response.content.decode()
    assert not response.context["can_check_in"]
    assert (
        client.post(
            reverse(CHECK_IN_URL), {"office": world.makassar.pk, "code": theirs.code}
        ).status_code
        == 403
    )


def test_a_clerk_without_an_office_is_told_so(client, world):
    world.palembang.staff.remove(world.clerk)
    login(client, world.clerk)
    response = client.get(reverse(TODAY_URL))
    assert response.status_code == 200
    assert "not assigned to any office" in response.content.decode()
    assert client.get(reverse(WALK_IN_URL)).status_code == 200


@pytest.mark.parametrize("count", [3, 30])
def test_the_today_page_costs_the_same_whatever_the_day_holds(
    clerk, world, now, count, django_assert_max_num_queries
):
    for n in range(count):
        booking = book(world.palembang, TODAY, index=n % 3, now=now)
        if n % 2:
            _check_in(clerk, world.palembang, booking.code)
    url = reverse(TODAY_URL)
    clerk.get(url)
    with django_assert_max_num_queries(19):
        response = clerk.get(url)
    assert len(response.context["bookings"]) == count


# Check-in.


def test_two_applicants_get_their_queue_numbers_in_order(clerk, world, now):
    first = book(world.palembang, TODAY, now=now)
    second = book(world.palembang, TODAY, index=2, now=now)
    response = _check_in(clerk, world.palembang, first.code.lower())
    assert f"{first.code} checked in: queue number A-001." in _messages(response)
    assert [b.pk for b in response.context["checked_in"]] == [first.pk]
    # A scanner may read a link or a code with a dash in it.
    scanned = f"https://antrean.example.go.id/bookings/{second.code[:5]}-{second.code[5:]}"
    response = _check_in(clerk, world.palembang, scanned)
    assert f"{second.code} checked in: queue number A-002." in _messages(response)
    first.refresh_from_db()
    assert (first.status, first.queue_number) == (Booking.Status.CHECKED_IN, "A-001")


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("other_office", "This booking is for another office."),
        ("other_day", "This booking is for 2017-09-06, not today."),
        ("cancelled", "This booking was cancelled."),
        ("unknown", "No booking matches this code."),
        ("empty", "This field is required."),
    ],
)
def test_check_in_refusals_are_plain(clerk, world, now, case, message):
    code = {
        "other_office": lambda: book(world.makassar, TODAY, now=now).code,
        "other_day": lambda: book(world.palembang, TODAY + timedelta(days=1), now=now).code,
        "cancelled": lambda: (
            cancel_booking(
                booking=book(world.palembang, TODAY, now=now), by=world.clerk, now=now
            ).code
        ),
        "unknown": lambda: "ZZZZZZZZZZ",
        "empty": lambda: "",
    }[case]()
    response = _check_in(clerk, world.palembang, code)
    assert response.status_code == 200
    assert message in parse(response).text["error-summary"]
    assert not Booking.objects.exclude(queue_number="").exists()


def test_check_in_needs_a_post_with_a_csrf_token(world, now):
    booking = book(world.palembang, TODAY, now=now)
    strict = login(Client(enforce_csrf_checks=True), world.clerk)
    url = reverse(CHECK_IN_URL)
    assert strict.get(url, {"office": world.palembang.pk, "code": booking.code}).status_code == 405
    response = strict.post(url, {"office": world.palembang.pk, "code": booking.code})
    assert response.status_code == 403
    booking.refresh_from_db()
    assert booking.queue_number == ""


def test_check_in_at_another_office_is_refused(clerk, world, now):
    theirs = book(world.makassar, TODAY, now=now)
    response = clerk.post(reverse(CHECK_IN_URL), {"office": world.makassar.pk, "code": theirs.code})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.queue_number == ""


# Tickets.


def test_the_ticket_shows_number_office_date_time_and_window(clerk, world, now):
    booking = book(world.palembang, TODAY, now=now)
    _check_in(clerk, world.palembang, booking.code)
    response = clerk.get(reverse("admin:bookings_booking_ticket", args=[booking.pk]))
    text = response.content.decode()
    assert response.status_code == 200
    for expected in ["A-001", "Kanim Palembang", "Tuesday, 5 September 2017", "09.00 WIB"]:
        assert expected in text
    assert "08.00–10.00 WIB" in text
    assert "bookings/staff/staff.css" in text  # the print styles
    assert "bookings/staff/print.js" in text
    assert booking.nik not in text


def test_no_ticket_before_check_in_or_for_another_office(clerk, world, now):
    ours = book(world.palembang, TODAY, now=now)
    theirs = book(world.makassar, TODAY, now=now)
    for booking in [ours, theirs]:
        url = reverse("admin:bookings_booking_ticket", args=[booking.pk])
        assert clerk.get(url).status_code == 404


# Walk-ins.


def test_a_walk_in_gets_a_number_and_a_ticket(clerk, world):
    page = clerk.get(reverse(WALK_IN_URL))
    assert "150 of 150 places left" in page.content.decode()
    response = _walk_in(clerk, world.palembang)
    booking = Booking.objects.get(channel=Booking.Channel.WALK_IN)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:bookings_booking_ticket", args=[booking.pk])
    assert (booking.queue_number, booking.status) == ("B-001", Booking.Status.CHECKED_IN)
    assert (booking.full_name, booking.phone) == ("Haji Abdullah", "+6281234567890")
    assert (booking.created_by, booking.walk_in_reason) == (world.clerk, "far_away")
    _walk_in(clerk, world.palembang, reason="elderly", nik=make_nik(date(1950, 3, 2)))
    assert Booking.objects.get(walk_in_reason="elderly").queue_number == "P-001"


def test_a_walk_in_form_explains_what_is_wrong(clerk, world):
    response = _walk_in(
        clerk, world.palembang, nik="1234", phone="12345", birth_date="2999-01-01", reason="x"
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"nik", "phone", "birth_date", "reason"}
    assert "A NIK has exactly 16 digits." in errors["nik"]
    assert not Booking.objects.exists()


@pytest.mark.parametrize(
    "name",
    ["Siti 2 Aminah", "سيتي", "...", "Siti\u0007Aminah"],
    ids=["digit", "arabic", "marks", "control"],
)
def test_a_walk_ins_name_is_checked_as_an_online_applicants_is(clerk, world, name):
    response = _walk_in(clerk, world.palembang, full_name=name)
    assert response.status_code == 200
    assert "full_name" in response.context["form"].errors
    assert not Booking.objects.exists()


def test_a_walk_ins_birth_date_is_checked_against_the_offices_own_date(client, world, clock):
    # 23:30 WIB on 5 September is already 6 September at 00:30 WITA in Makassar.
    clock.now = datetime(2017, 9, 5, 23, 30, tzinfo=ZoneInfo("Asia/Jakarta"))
    world.makassar.staff.add(world.clerk)
    clerk = login(client, world.clerk)  # a staff session lasts a working day: log in now
    born_today_in_makassar = {"birth_date": "2017-09-06", "nik": make_nik(date(2017, 9, 6))}
    refused = _walk_in(clerk, world.palembang, **born_today_in_makassar)
    assert refused.context["form"].errors["birth_date"] == [
        "The birth date cannot be in the future."
    ]
    accepted = _walk_in(clerk, world.makassar, **born_today_in_makassar)
    assert accepted.status_code == 302


def test_a_refusal_of_the_walk_in_service_shows_in_the_one_error_summary(clerk, world):
    OfficeDay.objects.create(office=world.palembang, date=TODAY, quota=1, online_quota=1, booked=1)
    response = _walk_in(clerk, world.palembang)
    assert response.status_code == 200
    assert not Booking.objects.exists()
    summary = parse(response).text["error-summary"]
    assert "Today's quota at this office is full (1 of 1)." in summary
    assert "Only a supervisor may register more applicants today." in summary


def test_a_clerk_cannot_register_a_walk_in_at_another_office(clerk, world):
    response = _walk_in(clerk, world.palembang, office=world.makassar.pk)
    assert "office" in response.context["form"].errors
    assert not Booking.objects.exists()


@pytest.fixture
def small_office(world):
    world.palembang.daily_quota, world.palembang.walk_in_reserve = 1, 0
    world.palembang.save()
    return world.palembang


def test_a_full_day_is_said_plainly_and_only_a_supervisor_may_exceed_it(
    client, world, small_office
):
    login(client, world.clerk)
    _walk_in(client, small_office)
    page = client.get(reverse(WALK_IN_URL)).content.decode()
    assert "The daily quota of Kanim Palembang is full today: 1 of 1 places are taken." in page
    assert "override_reason" not in page
    response = _walk_in(client, small_office, nik=make_nik(date(1950, 3, 2)))
    errors = response.context["form"].non_field_errors()
    assert "Today's quota at this office is full (1 of 1)." in errors
    assert "Only a supervisor may register more applicants today." in errors
    assert Booking.objects.count() == 1


def test_a_supervisor_exceeds_a_full_day_with_a_written_reason(client, world, small_office):
    login(client, world.clerk)
    _walk_in(client, small_office)
    login(client, world.supervisor)
    response = _walk_in(client, small_office, nik=make_nik(date(1950, 3, 2)))
    assert "write the reason for exceeding" in " ".join(response.context["form"].non_field_errors())
    response = _walk_in(
        client,
        small_office,
        nik=make_nik(date(1950, 3, 2)),
        override_reason="Pemohon lansia datang dari Lahat",
    )
    assert response.status_code == 302
    extra = Booking.objects.get(override_reason="Pemohon lansia datang dari Lahat")
    assert (extra.created_by, extra.queue_number) == (world.supervisor, "B-002")
    assert OfficeDay.objects.get(office=small_office, date=TODAY).quota == 2


def test_a_closed_day_is_said_on_the_walk_in_page(clerk, world):
    from offices.models import DayOverride

    DayOverride.objects.create(office=world.palembang, date=TODAY, reason="Banjir")
    page = clerk.get(reverse(WALK_IN_URL)).content.decode()
    assert "Kanim Palembang is closed today." in page
    response = _walk_in(clerk, world.palembang)
    assert "The office is closed on this day." in response.context["form"].non_field_errors()


# Small helpers.


def test_a_scanned_link_gives_its_code():
    assert code_from_scan("https://x.id/b/ABCDE-FGHJK?lang=id") == "ABCDEFGHJK"
    assert code_from_scan(" abcde fghjk ") == "ABCDEFGHJK"
    assert code_from_scan("https://x.id/b/?code=ABCDEFGHJK") == "ABCDEFGHJK"


def test_a_walk_ins_details_and_a_searched_nik_are_hidden_from_error_reports(clerk, world):
    response = _walk_in(clerk, world.palembang, full_name="Budi 7")
    assert "nik" in response.wsgi_request.sensitive_post_parameters
    response = clerk.post(reverse("admin:bookings_booking_find"), {"term": make_nik()})
    assert list(response.wsgi_request.sensitive_post_parameters) == ["term"]


def test_the_failed_messages_of_today_are_sent_again_in_one_go(
    clerk, world, now, monkeypatch, django_capture_on_commit_callbacks
):
    from bookings.models import Notification

    queued = []
    monkeypatch.setattr("bookings.notifications.outbox.queue_delivery", queued.extend)
    today = [book(world.palembang, TODAY, now=now), book(world.palembang, TODAY, index=1, now=now)]
    later = book(world.palembang, TODAY + timedelta(days=1), now=now)
    Notification.objects.update(status="failed", attempts=5, last_error="GatewayDown")
    page = clerk.get(reverse("admin:bookings_booking_today"))
    assert reverse("admin:bookings_booking_resend_failed") in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = clerk.post(
            reverse("admin:bookings_booking_resend_failed"),
            {"office": world.palembang.pk},
            follow=True,
        )

    assert "4 failed messages will be sent again." in _messages(response)
    again = Notification.objects.filter(booking__in=today)
    assert set(again.values_list("status", "attempts")) == {("pending", 0)}
    assert sorted(queued) == sorted((pk, 0) for pk in again.values_list("pk", flat=True))
    assert set(later.notifications.values_list("status", flat=True)) == {"failed"}


def test_a_clerk_cannot_resend_another_offices_messages(client, world):
    login(client, world.makassar_clerk)
    response = client.post(
        reverse("admin:bookings_booking_resend_failed"), {"office": world.palembang.pk}
    )
    assert response.status_code == 404
