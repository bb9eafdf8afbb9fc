"""Winning a NIK back: a clerk who checked the KTP frees a NIK that someone else's booking
holds, at any office; the holder can book at once."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from bookings import services
from bookings.models import Booking, NikRelease, Notification
from bookings.tests.factories import login, make_applicant, make_nik, make_user, window_at
from offices.access import OFFICE_STAFF_GROUP
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db

URL = "/admin/bookings/booking/release-nik/"
DAY = date(2017, 9, 12)


@pytest.fixture
def squatted(world, now):
    """A broker booked at Makassar with the NIK of an applicant of Palembang."""
    nik = make_nik()
    booking = services.create_booking(
        office=world.makassar,
        day=DAY,
        window=window_at(world.makassar, DAY),
        applicant=make_applicant(nik=nik, phone="+6281399990000", email="calo@example.com"),
        now=now,
    )
    return nik, booking


def test_a_nik_squatted_at_another_office_is_won_back_and_booked_in_the_same_minute(
    world, now, squatted
):
    nik, held = squatted

    released = services.release_nik(
        nik=nik, office=world.palembang, reason="KTP checked: the NIK is hers", by=world.clerk
    )
    mine = services.create_booking(
        office=world.palembang,
        day=DAY,
        window=window_at(world.palembang, DAY),
        applicant=make_applicant(nik=nik),
        now=now,
    )

    assert released.pk == held.pk and released.status == Booking.Status.CANCELLED
    assert "KTP checked: the NIK is hers" in released.cancel_reason
    assert "Kanim Palembang" in released.cancel_reason
    assert released.notifications.filter(kind=Notification.Kind.CANCELLATION).count() == 2
    record = NikRelease.objects.get()
    assert (record.booking, record.office, record.released_by) == (
        held,
        world.palembang,
        world.clerk,
    )
    assert mine.status == Booking.Status.BOOKED and mine.nik == nik


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"reason": "ok"}, "release_reason"),
        ({"nik": "1671015705900000"}, "nik_serial"),
        ({"by": "makassar_clerk"}, "not_your_office"),
        ({"nik": "free"}, "nik_not_held"),
    ],
)
def test_a_release_is_refused_with_a_reason_and_changes_nothing(world, squatted, change, code):
    nik, held = squatted
    arguments = {"nik": nik, "office": world.palembang, "reason": "KTP checked", "by": world.clerk}
    arguments.update(change)
    if arguments["nik"] == "free":
        arguments["nik"] = make_nik()
    if isinstance(arguments["by"], str):
        arguments["by"] = getattr(world, arguments["by"])

    with pytest.raises(ValidationError) as caught:
        services.release_nik(**arguments)

    assert caught.value.code == code
    held.refresh_from_db()
    assert held.status == Booking.Status.BOOKED and not NikRelease.objects.exists()


def test_a_clerk_releases_a_nik_from_the_page_and_the_nik_stays_out_of_urls(
    client, world, squatted, caplog
):
    nik, held = squatted
    login(client, world.clerk)
    page = client.get(URL)
    refused = client.post(URL, {"office": world.palembang.pk, "nik": nik, "reason": "KTP"})

    response = client.post(
        URL,
        {
            "office": world.palembang.pk,
            "nik": nik,
            "reason": "KTP checked at the counter",
            "ktp_checked": "on",
        },
    )

    assert page.status_code == 200 and "Release a NIK" in page.content.decode()
    assert "Check the KTP-el before releasing a NIK." in refused.content.decode()
    assert response.status_code == 302 and nik not in response["Location"]
    held.refresh_from_db()
    assert held.status == Booking.Status.CANCELLED
    followed = client.get(response["Location"]).content.decode()
    assert f"booking {held.code} at Kanim Makassar is cancelled" in followed


def test_each_office_and_the_supervisors_see_the_release(client, world, squatted):
    nik, held = squatted
    services.release_nik(nik=nik, office=world.palembang, reason="KTP checked", by=world.clerk)
    listing = "/admin/bookings/nikrelease/"

    for user in (world.clerk, world.makassar_clerk, world.supervisor):
        login(client, user)
        text = client.get(listing).content.decode()
        assert held.code in text, user
        assert nik not in text
    jayapura = OfficeFactory(code="jayapura")
    login(client, make_user("petugas.jayapura", group=OFFICE_STAFF_GROUP, offices=[jayapura]))
    assert held.code not in client.get(listing).content.decode()  # neither office's clerk
