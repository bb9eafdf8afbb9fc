"""The waiting list: a freed place is offered to the first waiting entry that wants it, held on
the counters while offered, and never bookable by anyone else at the same time."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from bookings import ballots, services
from bookings.models import Booking, Entry, Notification, Offer
from bookings.notifications.messages import email_message, sms_text
from bookings.tests.factories import (
    assert_counters_match_bookings,
    make_applicant,
    make_family,
    make_release,
    window_at,
)
from offices.models import Office, WindowDay
from offices.tests.factories import DayOverrideFactory, OfficeFactory

pytestmark = pytest.mark.django_db

WIB = ZoneInfo("Asia/Jakarta")
MONDAY = date(2017, 9, 11)
AFTER_DRAW = datetime(2017, 9, 5, 9, 0, tzinfo=WIB)  # the suite's pinned clock


@pytest.fixture(autouse=True)
def _in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def office(db):
    # Monday's 08.00 session has 2 places, its 10.00 session 1; the other days are closed.
    office = OfficeFactory(
        release_mode=Office.ReleaseMode.BALLOT,
        windows=[(time(8), time(10), 2), (time(10), time(12), 1)],
    )
    for day in range(12, 16):
        DayOverrideFactory(office=office, date=date(2017, 9, day))
    return office


def drawn(office, wishes):
    """Enter each (applicants, choices) in a release of Monday to Friday and draw it; return
    the release and the entries in the order given."""
    release = make_release(office, MONDAY, MONDAY + timedelta(days=4))
    during = release.opens_at + timedelta(hours=1)
    entries = [
        ballots.enter(release=release, applicants=applicants, preferences=choices, now=during)
        for applicants, choices in wishes
    ]
    ballots.close_release(release=release, now=release.closes_at)
    ballots.draw_release(release=release, public_value="7310.52", now=release.draw_at)
    return release, [Entry.objects.get(pk=e.pk) for e in entries]


def singles(office, count, hour=8, **applicant):
    window = window_at(office, MONDAY, hour)
    return [([make_applicant(**applicant)], [(MONDAY, window)]) for _ in range(count)]


def by_status(entries, status):
    found = [Entry.objects.get(pk=e.pk) for e in entries]
    return sorted((e for e in found if e.status == status), key=lambda e: e.waiting_position or 0)


def book(office, hour=8, now=AFTER_DRAW):
    return services.create_booking(
        office=office,
        day=MONDAY,
        window=window_at(office, MONDAY, hour),
        applicant=make_applicant(),
        now=now,
    )


def refused(code, call):
    with pytest.raises(ValidationError) as caught:
        call()
    assert caught.value.code == code, caught.value


def free_a_place(entries):
    """Cancel the booking of the first winner; return the booking."""
    winner = by_status(entries, Entry.Status.WON)[0]
    return services.cancel_booking(booking=winner.booking, now=AFTER_DRAW)


def test_after_the_draw_each_waiting_entry_hears_its_place_in_its_language(office):
    wishes = singles(office, 3, language="en") + singles(office, 1, language="id")
    _release, entries = drawn(office, wishes)

    waiting = by_status(entries, Entry.Status.WAITING)

    assert [e.waiting_position for e in waiting] == [1, 2]
    rows = Notification.objects.filter(kind=Notification.Kind.WAITING)
    assert {(n.entry_id, n.channel) for n in rows} == {
        (e.pk, channel) for e in waiting for channel in ("email", "sms")
    }
    for row in rows.filter(channel="email"):
        message = email_message(row)
        position = row.entry.waiting_position
        assert row.entry.code in message.body and row.entry.receipt not in message.body
        if row.entry.language == "id":
            assert f"nomor {position} dalam daftar tunggu" in message.subject
        else:
            assert f"number {position} on the waiting list" in message.subject


def test_a_freed_place_goes_to_the_first_waiting_entry_and_nobody_else_can_book_it(office):
    release, entries = drawn(office, singles(office, 4))
    first, second = by_status(entries, Entry.Status.WAITING)

    free_a_place(entries)
    refused("waitlist_first", lambda: book(office))  # before the offer: the list comes first
    [offer] = ballots.offer_free_places(now=AFTER_DRAW) and Offer.objects.all()

    assert offer.entry_id == first.pk and offer.size == 1 and offer.state == Offer.State.OPEN
    assert Entry.objects.get(pk=first.pk).status == Entry.Status.OFFERED
    assert Entry.objects.get(pk=second.pk).status == Entry.Status.WAITING
    assert WindowDay.objects.get(window=offer.window, date=MONDAY).booked == 2  # held
    refused("full", lambda: book(office))
    assert offer.expires_at == AFTER_DRAW + timedelta(hours=12)
    assert Notification.objects.filter(entry=first, kind=Notification.Kind.OFFER).count() == 2
    assert ballots.offer_free_places(now=AFTER_DRAW) == 0  # a second run offers nothing more
    assert release.offers.count() == 1


def test_an_accepted_offer_becomes_the_entry_s_booking_with_its_confirmation(office):
    _release, entries = drawn(office, singles(office, 3))
    free_a_place(entries)
    ballots.offer_free_places(now=AFTER_DRAW)
    offer = Offer.objects.get()

    [booking] = ballots.accept_offer(offer=offer, now=AFTER_DRAW + timedelta(hours=1))

    offer.refresh_from_db()
    entry = Entry.objects.get(pk=offer.entry_id)
    assert offer.state == Offer.State.ACCEPTED and offer.booking == booking
    assert entry.status == Entry.Status.WON and entry.booking == booking
    assert booking.status == Booking.Status.BOOKED and booking.window == offer.window
    assert booking.nik == entry.applicants.get().nik
    assert booking.notifications.filter(kind=Notification.Kind.CONFIRMATION).count() == 2
    assert_counters_match_bookings()
    refused("offer_over", lambda: ballots.accept_offer(offer=offer, now=AFTER_DRAW))
    refused("offer_over", lambda: ballots.decline_offer(offer=offer, now=AFTER_DRAW))


def test_a_declined_offer_goes_at_once_to_the_next_entry(office):
    _release, entries = drawn(office, singles(office, 4))
    first, second = by_status(entries, Entry.Status.WAITING)
    free_a_place(entries)
    ballots.offer_free_places(now=AFTER_DRAW)

    ballots.decline_offer(offer=Offer.objects.get(entry=first), now=AFTER_DRAW)

    assert Entry.objects.get(pk=first.pk).status == Entry.Status.PASSED
    assert Offer.objects.get(entry=first).state == Offer.State.DECLINED
    assert Offer.objects.get(entry=second).state == Offer.State.OPEN
    assert_counters_match_bookings()


def test_a_lapsed_offer_goes_to_the_next_entry_and_then_the_place_opens_to_booking(office):
    _release, entries = drawn(office, singles(office, 3))
    [waiting] = by_status(entries, Entry.Status.WAITING)
    free_a_place(entries)
    ballots.offer_free_places(now=AFTER_DRAW)
    offer = Offer.objects.get()

    ballots.run_due(now=offer.expires_at)

    offer.refresh_from_db()
    assert offer.state == Offer.State.EXPIRED
    assert Entry.objects.get(pk=waiting.pk).status == Entry.Status.PASSED
    assert not Offer.objects.filter(state=Offer.State.OPEN).exists()
    # Nobody is waiting any more: the place is anyone's.
    assert book(office, now=offer.expires_at).status == Booking.Status.BOOKED
    assert_counters_match_bookings()


def test_a_group_that_a_freed_place_cannot_hold_is_passed_over_not_split(office):
    eight = window_at(office, MONDAY, 8)
    # A family of three never fits a session of two: it waits, whatever the draw's order.
    wishes = [*singles(office, 2), (make_family(3), [(MONDAY, eight)]), *singles(office, 1)]
    _release, entries = drawn(office, wishes)
    family = entries[2]
    assert Entry.objects.get(pk=family.pk).status == Entry.Status.WAITING

    free_a_place(entries)
    ballots.offer_free_places(now=AFTER_DRAW)

    offer = Offer.objects.get()
    assert offer.entry_id != family.pk and offer.size == 1
    assert Entry.objects.get(pk=family.pk).status == Entry.Status.WAITING


def test_a_group_is_offered_its_places_together_in_any_session_it_chose(db):
    # Sessions of one place each: a pair fits neither at the draw, whatever the order.
    office = OfficeFactory(
        release_mode=Office.ReleaseMode.BALLOT,
        windows=[(time(8), time(10), 1), (time(10), time(12), 1)],
    )
    eight, ten = window_at(office, MONDAY, 8), window_at(office, MONDAY, 10)
    wishes = [
        ([make_applicant()], [(MONDAY, eight)]),
        ([make_applicant()], [(MONDAY, ten)]),
        ([make_applicant()], [(MONDAY, ten)]),
        (make_family(2), [(MONDAY, None)]),  # any session of Monday
    ]
    _release, entries = drawn(office, wishes)
    family = Entry.objects.get(pk=entries[3].pk)
    assert family.status == Entry.Status.WAITING
    # The 08.00 winner cancels and staff raise the session to two places: room for the pair,
    # which the single still waiting (for 10.00 only) does not want.
    services.cancel_booking(booking=Entry.objects.get(pk=entries[0].pk).booking, now=AFTER_DRAW)
    WindowDay.objects.filter(window=eight, date=MONDAY).update(capacity=2)

    ballots.offer_free_places(now=AFTER_DRAW)

    offer = Offer.objects.get()
    assert offer.entry_id == family.pk and offer.size == 2 and offer.window == eight
    members = ballots.accept_offer(offer=offer, now=AFTER_DRAW)
    assert len(members) == 2 and len({m.group_id for m in members}) == 1
    assert_counters_match_bookings()


def test_no_offer_is_made_too_close_to_the_session_and_the_place_opens_to_booking(office):
    _release, entries = drawn(office, singles(office, 3))
    free_a_place(entries)
    late = datetime(2017, 9, 10, 19, 30, tzinfo=WIB)  # 12½ hours before Monday 08.00

    assert ballots.offer_free_places(now=late) == 0
    assert book(office, now=late).status == Booking.Status.BOOKED


def test_an_offer_ends_no_later_than_the_stated_time_before_the_session(office):
    _release, entries = drawn(office, singles(office, 3))
    free_a_place(entries)
    evening = datetime(2017, 9, 10, 9, 0, tzinfo=WIB)

    ballots.offer_free_places(now=evening)

    assert Offer.objects.get().expires_at == datetime(2017, 9, 10, 20, 0, tzinfo=WIB)


def test_an_entry_whose_applicant_booked_elsewhere_cannot_accept(office, settings):
    _release, entries = drawn(office, singles(office, 3))
    free_a_place(entries)
    ballots.offer_free_places(now=AFTER_DRAW)
    offer = Offer.objects.get()
    nik = offer.entry.applicants.get().nik
    other = OfficeFactory()
    services.create_booking(
        office=other,
        day=date(2017, 9, 7),
        window=window_at(other, date(2017, 9, 7)),
        applicant=make_applicant(nik=nik),
        now=AFTER_DRAW,
    )

    refused("group_nik_held", lambda: ballots.accept_offer(offer=offer, now=AFTER_DRAW))
    assert Offer.objects.get().state == Offer.State.OPEN


def test_an_offer_message_names_the_session_the_time_it_is_held_and_its_link(office):
    _release, entries = drawn(office, singles(office, 3, language="en"))
    free_a_place(entries)
    ballots.offer_free_places(now=AFTER_DRAW)
    offer = Offer.objects.get()
    rows = offer.entry.notifications.filter(kind=Notification.Kind.OFFER)

    message = email_message(rows.get(channel="email"), now=AFTER_DRAW)
    text = sms_text(rows.get(channel="sms"))

    assert "A place is free for you" in message.subject
    assert "Monday, 11 September 2017, 08:00–10:00 WIB" in message.body
    assert "5 September 2017, 21:00 WIB" in message.body
    assert "/offers/" in message.body and "/offers/" in text
    assert "Mon 11 Sep 2017 08:00-10:00 WIB" in text


def test_a_quota_raised_by_staff_is_offered_to_the_waiting_list_first(office):
    _release, entries = drawn(office, singles(office, 3))
    [waiting] = by_status(entries, Entry.Status.WAITING)
    window = window_at(office, MONDAY, 8)
    WindowDay.objects.filter(window=window, date=MONDAY).update(capacity=3)

    refused("waitlist_first", lambda: book(office))
    ballots.offer_free_places(now=AFTER_DRAW)

    assert Offer.objects.get().entry_id == waiting.pk
