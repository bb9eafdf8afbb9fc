"""Groups on the staff pages: members listed together, checked in one by one or all at once."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bookings.codes import grouped
from bookings.models import Booking
from bookings.notifications.links import booking_link
from bookings.services import cancel_booking, cancel_group, check_in_group, mark_no_show
from bookings.tests.factories import TODAY, book, book_group, login, parse
from offices.models import OfficeDay

pytestmark = pytest.mark.django_db

TODAY_URL = reverse("admin:bookings_booking_today")
CHECK_IN_URL = reverse("admin:bookings_booking_check_in")


@pytest.fixture(autouse=True)
def _pinned(pinned):
    return pinned


def _check_in(client, office, code):
    return client.post(CHECK_IN_URL, {"office": office.pk, "code": code}, follow=True)


def _messages(response):
    return [str(m) for m in response.context["messages"]]


def _written():
    """Return everything a check-in writes: the bookings and the day's queue counters."""
    bookings = Booking.objects.order_by("pk").values_list(
        "pk", "status", "queue_number", "checked_in_at", "updated_at"
    )
    counters = OfficeDay.objects.order_by("pk").values_list("last_queue_a", "booked")
    return list(bookings), list(counters)


def _numbers(members):
    return [Booking.objects.get(pk=member.pk).queue_number for member in members]


# The day's page.


def test_a_groups_members_stand_together_under_the_group_code(clerk, world, now):
    before = book(world.palembang, TODAY, now=now)
    family = book_group(world.palembang, TODAY, size=3, now=now)
    after = book(world.palembang, TODAY, now=now)
    later = book(world.palembang, TODAY, index=1, now=now)
    response = clerk.get(TODAY_URL)
    assert response.status_code == 200
    blocks = [(block.group_code, block.bookings) for block in response.context["blocks"]]
    group = family[0].group
    assert blocks == [("", [before]), (group.code, family), ("", [after, later])]
    html = response.content.decode()
    assert f"Group {grouped(group.code)}: 3 applicants" in html
    assert html.count('class="staff-group"') == 1
    body = html[html.index('class="staff-group"') :]
    body = body[: body.index("</tbody>")]
    for member in family:
        assert member.full_name in body and member.code in body
        assert member.masked_nik in body
        assert member.nik not in html
    assert f'name="code" value="{group.code}"' in body  # the whole group's button
    assert body.count('value="Check in"') == 3  # and each member's own


def test_a_member_cancelled_alone_stays_in_the_block_and_one_moved_alone_leaves(clerk, world, now):
    family = book_group(world.palembang, TODAY, size=3, now=now)
    cancel_booking(booking=family[1], by=world.clerk, now=now)
    response = clerk.get(TODAY_URL)
    (block,) = response.context["blocks"]
    assert [m.status for m in block.bookings] == ["booked", "cancelled", "booked"]
    assert block.waiting == 2
    Booking.objects.filter(pk=family[2].pk).update(group=None)  # as reschedule_booking does
    blocks = clerk.get(TODAY_URL).context["blocks"]
    assert [(b.group_code, len(b.bookings)) for b in blocks] == [(block.group_code, 2), ("", 1)]


def _page_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(TODAY_URL)
    assert response.status_code == 200
    return len(queries)


def _book_groups(office, count, *, now, clerk):
    for number in range(count):
        family = book_group(office, TODAY, size=2 + number % 4, index=number % 3, now=now)
        if number % 2:
            _check_in(clerk, office, family[0].group.code)
        book(office, TODAY, index=number % 3, now=now)


def test_the_page_costs_the_same_whatever_the_groups_and_members(
    clerk, world, now, django_assert_max_num_queries
):
    _book_groups(world.palembang, 1, now=now, clerk=clerk)
    clerk.get(TODAY_URL)
    few = _page_queries(clerk)
    _book_groups(world.palembang, 7, now=now, clerk=clerk)
    assert _page_queries(clerk) == few
    with django_assert_max_num_queries(19):
        response = clerk.get(TODAY_URL)
    assert len([block for block in response.context["blocks"] if block.group_code]) == 8
    assert len(response.context["bookings"]) == 8 + sum(2 + n % 4 for n in (0, *range(7)))


# Check-in.


def test_one_member_by_their_code_then_the_rest_by_the_group_code(clerk, world, now):
    single = book(world.palembang, TODAY, now=now)
    family = book_group(world.palembang, TODAY, size=4, now=now)
    group = family[0].group
    _check_in(clerk, world.palembang, single.code)
    response = _check_in(clerk, world.palembang, family[1].code)
    assert f"{family[1].code} checked in: queue number A-002." in _messages(response)
    first_arrival = Booking.objects.get(pk=family[1].pk).checked_in_at

    response = _check_in(clerk, world.palembang, group.code)

    assert response.status_code == 200
    expected = (
        f"Group {grouped(group.code)}: 3 applicants checked in, queue numbers A-003, A-004, A-005."
    )
    assert expected in _messages(response)
    assert _numbers(family) == ["A-003", "A-002", "A-004", "A-005"]
    assert Booking.objects.get(pk=family[1].pk).checked_in_at == first_arrival
    assert set(Booking.objects.filter(group=group).values_list("status", flat=True)) == {
        "checked_in"
    }
    # The answer lists every number given, each with its ticket.
    shown = response.context["checked_in"]
    assert [b.queue_number for b in shown] == ["A-003", "A-004", "A-005"]
    html = response.content.decode()
    assert "Queue numbers" in html
    for booking in shown:
        assert reverse("admin:bookings_booking_ticket", args=[booking.pk]) in html
    (block,) = [b for b in response.context["blocks"] if b.group_code]
    assert block.waiting == 0
    assert f'name="code" value="{group.code}"' not in html  # nobody left to check in


