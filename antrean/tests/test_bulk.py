"""Set-based writes: what a caller gives comes back from the database as it was given."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from antrean import bulk
from bookings.models import Booking, BookingGroup
from bookings.tests.factories import book_at
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db

WEDNESDAY = date(2017, 9, 6)
# Everything an array literal quotes or escapes, and what would look like one of its own.
AWKWARD = ['Siti "Ayu"', "back\\slash", "{a,b}", "NULL", "", "Ni'mah, Jl. Merdeka", "Ñandú ✓"]


def test_the_rows_given_come_back_as_given(now):
    office = OfficeFactory()
    bookings = [book_at(office, WEDNESDAY, now=now) for _ in AWKWARD]
    starts = datetime(2017, 9, 6, 8, 30, tzinfo=ZoneInfo("Asia/Jakarta"))
    rows = [
        (
            booking.pk,
            name,
            bool(number % 2),
            bulk.prepared(Booking, "birth_date", date(1990, 1, 1) + timedelta(days=number)),
            bulk.prepared(Booking, "starts_at", starts + timedelta(minutes=number)),
            None,
        )
        for number, (booking, name) in enumerate(zip(bookings, AWKWARD, strict=True))
    ]

    updated = bulk.update_from(
        Booking,
        names=("id", "name", "mismatch", "born", "starts", "cancel"),
        rows=rows,
        assigned={
            "full_name": "given.name",
            "birth_date_mismatch": "given.mismatch",
            "birth_date": bulk.cast(Booking, "birth_date", "given.born"),
            "starts_at": bulk.cast(Booking, "starts_at", "given.starts"),
            "cancelled_at": bulk.cast(Booking, "cancelled_at", "given.cancel"),
        },
    )

    assert updated == len(AWKWARD)
    found = Booking.objects.in_bulk([booking.pk for booking in bookings])
    for number, booking in enumerate(bookings):
        row = found[booking.pk]
        assert row.full_name == AWKWARD[number]
        assert row.birth_date_mismatch is bool(number % 2)
        assert row.birth_date == date(1990, 1, 1) + timedelta(days=number)
        assert row.starts_at == starts + timedelta(minutes=number)
        assert row.cancelled_at is None


def test_inserted_rows_take_the_given_values_and_the_prototype_for_the_rest(now):
    codes = ["G-1", 'G-"2"', "G\\3"]

    found = bulk.insert_select(
        BookingGroup,
        prototype=BookingGroup(created_at=now),
        selected={"code": "given.code"},
        source="given",
        names=("code",),
        rows=[(code,) for code in codes],
        returning=("pk", "code"),
    )

    assert sorted(code for _pk, code in found) == sorted(codes)
    groups = BookingGroup.objects.filter(code__in=codes)
    assert sorted(groups.values_list("code", flat=True)) == sorted(codes)
    assert {group.created_at for group in groups} == {now}


def test_inserted_objects_are_written_as_a_save_writes_them_and_get_their_keys(now):
    saved = book_at(OfficeFactory(), WEDNESDAY, now=now)
    copies = []
    for name in AWKWARD[:3]:
        copy = Booking.objects.get(pk=saved.pk)
        number = len(copies)
        copy.pk, copy.code, copy.nik, copy.full_name = None, f"C{number}", f"99{number:014d}", name
        copy.created_at = None  # auto_now_add: set as save sets it
        copy._state.adding = True
        copies.append(copy)

    bulk.insert(copies)

    assert len({copy.pk for copy in copies} | {saved.pk}) == 4
    assert all(not copy._state.adding for copy in copies)
    for copy in copies:
        stored = Booking.objects.get(pk=copy.pk)
        assert stored.full_name == copy.full_name and stored.code == copy.code
        assert stored.created_at is not None and stored.created_at == copy.created_at
        assert (stored.office_id, stored.window_id, stored.starts_at, stored.link_version) == (
            saved.office_id,
            saved.window_id,
            saved.starts_at,
            saved.link_version,
        )
