"""The demo's year of history: what the report counts is what the rows hold, within the quotas."""

from collections import Counter, defaultdict
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from bookings.codes import is_well_formed
from bookings.management import demo_history
from bookings.models import Booking, Visit
from bookings.nik import parse_nik
from bookings.reports.counts import COUNTS, PURPOSES, monthly_counts
from bookings.reports.waits import wait_months
from offices.models import Office, OfficeDay, WindowDay

pytestmark = pytest.mark.django_db

# The pinned clock is Tuesday 5 September 2017: the history runs from 1 September 2016.
FIRST_DAY = date(2016, 9, 1)
YEARS = (2016, 2017)


@pytest.fixture
def seeded(clock, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    out = StringIO()
    call_command("seed_demo", stdout=out, admin_password="demo-pass-123456")
    return out.getvalue()


def _bookings():
    return list(
        Booking.objects.values(
            "office__code",
            "date",
            "window_id",
            "status",
            "channel",
            "walk_in_reason",
            "uses_reserve",
            "purpose",
            "group_id",
        )
    )


def _expected_counts(rows):
    """The report's columns, counted row by row in Python: {(office, year, month): {...}}."""
    found = defaultdict(Counter)
    for row in rows:
        counts = found[(row["office__code"], row["date"].year, row["date"].month)]
        served = row["status"] == "checked_in"
        walk_in = row["channel"] == "walk_in"
        counts["booked"] += 1
        counts["served"] += served
        counts["online"] += served and not walk_in
        counts["walk_in"] += served and walk_in
        counts["priority"] += served and row["walk_in_reason"] in Booking.PRIORITY_REASONS
        counts["no_show"] += row["status"] == "no_show"
        counts["cancelled"] += row["status"] == "cancelled"
        counts["group_booked"] += row["group_id"] is not None
        counts["group_checked_in"] += served and row["group_id"] is not None
        counts[f"served_{row['purpose']}"] += served
    return found


def _report_counts():
    found = {}
    for year in YEARS:
        for row in monthly_counts(year=year):
            figures = {name: getattr(row, name) for name in COUNTS}
            figures.update({f"served_{p}": n for p, n in row.served_by_purpose.items()})
            found[(row.office_code, year, row.month)] = figures
    return found


def _nonzero(counts):
    return {key: {k: v for k, v in figures.items() if v} for key, figures in counts.items()}


def test_the_report_counts_and_waits_are_what_the_generated_rows_hold(seeded):
    _check_waits()
    expected = _expected_counts(_bookings())

    assert _nonzero(_report_counts()) == _nonzero(expected)
    # Twelve whole months and the days of this one before today, at each office; a few
    # thousand applicants a month, fewer in a month of Lebaran's cuti bersama (June 2017).
    months = sorted({(year, month) for _office, year, month in expected})
    assert months[0] == (2016, 9) and months[-1] == (2017, 9) and len(months) == 13
    for (_office, year, month), counts in expected.items():
        if (year, month) != (2017, 9):
            assert 1500 <= counts["served"] <= 3500, (year, month, counts)


def _minutes(start, end):
    return int((end - start).total_seconds()) // 60


def _nearest_rank(values, percent):
    ordered = sorted(values)
    return ordered[-(-percent * len(ordered) // 100) - 1]


def _check_waits():
    waits, services, missed = defaultdict(list), defaultdict(list), Counter()
    for visit in Visit.objects.values(
        "office__code",
        "date",
        "state",
        "booking__checked_in_at",
        "called_at",
        "serving_at",
        "finished_at",
    ):
        key = (visit["office__code"], visit["date"].year, visit["date"].month)
        waits[key].append(_minutes(visit["booking__checked_in_at"], visit["called_at"]))
        missed[key] += visit["state"] == "missed"
        if visit["state"] == "done":
            services[key].append(_minutes(visit["serving_at"], visit["finished_at"]))

    report = {
        (row.office_code, year, row.month): (
            row.called,
            row.missed,
            row.median_wait,
            row.p90_wait,
            row.median_service,
        )
        for year in YEARS
        for row in wait_months(year=year)
    }

    assert report == {
        key: (
            len(waits[key]),
            missed[key],
            _nearest_rank(waits[key], 50),
            _nearest_rank(waits[key], 90),
            _nearest_rank(services[key], 50),
        )
        for key in waits
    }
    everything = [minutes for values in waits.values() for minutes in values]
    assert min(everything) >= 5 and max(everything) <= 90
    served = [minutes for values in services.values() for minutes in values]
    assert min(served) >= 5 and max(served) <= 20
    assert sum(missed.values()) > 0


def _check_quotas_and_counters():
    rows = _bookings()
    offices = {o.code: o for o in Office.objects.all()}
    held, online, in_window, checked_in, in_window_now = (Counter() for _ in range(5))
    for row in rows:
        day = (row["office__code"], row["date"])
        if row["status"] in ("checked_in", "no_show"):  # each held its place during the day
            held[day] += 1
            online[day] += not row["uses_reserve"]
            if row["window_id"]:
                in_window[(row["window_id"], row["date"])] += 1
        if row["status"] == "checked_in":  # the no-shows gave theirs back after the day
            checked_in[(*day, row["uses_reserve"])] += 1
            if row["window_id"]:
                in_window_now[(row["window_id"], row["date"])] += 1

    for (code, _day), count in held.items():
        assert count <= offices[code].daily_quota
    for (code, _day), count in online.items():
        assert count <= offices[code].online_quota
    capacities = dict(WindowDay.objects.values_list("window_id", "capacity").distinct())
    for (window, _day), count in in_window.items():
        assert count <= capacities[window]

    days = OfficeDay.objects.values_list("office__code", "date", "booked", "online_booked")
    assert len(days) == len(held)
    for code, day, booked, online_booked in days:
        assert booked == checked_in[(code, day, True)] + checked_in[(code, day, False)]
        assert online_booked == checked_in[(code, day, False)]
    for window, day, booked in WindowDay.objects.values_list("window_id", "date", "booked"):
        assert booked == in_window_now[(window, day)]


def _check_applicants():
    rows = _bookings()
    served = Counter(row["purpose"] for row in rows if row["status"] == "checked_in")
    statuses = Counter(row["status"] for row in rows)
    reasons = Counter(row["walk_in_reason"] for row in rows if row["channel"] == "walk_in")

    assert served.most_common(1)[0][0] == "umrah"
    assert set(served) == set(PURPOSES)
    assert 0.04 < statuses["no_show"] / len(rows) < 0.09
    assert statuses["cancelled"] > 0 and statuses["booked"] == 0  # all in the past
    assert set(reasons) == set(Booking.WalkInReason.values)
    assert sum(reasons[r] for r in Booking.PRIORITY_REASONS) > sum(reasons.values()) / 2
    assert {row["date"] for row in rows} >= {FIRST_DAY + timedelta(days=5)}
    # Closed on weekends and national holidays: 17 August, Independence Day, among them.
    assert not any(row["date"].weekday() > 4 for row in rows)
    assert date(2017, 8, 17) not in {row["date"] for row in rows}


def _check_personal_data(now, retention_days):
    bookings = list(
        Booking.objects.values(
            "code", "nik", "full_name", "birth_date", "email", "ends_at", "forgotten_at"
        )
    )
    limit = now - timedelta(days=retention_days)

    assert all(is_well_formed(b["code"]) and len(b["code"]) == 10 for b in bookings)
    assert len({b["code"] for b in bookings}) == len(bookings)
    for booking in bookings:
        if booking["ends_at"] < limit:
            assert booking["forgotten_at"] is not None and booking["forgotten_at"] <= now
            assert (booking["nik"], booking["full_name"], booking["birth_date"]) == ("", "", None)
        else:
            assert booking["forgotten_at"] is None
            assert parse_nik(booking["nik"]).matches_birth_date(booking["birth_date"])
            assert booking["email"].endswith("@example.com") and booking["full_name"]
    assert any(b["forgotten_at"] is None for b in bookings)
    assert any(b["forgotten_at"] is not None for b in bookings)


def test_the_history_is_within_quotas_realistic_and_forgotten_when_old(seeded, clock, settings):
    # One test over one seeded year (seeding takes seconds), each check its own function.
    _check_quotas_and_counters()
    _check_applicants()
    _check_personal_data(clock.now, settings.RETENTION_DAYS)

    office = Office.objects.get(code="palembang")
    bookings, visits = Booking.objects.count(), Visit.objects.count()
    assert demo_history.seed_history(office, now=clock.now).rows == 0
    assert (Booking.objects.count(), Visit.objects.count()) == (bookings, visits)