@pytest.mark.parametrize(
    "shape",
    ["plain", "grouped", "typed", "link", "page"],
)
def test_a_typed_or_scanned_group_code_checks_the_group_in(clerk, world, now, shape):
    family = book_group(world.palembang, TODAY, size=2, now=now)
    group = family[0].group
    code = {
        "plain": group.code,
        "grouped": grouped(group.code),
        "typed": f" {grouped(group.code).lower()} ",
        "link": booking_link(group, now=now),  # /groups/<code>/?t=… from the message
        "page": f"https://antrean.example.go.id/groups/{group.code}/",
    }[shape]
    response = _check_in(clerk, world.palembang, code)
    assert "error-summary" not in parse(response).text, parse(response).text["error-summary"]
    assert _numbers(family) == ["A-001", "A-002"]


def test_no_shows_stay_per_member(clerk, world, now, clock):
    family = book_group(world.palembang, TODAY, size=3, now=now)
    clock.now = now + timedelta(hours=2)  # the 08.00–10.00 session is over
    mark_no_show(booking=family[0], by=world.clerk, now=clock.now)
    response = _check_in(clerk, world.palembang, family[0].group.code)
    assert "2 applicants checked in" in " ".join(_messages(response))
    assert [Booking.objects.get(pk=m.pk).status for m in family] == [
        "no_show",
        "checked_in",
        "checked_in",
    ]


def _all_checked_in(world, now):
    family = book_group(world.palembang, TODAY, size=2, now=now)
    check_in_group(office=world.palembang, code=family[0].group.code, now=now)
    return family[0].group.code


def _all_cancelled(world, now):
    family = book_group(world.palembang, TODAY, size=2, now=now)
    cancel_group(group=family[0].group, by=world.clerk, now=now)
    return family[0].group.code


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("other_office", "This booking is for another office."),
        ("other_day", "This booking is for 2017-09-06, not today."),
        ("all_checked_in", "Every applicant of this group has already checked in."),
        ("nothing_active", "No applicant of this group holds a booking any more."),
        ("unknown", "No group booking matches this code."),
    ],
)
def test_group_check_in_refusals_show_the_services_message_and_write_nothing(
    clerk, world, now, case, message
):
    code = {
        "other_office": lambda: book_group(world.makassar, TODAY, now=now)[0].group.code,
        "other_day": lambda: (
            book_group(world.palembang, TODAY + timedelta(days=1), now=now)[0].group.code
        ),
        "all_checked_in": lambda: _all_checked_in(world, now),
        "nothing_active": lambda: _all_cancelled(world, now),
        "unknown": lambda: "ZZZZ-ZZZZ-ZZZZ",
    }[case]()
    book(world.palembang, TODAY, now=now)  # someone waiting: a refusal numbers nobody
    before = _written()
    response = _check_in(clerk, world.palembang, code)
    assert response.status_code == 200
    summary = parse(response).text["error-summary"]
    assert f"Booking or group code: {message}" in summary
    assert _written() == before
    assert not response.context["checked_in"]


def test_a_refused_scan_leaves_the_code_read_in_the_box_not_the_link(clerk, world, now):
    family = book_group(world.palembang, TODAY + timedelta(days=1), size=2, now=now)
    link = booking_link(family[0].group, now=now)
    response = _check_in(clerk, world.palembang, link)
    html = response.content.decode()
    assert f'value="{family[0].group.code}"' in html
    assert "?t=" not in html
    assert "bookings/staff/check_in.js" in html


def test_a_makassar_clerk_cannot_check_in_a_palembang_group(client, world, now):
    family = book_group(world.palembang, TODAY, size=3, now=now)
    code = family[0].group.code
    before = _written()
    login(client, world.makassar_clerk)
    posted = client.post(CHECK_IN_URL, {"office": world.palembang.pk, "code": code})
    assert posted.status_code == 404
    response = _check_in(client, world.makassar, code)
    assert "This booking is for another office." in parse(response).text["error-summary"]
    assert client.get(TODAY_URL, {"office": world.palembang.pk}).status_code == 404
    assert _written() == before


def test_a_supervisor_reads_the_groups_but_does_not_check_them_in(client, world, now):
    family = book_group(world.makassar, TODAY, size=2, now=now)
    login(client, world.supervisor)
    response = client.get(TODAY_URL, {"office": world.makassar.pk})
    assert family[0].group.code in [block.group_code for block in response.context["blocks"]]
    assert 'value="Check in the whole group"' not in response.content.decode()
    posted = client.post(CHECK_IN_URL, {"office": world.makassar.pk, "code": family[0].group.code})
    assert posted.status_code == 403
