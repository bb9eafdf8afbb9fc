"""Proof of work (ALTCHA): due past a threshold of attempts, and to enter a ballot; verified
on the server, each solution once."""

import base64
import html
import json
import time
from datetime import timedelta

import altcha
import pytest
from django.test import Client

from bookings import proof
from bookings.models import Booking, Entry
from bookings.tests.api.test_api_ballots import entry_body
from bookings.tests.factories import (
    BALLOT_MONDAY,
    BALLOT_OPENS,
    applicant_data,
    check_url,
    first_slot,
    form_url,
    make_applicant,
    make_release,
)
from offices.models import Office

pytestmark = [pytest.mark.django_db, pytest.mark.proof_of_work]

API = "/api/v1"


def solve(challenge: dict, **changes) -> str:
    """Do the client's work: find the number, and return the payload as the widget sends it."""
    solution = altcha.solve_challenge_v1(
        challenge["challenge"], challenge["salt"], challenge["algorithm"], challenge["maxnumber"]
    )
    payload = {
        "algorithm": challenge["algorithm"],
        "challenge": challenge["challenge"],
        "number": solution.number,
        "salt": challenge["salt"],
        "signature": challenge["signature"],
        **changes,
    }
    return base64.b64encode(json.dumps(payload).encode()).decode()


def test_a_solution_counts_once_and_a_forged_or_late_one_not_at_all(monkeypatch):
    challenge = proof.challenge()
    payload = solve(challenge)

    assert proof.verified(payload)
    assert not proof.verified(payload)  # replayed
    other = proof.challenge()
    assert not proof.verified(solve(other, number=solve_number(other) + 1))
    assert not proof.verified(solve(other, signature="0" * 64))
    assert not proof.verified("not base64 at all")
    late = solve(proof.challenge())
    eleven_minutes_on = time.time() + 11 * 60
    monkeypatch.setattr(altcha.v1.time, "time", lambda: eleven_minutes_on)
    assert not proof.verified(late)


def challenge_on(page: str) -> dict:
    """Return the challenge a page gives its widget."""
    return json.loads(html.unescape(page.split('challengejson="')[1].split('"')[0]))


def solve_number(challenge):
    return altcha.solve_challenge_v1(
        challenge["challenge"], challenge["salt"], challenge["algorithm"], challenge["maxnumber"]
    ).number


def test_proof_is_due_past_the_threshold_to_book_and_always_to_enter(settings):
    settings.PROOF_OF_WORK_AFTER = 2
    assert not proof.required("client-a")
    proof.count_attempt("client-a")
    proof.count_attempt("client-a")
    assert proof.required("client-a") and not proof.required("client-b")
    assert proof.required("client-b", entering=True)

    settings.RATELIMIT_ENABLE = False  # load tests
    assert not proof.required("client-a") and not proof.required("client-b", entering=True)


def booking_body(office, day, window, **applicant):
    return {
        "office": office.code,
        "date": day.isoformat(),
        "window": window.pk,
        "nik": make_applicant().nik,
        "full_name": "Siti Aminah",
        "birth_date": "1990-05-17",
        "phone": "0812 3456 7890",
        "email": f"siti{applicant.get('n', 0)}@example.com",
        "purpose": "umrah",
    }


def test_the_app_books_past_the_threshold_only_with_a_fresh_solution(client, office, settings):
    settings.PROOF_OF_WORK_AFTER = 2
    day, window = first_slot(office)

    def book(n, **headers):
        body = booking_body(office, day, window, n=n)
        return client.post(f"{API}/bookings", body, content_type="application/json", **headers)

    assert book(1).status_code == 201 and book(2).status_code == 201
    refused = book(3)
    assert refused.status_code == 428 and refused.json()["error"] == "proof_required"
    assert Booking.objects.count() == 2

    challenge = client.get(f"{API}/proof-of-work").json()
    payload = solve(challenge)
    assert book(4, headers={"Altcha": payload}).status_code == 201
    assert book(5, headers={"Altcha": payload}).status_code == 428  # replayed
    assert Booking.objects.count() == 3


def test_entering_a_ballot_always_needs_a_solution(client, office, clock):
    Office.objects.filter(pk=office.pk).update(release_mode=Office.ReleaseMode.BALLOT)
    release = make_release(office, BALLOT_MONDAY, BALLOT_MONDAY + timedelta(days=4))
    clock.now = BALLOT_OPENS + timedelta(hours=2)
    applicant = make_applicant()
    body = entry_body(release, applicant)
    path = f"{API}/releases/{release.pk}/entries"

    refused = client.post(path, body, content_type="application/json")
    assert refused.status_code == 428 and not Entry.objects.exists()

    payload = solve(client.get(f"{API}/proof-of-work").json())
    entered = client.post(path, body, content_type="application/json", headers={"Altcha": payload})
    assert entered.status_code == 201, entered.json()


def test_the_check_page_shows_the_widget_once_due_and_books_with_its_solution(office, settings):
    client = Client(headers={"accept-language": "en"})
    settings.PROOF_OF_WORK_AFTER = 0  # due from the first attempt
    day, window = first_slot(office)
    client.post(form_url(office, day, window), applicant_data())

    page = client.get(check_url(office, day, window)).content.decode()
    assert "<altcha-widget" in page and "vendor/altcha/altcha.js" in page
    challenge = challenge_on(page)

    refused = client.post(check_url(office, day, window))
    assert refused.status_code == 409 and not Booking.objects.exists()
    assert "not a robot" in refused.content.decode()

    booked = client.post(check_url(office, day, window), {"altcha": solve(challenge)})
    assert booked.status_code == 302 and Booking.objects.count() == 1


def test_entering_from_the_page_needs_the_solution_too(client, office, clock):
    from bookings.tests.public.test_ballot_page import entry_data

    Office.objects.filter(pk=office.pk).update(release_mode=Office.ReleaseMode.BALLOT)
    release = make_release(office, BALLOT_MONDAY, BALLOT_MONDAY + timedelta(days=4))
    clock.now = BALLOT_OPENS + timedelta(hours=2)
    url = f"/ballots/{release.pk}/enter/"
    page = client.get(url).content.decode()
    assert "<altcha-widget" in page
    challenge = challenge_on(page)
    data = entry_data(release)

    assert client.post(url, data).status_code == 409 and not Entry.objects.exists()
    assert client.post(url, {**data, "altcha": solve(challenge)}).status_code == 302
    assert Entry.objects.count() == 1
