"""The ballot releases in admin: made with a secret seed, then only the public value typed in."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bookings import ballots
from bookings.models import Release, ReleaseSchedule
from bookings.tests.factories import login, make_applicant, make_release, window_at
from bookings.tests.test_waitlist import AFTER_DRAW, drawn, free_a_place, singles

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


def test_office_staff_do_not_change_releases(client, world):
    release = make(world.palembang)
    login(client, world.clerk)
    assert client.post(change_url(release), {"public_value": "1"}).status_code == 403
    release.refresh_from_db()
    assert release.public_value == ""


def test_the_list_costs_the_same_for_many_releases(client, world, django_assert_max_num_queries):
    login(client, world.admin)
    make(world.palembang)
    with django_assert_max_num_queries(8) as few:
        assert client.get("/admin/bookings/release/").status_code == 200
    for week in range(5):
        make_release(world.makassar, MONDAY + timedelta(days=7 * week))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/admin/bookings/release/")
    assert response.status_code == 200
    assert response.content.decode().count("Kanim Makassar") >= 5


# ---- release schedules and a supervisor's part --------------------------------------------

SCHEDULE_ADD = "/admin/bookings/releaseschedule/add/"


def schedule_data(office, **overrides):
    return {
        "office": office.pk,
        "weekday": 4,
        "opens_at": "14:00",
        "days_ahead": 10,
        "days": 7,
        "entry_hours": 48,
        "draw_hours": 20,
        "public_value_source": "The IDX composite index at Monday's close.",
        "active": "on",
        **overrides,
    }


def test_a_clerk_sets_the_release_schedule_of_their_own_office_only(client, world):
    login(client, world.clerk)

    assert client.post(SCHEDULE_ADD, schedule_data(world.palembang)).status_code == 302
    refused = client.post(SCHEDULE_ADD, schedule_data(world.makassar))

    assert refused.status_code == 200 and "office" in refused.context["adminform"].form.errors
    assert list(ReleaseSchedule.objects.values_list("office__code", flat=True)) == ["palembang"]


def test_a_schedule_whose_draw_comes_too_late_is_refused_with_a_message(client, world):
    login(client, world.clerk)

    response = client.post(SCHEDULE_ADD, schedule_data(world.palembang, days_ahead=2))

    assert response.status_code == 200
    assert "The draw must come before" in str(response.context["adminform"].form.errors)
    assert not ReleaseSchedule.objects.exists()


def test_a_clerk_sees_their_office_s_releases_and_cannot_change_them(client, world):
    own, other = make(world.palembang), make(world.makassar)
    login(client, world.clerk)

    listing = client.get("/admin/bookings/release/").content.decode()

    assert change_url(own) in listing and change_url(other) not in listing
    page = client.get(change_url(own))
    assert page.status_code == 200 and 'name="public_value"' not in page.content.decode()


def test_a_supervisor_types_the_public_value_and_starts_a_late_draw(client, world, clock):
    release = make(world.makassar)
    ballots.close_release(release=release, now=release.closes_at)
    login(client, world.supervisor)

    typed = client.post(change_url(release), {"public_value": "7310.52"})
    assert typed.status_code == 302
    clock.now = release.draw_at + timedelta(hours=2)
    response = client.post(
        "/admin/bookings/release/",
        {"action": "draw_now", "_selected_action": [release.pk]},
        follow=True,
    )

    assert response.status_code == 200
    release.refresh_from_db()
    assert release.state == Release.State.DRAWN and release.public_value == "7310.52"


def test_staff_see_a_release_s_entries_places_waiting_list_and_offers(
    client, world, django_assert_max_num_queries
):
    office = world.palembang  # Monday: one session of one place
    office.windows.filter(weekday=0).exclude(start__hour=8).delete()
    office.windows.filter(weekday=0, start__hour=8).update(capacity=1)
    office.release_mode = "ballot"
    office.save()
    release, entries = drawn(office, singles(office, 4))
    free_a_place(entries)
    ballots.offer_free_places(now=AFTER_DRAW)
    login(client, world.clerk)

    with django_assert_max_num_queries(30):
        response = client.get(change_url(release))

    text = response.content.decode()
    assert response.status_code == 200
    assert "Entries against places" in text and "Waiting list" in text
    offer = release.offers.get()
    assert offer.entry.code in text and "1 offer of a freed place (0 accepted)" in text
    waiting = release.entries.filter(waiting_position__isnull=False).order_by("waiting_position")
    assert [e.code in text for e in waiting] == [True] * 3
    for entry in release.entries.all():
        for applicant in entry.applicants.all():
            assert applicant.nik not in text and applicant.full_name not in text
    login(client, world.makassar_clerk)
    assert client.get(change_url(release)).status_code in (302, 404)
