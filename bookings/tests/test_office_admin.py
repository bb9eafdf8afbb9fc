"""Office admin as a clerk and a supervisor: scoping URL by URL, quotas, closures, history."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse

from bookings.tests.factories import book, form_data, login, make_world, open_day
from offices.models import DayOverride, Office, ServiceWindow

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    return make_world()


@pytest.fixture
def makassar_override(world):
    day = open_day(world.makassar, after=5)
    return DayOverride.objects.create(
        office=world.makassar, date=day, closed=True, reason="Makassar banjir"
    )


MAKASSAR_DATA = (b"Kanim Makassar", b"Makassar banjir")


def _shows_makassar(response):
    return any(marker in response.content for marker in MAKASSAR_DATA)


def _makassar_urls(world, override):
    office, window = world.makassar, world.makassar.windows.first()
    urls = []
    for name, pk in [
        ("office", office.pk),
        ("servicewindow", window.pk),
        ("dayoverride", override.pk),
    ]:
        for view in ["change", "history", "delete"]:
            urls.append(reverse(f"admin:offices_{name}_{view}", args=[pk]))
        version = {"office": office, "servicewindow": window, "dayoverride": override}[name]
        history_id = version.history.first().history_id
        urls.append(reverse(f"admin:offices_{name}_simple_history", args=[pk, history_id]))
    return urls


# Scoping.


def test_a_clerk_lists_only_their_office(client, world, makassar_override):
    login(client, world.clerk)
    for name in ["office", "servicewindow", "dayoverride"]:
        response = client.get(reverse(f"admin:offices_{name}_changelist"))
        assert response.status_code == 200
        assert not _shows_makassar(response)
    page = client.get(reverse("admin:offices_office_changelist"))
    assert b"Kanim Palembang" in page.content


def test_a_clerk_gets_nothing_of_makassar_by_any_office_url(client, world, makassar_override):
    login(client, world.clerk)
    for url in _makassar_urls(world, makassar_override):
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code in {302, 403, 404}, url
            assert not _shows_makassar(response), url
    assert DayOverride.objects.filter(pk=makassar_override.pk).exists()
    assert Office.objects.filter(pk=world.makassar.pk).exists()


def test_a_deleted_override_of_another_office_keeps_its_history_hidden(
    client, world, makassar_override
):
    pk = makassar_override.pk
    makassar_override.delete()
    login(client, world.clerk)
    response = client.get(reverse("admin:offices_dayoverride_history", args=[pk]))
    assert response.status_code == 404


def test_filters_and_parameters_offer_only_the_clerks_office(client, world, makassar_override):
    login(client, world.clerk)
    url = reverse("admin:offices_dayoverride_changelist")
    response = client.get(url)
    assert b"Kanim Palembang" in response.content
    assert b"Kanim Makassar" not in response.content
    response = client.get(url, {"office": world.makassar.pk})
    assert b"Makassar banjir" not in response.content
    assert client.get(url, {"office": "not-a-number"}).status_code in {200, 302}


def test_autocomplete_answers_only_the_clerks_office(client, world):
    login(client, world.clerk)
    params = {"app_label": "offices", "model_name": "dayoverride", "field_name": "office"}
    response = client.get("/admin/autocomplete/", {**params, "term": ""})
    names = [row["text"] for row in json.loads(response.content)["results"]]
    assert names == ["Kanim Palembang"]
    response = client.get("/admin/autocomplete/", {**params, "term": "Makassar"})
    assert json.loads(response.content)["results"] == []


def test_a_clerk_cannot_add_a_closure_for_another_office(client, world):
    login(client, world.clerk)
    day = open_day(world.makassar, after=4)
    response = client.post(
        reverse("admin:offices_dayoverride_add"),
        {"office": world.makassar.pk, "date": day.isoformat(), "closed": "on", "reason": "X"},
    )
    assert response.status_code == 200
    assert "office" in response.context["adminform"].form.errors
    assert not DayOverride.objects.exists()


def test_the_add_form_offers_the_clerks_office_and_saves_through_the_service(client, world):
    login(client, world.clerk)
    url = reverse("admin:offices_dayoverride_add")
    form = client.get(url).context["adminform"].form
    assert form.initial["office"] == world.palembang.pk
    assert [o.pk for o in form.fields["office"].queryset] == [world.palembang.pk]
    day = open_day(world.palembang, after=4)
    book(world.palembang, day, now=_now())
    data = {"office": world.palembang.pk, "date": day.isoformat(), "closed": "on", "reason": "X"}
    refused = client.post(url, data)
    assert "1 applicant is booked on" in refused.content.decode()
    data["date"] = (day + timedelta(days=1)).isoformat()
    assert client.post(url, data).status_code == 302
    override = DayOverride.objects.get(office=world.palembang)
    assert override.history.first().history_user == world.clerk


def test_the_supervisor_reads_every_office_and_changes_none(client, world, makassar_override):
    login(client, world.supervisor)
    page = client.get(reverse("admin:offices_dayoverride_changelist"))
    assert b"Makassar banjir" in page.content
    url = reverse("admin:offices_dayoverride_change", args=[makassar_override.pk])
    assert client.get(url).status_code == 200
    history = client.get(reverse("admin:offices_dayoverride_history", args=[makassar_override.pk]))
    assert history.status_code == 200
    assert client.post(url, {"reason": "Changed"}).status_code == 403
    assert client.get(reverse("admin:offices_dayoverride_close_days")).status_code == 403
    makassar_override.refresh_from_db()
    assert makassar_override.reason == "Makassar banjir"


# Quotas and windows.


def test_a_clerk_changes_the_quota_and_history_says_who(client, world):
    login(client, world.clerk)
    url = reverse("admin:offices_office_change", args=[world.palembang.pk])
    data = form_data(client.get(url))
    data.update(daily_quota="160", walk_in_reserve="20", name="Renamed by a clerk")
    response = client.post(url, data)
    assert response.status_code == 302
    office = Office.objects.get(pk=world.palembang.pk)
    assert (office.daily_quota, office.walk_in_reserve, office.name) == (160, 20, "Kanim Palembang")
    assert office.history.first().history_user == world.clerk
    history = client.get(reverse("admin:offices_office_history", args=[office.pk]))
    assert b"petugas.palembang" in history.content


def test_lowering_the_quota_below_a_booked_day_shows_how_many(client, world):
    day = open_day(world.palembang, after=3)
    for _ in range(3):
        book(world.palembang, day, now=_now())
    login(client, world.clerk)
    url = reverse("admin:offices_office_change", args=[world.palembang.pk])
    data = form_data(client.get(url))
    data.update(daily_quota="2", walk_in_reserve="0")
    response = client.post(url, data)
    assert response.status_code == 200
    assert "3 places are already booked on" in response.content.decode()
    assert Office.objects.get(pk=world.palembang.pk).daily_quota == 150


def test_lowering_a_window_below_its_bookings_shows_how_many(client, world):
    day = open_day(world.palembang, after=3)
    book(world.palembang, day, now=_now())
    book(world.palembang, day, now=_now())
    login(client, world.clerk)
    url = reverse("admin:offices_office_change", args=[world.palembang.pk])
    data = form_data(client.get(url))
    window = ServiceWindow.objects.filter(office=world.palembang, weekday=day.weekday()).order_by(
        "start"
    )[0]
    prefix = next(
        key[: -len("-id")]
        for key, value in data.items()
        if key.endswith("-id") and value == str(window.pk)
    )
    data[f"{prefix}-capacity"] = "1"
    response = client.post(url, data)
    assert response.status_code == 200
    assert "2 places are already booked in the session 08.00–10.00" in response.content.decode()
    window.refresh_from_db()
    assert window.capacity == 45


def test_a_window_change_through_its_own_page_is_recorded(client, world):
    login(client, world.clerk)
    window = world.palembang.windows.first()
    url = reverse("admin:offices_servicewindow_change", args=[window.pk])
    data = form_data(client.get(url))
    data["capacity"] = "40"
    assert client.post(url, data).status_code == 302
    window.refresh_from_db()
    assert window.capacity == 40
    assert window.history.first().history_user == world.clerk


def test_reverting_from_history_is_refused(client, world):
    login(client, world.clerk)
    office = world.palembang
    url = reverse(
        "admin:offices_office_simple_history", args=[office.pk, office.history.first().history_id]
    )
    assert client.get(url).status_code == 200
    assert client.post(url, {"daily_quota": "1"}).status_code == 403
    assert (
        client.get(
            reverse("admin:offices_office_simple_history", args=[office.pk, "x"])
        ).status_code
        == 404
    )


# Closures.


def test_a_clerk_closes_a_range_of_days_with_a_name(client, world):
    login(client, world.clerk)
    first = open_day(world.palembang, after=3)
    last = open_day(world.palembang, after=(first - _today(world)).days + 1)
    response = client.post(
        reverse("admin:offices_dayoverride_close_days"),
        {
            "office": world.palembang.pk,
            "start": first.isoformat(),
            "end": last.isoformat(),
            "kind": "closed",
            "reason": "Cuti bersama kantor",
        },
    )
    assert response.status_code == 302
    closures = DayOverride.objects.filter(office=world.palembang)
    assert {o.date for o in closures} >= {first, last}
    assert {o.reason for o in closures} == {"Cuti bersama kantor"}
    assert all(o.history.first().history_user == world.clerk for o in closures)


def test_closing_a_booked_day_is_refused_with_the_number(client, world):
    day = open_day(world.palembang, after=3)
    book(world.palembang, day, now=_now())
    login(client, world.clerk)
    response = client.post(
        reverse("admin:offices_dayoverride_close_days"),
        {
            "office": world.palembang.pk,
            "start": day.isoformat(),
            "end": day.isoformat(),
            "kind": "closed",
            "reason": "Banjir",
        },
    )
    assert response.status_code == 200
    assert "1 applicant is booked on" in response.content.decode()
    assert not DayOverride.objects.exists()


def test_a_different_quota_needs_a_number(client, world):
    login(client, world.clerk)
    day = open_day(world.palembang, after=3)
    response = client.post(
        reverse("admin:offices_dayoverride_close_days"),
        {
            "office": world.palembang.pk,
            "start": day.isoformat(),
            "end": day.isoformat(),
            "kind": "quota",
            "reason": "Rapat",
        },
    )
    assert response.status_code == 200
    assert "quota" in response.context["form"].errors


def test_the_close_days_page_lists_a_years_holidays_to_prefill(client, world):
    login(client, world.clerk, language="id")
    url = reverse("admin:offices_dayoverride_close_days")
    page = client.get(url, {"year": "2017"}).content.decode()
    assert "Hari Kemerdekaan Republik Indonesia" in page
    assert "Cuti Bersama Hari Raya Idul Fitri" in page
    assert "start=2017-06-25&amp;end=2017-06-30" in page
    prefilled = client.get(url, {"start": "2017-08-17", "end": "2017-08-17", "reason": "HUT RI"})
    assert prefilled.context["form"]["reason"].value() == "HUT RI"
    assert client.get(url, {"year": "abc", "start": "not-a-date"}).status_code == 200


def test_a_clerk_cannot_close_days_of_another_office(client, world):
    login(client, world.clerk)
    day = open_day(world.makassar, after=3)
    response = client.post(
        reverse("admin:offices_dayoverride_close_days"),
        {
            "office": world.makassar.pk,
            "start": day.isoformat(),
            "end": day.isoformat(),
            "kind": "closed",
            "reason": "X",
        },
    )
    assert response.status_code == 200
    assert "office" in response.context["form"].errors
    assert not DayOverride.objects.exists()


def test_removing_overrides_goes_through_the_service(client, world, makassar_override):
    day = open_day(world.palembang, after=3)
    mine = DayOverride.objects.create(office=world.palembang, date=day, reason="Banjir")
    login(client, world.clerk)
    response = client.post(
        reverse("admin:offices_dayoverride_changelist"),
        {
            "action": "remove_overrides",
            "_selected_action": [mine.pk, makassar_override.pk],
            "index": 0,
        },
    )
    assert response.status_code == 302
    assert list(DayOverride.objects.values_list("pk", flat=True)) == [makassar_override.pk]
    assert DayOverride.history.filter(history_type="-").first().history_user == world.clerk


def _now():
    from django.utils import timezone

    return timezone.now()


def _today(world):
    return world.palembang.local_now(_now()).date()


def test_a_clerk_sets_the_counters_and_how_they_call(client, world):
    login(client, world.clerk)
    url = reverse("admin:offices_office_change", args=[world.palembang.pk])
    data = form_data(client.get(url))
    data.update(
        {
            "priority_calls_in_row": "2",
            "online_calls_per_walk_in": "4",
            "skips_before_no_show": "3",
            "counters-TOTAL_FORMS": "2",
            "counters-0-name": "Loket 1",
            "counters-0-interview": "on",
            "counters-1-name": "Kasir",
            "counters-1-payment": "on",
        }
    )

    response = client.post(url, data)

    assert response.status_code == 302
    office = Office.objects.get(pk=world.palembang.pk)
    assert (
        office.priority_calls_in_row,
        office.online_calls_per_walk_in,
        office.skips_before_no_show,
    ) == (2, 4, 3)
    counters = {c.name: c.services for c in office.counters.all()}
    assert counters == {"Loket 1": ["photo and interview"], "Kasir": ["payment"]}


def test_a_priority_run_of_zero_is_refused(client, world):
    login(client, world.clerk)
    url = reverse("admin:offices_office_change", args=[world.palembang.pk])
    data = form_data(client.get(url))
    data["priority_calls_in_row"] = "0"

    response = client.post(url, data)

    assert response.status_code == 200
    assert "priority_calls_in_row" in response.context["adminform"].form.errors
