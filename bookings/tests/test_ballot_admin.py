"""The ballot releases in admin: made with a secret seed, then only the public value typed in."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bookings import ballots
from bookings.models import Release
from bookings.tests.factories import login, make_applicant, make_release, window_at

pytestmark = pytest.mark.django_db

WIB = ZoneInfo("Asia/Jakarta")
OPENS = datetime(2017, 9, 1, 14, 0, tzinfo=WIB)
MONDAY = date(2017, 9, 11)
ADD = "/admin/bookings/release/add/"


def change_url(release):
    return f"/admin/bookings/release/{release.pk}/change/"


def make(office):
    return make_release(office, MONDAY, MONDAY + timedelta(days=4))


def test_an_administrator_makes_a_release_whose_seed_stays_secret(client, world):
    login(client, world.admin)
    response = client.post(
        ADD,
        {
            "office": world.palembang.pk,
            "first_day": "2017-09-11",
            "last_day": "2017-09-15",
            "opens_at_0": "2017-09-01",
            "opens_at_1": "14:00",
            "closes_at_0": "2017-09-04",
            "closes_at_1": "14:00",
            "draw_at_0": "2017-09-04",
            "draw_at_1": "15:00",
            "public_value_source": "The closing IDX composite index of Monday.",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    release = Release.objects.get()
    assert len(release.seed) == 64 and len(release.seed_hash) == 64
    page = client.get(change_url(release)).content.decode()
    assert release.seed_hash in page and release.seed not in page


def test_times_out_of_order_are_refused_with_a_message(client, world):
    login(client, world.admin)
    response = client.post(
        ADD,
        {
            "office": world.palembang.pk,
            "first_day": "2017-09-15",
            "last_day": "2017-09-11",
            "opens_at_0": "2017-09-01",
            "opens_at_1": "14:00",
            "closes_at_0": "2017-09-04",
            "closes_at_1": "14:00",
            "draw_at_0": "2017-09-04",
            "draw_at_1": "15:00",
            "public_value_source": "-",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not Release.objects.exists()


def test_only_the_public_value_is_typed_in_afterwards(client, world):
    release = make(world.palembang)
    login(client, world.admin)

    response = client.post(
        change_url(release),
        {"public_value": " 7310.52 ", "first_day": "2017-09-18", "public_value_source": "x"},
    )

    assert response.status_code == 302
    release.refresh_from_db()
    assert release.public_value == "7310.52"
    assert release.first_day == MONDAY
    assert release.public_value_source.startswith("The closing IDX")


def test_a_drawn_release_is_read_only(client, world):
    release = make(world.palembang)
    ballots.enter(
        release=release,
        applicants=[make_applicant()],
        preferences=[(MONDAY, window_at(world.palembang, MONDAY))],
        now=OPENS + timedelta(hours=1),
    )
    ballots.close_release(release=release, now=release.closes_at)
    ballots.draw_release(release=release, public_value="42", now=release.draw_at)
    login(client, world.admin)

    client.post(change_url(release), {"public_value": "43"})

    release.refresh_from_db()
    assert release.public_value == "42"


def test_office_staff_and_supervisors_do_not_change_releases(client, world):
    release = make(world.palembang)
    for user in (world.clerk, world.supervisor):
        login(client, user)
        assert client.get(change_url(release)).status_code in (302, 403)
        assert client.post(change_url(release), {"public_value": "1"}).status_code in (302, 403)
    release.refresh_from_db()
    assert release.public_value == ""


def test_the_list_costs_the_same_for_many_releases(client, world, django_assert_max_num_queries):
    login(client, world.admin)
    make(world.palembang)
    with django_assert_max_num_queries(8) as few:
        assert client.get("/admin/bookings/release/").status_code == 200
    for _ in range(5):
        make(world.makassar)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/admin/bookings/release/")
    assert response.status_code == 200
    assert response.content.decode().count("Kanim Makassar") >= 5
