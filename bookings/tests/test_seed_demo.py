"""seed_demo: the three demo offices, their windows and users; a second run changes nothing.

Most tests leave out the year of history (--no-history): it takes seconds, and
test_demo_history holds it.
"""

import stat
from datetime import time, timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command

from bookings import ballots
from bookings.models import Booking, Release, ReleaseSchedule, Visit
from bookings.tests.factories import make_applicant
from offices.access import is_supervisor, offices_for
from offices.models import Counter, DayOverride, Office, OfficeDay, ServiceWindow, WindowDay

pytestmark = pytest.mark.django_db

PASSWORDS = {
    "admin_password": "admin-demo-pass-1",
    "staff_password": "staff-demo-pass-1",
    "supervisor_password": "supervisor-demo-pass-1",
}


@pytest.fixture(autouse=True)
def _settings(settings, tmp_path):
    """Keep demo logins out of the working tree's var/; hash passwords quickly."""
    settings.VAR_DIR = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _seed(**options):
    options.setdefault("no_history", True)
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def _snapshot():
    """Every row seed_demo writes, as plain values, including password hashes and history."""
    User = get_user_model()
    return {
        "offices": list(Office.objects.order_by("pk").values()),
        "windows": list(ServiceWindow.objects.order_by("pk").values()),
        "counters": list(Counter.objects.order_by("pk").values()),
        "overrides": list(DayOverride.objects.order_by("pk").values()),
        "users": list(User.objects.order_by("pk").values()),
        "groups": list(Group.objects.order_by("pk").values("pk", "name")),
        "memberships": sorted(User.groups.through.objects.values_list("user_id", "group_id")),
        "office_staff": sorted(Office.staff.through.objects.values_list("office_id", "user_id")),
        "schedules": list(ReleaseSchedule.objects.order_by("pk").values()),
        "releases": list(Release.objects.order_by("pk").values()),
        "office_history": Office.history.count(),
        "window_history": ServiceWindow.history.count(),
        "bookings": list(Booking.objects.order_by("pk").values()),
        "visits": list(Visit.objects.order_by("pk").values()),
        "office_days": list(OfficeDay.objects.order_by("pk").values()),
        "window_days": list(WindowDay.objects.order_by("pk").values()),
    }


def test_seed_demo_twice_creates_nothing_the_second_time():
    first_output = _seed(no_history=False, **PASSWORDS)
    first = _snapshot()

    second_output = _seed(no_history=False, **PASSWORDS)

    assert _snapshot() == first
    history = sum(len(first[rows]) for rows in ("bookings", "visits", "office_days", "window_days"))
    assert history > 3 * 12 * 2 * 2500  # a year of bookings and visits at three offices
    # 3 offices, 45 windows, 12 counters, Jayapura's release schedule and its demo release,
    # and the history's bookings, visits and counted days
    assert f"{62 + history} rows created now" in first_output
    assert "0 rows created now" in second_output
    assert "new login" not in second_output


def test_seed_demo_keeps_changes_staff_made_to_the_demo_data():
    _seed(**PASSWORDS)
    Office.objects.filter(code="palembang").update(daily_quota=200)
    ServiceWindow.objects.filter(office__code="makassar", weekday=0, start=time(8)).update(
        capacity=30
    )
    changed = _snapshot()

    _seed(**PASSWORDS)

    assert _snapshot() == changed


def test_three_offices_in_their_own_zones():
    _seed(**PASSWORDS)

    offices = {o.code: o for o in Office.objects.all()}

    assert {code: o.timezone for code, o in offices.items()} == {
        "palembang": "Asia/Jakarta",
        "makassar": "Asia/Makassar",
        "jayapura": "Asia/Jayapura",
    }
    assert {o.zone_abbreviation for o in offices.values()} == {"WIB", "WITA", "WIT"}
    for office in offices.values():
        assert (office.daily_quota, office.walk_in_reserve) == (150, 15)
        assert office.open_weekdays == "01234"
        assert office.address
        office.full_clean()


