"""Closing a day that holds bookings from the staff pages: the form, the preview, the close;
many offices at once for supervisors; the closures list, scoped to the user's offices."""

from datetime import date

import pytest

from bookings.models import Booking, Closure, ClosureMove, Outage
from bookings.tests.factories import book, book_group, login

pytestmark = pytest.mark.django_db

URL = "/admin/bookings/booking/close/"
MANY = "/admin/bookings/booking/close-offices/"
THURSDAY = date(2017, 9, 7)
REASON = "Listrik padam di seluruh gedung"


@pytest.fixture
def booked(world, now):
    single = book(world.palembang, THURSDAY, index=0, now=now, full_name="Budi Santoso")
    family = book_group(world.palembang, THURSDAY, 2, index=2, now=now)
    return single, family


def form(world, **extra):
    return {
        "office": world.palembang.pk,
        "day": "2017-09-07",
        "part": "day",
        "reason": REASON,
        **extra,
    }


def test_the_preview_lists_every_booking_and_changes_nothing(client, world, clock, booked):
    login(client, world.clerk)

    page = client.post(URL, form(world, preview="1"))

    assert page.status_code == 200
    found = page.context["found"]
    assert (found.moved, found.left) == (3, 0)
    text = page.content.decode()
    assert "Budi Santoso" in text and booked[1][0].group.code in text
    assert "Fri 8 Sep 2017, 08.00–10.00" in text
    assert f'name="expected" value="{found.fingerprint}"' in text
    assert not Closure.objects.exists()


def test_confirming_the_preview_closes_the_day_and_shows_the_record(client, world, clock, booked):
    login(client, world.clerk)
    found = client.post(URL, form(world, preview="1")).context["found"]

    done = client.post(
        URL, form(world, close="1", expected=found.fingerprint, raise_quota="no"), follow=True
    )

    closure = Closure.objects.get()
    assert done.redirect_chain[-1][0] == f"/admin/bookings/closure/{closure.pk}/change/"
    assert "3 applicants moved, 0 left without a place" in done.content.decode()
    assert (closure.created_by, closure.reason, closure.moved) == (world.clerk, REASON, 3)
    assert ClosureMove.objects.filter(closure=closure).count() == 3
    assert "Budi Santoso" in done.content.decode()  # the moves, inline


def test_a_preview_out_of_date_is_shown_again_instead_of_closing(client, world, clock, booked, now):
    login(client, world.clerk)
    found = client.post(URL, form(world, preview="1")).context["found"]
    book(world.palembang, THURSDAY, index=1, now=now)

    again = client.post(URL, form(world, close="1", expected=found.fingerprint))

    assert again.status_code == 200
    assert "Bookings changed since the preview was made" in again.content.decode()
    assert again.context["found"].moved == 4
    assert not Closure.objects.exists()


def test_part_of_a_day_closes_the_sessions_in_those_hours(client, world, clock, booked):
    login(client, world.clerk)
    data = form(world, part="part", starts="07:00", ends="11:00", preview="1")

    found = client.post(URL, data).context["found"]

    assert [w.label for w in found.windows] == ["08.00–10.00", "10.00–12.00"]
    assert found.moved == 1  # the family in the afternoon stays


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"reason": ""}, "reason", "This field is required."),
        ({"day": "kemarin"}, "day", "Enter a valid date."),
        ({"day": "2017-09-04"}, "day", "A day that has passed cannot be closed."),
        ({"part": "part", "starts": "12:00", "ends": "09:00"}, "ends", "after the beginning"),
        ({"part": "part", "starts": "16:00", "ends": "18:00"}, "starts", "No session"),
        ({"office": 999}, "office", "Select a valid choice."),
    ],
)
def test_bad_input_is_answered_beside_its_field_and_closes_nothing(
    client, world, clock, booked, data, field, message
):
    login(client, world.clerk)

    page = client.post(URL, form(world, close="1", **data))

    assert page.status_code == 200
    assert any(message in error for error in page.context["form"].errors[field])
    assert not Closure.objects.exists()


def test_staff_close_only_their_own_offices_and_need_the_permission(client, world, clock, booked):
    login(client, world.makassar_clerk)
    page = client.post(URL, form(world, close="1"))
    assert "office" in page.context["form"].errors
    login(client, world.supervisor)
    assert client.get(URL).status_code == 403
    assert Booking.objects.filter(date=THURSDAY, status="booked").count() == 3


def test_the_today_page_offers_we_are_closed_today(client, world, clock):
    login(client, world.clerk)
    page = client.get("/admin/bookings/booking/today/")
    link = f"{URL}?office={world.palembang.pk}&amp;day=2017-09-05"
    assert link in page.content.decode()
    assert client.get(link.replace("&amp;", "&")).context["form"].initial["day"] == "2017-09-05"


def test_a_supervisor_closes_many_offices_at_once_each_in_its_own_office(client, world, clock, now):
    here = book(world.palembang, THURSDAY, index=0, now=now)
    there = book(world.makassar, THURSDAY, index=0, now=now)
    login(client, world.supervisor)
    data = {
        "day": "2017-09-07",
        "part": "part",
        "starts": "08:00",
        "ends": "10:00",
        "reason": "SIMKIM pusat tidak dapat diakses",
        "offices": [world.palembang.pk, world.makassar.pk],
    }
    previews = client.post(MANY, {**data, "preview": "1"}).context["previews"]
    assert [p.moved for _o, p in previews] == [1, 1]
    expected = {f"expected-{o.pk}": p.fingerprint for o, p in previews}

    done = client.post(MANY, {**data, **expected, "close": "1"}, follow=True)

    assert done.status_code == 200
    outage = Outage.objects.get()
    assert outage.closures.count() == 2 and outage.created_by == world.supervisor
    here.refresh_from_db()
    there.refresh_from_db()
    assert (here.office, here.window.start.hour) == (world.palembang, 10)
    assert (there.office, there.window.start.hour) == (world.makassar, 10)
    login(client, world.clerk)
    assert client.get(MANY).status_code == 403


def test_the_closures_list_shows_each_office_its_own(client, world, clock, booked, now):
    login(client, world.clerk)
    found = client.post(URL, form(world, preview="1")).context["found"]
    client.post(URL, form(world, close="1", expected=found.fingerprint))
    book(world.makassar, THURSDAY, now=now)

    assert client.get("/admin/bookings/closure/").context["cl"].result_count == 1
    login(client, world.makassar_clerk)
    assert client.get("/admin/bookings/closure/").context["cl"].result_count == 0
    closure = Closure.objects.get()
    assert client.get(f"/admin/bookings/closure/{closure.pk}/change/").status_code in (302, 403)
