"""The applicant's "your turn" page from the ticket's QR code: the signed link, each state's
words in English and Indonesian, nothing personal on it, the ticket's QR code, its queries."""

from datetime import timedelta

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import translation

from bookings.models import Visit
from bookings.queue import calls
from bookings.queue.turn import read_token, ticket_qr_svg, turn_token, turn_url
from bookings.services import check_in, register_walk_in
from bookings.tests.factories import (
    WEDNESDAY,
    arrive_on_wednesday,
    book_at,
    call,
    login,
    make_applicant,
    open_counter,
)
from bookings.tests.factories import on_wednesday as at

pytestmark = pytest.mark.django_db


@pytest.fixture
def loket(office):
    """Loket 1 with its clerk signed in."""
    return open_counter(office, "Loket 1", "ani")


def arrive(office, now, hour=8):
    """Arrive on Wednesday (arrive_on_wednesday): the booking's visit."""
    booking = arrive_on_wednesday(office, now, hour)
    return Visit.objects.select_related("booking").get(booking=booking)


def page(client, visit, language="en"):
    return client.get(
        reverse("queue-turn", args=[turn_token(visit)]), HTTP_ACCEPT_LANGUAGE=language
    )


def text_of(response):
    return " ".join(response.content.decode().split())


# The link.


def test_the_token_names_the_visit_and_its_day_and_nothing_else(office, settings):
    settings.SITE_URL = "https://antrean.example/"
    visit = arrive(office, at(7, 30))
    token = turn_token(visit)

    assert read_token(token) == (visit.pk, WEDNESDAY)
    assert visit.booking.code not in token and visit.booking.nik not in token
    assert turn_url(visit) == f"https://antrean.example/queue/{token}/"


@pytest.mark.parametrize(
    "forged",
    [
        "",
        "1-20170906",
        "1-20170906.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        signing.Signer(salt="bookings.offers", sep=".").sign("1-20170906"),  # another link's
        signing.Signer(salt="bookings.queue.turn", sep=".").sign("١-20170906"),
        signing.Signer(salt="bookings.queue.turn", sep=".").sign("1-20171306"),
        "x" * 500,
    ],
)
def test_a_forged_or_broken_token_names_no_visit(forged):
    assert read_token(forged) is None


