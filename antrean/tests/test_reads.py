"""Kept reads: one row and the rows it points to come back as select_related gives them."""

from datetime import date, timedelta

import pytest

from antrean import reads
from bookings.models import Booking, ContactCheck, Visit
from bookings.tests.factories import arrive_on_wednesday, book_at, on_wednesday, open_counter
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db

WEDNESDAY = date(2017, 9, 6)
RELATED = ("office", "window", "contact_check")


def values(obj) -> dict:
    return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}


def assert_read_alike(found, expected, related):
    assert type(found) is type(expected)
    assert values(found) == values(expected)
    assert found._state.adding is False and found._state.db == expected._state.db
    for name in related:
        relation = found._meta.get_field(name)
        if relation.is_cached(expected):
            theirs = relation.get_cached_value(expected)
            ours = relation.get_cached_value(found)  # cached: no query
            assert (ours is None) == (theirs is None), name
            if theirs is not None:
                assert values(ours) == values(theirs), name


def test_a_booking_with_its_office_window_and_contact_check_reads_as_the_orm_reads_it(
    now, django_assert_num_queries
):
    office = OfficeFactory(timezone="Asia/Makassar")
    booking = book_at(office, WEDNESDAY, now=now, full_name="Siti 'Ayu' Ñandú")
    ContactCheck.objects.create(
        booking=booking,
        channel="sms",
        code_hash="x" * 64,
        sent_at=now,
        expires_at=now + timedelta(minutes=10),
    )
    expected = Booking.objects.select_related(*RELATED).get(pk=booking.pk)

    with django_assert_num_queries(1):
        found = reads.first(Booking, RELATED, "bookings_booking.code = %s", [booking.code])
        assert found.office.zone == expected.office.zone
        assert found.window.start == expected.window.start
        assert found.contact_check.booking is found  # the reverse cached too

    assert_read_alike(found, expected, RELATED)
    assert found.starts_at == expected.starts_at and found.starts_at.tzinfo is not None
    assert found.created_at == expected.created_at


def test_relations_without_a_row_are_cached_as_none(now, django_assert_num_queries):
    office = OfficeFactory()
    booking = book_at(office, WEDNESDAY, now=now)
    # A walk-in's booking has no window.
    Booking.objects.filter(pk=booking.pk).update(window=None, channel=Booking.Channel.WALK_IN)
    expected = Booking.objects.select_related(*RELATED).get(pk=booking.pk)

    with django_assert_num_queries(1):
        found = reads.first(Booking, RELATED, "bookings_booking.id = %s", [booking.pk])
        assert found.window is None
        with pytest.raises(Booking.contact_check.RelatedObjectDoesNotExist):
            _ = found.contact_check

    assert_read_alike(found, expected, RELATED)


def test_nothing_found_is_none_and_dates_are_given_as_the_orm_gives_them():
    office = OfficeFactory()
    visit = arrive_on_wednesday(office, on_wednesday(7, 30)).visit
    counter = open_counter(office, "Loket 1", "petugas.loket")
    Visit.objects.filter(pk=visit.pk).update(counter=counter)
    related = ("office", "booking", "counter")
    expected = Visit.objects.select_related(*related).get(pk=visit.pk)
    where = "bookings_visit.id = %s AND bookings_visit.date = %s"

    found = reads.first(Visit, related, where, [visit.pk, visit.date])

    assert_read_alike(found, expected, related)
    assert reads.first(Visit, related, where, [visit.pk, visit.date + timedelta(days=1)]) is None
