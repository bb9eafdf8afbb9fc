"""A real browser on a phone enters a ballot, the draw runs, the outcome shows, and the draw's
own script, fed what the site publishes, says it matches (and not once a receipt changes)."""

import json
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from bookings import ballots
from bookings.models import Entry
from bookings.tests.factories import make_applicant, make_nik, make_release, window_at
from bookings.tests.public.conftest import CHROMIUM
from bookings.tests.public.test_browser import fill_in_siti
from offices.models import Office

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no browser: /usr/bin/chromium is missing"),
]


@pytest.mark.django_db(transaction=True)
def test_enter_a_ballot_on_a_phone_see_the_draw_and_check_it(
    live_server,
    office,
    phone,
    screenshots,
    queued,
    plain_http_cookies,
    own_connections,
    tmp_path,
):
    office.release_mode = Office.ReleaseMode.BALLOT
    office.save()
    now = timezone.now()
    monday = office.today(now) + timedelta(days=14 - office.today(now).weekday())
    release = make_release(office, monday, monday + timedelta(days=4), opens_at=now)
    eight = window_at(office, monday)
    for _ in range(4):  # others entered too: the draw has something to order
        ballots.enter(release=release, applicants=[make_applicant()], preferences=[(monday, eight)])
    nik = make_nik()
    page = phone("en-US")

    # The office's page says its places are given out by ballot, and leads to it.
    page.goto(f"{live_server.url}/offices/{office.code}/")
    assert "Places here are given out by ballot" in page.inner_text("main")
    screenshots(page, "office")
    page.locator(f'.ballot-note a[href="/ballots/{release.pk}/"]').click()
    page.wait_for_url(f"**/ballots/{release.pk}/")
    screenshots(page, "ballot-open")
    page.get_by_role("link", name="Enter the ballot").click()

    # The entry: the applicant and two ranked choices.
    page.wait_for_url("**/enter/")
    fill_in_siti(page, nik)
    page.check("#id_application_type_0")
    page.check("#id_passport_type_0")
    page.select_option("#id_choice1", f"{monday.isoformat()}/{eight.pk}")
    page.select_option("#id_choice2", monday.isoformat())
    screenshots(page, "enter")
    page.locator("main form button[type=submit]").last.click()

    # The receipt, and the entry's code to look it up later.
    page.wait_for_url(f"**/ballots/{release.pk}/?code=*")
    entry = Entry.objects.get(applicants__nik=nik)
    assert entry.receipt in page.inner_text("main")
    assert nik not in page.inner_text("body")
    screenshots(page, "entered")

    # Entries close and the draw runs (beat does this at their times).
    ballots.close_release(release=release, now=release.closes_at)
    ballots.draw_release(release=release, public_value="7310.52", now=release.draw_at)
    page.reload()
    main = page.inner_text("main")
    assert "7310.52" in main
    assert "This entry won a place" in main or "on the waiting list" in main
    screenshots(page, "drawn")

    # What the site publishes, and the draw's own script, checked by hand.
    json_link = page.locator(f'a[href="/ballots/{release.pk}/release.json"]')
    published = page.request.get(f"{live_server.url}{json_link.get_attribute('href')}")
    script = page.request.get(f"{live_server.url}/ballots/draw.py")
    (tmp_path / "release.json").write_bytes(published.body())
    (tmp_path / "draw.py").write_bytes(script.body())
    assert _check(tmp_path, "release.json").startswith("matches")
    changed = json.loads(published.body())
    changed["entries"][0]["receipt"] = "0" * 64
    (tmp_path / "changed.json").write_text(json.dumps(changed))
    assert _check(tmp_path, "changed.json").startswith("does not match")


def _check(folder, name) -> str:
    result = subprocess.run(
        [sys.executable, "-I", "draw.py", name],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout
