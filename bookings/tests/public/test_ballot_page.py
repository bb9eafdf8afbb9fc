"""A ballot's public page: its record at each stage, its JSON, the script, an entry's outcome."""

import json
import subprocess
import sys
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bookings import ballots, draw
from bookings.models import Entry, ReleaseSchedule
from bookings.tests.factories import make_applicant, make_family, make_release, window_at
from offices.models import Office

pytestmark = pytest.mark.django_db

WIB = ZoneInfo("Asia/Jakarta")
OPENS = datetime(2017, 9, 1, 14, 0, tzinfo=WIB)
MONDAY = date(2017, 9, 11)


@pytest.fixture
def release(office):
    return make_release(office, MONDAY)


def page(client, release, **query):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client.get(f"/ballots/{release.pk}/", query)


def enter_some(release):
    window = window_at(release.office, MONDAY)
    return [
        ballots.enter(
            release=release,
            applicants=applicants,
            preferences=[(MONDAY, window)],
            now=OPENS + timedelta(hours=1),
        )
        for applicants in ([make_applicant()], make_family(3), [make_applicant()])
    ]


def drawn(release):
    ballots.close_release(release=release, now=release.closes_at)
    return ballots.draw_release(release=release, public_value="7310.52", now=release.draw_at)


def test_an_open_ballot_shows_its_seeds_hash_and_not_the_seed(client, release):
    response = page(client, release)

    text = response.content.decode()
    assert response.status_code == 200
    assert release.seed_hash in text and release.seed not in text
    assert "Friday, 1 September 2017, 14:00 WIB" in text  # in the office's own time
    assert "The closing IDX composite index of Monday." in text


def test_a_drawn_ballot_shows_its_record_and_no_personal_data(client, release):
    entries = enter_some(release)
    drawn(release)

    text = page(client, release).content.decode()

    assert release.seed in text and "7310.52" in text
    assert release.entries_hash in text
    for entry in entries:
        for applicant in entry.applicants.all():
            assert applicant.nik not in text and applicant.full_name not in text


def test_an_entry_code_shows_its_receipt_and_its_outcome(client, release):
    entries = enter_some(release)
    drawn(release)
    release.refresh_from_db()

    for entry in entries:
        text = page(client, release, code=entry.code.lower()).content.decode()
        outcome = release.outcome[entry.receipt]
        assert entry.receipt in text
        if outcome["result"] == "won":
            assert f"won a place: its choice {outcome['preference']}" in text
        else:
            assert f"number {outcome['position']} on the waiting list" in text
    assert (
        "No entry of this ballot has this code."
        in page(client, release, code="AAAAAAAAAA").content.decode()
    )


