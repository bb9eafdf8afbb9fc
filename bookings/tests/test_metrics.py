"""What /metrics says of bookings: attempts counted by channel and outcome, state read from rows."""

from datetime import time, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bookings.models import ContactCheck, Notification, Release, Visit
from bookings.tests.factories import (
    WEDNESDAY,
    arrive_on_wednesday,
    book_at,
    book_through_pages,
    first_slot,
    make_release,
    on_wednesday,
    window_at,
)
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db

NIK = "1671015705900001"


def scrape(client) -> dict:
    """Return {(sample name, sorted labels): value} of one scrape of /metrics."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.content
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(scraped, name, **labels):
    return scraped.get((name, tuple(sorted(labels.items()))), 0)


def attempts(scraped, channel, outcome):
    return value(scraped, "antrean_booking_attempts_total", channel=channel, outcome=outcome)


def api_booking(client, office, day, window, nik=NIK):
    body = {
        "office": office.code,
        "date": day.isoformat(),
        "window": window.pk,
        "nik": nik,
        "full_name": "Siti Aminah",
        "birth_date": "1990-05-17",
        "email": "siti@example.com",
        "phone": "0812 3456 7890",
        "purpose": "umrah",
    }
    return client.post("/api/v1/bookings", body, content_type="application/json")


def test_a_booking_and_a_refusal_for_a_full_window_count_through_the_api(client, clock, tomorrow):
    office = OfficeFactory(code="small", windows=[(time(8), time(10), 1)])
    window = window_at(office, tomorrow)
    before = scrape(client)

    assert api_booking(client, office, tomorrow, window).status_code == 201
    assert api_booking(client, office, tomorrow, window, nik="1671014908750003").status_code == 409
    assert api_booking(client, office, tomorrow, window, nik="123").status_code == 409
    after = scrape(client)

    assert attempts(after, "api", "booked") - attempts(before, "api", "booked") == 1
    assert attempts(after, "api", "full") - attempts(before, "api", "full") == 2
    assert attempts(after, "web", "booked") == attempts(before, "web", "booked")


def test_fields_that_are_not_valid_count_as_invalid(client, clock, office, tomorrow):
    before = scrape(client)

    response = api_booking(client, office, tomorrow, window_at(office, tomorrow), nik="123")

    assert response.status_code == 422
    after = scrape(client)
    assert attempts(after, "api", "invalid") - attempts(before, "api", "invalid") == 1


def test_a_booking_through_the_pages_counts_on_the_web_channel(client, office):
    day, window = first_slot(office)
    before = scrape(client)

    book_through_pages(client, office, day, window)

    after = scrape(client)
    assert attempts(after, "web", "booked") - attempts(before, "web", "booked") == 1


def test_the_outbox_gauges_are_the_rows_by_status_and_channel(client, clock, office, tomorrow, now):
    for hour in (8, 10):
        book_at(office, tomorrow, hour, now=now)  # a confirmation by e-mail and by SMS each
    Notification.objects.filter(channel="sms").update(status=Notification.Status.FAILED)
    late = Notification.objects.filter(channel="email").first()
    late.next_attempt_at = now - timedelta(minutes=11)
    late.save(update_fields=["next_attempt_at"])

    scraped = scrape(client)

    for status in ("pending", "failed"):
        for channel in ("email", "sms"):
            rows = Notification.objects.filter(status=status, channel=channel).count()
            assert value(scraped, "antrean_outbox_messages", status=status, channel=channel) == rows
    assert value(scraped, "antrean_outbox_messages", status="pending", channel="email") == 2
    assert value(scraped, "antrean_outbox_overdue_messages", channel="email") == 1
    assert value(scraped, "antrean_outbox_overdue_messages", channel="sms") == 0


def test_the_queue_gauge_is_each_offices_waiting_visits_today(client, office, clock):
    quiet = OfficeFactory(code="makassar", timezone="Asia/Makassar")
    clock.now = on_wednesday(8, 30)
    for hour in (8, 8, 10):
        arrive_on_wednesday(office, clock.now, hour)
    served = Visit.objects.first()
    Visit.objects.filter(pk=served.pk).update(state=Visit.State.DONE, called_at=clock.now)
    yesterday = Visit.objects.last()
    Visit.objects.filter(pk=yesterday.pk).update(date=WEDNESDAY - timedelta(days=1))

    scraped = scrape(client)

    assert value(scraped, "antrean_queue_waiting", office=office.code) == 1
    assert value(scraped, "antrean_queue_waiting", office=quiet.code) == 0
    assert ("antrean_queue_waiting", (("office", quiet.code),)) in scraped  # a 0, not a gap


def test_ballot_and_beat_gauges_are_the_rows(client, office, clock):
    release = make_release(office)
    clock.now = release.draw_at + timedelta(minutes=6)
    Release.objects.filter(pk=release.pk).update(state=Release.State.CLOSED)

    scraped = scrape(client)

    assert value(scraped, "antrean_ballot_releases", state="closed") == 1
    assert value(scraped, "antrean_ballot_releases", state="drawn") == 0
    assert value(scraped, "antrean_ballot_last_draw_timestamp_seconds") == 0
    assert value(scraped, "antrean_beat_overdue", task="run_due_ballots") == 1
    assert value(scraped, "antrean_beat_overdue", task="lapse_unconfirmed") == 0


@pytest.mark.contact_confirmation
def test_an_unconfirmed_hold_past_its_end_is_overdue_for_the_beat(client, office, clock, now):
    day, window = first_slot(office)
    api_booking(client, office, day, window)
    hold = ContactCheck.objects.get()
    clock.now = hold.expires_at + timedelta(minutes=6)

    scraped = scrape(client)

    assert value(scraped, "antrean_beat_overdue", task="lapse_unconfirmed") == 1


def test_a_scrape_costs_the_same_queries_for_one_office_or_thirty(
    client, office, django_assert_max_num_queries
):
    # The outbox, the offices, the queues, the entries, the releases, the two kinds of overdue
    # work: one query each.
    with django_assert_max_num_queries(7):
        client.get("/metrics")
    for number in range(30):
        OfficeFactory(code=f"office-{number}")
    with django_assert_max_num_queries(7):
        response = client.get("/metrics")
    assert response.content.count(b"antrean_queue_waiting{") == 31
