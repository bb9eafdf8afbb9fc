"""Benchmark steps that need Django: seed the bench database, list bookable slots, time the report.

Run by Stack.step (bench/stack.py) as `python -m bench.steps COMMAND` with the bench
environment; each command prints one JSON object on its last line of output.
"""

import csv
import json
import multiprocessing
import os
import random
import re
import secrets
import signal
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from datetime import time as clock
from pathlib import Path
from urllib.parse import urlencode

import django

from bench.ballot_draw import (
    ZONES,
    applicant_name,
    entries_per_office,
    entry_shape,
    nik,
    office_code,
    quantile,
    release_week,
)
from bench.config import BOOKING_TABLE, OFFICE_TABLE
from bench.machine import CpuMeter

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "antrean.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.db.models import Count, F, Q, Sum  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from bookings import ballots, codes, draw  # noqa: E402
from bookings.availability import office_availability  # noqa: E402
from bookings.models import Booking, Entry, EntryApplicant, Notification, Release  # noqa: E402
from bookings.reports.counts import monthly_counts  # noqa: E402
from offices.models import Office, OfficeDay, ServiceWindow, WindowDay  # noqa: E402
from offices.schedule import day_plans, holiday_name  # noqa: E402

DEMO_OFFICES = ("palembang", "makassar", "jayapura")
GROUP_RUSH_OFFICE = "rush-groups"
# The floor's view (bench/floor_site) books offices no app run touches: one for its sell-out,
# as many as the bench offices for its bookings that all succeed.
FLOOR_RUSH_OFFICE = "floor-rush"
FLOOR_SPREAD_PREFIX = "floor-spread-"
WINDOWS = ((clock(8), clock(10)), (clock(10), clock(12)), (clock(13), clock(15)))


def _emit(payload):
    print(json.dumps(payload, default=str))


def _bench_office(code, name, zone):
    """Create an office shaped like the demo ones (150 a day, 15 kept for walk-ins, 3 × 45)."""
    office, _new = Office.objects.get_or_create(
        code=code,
        defaults={
            "name": name,
            "city": "Bench",
            "timezone": zone,
            "daily_quota": 150,
            "walk_in_reserve": 15,
            "open_weekdays": "01234",
        },
    )
    for weekday in range(5):
        for start, end in WINDOWS:
            ServiceWindow.objects.get_or_create(
                office=office, weekday=weekday, start=start, defaults={"end": end, "capacity": 45}
            )
    return office


def prepare(extra_offices):
    """Seed the demo data and the bench offices; return every bookable slot of the horizon."""
    # seed_demo appends its logins to VAR_DIR/demo-logins.txt: keep them in the bench's temp dir.
    settings.VAR_DIR = Path(os.environ["BENCH_TMP"])
    call_command(
        "seed_demo",
        admin_password=secrets.token_urlsafe(12),
        staff_password=secrets.token_urlsafe(12),
        supervisor_password=secrets.token_urlsafe(12),
        no_history=True,  # the bench's own data set: its report phase writes its own rows
        stdout=open(os.devnull, "w"),  # noqa: SIM115 - the passwords stay unprinted
    )
    codes = list(DEMO_OFFICES)
    for index in range(extra_offices):
        code = f"bench-{index:02d}"
        _bench_office(code, f"Kantor Imigrasi Bench {index:02d}", ZONES[index % 3])
        codes.append(code)
    _bench_office("bench-warm", "Kantor Imigrasi Bench (warm-up)", ZONES[0])
    codes.append("bench-warm")
    # Jayapura gives out its places by ballot (seed_demo): the group rush has an office of
    # its own in the same zone, first come, first served, outside the spread's "bench-".
    _bench_office(GROUP_RUSH_OFFICE, "Kantor Imigrasi Bench (rombongan)", ZONES[2])
    codes.append(GROUP_RUSH_OFFICE)
    floor_codes = [FLOOR_RUSH_OFFICE]
    _bench_office(FLOOR_RUSH_OFFICE, "Kantor Imigrasi Bench (lantai)", ZONES[0])
    for index in range(extra_offices):
        code = f"{FLOOR_SPREAD_PREFIX}{index:02d}"
        _bench_office(code, f"Kantor Imigrasi Bench Lantai {index:02d}", ZONES[index % 3])
        floor_codes.append(code)
    codes += floor_codes
    now = timezone.now()
    offices = {}
    for office in Office.objects.filter(code__in=codes):
        first, last = office.first_bookable_day(now), office.last_bookable_day(now)
        days = office_availability(office, first, (last - first).days + 1, now=now)
        offices[office.code] = {
            "id": office.pk,
            "timezone": office.timezone,
            "online_quota": office.online_quota,
            "months": sorted({f"{d.date:%Y-%m}" for d in days}),
            "days": [
                {
                    "date": d.date.isoformat(),
                    "remaining": d.remaining,
                    "windows": [[w.window.pk, w.remaining] for w in d.windows if w.bookable],
                }
                for d in days
                if d.bookable
            ],
        }
    _window_days(offices, floor_codes)
    _emit({"offices": offices, "markers": _markers(), "settings": _settings_in_effect()})