@pytest.mark.parametrize("token", ["nonsense", "1-20170906.forged", "%00", "x" * 300])
def test_a_bad_token_gets_the_not_found_page(client, clock, office, token):
    arrive(office, at(7, 30))
    clock.now = at(8)

    response = client.get(f"/queue/{token}/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 404
    assert "This queue ticket was not found" in text_of(response)


def test_yesterdays_ticket_says_it_is_from_another_day(client, clock, office):
    visit = arrive(office, at(7, 30))
    clock.now = at(8) + timedelta(days=1)

    response = page(client, visit)

    assert response.status_code == 410
    assert "This ticket is from another day" in text_of(response)
    assert visit.booking.queue_number not in text_of(response)


# What the applicant reads, in each state.


def test_a_waiting_applicant_sees_those_ahead_and_the_wait_as_a_range(client, clock, office):
    first = [arrive(office, at(7, 30 + i)) for i in range(3)]
    last = arrive(office, at(7, 40))
    clock.now = at(8, 5)

    response = page(client, last)
    text = text_of(response)

    assert response.status_code == 200
    assert "A-004" in text and office.name in text
    assert "3 people ahead of you" in text
    assert "about 20–40 minutes" in text  # 3 × 10 minutes, the default, at one counter at most
    assert "Your session starts" not in text
    assert response["Refresh"] == "25"
    assert "no-store" in response["Cache-Control"]
    assert first[0].booking.queue_number not in text  # nobody else's number either


def test_an_early_online_applicant_is_told_when_their_session_starts(client, clock, office):
    visit = arrive(office, at(7, 30), hour=10)
    clock.now = at(7, 35)

    text = text_of(page(client, visit))

    assert "You are next" in text
    assert "Your session starts at 10.00 WIB" in text


def test_called_served_done_and_missed_each_say_what_to_do(client, clock, office, loket):
    office.skips_before_no_show = 1
    office.save()
    visit = arrive(office, at(7, 30))
    clock.now = at(8)

    call(loket, at(8))
    called = page(client, visit)
    assert "Please go to Loket 1" in text_of(called) and called["Refresh"] == "25"

    calls.start(counter=loket, by=loket.clerk, now=at(8, 1))
    assert "You are being served at Loket 1" in text_of(page(client, visit))

    calls.finish(counter=loket, by=loket.clerk, now=at(8, 10))
    done = page(client, visit)
    assert "Your service is finished. Thank you for coming." in text_of(done)
    assert "Refresh" not in done  # nothing more will change

    other = arrive(office, at(8, 11))
    call(loket, at(8, 12))
    calls.skip(counter=loket, by=loket.clerk, now=at(8, 15))
    missed = text_of(page(client, other))
    assert "Your number has been called; please see an officer." in missed


def _indonesian_ready():
    with translation.override("id"):
        if translation.gettext("You are next") == "You are next":
            pytest.skip("the Indonesian catalogue has no words for the turn page yet")


def test_the_page_speaks_indonesian_by_default(client, clock, office, loket):
    _indonesian_ready()
    office.skips_before_no_show = 1
    office.save()
    early = arrive(office, at(7, 30), hour=10)
    visits = [arrive(office, at(7, 31 + i)) for i in range(4)]
    clock.now = at(8)

    waiting = text_of(page(client, visits[-1], language="id"))
    assert '<html lang="id">' in waiting
    assert "3 orang di depan Anda" in waiting and "sekitar 20–40 menit" in waiting
    next_early = text_of(page(client, early, language="id"))
    assert "Sesi Anda mulai pukul 10.00 WIB" in next_early

    call(loket, at(8))
    assert "Silakan ke Loket 1" in text_of(page(client, visits[0], language="id"))
    assert "Anda berikutnya" in text_of(page(client, visits[1], language="id"))
    calls.skip(counter=loket, by=loket.clerk, now=at(8, 3))
    missed = text_of(page(client, visits[0], language="id"))
    assert "Nomor Anda sudah dipanggil; silakan ke petugas" in missed


def test_the_page_shows_nothing_personal(client, clock, office):
    walk_in = register_walk_in(
        office=office,
        applicant=make_applicant(full_name="Haji Abdullah"),
        reason="far_away",
        by=None,
        now=at(7, 40),
    )
    visit = Visit.objects.get(booking=walk_in)
    clock.now = at(8)

    html = page(client, visit).content.decode()

    assert walk_in.queue_number in html
    personal = [walk_in.nik, walk_in.nik[-4:] + "<", "Abdullah", walk_in.code, "6281234567890"]
    assert [shown for shown in personal if shown in html] == []


def test_the_page_reads_a_constant_number_of_queries(
    client, clock, office, loket, django_assert_max_num_queries
):
    visits = [arrive(office, at(7, 30 + i)) for i in range(12)]
    call(loket, at(8))
    calls.finish(counter=loket, by=loket.clerk, now=at(8, 9))
    clock.now = at(8, 10)

    # The visit; the office-day's queue read once (the counters, those at them, the waiting,
    # the latest calls, the latest services, today's waits), then kept for the next phones.
    with django_assert_max_num_queries(7):
        response = page(client, visits[-1])
    assert "10 people ahead of you" in text_of(response)
    with django_assert_max_num_queries(1):
        assert "9 people ahead of you" in text_of(page(client, visits[-2]))


# The ticket.


def test_the_ticket_prints_a_qr_code_of_the_turn_page(client, clock, now, world, settings):
    settings.SITE_URL = "https://antrean.example"
    booking = book_at(world.palembang, now.date(), 8, now=now - timedelta(days=1))
    check_in(office=world.palembang, code=booking.code, by=world.clerk, now=now)
    visit = Visit.objects.get(booking=booking)
    login(client, world.clerk)

    response = client.get(reverse("admin:bookings_booking_ticket", args=[booking.pk]))
    html = response.content.decode()

    assert response.status_code == 200
    assert ticket_qr_svg(visit) in html
    assert "Scan to see how many are ahead of you" in html
    url = turn_url(visit)
    opened = client.get(url.removeprefix(settings.SITE_URL), HTTP_ACCEPT_LANGUAGE="en")
    assert opened.status_code == 200
    assert booking.queue_number in text_of(opened)