def test_fifteen_windows_per_office_monday_to_friday():
    _seed(**PASSWORDS)

    for office in Office.objects.all():
        windows = list(office.windows.order_by("weekday", "start"))
        assert len(windows) == 15
        assert sorted({w.weekday for w in windows}) == [0, 1, 2, 3, 4]
        for weekday in range(5):
            assert [(w.start, w.end, w.capacity) for w in windows if w.weekday == weekday] == [
                (time(8), time(10), 45),
                (time(10), time(12), 45),
                (time(13), time(15), 45),
            ]
        for window in windows:
            window.full_clean()  # no overlap, capacities within 150 − 15


def test_the_demo_users_exist_with_their_roles_and_passwords():
    _seed(**PASSWORDS)
    User = get_user_model()

    admin = User.objects.get(username="admin")
    staff = User.objects.get(username="petugas.palembang")
    supervisor = User.objects.get(username="supervisor")

    assert admin.is_superuser and admin.is_staff
    assert admin.check_password("admin-demo-pass-1")
    assert staff.is_staff and not staff.is_superuser
    assert staff.check_password("staff-demo-pass-1")
    assert list(staff.groups.values_list("name", flat=True)) == ["Office staff"]
    assert supervisor.is_staff and not supervisor.is_superuser
    assert supervisor.check_password("supervisor-demo-pass-1")
    assert list(supervisor.groups.values_list("name", flat=True)) == ["Supervisor"]
    assert is_supervisor(supervisor)
    assert not is_supervisor(staff)


def test_the_staff_user_is_linked_to_palembang_only():
    _seed(**PASSWORDS)
    User = get_user_model()
    staff = User.objects.get(username="petugas.palembang")

    assert list(staff.offices.values_list("code", flat=True)) == ["palembang"]
    assert list(offices_for(staff).values_list("code", flat=True)) == ["palembang"]
    supervisor = User.objects.get(username="supervisor")
    assert offices_for(supervisor).count() == 3
    assert not supervisor.offices.exists()


def test_without_passwords_new_logins_are_printed_and_kept_for_the_owner_only(tmp_path):
    output = _seed()

    logins = (tmp_path / "demo-logins.txt").read_text(encoding="utf-8").splitlines()
    assert [line.split(" / ")[0] for line in logins] == ["admin", "petugas.palembang", "supervisor"]
    for line in logins:
        assert f"new login: {line}" in output
        username, password = line.split(" / ")
        assert len(password) >= 12
        assert get_user_model().objects.get(username=username).check_password(password)
    mode = stat.S_IMODE((tmp_path / "demo-logins.txt").stat().st_mode)
    assert mode == 0o600


def test_a_second_run_does_not_reset_passwords(tmp_path):
    _seed(**PASSWORDS)

    output = _seed(admin_password="another-password-2")

    assert get_user_model().objects.get(username="admin").check_password("admin-demo-pass-1")
    assert "new login" not in output
    assert "another-password-2" not in (tmp_path / "demo-logins.txt").read_text(encoding="utf-8")


def test_jayapura_holds_a_ballot_open_now_that_draws_itself_minutes_later(clock):
    output = _seed(**PASSWORDS)
    modes = dict(Office.objects.values_list("code", "release_mode"))
    release = Release.objects.get()

    assert modes == {"palembang": "first_come", "makassar": "first_come", "jayapura": "ballot"}
    assert f"/ballots/{release.pk}/" in output
    assert release.office.code == "jayapura" and release.is_open(clock.now)
    assert release.first_day.weekday() == 0
    assert (release.first_day - release.office.today(clock.now)).days in range(8, 15)
    assert release.closes_at - clock.now == timedelta(minutes=5)
    window = release.office.windows.get(weekday=0, start=time(8))
    ballots.enter(
        release=release, applicants=[make_applicant()], preferences=[(release.first_day, window)]
    )

    clock.now = release.draw_at
    ballots.run_due()

    release.refresh_from_db()
    assert release.state == Release.State.DRAWN
    assert Booking.objects.get().date == release.first_day
    assert ReleaseSchedule.objects.get().office == release.office


def test_a_later_run_keeps_jayapura_on_first_come_once_staff_chose_it():
    _seed(**PASSWORDS)
    Office.objects.filter(code="jayapura").update(release_mode="first_come")

    _seed(**PASSWORDS)

    assert Office.objects.get(code="jayapura").release_mode == "first_come"