def _window_days(offices, floor_codes):
    """Make the counter rows of the floor's bookable window-days: its view creates none."""
    capacity = dict(
        ServiceWindow.objects.filter(office__code__in=floor_codes).values_list("pk", "capacity")
    )
    WindowDay.objects.bulk_create(
        [
            WindowDay(window_id=pk, date=day["date"], capacity=capacity[pk])
            for code in floor_codes
            for day in offices[code]["days"]
            for pk, _left in day["windows"]
        ],
        ignore_conflicts=True,
    )


def _settings_in_effect():
    """Return the settings that bear on the figures, as the app resolved them."""
    database = settings.DATABASES["default"]
    return {
        "CONN_MAX_AGE": database.get("CONN_MAX_AGE"),
        "CONN_HEALTH_CHECKS": database.get("CONN_HEALTH_CHECKS"),
        "CACHES": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
        "AVAILABILITY_CACHE_SECONDS": getattr(settings, "AVAILABILITY_CACHE_SECONDS", None),
        "SESSION_ENGINE": settings.SESSION_ENGINE,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }


def _markers():
    """Return a plain stretch of the "duplicate" and "full" messages as pages show them (id)."""
    from django.utils import translation

    from bookings.services import MESSAGES

    with translation.override("id"):
        found = {}
        for code in ("duplicate", "full"):
            text = str(MESSAGES[code])
            found[code] = re.split(r"[^\w ]", text)[0][:40]
    return found


COUNTS = (
    "served",
    "online",
    "walk_in",
    "priority",
    "no_show",
    "cancelled",
    "booked",
    "group_booked",
    "group_checked_in",
)
PURPOSES = ("umrah", "hajj", "tourism", "work", "study", "family", "other")


def bare_sql(year):
    """The hand-written aggregate: the same figures, grouped by office id, then joined."""
    purpose_counts = ",\n".join(
        f"    count(*) FILTER (WHERE status = 'checked_in' AND purpose = '{p}') AS served_{p}"
        for p in PURPOSES
    )
    return f"""
SELECT o.name, o.code, c.*
FROM (
  SELECT office_id, extract(month FROM date)::int AS month,
    count(*) FILTER (WHERE status = 'checked_in') AS served,
    count(*) FILTER (WHERE status = 'checked_in' AND channel = 'online') AS online,
    count(*) FILTER (WHERE status = 'checked_in' AND channel = 'walk_in') AS walk_in,
    count(*) FILTER (WHERE status = 'checked_in' AND channel = 'walk_in'
                     AND walk_in_reason IN ('child', 'disability', 'elderly', 'pregnant', 'sick'))
      AS priority,
    count(*) FILTER (WHERE status = 'no_show') AS no_show,
    count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
    count(*) AS booked,
    count(*) FILTER (WHERE group_id IS NOT NULL) AS group_booked,
    count(*) FILTER (WHERE status = 'checked_in' AND group_id IS NOT NULL) AS group_checked_in,
{purpose_counts}
  FROM {BOOKING_TABLE}
  WHERE date >= '{year}-01-01' AND date < '{year + 1}-01-01'
  GROUP BY office_id, month
) c JOIN {OFFICE_TABLE} o ON o.id = c.office_id
ORDER BY o.name, o.code, c.month
"""