def test_the_json_and_the_script_from_the_site_say_the_draw_matches(client, release, tmp_path):
    enter_some(release)
    drawn(release)
    (tmp_path / "release.json").write_bytes(
        client.get(f"/ballots/{release.pk}/release.json").content
    )
    (tmp_path / "draw.py").write_bytes(client.get("/ballots/draw.py").content)

    result = subprocess.run(
        [sys.executable, "-I", "draw.py", "release.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0 and result.stdout.startswith("matches"), result.stdout
    published = json.loads((tmp_path / "release.json").read_text())
    assert draw.check(published) == []


def test_an_unknown_ballot_is_404(client):
    assert client.get("/ballots/999999/").status_code == 404
    assert client.get("/ballots/999999/release.json").status_code == 404


def test_the_page_reads_the_release_not_each_entry(client, release, django_assert_num_queries):
    # The release (with its office), the struck receipts, the entry asked for: three
    # queries, with three entries or thirty.
    enter_some(release)
    drawn(release)
    with django_assert_num_queries(3):
        assert page(client, release, code="AAAAAAAAAA").status_code == 200


# Entering from the page.


@pytest.fixture
def entering(clock, release):
    clock.now = OPENS + timedelta(hours=2)
    return release


def entry_data(release, **overrides):
    window = window_at(release.office, MONDAY)
    applicant = make_applicant()
    data = {
        "applicants": "1",
        "nik": applicant.nik,
        "full_name": "Siti Aminah",
        "birth_date": applicant.birth_date.isoformat(),
        "phone": "0812 3456 7890",
        "email": "siti@example.com",
        "purpose": "umrah",
        "application_type": "new",
        "passport_type": "ordinary",
        "choice1": f"{MONDAY.isoformat()}/{window.pk}",
        "choice2": MONDAY.isoformat(),
    }
    data.update(overrides)
    return data


def enter_url(release):
    return f"/ballots/{release.pk}/enter/"


def test_an_applicant_enters_from_the_page_and_sees_the_receipt(client, entering):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert "Enter the ballot" in client.get(f"/ballots/{entering.pk}/").content.decode()

    response = client.post(enter_url(entering), entry_data(entering))

    entry = Entry.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/ballots/{entering.pk}/?code={entry.code}"
    window = window_at(entering.office, MONDAY)
    assert entry.preferences == [[MONDAY.isoformat(), window.pk], [MONDAY.isoformat(), None]]
    assert entry.receipt in client.get(response["Location"]).content.decode()


def test_a_family_adds_applicants_without_javascript_and_enters_as_one(client, entering):
    data = entry_data(entering)
    response = client.post(enter_url(entering), {**data, "add": "Add another applicant"})
    assert response.status_code == 200 and 'name="applicant2-nik"' in response.content.decode()
    second = make_applicant()
    data.update(
        {
            "applicants": "2",
            "applicant2-nik": second.nik,
            "applicant2-full_name": "Nur Aisyah",
            "applicant2-birth_date": second.birth_date.isoformat(),
            "applicant2-purpose": "umrah",
            "applicant2-application_type": "new",
            "applicant2-passport_type": "ordinary",
        }
    )

    assert client.post(enter_url(entering), data).status_code == 302
    assert Entry.objects.get().applicants.count() == 2


@pytest.mark.parametrize(
    "change, message",
    [
        ({"choice1": ""}, "This field is required."),
        ({"choice1": "2017-09-11/999999"}, "Select a valid choice."),
        ({"choice1": "2017-09-18"}, "Select a valid choice."),
        ({"choice2": "2017-09-11", "choice1": "2017-09-11"}, "each once"),
        ({"nik": "1234"}, "16"),
        ({"website": "http://spam.example"}, "could not be sent"),
    ],
)
def test_a_bad_entry_is_refused_with_a_message_and_writes_nothing(
    client, entering, change, message
):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.post(enter_url(entering), entry_data(entering, **change))

    assert response.status_code in (200, 409)
    assert message in response.content.decode()
    assert not Entry.objects.exists()


def test_the_same_nik_cannot_enter_twice(client, entering):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    data = entry_data(entering)
    client.post(enter_url(entering), data)

    response = client.post(enter_url(entering), data)

    assert response.status_code == 409
    assert "has already entered this ballot" in response.content.decode()
    assert Entry.objects.count() == 1


def test_a_closed_ballot_takes_no_entry(client, entering, clock):
    clock.now = entering.closes_at
    assert client.get(enter_url(entering))["Location"] == f"/ballots/{entering.pk}/"
    assert client.post(enter_url(entering), entry_data(entering)).status_code == 302
    assert not Entry.objects.exists()


def test_the_entry_form_costs_the_same_whatever_the_days(
    client, entering, django_assert_num_queries
):
    with django_assert_num_queries(3):  # the release, its windows, its day overrides
        assert client.get(enter_url(entering)).status_code == 200


# Withdrawing from the page.


def test_any_applicant_of_an_entry_withdraws_it_with_its_code(client, entering):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    family = make_family(2)
    entry = ballots.enter(
        release=entering,
        applicants=family,
        preferences=[(MONDAY, None)],
        now=OPENS + timedelta(hours=1),
    )
    url = f"/ballots/{entering.pk}/withdraw/"
    data = {"code": entry.code.lower(), "nik": family[1].nik, "confirm": "on"}

    response = client.post(url, data)

    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.status == Entry.Status.WITHDRAWN
    assert "This entry was withdrawn." in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    "change, message",
    [
        ({"nik": "1671015705900099"}, "No entry of this ballot matches this code and NIK."),
        ({"code": "AAAAAAAAAA"}, "No entry of this ballot matches this code and NIK."),
        ({"confirm": ""}, "Tick the box to withdraw the entry."),
        ({"nik": "12"}, "16"),
    ],
)
def test_a_withdrawal_that_cannot_be_made_says_why_and_changes_nothing(
    client, entering, change, message
):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    applicant = make_applicant()
    entry = ballots.enter(
        release=entering,
        applicants=[applicant],
        preferences=[(MONDAY, None)],
        now=OPENS + timedelta(hours=1),
    )
    data = {"code": entry.code, "nik": applicant.nik, "confirm": "on", **change}

    response = client.post(f"/ballots/{entering.pk}/withdraw/", data)

    assert message in response.content.decode()
    entry.refresh_from_db()
    assert entry.status == Entry.Status.ENTERED


def test_no_withdrawal_once_entries_have_closed(client, entering, clock):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    applicant = make_applicant()
    entry = ballots.enter(
        release=entering,
        applicants=[applicant],
        preferences=[(MONDAY, None)],
        now=OPENS + timedelta(hours=1),
    )
    clock.now = entering.closes_at
    data = {"code": entry.code, "nik": applicant.nik, "confirm": "on"}

    response = client.post(f"/ballots/{entering.pk}/withdraw/", data)

    assert response.status_code == 409
    assert "can no longer be changed or withdrawn" in response.content.decode()


# ---- an office on a ballot: its page says how and when its days open ---------------------


@pytest.fixture
def ballot_office(office):
    office.release_mode = Office.ReleaseMode.BALLOT
    office.save()
    ReleaseSchedule.objects.create(office=office, public_value_source="IDX at Monday's close.")
    return office


def test_a_ballot_office_s_page_says_when_entries_open_and_links_its_ballot(
    client, ballot_office, clock, django_assert_max_num_queries
):
    release = make_release(ballot_office, MONDAY, MONDAY + timedelta(days=6))
    clock.now = OPENS - timedelta(days=1)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    with django_assert_max_num_queries(9):
        response = client.get("/offices/palembang/", {"month": "2017-09"})

    text = response.content.decode()
    assert response.status_code == 200
    assert "Places here are given out by ballot" in text
    assert "Each Friday at 14:00 WIB, entries open for 7 days starting 10 days later." in text
    assert "Entries open Friday, 1 September 2017, 14:00 WIB." in text
    assert text.count(f'href="/ballots/{release.pk}/"') >= 8  # the note, 7 days of the calendar
    assert 'class="day day-open"' not in text  # no day is released yet


def test_a_first_come_office_s_page_says_nothing_of_a_ballot(client, office):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    text = client.get("/offices/palembang/").content.decode()

    assert "by ballot" not in text and 'class="day day-open"' in text


def test_a_ballot_day_s_page_leads_to_the_ballot_and_its_form_refuses_a_booking(
    client, ballot_office, clock
):
    release = make_release(ballot_office, MONDAY, MONDAY + timedelta(days=6))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    day = client.get("/offices/palembang/2017-09-11/").content.decode()
    window = window_at(ballot_office, MONDAY)
    form = client.get(f"/offices/palembang/2017-09-11/{window.pk}/book/")

    assert "given out by ballot" in day and f'href="/ballots/{release.pk}/"' in day
    assert form.status_code == 409
    assert "gives out the places of this day by ballot" in form.content.decode()


def test_an_applicant_changes_their_entry_s_choices_with_its_code_and_nik(client, entering):
    release = entering
    window = window_at(release.office, MONDAY)
    applicant = make_applicant()
    entry = ballots.enter(release=release, applicants=[applicant], preferences=[(MONDAY, window)])
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert client.get(f"/ballots/{release.pk}/entries/{entry.code}/change/").status_code == 302

    wrong = client.post(
        f"/ballots/{release.pk}/change/", {"code": entry.code, "nik": "1671015705900999"}
    )
    opened = client.post(
        f"/ballots/{release.pk}/change/", {"code": entry.code, "nik": applicant.nik}
    )
    page = client.get(opened["Location"])
    saved = client.post(opened["Location"], {"choice1": MONDAY.isoformat()})

    assert "No entry of this ballot matches this code and NIK." in wrong.content.decode()
    assert opened["Location"] == f"/ballots/{release.pk}/entries/{entry.code}/change/"
    assert f'value="{MONDAY.isoformat()}/{window.pk}" selected' in page.content.decode()
    assert saved.status_code == 302
    assert Entry.objects.get(pk=entry.pk).preferences == [[MONDAY.isoformat(), None]]


def test_a_bad_change_is_refused_with_a_message_and_changes_nothing(client, entering):
    release = entering
    applicant = make_applicant()
    entry = ballots.enter(
        release=release,
        applicants=[applicant],
        preferences=[(MONDAY, window_at(release.office, MONDAY))],
    )
    client.post(f"/ballots/{release.pk}/change/", {"code": entry.code, "nik": applicant.nik})

    response = client.post(
        f"/ballots/{release.pk}/entries/{entry.code}/change/",
        {"choice1": MONDAY.isoformat(), "choice2": MONDAY.isoformat()},
    )

    assert response.status_code == 409
    assert Entry.objects.get(pk=entry.pk).preferences == entry.preferences
