"""The ballot's API: an office's releases, a release's published record, an entry's outcome."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bookings import ballots, draw
from bookings.models import Entry
from bookings.tests.factories import make_applicant, make_family, make_release, window_at
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"
WIB = ZoneInfo("Asia/Jakarta")
OPENS = datetime(2017, 9, 1, 14, 0, tzinfo=WIB)
MONDAY = date(2017, 9, 11)


@pytest.fixture
def release(office):
    return make_release(office, MONDAY)


def entries(release):
    window = window_at(release.office, MONDAY)
    return [
        ballots.enter(
            release=release,
            applicants=applicants,
            preferences=[(MONDAY, window)],
            now=OPENS + timedelta(hours=1),
        )
        for applicants in ([make_applicant()], make_family(2))
    ]


def test_an_office_lists_its_releases_with_the_seeds_hash(client, release):
    response = client.get(f"{API}/offices/{release.office.code}/releases")

    assert response.status_code == 200
    (listed,) = response.json()
    assert listed["id"] == release.pk and listed["state"] == "open"
    assert listed["seed_hash"] == release.seed_hash
    assert release.seed not in response.content.decode()
    assert listed["opens_at"].endswith("+07:00") or listed["opens_at"].endswith("Z")


def test_an_unknown_office_or_release_or_entry_is_404(client, release):
    assert client.get(f"{API}/offices/nowhere/releases").status_code == 404
    assert client.get(f"{API}/releases/999999").json()["error"] == "not_found"
    assert client.get(f"{API}/releases/{release.pk}/entries/AAAAAAAAAA").status_code == 404


def test_the_published_record_from_the_api_is_what_the_script_checks(client, release):
    made = entries(release)
    ballots.close_release(release=release, now=release.closes_at)
    assert client.get(f"{API}/releases/{release.pk}").json()["seed"] is None
    ballots.draw_release(release=release, public_value="7310.52", now=release.draw_at)

    published = client.get(f"{API}/releases/{release.pk}").json()

    assert draw.check(published) == []
    entry = client.get(f"{API}/releases/{release.pk}/entries/{made[1].code.lower()}").json()
    assert entry["receipt"] == made[1].receipt
    assert entry["result"] == published["outcome"][made[1].receipt]
    for made_entry in made:
        for applicant in made_entry.applicants.all():
            assert applicant.nik not in str(published)


def test_reading_a_release_costs_the_same_whatever_its_entries(
    client, release, django_assert_num_queries
):
    entries(release)
    ballots.close_release(release=release, now=release.closes_at)
    with django_assert_num_queries(2):  # the release and its office; the struck receipts
        assert client.get(f"{API}/releases/{release.pk}").status_code == 200


@pytest.mark.parametrize("release_id", [0, -7926166803546895043002368, 2**63, 10**30])
def test_a_release_id_no_release_can_have_is_404(client, release_id):
    nik = {"nik": make_applicant().nik}

    assert client.get(f"{API}/releases/{release_id}").status_code == 404
    withdrawn = post(client, f"/releases/{release_id}/entries/AAAAAAAAAA/withdraw", nik)
    assert withdrawn.status_code == 404


def test_what_is_not_an_id_or_a_code_is_a_clear_422(client):
    for path in (
        "/releases/null,null",
        "/releases/1/entries/" + "A" * 40,
        "/offices/" + "0" * 41 + "/releases",
    ):
        response = client.get(f"{API}{path}")
        assert response.status_code == 422, path
        assert response.json()["error"] == "invalid"


# Entering and withdrawing through the API.


@pytest.fixture
def entering(clock, release):
    clock.now = OPENS + timedelta(hours=2)
    return release


def entry_body(release, *applicants, **overrides):
    window = window_at(release.office, MONDAY)
    body = {
        "email": "siti@example.com",
        "phone": "081234567890",
        "applicants": [
            {
                "nik": a.nik,
                "full_name": a.full_name,
                "birth_date": a.birth_date.isoformat(),
                "purpose": "umrah",
            }
            for a in (applicants or [make_applicant()])
        ],
        "choices": [{"date": MONDAY.isoformat(), "window": window.pk}, {"date": "2017-09-11"}],
    }
    body.update(overrides)
    return body


def post(client, path, body):
    return client.post(f"{API}{path}", body, content_type="application/json")


def test_an_app_enters_a_family_as_one_entry(client, entering):
    family = make_family(3)

    response = post(client, f"/releases/{entering.pk}/entries", entry_body(entering, *family))

    assert response.status_code == 201, response.json()
    entry = Entry.objects.get()
    assert response.json() == {
        "code": entry.code,
        "receipt": entry.receipt,
        "status": "entered",
        "result": None,
        "confirm_by": None,  # CONTACT_CONFIRMATION is off here
    }
    assert entry.applicants.count() == 3
    assert entry.preferences[1] == [MONDAY.isoformat(), None]


@pytest.mark.parametrize(
    "change, status, error, field",
    [
        ({"choices": []}, 422, "invalid", "choices"),
        ({"choices": [{"date": "2017-09-18"}]}, 422, "invalid", "choices"),
        ({"choices": [{"date": "2017-09-11", "window": 999999}]}, 422, "invalid", "choices"),
        ({"applicants": []}, 422, "invalid", "applicants"),
    ],
)
def test_a_bad_entry_is_a_clear_error_and_writes_nothing(
    client, entering, change, status, error, field
):
    response = post(client, f"/releases/{entering.pk}/entries", entry_body(entering, **change))

    assert response.status_code == status, response.json()
    assert response.json()["error"] == error
    assert field in response.json()["fields"]
    assert not Entry.objects.exists()


def test_a_session_of_another_office_is_an_unknown_session(client, entering):
    elsewhere = window_at(OfficeFactory(code="makassar", timezone="Asia/Makassar"), MONDAY)
    choices = [{"date": MONDAY.isoformat(), "window": elsewhere.pk}]

    response = post(
        client, f"/releases/{entering.pk}/entries", entry_body(entering, choices=choices)
    )

    assert response.status_code == 422
    assert "choices" in response.json()["fields"]
    assert not Entry.objects.exists()


@pytest.mark.parametrize("size", [1, 5])
def test_entering_costs_the_same_for_one_applicant_and_a_family(
    client, entering, size, settings, django_assert_num_queries
):
    settings.AVAILABILITY_CACHE_SECONDS = 60  # the office's sessions are kept, as in production
    post(client, f"/releases/{entering.pk}/entries", entry_body(entering))  # keeps them
    body = entry_body(entering, *make_family(size))

    # The release; whether a contact or NIK is blocked or a NIK booked; the chosen days'
    # windows and overrides; in a transaction (a savepoint in a test), the entry, its
    # applicants, its choices and whether the release is still open.
    with django_assert_num_queries(10):
        response = post(client, f"/releases/{entering.pk}/entries", body)

    assert response.status_code == 201, response.json()


def test_a_bad_nik_is_named_by_its_place_in_the_list(client, entering):
    body = entry_body(entering, make_applicant(), make_applicant(nik="1234"))
    response = post(client, f"/releases/{entering.pk}/entries", body)
    assert response.status_code == 422
    assert "applicants.1.nik" in response.json()["fields"]


def test_a_nik_enters_a_release_once_and_not_after_the_close(client, entering, clock):
    applicant = make_applicant()
    path = f"/releases/{entering.pk}/entries"
    assert post(client, path, entry_body(entering, applicant)).status_code == 201

    again = post(client, path, entry_body(entering, applicant))
    assert (again.status_code, again.json()["error"]) == (409, "entered_already")

    clock.now = entering.closes_at
    late = post(client, path, entry_body(entering))
    assert (late.status_code, late.json()["error"]) == (409, "release_not_open")
    assert Entry.objects.count() == 1


def test_an_app_withdraws_an_entry_with_any_applicants_nik(client, entering, clock):
    family = make_family(2)
    made = post(client, f"/releases/{entering.pk}/entries", entry_body(entering, *family)).json()
    path = f"/releases/{entering.pk}/entries/{made['code']}/withdraw"

    wrong = post(client, path, {"nik": make_applicant().nik})
    assert wrong.status_code == 404
    response = post(client, path, {"nik": family[1].nik})

    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    clock.now = entering.closes_at
    assert post(client, path, {"nik": family[1].nik}).status_code == 409


def test_an_entry_s_choices_change_through_the_api_with_a_nik(client, release, clock):
    clock.now = OPENS + timedelta(hours=2)
    applicant = make_applicant()
    entry = ballots.enter(
        release=release,
        applicants=[applicant],
        preferences=[(MONDAY, window_at(release.office, MONDAY))],
    )
    path = f"{API}/releases/{release.pk}/entries/{entry.code}/change"

    response = client.post(
        path, {"nik": applicant.nik, "choices": [{"date": "2017-09-11"}]}, "application/json"
    )
    wrong = client.post(
        path, {"nik": "1671015705900999", "choices": [{"date": "2017-09-11"}]}, "application/json"
    )
    unknown = client.post(
        path,
        {"nik": applicant.nik, "choices": [{"date": "2017-09-11", "window": 999999}]},
        "application/json",
    )
    clock.now = release.closes_at
    late = client.post(
        path, {"nik": applicant.nik, "choices": [{"date": "2017-09-11"}]}, "application/json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["receipt"] != entry.receipt
    assert Entry.objects.get(pk=entry.pk).preferences == [["2017-09-11", None]]
    assert wrong.status_code == 404
    assert unknown.status_code == 422 and "choices" in unknown.json()["fields"]
    assert late.status_code == 409 and late.json()["error"] == "entry_not_changeable"