def _bare_rows(year):
    with connection.cursor() as cursor:
        cursor.execute(bare_sql(year))
        names = [col[0] for col in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _explain(sql):
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def _indexes_in(plan):
    found = set()
    for line in plan.splitlines():
        if " using " in line.lower() and "index" in line.lower():
            found.add(line.lower().split(" using ", 1)[1].split()[0])
    return sorted(found)


def report(years, repeat, explain_path):
    """Time monthly_counts() against the bare aggregate SQL for each year; compare their rows."""
    years = [int(y) for y in years.split(",")]
    # Warm both once (caches, plans), then alternate so that neither gets a kinder cache.
    for year in years:
        monthly_counts(year=year)
        _bare_rows(year)
    app_times = {y: [] for y in years}
    bare_times = {y: [] for y in years}
    for _round in range(repeat):
        for year in years:
            started = time.perf_counter()
            rows = monthly_counts(year=year)
            app_times[year].append(time.perf_counter() - started)
            started = time.perf_counter()
            bare = _bare_rows(year)
            bare_times[year].append(time.perf_counter() - started)
    mismatches = 0
    for year in years:
        rows = monthly_counts(year=year)
        bare = _bare_rows(year)
        if len(rows) != len(bare):
            mismatches += abs(len(rows) - len(bare)) or 1
        for app_row, bare_row in zip(rows, bare, strict=False):
            expected = (
                bare_row["code"],
                bare_row["month"],
                *(bare_row[name] for name in COUNTS),
                *(bare_row[f"served_{p}"] for p in PURPOSES),
            )
            got = (
                app_row.office_code,
                app_row.month,
                *(getattr(app_row, name) for name in COUNTS),
                *(app_row.served_by_purpose.get(p, 0) for p in PURPOSES),
            )
            mismatches += expected != got
    with CaptureQueriesContext(connection) as captured:
        monthly_counts(year=years[0])
    app_sql = captured.captured_queries[-1]["sql"]
    app_plan = _explain(app_sql)
    bare_plan = _explain(bare_sql(years[0]))
    Path(explain_path).write_text(
        f"-- monthly_counts(year={years[0]}): the ORM's SQL\n{app_sql}\n\n{app_plan}\n\n"
        f"-- the bare aggregate SQL\n{bare_sql(years[0])}\n{bare_plan}\n",
        encoding="utf-8",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s ORDER BY 1", [BOOKING_TABLE]
        )
        table_indexes = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT count(*) FROM {BOOKING_TABLE}")
        total_rows = cursor.fetchone()[0]

    def exec_ms(plan):
        for line in plan.splitlines():
            if line.startswith("Execution Time:"):
                return float(line.split(":")[1].split()[0])
        return None

    _emit(
        {
            "rows": total_rows,
            "years": years,
            "report_rows": sum(len(monthly_counts(year=y)) for y in years),
            "app_s": {y: statistics.median(t) for y, t in app_times.items()},
            "bare_s": {y: statistics.median(t) for y, t in bare_times.items()},
            "app_all_s": [sum(t) for t in zip(*app_times.values(), strict=True)],
            "bare_all_s": [sum(t) for t in zip(*bare_times.values(), strict=True)],
            "mismatches": mismatches,
            "app_plan_ms": exec_ms(app_plan),
            "bare_plan_ms": exec_ms(bare_plan),
            "app_plan_top": app_plan.splitlines()[:12],
            "bare_plan_top": bare_plan.splitlines()[:12],
            "indexes_used": sorted(set(_indexes_in(app_plan)) | set(_indexes_in(bare_plan))),
            "table_indexes": table_indexes,
        }
    )


def queries(code, day, window, repeat):
    """Return, per kind of request, its SQL statements and its server time in this process.

    Django's test client calls the whole stack (middleware, view, database) without
    gunicorn or a socket: the time is what one request costs the server apart from HTTP.
    `cpu_ms` is this process's CPU (the budgets of issue 18 are on it), `healthz_cpu_ms`
    that of /healthz asked in turn with it (the budgets' unit), `ms` the wall time,
    the database's round trips included. The median of `repeat` requests of each kind.
    """
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1", HTTP_ACCEPT_LANGUAGE="id")
    browser = Client(HTTP_HOST="127.0.0.1", HTTP_ACCEPT_LANGUAGE="id")
    serial = iter(range(1, 10_000))

    def applicant():
        number = next(serial)
        return {
            "nik": f"1203011505{90 + number // 9999:02d}{number % 9999 + 1:04d}",
            "full_name": "Siti Aminah",
            "birth_date": f"19{90 + number // 9999:02d}-05-15",
            # A phone or an e-mail holds a few bookings only (BOOKINGS_PER_CONTACT).
            "email": f"siti{number}@example.com",
            "phone": f"+62812{number:08d}",
        }

    def booking_body(target_day, target_window):
        body = {"office": code, "date": target_day, "window": int(target_window)}
        return json.dumps({**body, **applicant(), "purpose": "umrah"})

    office = Office.objects.get(code=code)
    now = timezone.now()
    first = office.first_bookable_day(now)
    days = office_availability(office, first, 60, now=now)
    open_slots = [(d.date.isoformat(), w.window.pk) for d in days if d.bookable for w in d.windows]
    form_day, form_window = open_slots[-1]
    form_path = f"/offices/{code}/{form_day}/{form_window}/book/"
    check_path = f"/offices/{code}/{form_day}/{form_window}/check/"
    browser.get(form_path)
    typed = {"purpose": "umrah", "application_type": "new", "passport_type": "ordinary"}
    answered = browser.post(form_path, {**applicant(), **typed, "website": ""})
    if answered.status_code != 302:
        raise RuntimeError(f"the booking form did not take the details: {answered.status_code}")
    # A booking made through the pages, for the page every applicant reads after.
    booker = Client(HTTP_HOST="127.0.0.1", HTTP_ACCEPT_LANGUAGE="id")
    booked_day, booked_window = open_slots[-2]
    booked_form = f"/offices/{code}/{booked_day}/{booked_window}/book/"
    booker.post(booked_form, {**applicant(), **typed, "website": ""})
    confirmed = booker.post(f"/offices/{code}/{booked_day}/{booked_window}/check/")
    if confirmed.status_code != 302:
        raise RuntimeError(f"the check page did not book: {confirmed.status_code}")
    booking_path = confirmed["Location"]
    display, turn_path = _day_at_the_office()
    kinds = {
        "healthz": lambda i: client.get("/healthz"),
        "availability": lambda i: client.get(f"/api/v1/offices/{code}/availability"),
        "calendar": lambda i: client.get(f"/offices/{code}/"),
        "day page": lambda i: client.get(f"/offices/{code}/{form_day}/"),
        "book (201)": lambda i: client.post(
            "/api/v1/bookings",
            booking_body(*open_slots[i % len(open_slots)]),
            content_type="application/json",
        ),
        "book, window full (409)": lambda i: client.post(
            "/api/v1/bookings", booking_body(day, window), content_type="application/json"
        ),
        "booking form (GET)": lambda i: client.get(form_path),
        # The same page with the applicant's answers: sent back with a typo, and come back
        # to from "check your answers".
        "booking form, answers refused (POST)": lambda i: client.post(
            form_path,
            urlencode({**applicant(), **typed, "website": "", "nik": "12345"}),
            content_type="application/x-www-form-urlencoded",  # as a browser sends a form
        ),
        "booking form with answers (GET)": lambda i: browser.get(form_path),
        # What most of an HTML rush's browsers get: the window sold out, other days offered.
        "booking form, window full (409)": lambda i: client.get(
            f"/offices/{code}/{day}/{window}/book/"
        ),
        "check page (GET)": lambda i: browser.get(check_path),
        "booking page (GET)": lambda i: booker.get(booking_path),
        # The day at the office (issue 19): what the TVs poll every 3 s, the page a waiting
        # applicant's phone reloads every 25 s, and the API's summary, with 40 waiting.
        "display.json (TV poll)": lambda i: client.get(f"{display}display.json"),
        "display page (TV)": lambda i: client.get(f"{display}display/"),
        "turn page (ticket QR)": lambda i: client.get(turn_path),
        "queue API": lambda i: client.get(f"/api/v1{display}queue"),
    }  # fmt: skip
    found = {}
    for name, call in kinds.items():
        for i in range(5):
            call(i)
        with CaptureQueriesContext(connection) as captured:
            response = call(5)
        statements = list(captured.captured_queries)  # the next request empties the log
        walls, cpus, beside = [], [], []
        for i in range(repeat):
            # /healthz in turn with each request: the ratio compares the two under the same
            # load on a shared machine, not a quiet moment with a busy one.
            cpu = time.process_time()
            kinds["healthz"](i)
            beside.append(time.process_time() - cpu)
            wall, cpu = time.perf_counter(), time.process_time()
            call(6 + i)
            cpus.append(time.process_time() - cpu)
            walls.append(time.perf_counter() - wall)
        found[name] = {
            "status": response.status_code,
            "queries": len(statements),
            "statements": [q["sql"][:90] for q in statements],
            "ms": round(1000 * statistics.median(walls), 3),
            "cpu_ms": round(1000 * statistics.median(cpus), 3),
            "healthz_cpu_ms": round(1000 * statistics.median(beside), 3),
        }
    _emit(found)


DAY_OFFICE = "bench-day"
DAY_WAITING = 40
DAY_COUNTERS = 3


def _day_at_the_office():
    """Open an office today with DAY_WAITING walk-ins checked in and DAY_COUNTERS counters
    calling; return its path prefix (/offices/<code>/) and one waiting applicant's turn page."""
    from django.contrib.auth import get_user_model

    from bookings import services
    from bookings.applicants import Applicant
    from bookings.queue import calls, turn
    from offices.models import Counter

    office = _bench_office(DAY_OFFICE, "Kantor Imigrasi Bench (hari ini)", ZONES[0])
    office.open_weekdays = "0123456"
    office.save(update_fields=["open_weekdays"])
    for weekday in range(5, 7):
        for start, end in WINDOWS:
            ServiceWindow.objects.get_or_create(
                office=office, weekday=weekday, start=start, defaults={"end": end, "capacity": 45}
            )
    visits = []
    for number in range(DAY_WAITING + DAY_COUNTERS):
        applicant = Applicant(
            nik=f"167101150590{number + 1:04d}",
            full_name="Siti Aminah",
            birth_date=date(1990, 5, 15),
            purpose="umrah",
            phone="",
            email="",
        )
        reason = "elderly" if number % 7 == 0 else "far_away"
        booking = services.register_walk_in(
            office=office, applicant=applicant, reason=reason, by=None
        )
        visits.append(booking.visit)
    for index in range(DAY_COUNTERS):
        clerk, _new = get_user_model().objects.get_or_create(
            username=f"bench-loket-{index}", defaults={"is_staff": True}
        )
        counter, _new = Counter.objects.get_or_create(office=office, name=f"Loket {index + 1}")
        calls.call_next(counter=calls.sign_in(counter=counter, by=clerk), by=clerk)
    waiting = visits[-1]
    return f"/offices/{office.code}/", reverse("queue-turn", args=[turn.turn_token(waiting)])


# ---- the ballot (issue 15) ---------------------------------------------------------------


def _ballot_office(code, name, zone):
    """Create an office shaped like the demo ones that gives out its places by ballot."""
    office = _bench_office(code, name, zone)
    office.release_mode = Office.ReleaseMode.BALLOT
    office.save(update_fields=["release_mode"])
    return office


def _draw_releases(offices, now):
    """Make the draw's offices and one release each of a week, entries closed an hour ago."""
    first, last = release_week(timezone.localdate(now), holiday_name)
    releases = []
    for index in range(offices):
        office = _ballot_office(
            office_code(index), f"Kantor Imigrasi Undian {index:03d}", ZONES[index % 3]
        )
        releases.append(
            ballots.make_release(
                office=office,
                first_day=first,
                last_day=last,
                opens_at=now - timedelta(hours=3),
                closes_at=now - timedelta(hours=2),
                draw_at=now - timedelta(hours=1),
                public_value_source="Bench: the value the run names.",
            )
        )
    return releases


def _enter_in_bulk(release, count, region_code, first, rng):
    """Insert a release's entries and applicants in bulk, each receipt made as ballots.enter
    makes it; return the number of the next applicant."""
    plans = day_plans(release.office, release.first_day, release.last_day)
    days = [[p.date.isoformat(), [w.pk for w in p.windows]] for p in plans if p.open]
    entries, members = [], []
    n = first
    for _ in range(count):
        size, wishes = entry_shape(rng, days)
        applicants = []
        for _member in range(size):
            number, birth = nik(region_code, n)
            applicants.append((number, applicant_name(n), birth))
            n += 1
        details = {
            "release": release.pk,
            "applicants": [[a, name, birth.isoformat()] for a, name, birth in applicants],
            "preferences": wishes,
        }
        salt = secrets.token_hex(16)
        entries.append(
            Entry(
                release=release,
                code=codes.new_code(),
                salt=salt,
                receipt=draw.receipt_of(salt, details),
                preferences=wishes,
                email=f"undian{n}@example.com",
                phone=f"+62813{n:08d}",
                language="id",
            )
        )
        members.append(applicants)
    with transaction.atomic():
        Entry.objects.bulk_create(entries, batch_size=2000)
        EntryApplicant.objects.bulk_create(
            (
                EntryApplicant(
                    entry=entry,
                    release=release,
                    nik=number,
                    full_name=name,
                    birth_date=birth,
                    purpose=Booking.Purpose.UMRAH,
                    passport_type=Booking.PassportType.ORDINARY,
                    application_type=Booking.ApplicationType.NEW,
                )
                for entry, applicants in zip(entries, members, strict=True)
                for number, name, birth in applicants
            ),
            batch_size=5000,
        )
    return n


def _start_py_spy(path):
    """Record this process with py-spy (wall time: waits on PostgreSQL too) until stopped."""
    py_spy = Path(sys.executable).parent / "py-spy"
    if path == "-" or not py_spy.exists():
        return None
    command = [
        str(py_spy), "record", "-p", str(os.getpid()), "-r", "200", "-f", "raw", "-o", path,
        "--nonblocking", "--idle",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    return process


def _stop_py_spy(process):
    if process is not None:
        process.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
        process.wait(timeout=60)


def _drawn_state(releases):
    """Return what the draws wrote at the draw's offices: bookings, groups split, counters
    over their quotas or not matching the bookings, notifications, undecided entries."""
    offices = Office.objects.filter(pk__in=[r.office_id for r in releases])
    # The released days only: the weeks before them are the history the offices hold.
    released = (releases[0].first_day, releases[0].last_day)
    bookings = Booking.objects.filter(office__in=offices, date__range=released)
    booked = bookings.count()
    split = (
        bookings.filter(group__isnull=False)
        .values("group")
        .annotate(windows=Count("window", distinct=True), days=Count("date", distinct=True))
        .filter(Q(windows__gt=1) | Q(days__gt=1))
        .count()
    )
    day_rows = OfficeDay.objects.filter(office__in=offices, date__range=released)
    window_rows = WindowDay.objects.filter(window__office__in=offices, date__range=released)
    on_days = day_rows.aggregate(n=Sum("online_booked"))["n"] or 0
    in_windows = window_rows.aggregate(n=Sum("booked"))["n"] or 0
    return {
        "bookings": booked,
        "groups": bookings.exclude(group=None).values("group").distinct().count(),
        "groups_split": split,
        "days_over_quota": day_rows.filter(
            Q(online_booked__gt=F("online_quota")) | Q(booked__gt=F("quota"))
        ).count(),
        "windows_over_capacity": window_rows.filter(booked__gt=F("capacity")).count(),
        "counters_disagree": (on_days != booked) + (in_windows != booked),
        "notifications": Notification.objects.filter(
            Q(booking__in=bookings) | Q(group__in=bookings.values("group"))
        ).count(),
        "entries_undecided": Entry.objects.filter(
            release__in=releases, status=Entry.Status.ENTERED
        ).count(),
        # What the draw writes besides the floor's rows: the waiting entries' notifications.
        "entry_notifications": Notification.objects.filter(entry__release__in=releases).count(),
    }


def draw_setup(offices, entries, region_code):
    """Make `offices` ballot offices with a release each and `entries` entries in bulk, then
    close the releases; return the releases' ids."""
    now = timezone.now()
    rng = random.Random(15)  # the same entries on every run
    started = time.perf_counter()
    releases = _draw_releases(offices, now)
    applicants = 0
    for release, count in zip(releases, entries_per_office(entries, offices), strict=True):
        applicants = _enter_in_bulk(release, count, region_code, applicants, rng)
    setup_s = time.perf_counter() - started
    started = time.perf_counter()
    for release in releases:
        ballots.close_release(release=release, now=now)
    _emit(
        {
            "releases": [release.pk for release in releases],
            "first_day": releases[0].first_day.isoformat(),
            "applicants": applicants,
            "setup_s": round(setup_s, 1),
            "close_s": round(time.perf_counter() - started, 2),
        }
    )


def draw_bench(release_ids, winners_path, profile_path, workers):
    """Time ballots.draw_due on each release (closed, its draw due), as the beat's tasks run
    it: one after another (workers 1) or on `workers` processes at once, as a worker's pool
    takes the draws the beat hands on. Writes the winning entries to a CSV for the floor
    (office by its place in the list, day, session, size)."""
    now = timezone.now()
    ids = [int(pk) for pk in release_ids.split(",")]
    for index, pk in enumerate(ids):
        # The same value for a release in every run: its copies draw the same outcome.
        Release.objects.filter(pk=pk).update(public_value=f"bench {index}")
    profiler = _start_py_spy(profile_path)
    meter = CpuMeter()
    started = time.perf_counter()
    if workers == 1:
        times = [_timed_draw(pk, now) for pk in ids]
    else:
        connections.close_all()  # each process opens its own
        pool = multiprocessing.get_context("fork").Pool(workers)
        times = pool.starmap(_timed_draw, [(pk, now) for pk in ids], chunksize=1)
        pool.close()
        pool.join()
    wall = time.perf_counter() - started
    cpu = meter.shares()
    _stop_py_spy(profiler)
    by_pk = Release.objects.in_bulk(ids)
    releases = [by_pk[pk] for pk in ids]
    starts = {
        w.pk: w.start
        for w in ServiceWindow.objects.filter(office__in=[r.office_id for r in releases])
    }
    tally = {"won": 0, "waiting": 0, "withdrawn": 0}
    applicants_won = places = 0
    with open(winners_path, "w", newline="", encoding="ascii") as handle:
        writer = csv.writer(handle)
        for index, release in enumerate(releases):
            places += sum(release.places["days"].values())
            size_of = {entry["receipt"]: entry["size"] for entry in release.entries_list}
            for receipt, result in release.outcome.items():
                tally[result["result"]] += 1
                if result["result"] == "won":
                    size = size_of[receipt]
                    applicants_won += size
                    start = starts[result["window"]].isoformat()
                    writer.writerow([tally["won"], index, result["day"], start, size])
    _emit(
        {
            "releases": len(releases),
            "releases_drawn": sum(r.state == r.State.DRAWN for r in releases),
            "first_day": releases[0].first_day.isoformat(),
            "last_day": releases[0].last_day.isoformat(),
            "entries": sum(len(r.entries_list) for r in releases),
            "places": places,
            "draw_s": round(wall, 3),
            "workers": workers,
            "release_p50_s": round(statistics.median(times), 3),
            "release_max_s": round(max(times), 3),
            "release_p90_s": round(quantile(times, 0.9), 3),
            "entries_won": tally["won"],
            "entries_waiting": tally["waiting"],
            "entries_struck": tally["withdrawn"],
            "applicants_won": applicants_won,
            "cpu": cpu,
            **_drawn_state(releases),
        }
    )


def _timed_draw(pk, now):
    started = time.perf_counter()
    ballots.draw_due(pk, now=now)
    return time.perf_counter() - started


def entry_release(code):
    """Make an office whose release of a week's days takes entries now; return the release's
    id and each choice an entry can name: [day, session id], or [day, 0] for any session."""
    now = timezone.now()
    office = _ballot_office(code, "Kantor Imigrasi Bench (undian)", ZONES[2])
    first, last = release_week(timezone.localdate(now), holiday_name)
    release = ballots.make_release(
        office=office,
        first_day=first,
        last_day=last,
        opens_at=now - timedelta(minutes=5),
        closes_at=now + timedelta(days=1),
        draw_at=now + timedelta(days=1, hours=1),
        public_value_source="Bench: the value the run names.",
    )
    choices = []
    for plan in day_plans(office, first, last):
        if plan.open:
            choices += [[plan.date.isoformat(), w.pk] for w in plan.windows]
            choices.append([plan.date.isoformat(), 0])
    _emit({"release": release.pk, "office": code, "choices": choices})


def main(argv):
    command = argv[1]
    if command == "prepare":
        prepare(int(argv[2]))
    elif command == "queries":
        queries(argv[2], argv[3], argv[4], int(argv[5]))
    elif command == "report":
        report(argv[2], int(argv[3]), argv[4])
    elif command == "draw_setup":
        draw_setup(int(argv[2]), int(argv[3]), argv[4])
    elif command == "draw":
        draw_bench(argv[2], argv[3], argv[4], int(argv[5]))
    elif command == "entry_release":
        entry_release(argv[2])
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv)
