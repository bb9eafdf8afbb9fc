"""Every write of the staff pages and admin, tried by every role at its own office and another.

Office staff change their own office's plan and bookings, whatever else they are; a
supervisor writes nothing but a walk-in over a full day, with a written reason.
"""

from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from bookings.models import Booking
from bookings.tests.factories import TODAY, book, form_data, login, make_nik, make_user, open_day
from offices.access import OFFICE_STAFF_GROUP, SUPERVISOR_GROUP
from offices.models import DayOverride, Office, OfficeDay

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _pinned(pinned):
    return pinned


def _staff_supervisor(world):
    """Staff of Palembang and a supervisor too."""
    user = make_user("petugas.kepala", group=OFFICE_STAFF_GROUP, offices=[world.palembang])
    user.groups.add(Group.objects.get(name=SUPERVISOR_GROUP))
    return user


def _quota(client, office, now):
    url = reverse("admin:offices_office_change", args=[office.pk])
    page = client.get(url)
    if page.status_code != 200 or "adminform" not in page.context:
        return False
    data = form_data(page)
    data.update(daily_quota="151")
    client.post(url, data)
    return Office.objects.get(pk=office.pk).daily_quota == 151


def _day_override(client, office, now):
    day = open_day(office, after=5, now=now)
    data = {"office": office.pk, "date": day.isoformat(), "closed": "on", "reason": "Banjir"}
    client.post(reverse("admin:offices_dayoverride_add"), data)
    return DayOverride.objects.filter(office=office, date=day).exists()


def _close_days(client, office, now):
    day = open_day(office, after=6, now=now)
    data = {
        "office": office.pk,
        "start": day.isoformat(),
        "end": day.isoformat(),
        "kind": "closed",
        "reason": "Banjir",
    }
    client.post(reverse("admin:offices_dayoverride_close_days"), data)
    return DayOverride.objects.filter(office=office, date=day).exists()


def _check_in(client, office, now):
    booking = book(office, TODAY, now=now)
    url = reverse("admin:bookings_booking_check_in")
    client.post(url, {"office": office.pk, "code": booking.code})
    return Booking.objects.get(pk=booking.pk).status == Booking.Status.CHECKED_IN


def _cancel_action(client, office, now):
    booking = book(office, TODAY, index=1, now=now)
    data = {
        "action": "cancel_bookings",
        "_selected_action": [booking.pk],
        "apply": "1",
        "reason": "Kantor tutup",
    }
    client.post(reverse("admin:bookings_booking_changelist"), data)
    return Booking.objects.get(pk=booking.pk).status == Booking.Status.CANCELLED


def _walk_in_data(office, **fields):
    return {
        "office": office.pk,
        "reason": "far_away",
        "nik": make_nik(date(1950, 3, 2)),
        "full_name": "Haji Abdullah",
        "birth_date": "1950-03-02",
        "phone": "0812-3456-7890",
        "purpose": "umrah",
        "passport_type": "ordinary",
        "application_type": "new",
        **fields,
    }


def _walk_in(client, office, now):
    client.post(reverse("admin:bookings_booking_walk_in"), _walk_in_data(office))
    return Booking.objects.filter(office=office, channel=Booking.Channel.WALK_IN).exists()


def _walk_in_over_a_full_day(client, office, now):
    OfficeDay.objects.update_or_create(
        office=office, date=TODAY, defaults={"quota": 0, "online_quota": 0}
    )
    data = _walk_in_data(office, override_reason="Pemohon lansia dari Lahat")
    client.post(reverse("admin:bookings_booking_walk_in"), data)
    return Booking.objects.filter(office=office, override_reason__startswith="Pemohon").exists()


WRITES = {
    "office quota": _quota,
    "day override": _day_override,
    "close days": _close_days,
    "check-in": _check_in,
    "cancel": _cancel_action,
    "walk-in": _walk_in,
    "walk-in over a full day": _walk_in_over_a_full_day,
}
OVER_FULL = {"walk-in over a full day"}
ALL = set(WRITES)

# (who, at which office): the writes that go through. Everything else must not.
ALLOWED = {
    ("clerk", "own"): ALL - OVER_FULL,  # only a supervisor exceeds the quota
    ("clerk", "other"): set(),
    ("supervisor", "own"): OVER_FULL,  # a supervisor has no office of their own
    ("supervisor", "other"): OVER_FULL,
    ("staff_supervisor", "own"): ALL,
    ("staff_supervisor", "other"): OVER_FULL,
    ("admin", "own"): ALL,
    ("admin", "other"): ALL,
}


@pytest.mark.parametrize("write", list(WRITES))
@pytest.mark.parametrize(("who", "where"), list(ALLOWED))
def test_each_role_writes_exactly_what_it_may(client, world, now, who, where, write):
    user = _staff_supervisor(world) if who == "staff_supervisor" else getattr(world, who)
    office = world.palembang if where == "own" else world.makassar
    login(client, user)
    done = WRITES[write](client, office, now)
    assert done is (write in ALLOWED[(who, where)])
