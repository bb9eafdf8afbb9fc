"""A ballot's public page: its record at each stage, its JSON, the script, an entry's outcome."""

import json
import subprocess
import sys
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bookings import ballots, draw
from bookings.tests.factories import make_applicant, make_family, window_at

pytestmark = pytest.mark.django_db

WIB = ZoneInfo("Asia/Jakarta")
OPENS = datetime(2017, 9, 1, 14, 0, tzinfo=WIB)
MONDAY = date(2017, 9, 11)


@pytest.fixture
def release(office):
    return ballots.make_release(
        office=office,
        first_day=MONDAY,
        last_day=MONDAY,
        opens_at=OPENS,
        closes_at=OPENS + timedelta(days=3),
        draw_at=OPENS + timedelta(days=3, hours=1),
        public_value_source="The closing IDX composite index of Monday.",
    )


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
