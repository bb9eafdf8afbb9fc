"""Booking and notification admin, as a clerk and a supervisor; the admin login and session."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse

from bookings.codes import grouped
from bookings.models import Booking, Notification
from bookings.tests.factories import TODAY, book, book_group, login

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:bookings_booking_changelist"


@pytest.fixture(autouse=True)
def _pinned(pinned):
    return pinned


@pytest.fixture
def ours(world, now):
    return book(world.palembang, TODAY, now=now, full_name="Siti Palembang")


@pytest.fixture
def theirs(world, now):
    return book(world.makassar, TODAY, now=now, full_name="Daeng Makassar")


def _shows(response, booking):
    text = response.content.decode()
    return booking.code in text or booking.full_name in text or booking.nik in text


def _act(client, action, bookings, **extra):
    data = {"action": action, "_selected_action": [b.pk for b in bookings], "index": 0, **extra}
    return client.post(reverse(CHANGELIST), data, follow=True)


def _messages(response):
    return [str(m) for m in response.context["messages"]]


# Lists, masks and search.


def test_the_clerk_lists_their_offices_bookings_masked(client, world, ours, theirs):
    login(client, world.clerk)
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    text = response.content.decode()
    assert ours.code in text
    assert ours.masked_nik in text
    assert ours.nik not in text
    assert ours.phone not in text
    assert "+6281" in text  # the masked phone keeps its prefix
    assert not _shows(response, theirs)


def test_the_office_filter_offers_only_the_clerks_office(client, world, ours, theirs):
    login(client, world.clerk)
    url = reverse(CHANGELIST)
    response = client.get(url)
    assert "Kanim Palembang" in response.content.decode()
    assert "Kanim Makassar" not in response.content.decode()
    response = client.get(url, {"office": world.makassar.pk})
    assert list(response.context["cl"].result_list) == []
    assert client.get(url, {"office": "'; drop"}).status_code in {200, 302}


def test_searching_a_nik_answers_without_the_nik(client, world, ours, theirs):
    login(client, world.clerk)
    response = client.get(reverse(CHANGELIST), {"q": ours.nik})
    assert response.status_code == 302
    assert ours.nik not in response["Location"]
    page = client.get(response["Location"])
    assert [b.pk for b in page.context["cl"].result_list] == [ours.pk]
    assert ours.nik not in page.content.decode()
    # Another office's NIK finds nothing.
    response = client.get(reverse(CHANGELIST), {"q": theirs.nik}, follow=True)
    assert not _shows(response, theirs)


def test_the_search_box_posts_so_a_nik_stays_out_of_addresses(client, world, ours):
    login(client, world.clerk)
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert f'action="{reverse("admin:bookings_booking_find")}"' in page
    response = client.post(reverse("admin:bookings_booking_find"), {"term": ours.nik})
    assert ours.nik not in response["Location"]
    assert f"id__in={ours.pk}" in response["Location"]
    response = client.post(reverse("admin:bookings_booking_find"), {"term": ours.code.lower()})
    page = client.get(response["Location"])
    assert [b.pk for b in page.context["cl"].result_list] == [ours.pk]
    assert client.get(reverse("admin:bookings_booking_find")).status_code == 405


def test_searching_by_code_finds_only_the_clerks_bookings(client, world, ours, theirs):
    login(client, world.clerk)
    for booking, expected in [(ours, [ours.pk]), (theirs, [])]:
        response = client.get(reverse(CHANGELIST), {"q": booking.code})
        assert [b.pk for b in response.context["cl"].result_list] == expected


# Nothing of Makassar by any URL.


def test_a_clerk_gets_nothing_of_makassar_by_any_booking_url(client, world, ours, theirs):
    login(client, world.clerk)
    notification = theirs.notifications.first()
    urls = [
        reverse("admin:bookings_booking_change", args=[theirs.pk]),
        reverse("admin:bookings_booking_history", args=[theirs.pk]),
        reverse("admin:bookings_booking_delete", args=[theirs.pk]),
        reverse("admin:bookings_booking_ticket", args=[theirs.pk]),
        reverse("admin:bookings_notification_change", args=[notification.pk]),
        reverse("admin:bookings_notification_history", args=[notification.pk]),
        reverse("admin:bookings_booking_today") + f"?office={world.makassar.pk}",
        reverse("admin:bookings_booking_walk_in") + f"?office={world.makassar.pk}",
        reverse("admin:bookings_notification_changelist") + f"?office={world.makassar.pk}",
        reverse(CHANGELIST) + f"?id__in={theirs.pk}",
    ]
    for url in urls:
        response = client.get(url, follow=True)
        assert response.status_code in {200, 403, 404}, url
        assert not _shows(response, theirs), url


def test_autocomplete_answers_only_the_clerks_bookings(client, world, ours, theirs):
    login(client, world.clerk)
    params = {"app_label": "bookings", "model_name": "notification", "field_name": "booking"}
    for booking, expected in [(ours, [ours.code]), (theirs, [])]:
        response = client.get("/admin/autocomplete/", {**params, "term": booking.code})
        assert [row["text"] for row in json.loads(response.content)["results"]] == expected
    response = client.get("/admin/autocomplete/", {**params, "term": ""})
    assert [row["text"] for row in json.loads(response.content)["results"]] == [ours.code]


def test_actions_never_reach_another_offices_booking(client, world, ours, theirs):
    login(client, world.clerk)
    _act(client, "check_in_bookings", [theirs])
    _act(client, "cancel_bookings", [theirs], apply="1", reason="Salah kantor")
    theirs.refresh_from_db()
    assert (theirs.status, theirs.queue_number) == (Booking.Status.BOOKED, "")


# Read-only rows and actions through the services.


def test_bookings_are_not_added_or_edited_in_admin(client, world, ours):
    login(client, world.clerk)
    assert client.get(reverse("admin:bookings_booking_add")).status_code == 403
    url = reverse("admin:bookings_booking_change", args=[ours.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert ours.masked_nik in page.content.decode()
    assert ours.nik not in page.content.decode()
    assert client.post(url, {"status": "checked_in"}).status_code == 403
    ours.refresh_from_db()
    assert ours.status == Booking.Status.BOOKED


def test_the_check_in_action_gives_queue_numbers(client, world, now, ours):
    other = book(world.palembang, TODAY, now=now)
    login(client, world.clerk)
    response = _act(client, "check_in_bookings", [ours, other])
    ours.refresh_from_db()
    other.refresh_from_db()
    assert sorted([ours.queue_number, other.queue_number]) == ["A-001", "A-002"]
    assert f"{ours.code} checked in: queue number {ours.queue_number}." in _messages(response)
    response = _act(client, "check_in_bookings", [ours])
    assert any("already checked in" in m for m in _messages(response))


def test_the_check_in_action_refuses_another_day(client, world, now):
    tomorrow = book(world.palembang, TODAY + timedelta(days=1), now=now)
    login(client, world.clerk)
    response = _act(client, "check_in_bookings", [tomorrow])
    assert any("not today" in m for m in _messages(response))


def test_no_shows_are_marked_after_their_session(client, world, now, ours):
    yesterday = book(world.palembang, TODAY - timedelta(days=1), now=now)
    login(client, world.clerk)
    response = _act(client, "mark_no_shows", [yesterday, ours])
    yesterday.refresh_from_db()
    ours.refresh_from_db()
    assert yesterday.status == Booking.Status.NO_SHOW
    assert ours.status == Booking.Status.BOOKED  # its session has not ended
    messages = _messages(response)
    assert f"{yesterday.code} marked as no-show." in messages
    assert any(m.startswith(ours.code) and "not ended" in m for m in messages)


def test_cancelling_asks_a_reason_then_tells_the_applicant(client, world, ours):
    login(client, world.clerk)
    page = client.post(
        reverse(CHANGELIST),
        {"action": "cancel_bookings", "_selected_action": [ours.pk], "index": 0},
    )
    assert page.status_code == 200
    assert "admin/bookings/booking/cancel_selected.html" in [t.name for t in page.templates]
    ours.refresh_from_db()
    assert ours.status == Booking.Status.BOOKED
    missing = _act(client, "cancel_bookings", [ours], apply="1", reason="")
    assert missing.context["form"].errors
    response = _act(client, "cancel_bookings", [ours], apply="1", reason="Kantor tutup: banjir")
    ours.refresh_from_db()
    assert (ours.status, ours.cancel_reason) == (Booking.Status.CANCELLED, "Kantor tutup: banjir")
    assert ours.notifications.filter(kind=Notification.Kind.CANCELLATION).count() == 2
    assert f"{ours.code} cancelled; the applicant is told." in _messages(response)


def test_the_supervisor_reads_every_office_and_acts_on_none(client, world, ours, theirs):
    login(client, world.supervisor)
    response = client.get(reverse(CHANGELIST))
    assert _shows(response, ours)
    assert _shows(response, theirs)
    assert "check_in_bookings" not in response.content.decode()
    assert client.get(reverse("admin:bookings_booking_change", args=[theirs.pk])).status_code == 200
    _act(client, "check_in_bookings", [theirs])
    theirs.refresh_from_db()
    assert theirs.status == Booking.Status.BOOKED


# Notifications.


def test_notifications_are_scoped_and_filtered(client, world, ours, theirs):
    login(client, world.clerk)
    url = reverse("admin:bookings_notification_changelist")
    response = client.get(url)
    shown = {n.booking_id for n in response.context["cl"].result_list}
    assert shown == {ours.pk}
    response = client.get(url, {"status__exact": "failed"})
    assert list(response.context["cl"].result_list) == []
    response = client.get(url, {"channel__exact": "sms", "kind__exact": "confirmation"})
    assert [n.channel for n in response.context["cl"].result_list] == ["sms"]


def test_a_failed_notification_is_sent_again(client, world, ours, theirs):
    Notification.objects.update(status=Notification.Status.FAILED, attempts=5)
    login(client, world.clerk)
    mine = ours.notifications.get(channel=Notification.Channel.EMAIL)
    other = theirs.notifications.get(channel=Notification.Channel.EMAIL)
    response = client.post(
        reverse("admin:bookings_notification_changelist"),
        {"action": "retry", "_selected_action": [mine.pk, other.pk], "index": 0},
        follow=True,
    )
    mine.refresh_from_db()
    other.refresh_from_db()
    assert (mine.status, mine.attempts) == (Notification.Status.PENDING, 0)
    assert other.status == Notification.Status.FAILED
    assert len(_messages(response)) == 1


# Query counts.


@pytest.mark.parametrize("count", [3, 30])
def test_the_bookings_list_costs_the_same_whatever_its_length(
    client, world, now, count, django_assert_max_num_queries
):
    for n in range(count):
        book(world.palembang, TODAY, index=n % 3, now=now)
    login(client, world.clerk)
    url = reverse(CHANGELIST)
    client.get(url)
    with django_assert_max_num_queries(9):
        response = client.get(url)
    assert len(response.context["cl"].result_list) == count


# Hostile input.

ODD_GETS = [
    "/admin/bookings/booking/today/?ticket=abc",
    "/admin/bookings/booking/999999/ticket/",
    "/admin/bookings/booking/walk-in/?office=abc",
    "/admin/offices/dayoverride/close-days/?year=99999&start=x&end=y&office=zz&kind=zzz",
    "/admin/bookings/booking/?office=1%00",
    "/admin/bookings/booking/?id__in=abc",
    "/admin/bookings/booking/?date=notadate",
    "/admin/bookings/booking/?q=%00",
    "/admin/bookings/booking/abc/change/",
    "/admin/offices/office/abc/history/",
    "/admin/offices/office/abc/history/1/",
    "/admin/offices/dayoverride/1/history/abc/",
    "/admin/autocomplete/?app_label=x&model_name=y&field_name=z",
    "/admin/autocomplete/?app_label=bookings&model_name=booking&field_name=created_by",
]
ODD_POSTS = [
    ("/admin/bookings/booking/check-in/", {"office": "x", "code": "y"}),
    ("/admin/bookings/booking/check-in/", {}),
    ("/admin/bookings/booking/find/", {"term": "x" * 500}),
    ("/admin/bookings/booking/walk-in/", {"birth_date": "99999-99-99", "nik": "\x00"}),
    (
        "/admin/offices/dayoverride/close-days/",
        {"start": "2017-01-01", "end": "2999-01-01", "kind": "quota", "quota": "-1"},
    ),
    ("/admin/bookings/booking/", {"action": "cancel_bookings", "_selected_action": "x"}),
    ("/admin/offices/dayoverride/", {"action": "remove_overrides", "_selected_action": "1'"}),
]


@pytest.mark.parametrize("who", ["clerk", "supervisor", "admin"])
def test_odd_input_never_breaks_a_staff_page(client, world, who):
    login(client, getattr(world, who))
    for url in ODD_GETS:
        assert client.get(url).status_code < 500, url
    for url, data in ODD_POSTS:
        assert client.post(url, {"index": "0", **data}).status_code < 500, url


# Filters in the address: the list's own, and nothing that could unmask.


@pytest.mark.parametrize(
    ("url", "query"),
    [
        (CHANGELIST, "nik__startswith=1671"),
        (CHANGELIST, "nik__regex=^1671"),
        (CHANGELIST, "nik=1671015705900001"),
        (CHANGELIST, "phone__endswith=7890"),
        (CHANGELIST, "email__icontains=siti"),
        (CHANGELIST, "full_name__istartswith=S"),
        (CHANGELIST, "birth_date__year=1990"),
        (CHANGELIST, "status__regex=book"),
        ("admin:bookings_notification_changelist", "booking__nik__startswith=1671"),
        ("admin:bookings_notification_changelist", "booking__phone__endswith=7890"),
    ],
)
@pytest.mark.parametrize("who", ["clerk", "supervisor", "admin"])
def test_a_lookup_the_list_does_not_offer_is_refused(client, world, ours, url, query, who):
    login(client, getattr(world, who))
    response = client.get(f"{reverse(url)}?{query}")
    assert response.status_code == 400
    assert ours.full_name.encode() not in response.content


@pytest.mark.parametrize(
    "query",
    [
        "status__exact=booked",
        "channel__exact=online",
        "birth_date_mismatch__exact=0",
        "date__gte=2017-09-05&date__lt=2017-09-06",
        "office=1",
        "id__in=1,2",
    ],
)
def test_the_lists_own_filters_still_work(client, world, ours, query):
    login(client, world.clerk)
    assert client.get(f"{reverse(CHANGELIST)}?{query}").status_code == 200


def test_the_notifications_own_filters_still_work(client, world, ours):
    login(client, world.clerk)
    url = reverse("admin:bookings_notification_changelist")
    assert client.get(f"{url}?status__exact=pending&kind__exact=confirmation").status_code == 200


# Groups: the group code in the bookings list, and the messages about a whole group.

NOTIFICATIONS = "admin:bookings_notification_changelist"


@pytest.fixture
def our_group(world, now):
    return book_group(world.palembang, TODAY, 3, now=now)


@pytest.fixture
def their_group(world, now):
    return book_group(world.makassar, TODAY, 2, now=now)


def _listed(response):
    return [row.pk for row in response.context["cl"].result_list]


def test_the_bookings_list_shows_each_members_group_code(client, world, ours, our_group):
    login(client, world.clerk)
    group = our_group[0].group
    response = client.get(reverse(CHANGELIST), {"o": "2"})  # by group code

    assert response.status_code == 200
    assert response.content.decode().count(group.code) == len(our_group)
    page = client.get(reverse("admin:bookings_booking_change", args=[our_group[1].pk]))
    assert group.code in page.content.decode()


@pytest.mark.parametrize("typed", ["plain", "lower", "grouped"])
def test_searching_a_group_code_finds_its_members(
    client, world, ours, our_group, their_group, typed
):
    login(client, world.clerk)
    code = our_group[0].group.code
    term = {"plain": code, "lower": code.lower(), "grouped": grouped(code)}[typed]

    response = client.get(reverse(CHANGELIST), {"q": term})

    assert sorted(_listed(response)) == sorted(m.pk for m in our_group)
    theirs_code = their_group[0].group.code
    assert _listed(client.get(reverse(CHANGELIST), {"q": theirs_code})) == []
    # A member's own code still finds that member alone.
    assert _listed(client.get(reverse(CHANGELIST), {"q": our_group[1].code})) == [our_group[1].pk]


def test_the_staff_search_box_finds_a_group_too(client, world, our_group):
    login(client, world.clerk)
    found = client.post(reverse("admin:bookings_booking_find"), {"term": our_group[0].group.code})
    page = client.get(found["Location"])
    assert sorted(_listed(page)) == sorted(m.pk for m in our_group)


def test_a_groups_messages_are_listed_once_with_its_code_and_scoped(
    client, world, ours, our_group, their_group
):
    login(client, world.clerk)
    group, other = our_group[0].group, their_group[0].group
    url = reverse(NOTIFICATIONS)

    response = client.get(url)
    assert response.status_code == 200
    listed = Notification.objects.filter(pk__in=_listed(response))
    assert set(listed.values_list("booking", "group")) == {(ours.pk, None), (None, group.pk)}
    assert group.code in response.content.decode()
    assert other.code not in response.content.decode()

    by_office = client.get(url, {"office": world.palembang.pk})
    assert sorted(_listed(by_office)) == sorted(_listed(response))
    assert _listed(client.get(url, {"office": world.makassar.pk})) == []

    login(client, world.supervisor)
    everyone = Notification.objects.filter(pk__in=_listed(client.get(url)))
    assert {n.group_id for n in everyone} == {None, group.pk, other.pk}
    makassar = Notification.objects.filter(
        pk__in=_listed(client.get(url, {"office": world.makassar.pk}))
    )
    assert {(n.booking_id, n.group_id) for n in makassar} == {(None, other.pk)}


@pytest.mark.parametrize("term", ["group", "member"])
def test_a_groups_messages_are_found_by_its_code_or_a_members(client, world, ours, our_group, term):
    login(client, world.clerk)
    group = our_group[0].group
    code = group.code if term == "group" else our_group[2].code

    response = client.get(reverse(NOTIFICATIONS), {"q": code})

    found = Notification.objects.filter(pk__in=_listed(response))
    assert set(found.values_list("group", flat=True)) == {group.pk}
    assert found.count() == 2  # the confirmation's e-mail and SMS


def test_a_group_message_opens_for_the_offices_clerk_only(client, world, our_group, their_group):
    login(client, world.clerk)
    mine = Notification.objects.get(group=our_group[0].group, channel="email")
    other = Notification.objects.get(group=their_group[0].group, channel="email")

    page = client.get(reverse("admin:bookings_notification_change", args=[mine.pk]))
    assert page.status_code == 200
    assert mine.group.code in page.content.decode()
    response = client.get(
        reverse("admin:bookings_notification_change", args=[other.pk]), follow=True
    )
    assert other.group.code not in response.content.decode()


def test_a_failed_group_message_is_sent_again(client, world, our_group, their_group):
    Notification.objects.update(status=Notification.Status.FAILED, attempts=5)
    login(client, world.clerk)
    mine = Notification.objects.get(group=our_group[0].group, channel="email")
    other = Notification.objects.get(group=their_group[0].group, channel="email")

    response = client.post(
        reverse(NOTIFICATIONS),
        {"action": "retry", "_selected_action": [mine.pk, other.pk], "index": 0},
        follow=True,
    )

    mine.refresh_from_db()
    other.refresh_from_db()
    assert (mine.status, mine.attempts) == (Notification.Status.PENDING, 0)
    assert other.status == Notification.Status.FAILED
    assert _messages(response) == [f"{mine.group.code}: the Confirmation will be sent again."]


@pytest.mark.parametrize("groups", [1, 8])
def test_the_lists_cost_the_same_whatever_how_many_groups(
    client, world, now, groups, django_assert_max_num_queries
):
    for n in range(groups):
        book_group(world.palembang, TODAY, 3, index=n % 3, now=now)
    login(client, world.clerk)
    for url, rows in [(reverse(CHANGELIST), 3 * groups), (reverse(NOTIFICATIONS), 2 * groups)]:
        client.get(url)
        with django_assert_max_num_queries(9):
            response = client.get(url)
        assert len(response.context["cl"].result_list) == rows
