"""The draw (issue 15): 100,000 entries over 125 offices drawn, beside the same writes as SQL.

The entries are made in bulk by `python -m bench.steps draw` (receipts as ballots.enter makes
them); only the draws are timed, each through ballots.draw_release. The floor is what
PostgreSQL takes to write the same bookings, notifications and counters with set-based SQL
(bench/sql/draw_floor.sql) in a fresh database migrated for it.
"""

import math
import statistics
import time
from datetime import date, timedelta

from bench.config import (
    BOOKING_TABLE,
    NOTIFICATION_TABLE,
    OFFICE_DAY_TABLE,
    OUT_DIR,
    SQL_DIR,
    log,
    region,
)
from bench.machine import CpuMeter, settle
from bench.profiling import summarize_profile
from bench.stack import render

# Entry sizes as a passport office sees them: mostly one applicant, some families.
SIZES = (1, 2, 3, 4, 5)
SIZE_WEIGHTS = (70, 13, 8, 5, 4)
# How many ranked choices an entry names.
CHOICES = (1, 2, 3)
CHOICE_WEIGHTS = (25, 30, 45)
# A choice of "any session of the day" rather than one session.
ANY_SESSION_SHARE = 0.2
# Mornings are wanted most, and the first days of the week.
WINDOW_WEIGHTS = (5, 3, 2)
ZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")
NAMES = (
    "Siti Aminah",
    "Budi Santoso",
    "Dewi Lestari",
    "Ahmad Fauzi",
    "Rina Wulandari",
    "Muhammad Rizki",
    "Nur Hidayah",
    "Agus Salim",
)
# What the floor writes per winning entry (e-mail and SMS: each entry has both).
NOTIFICATIONS_PER_WIN = 2
TARGET_RATIO = 3  # the draw within 3× its floor
HISTORY_WEEKS = 4  # the weeks of served bookings both databases hold before the draw


def nik(region_code, n):
    """Return a valid NIK and its birth date for the n-th applicant of a region, as
    bench/lua/common.lua makes them (distinct for n < 134,000,000)."""
    serial = n % 9999 + 1
    k = n // 9999
    day = k % 28 + 1
    month = k // 28 % 12 + 1
    year = 1960 + k // 336 % 40
    return f"{region_code}{day:02d}{month:02d}{year % 100:02d}{serial:04d}", date(year, month, day)


def applicant_name(n):
    return NAMES[n % len(NAMES)]


def office_code(index):
    return f"draw-{index:03d}"


def release_week(today, closed=lambda day: False):
    """Return the Monday and Friday of the first week at least two weeks after today whose
    five days are all open (`closed` tells a holiday), so that every release has 5 days."""
    start = today + timedelta(days=14)
    monday = start + timedelta(days=-start.weekday() % 7)
    while any(closed(monday + timedelta(days=d)) for d in range(5)):
        monday += timedelta(days=7)
    return monday, monday + timedelta(days=4)


def entries_per_office(entries, offices):
    """Return how many entries each office gets: an even share, the remainder to the first."""
    share, extra = divmod(entries, offices)
    return [share + (index < extra) for index in range(offices)]


def entry_shape(rng, days):
    """Return one entry's size and ranked preferences over a release's open days.

    days: [[day, [window id, ...] in start order], ...]. Preferences are distinct
    [day, window id or None] pairs (None: any session of that day), as ballots.enter keeps
    them; the first days and the mornings are the most wanted.
    """
    size = rng.choices(SIZES, SIZE_WEIGHTS)[0]
    wanted = min(rng.choices(CHOICES, CHOICE_WEIGHTS)[0], sum(len(w) + 1 for _d, w in days))
    day_weights = [1 / (1 + 0.25 * index) for index in range(len(days))]
    preferences = []
    while len(preferences) < wanted:
        day, windows = rng.choices(days, day_weights)[0]
        if rng.random() < ANY_SESSION_SHARE:
            choice = [day, None]
        else:
            choice = [day, rng.choices(windows, WINDOW_WEIGHTS[: len(windows)])[0]]
        if choice not in preferences:
            preferences.append(choice)
    return size, preferences


def quantile(values, share):
    """Return the nearest-rank quantile of a list (0 when it is empty)."""
    ordered = sorted(values)
    if not ordered:
        return 0
    return ordered[max(0, min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1))]


def draw_check(found, floor):
    """Return the draw's correctness check: no counter over its quota, no group split, every
    entry decided, the bookings and notifications those the outcome names, and the floor
    writing as many rows as the draw."""
    check = {
        "releases_drawn": found["releases_drawn"],
        "releases": found["releases"],
        "entries_undecided": found["entries_undecided"],
        "bookings": found["bookings"],
        "bookings_expected": found["applicants_won"],
        "notifications": found["notifications"],
        "notifications_expected": NOTIFICATIONS_PER_WIN * found["entries_won"],
        "days_over_quota": found["days_over_quota"],
        "windows_over_capacity": found["windows_over_capacity"],
        "counters_disagree": found["counters_disagree"],
        "groups_split": found["groups_split"],
        "floor_bookings": floor.get("bookings"),
        "floor_notifications": floor.get("notifications"),
    }
    check["ok"] = (
        check["releases_drawn"] == check["releases"]
        and check["entries_undecided"] == 0
        and check["bookings"] == check["bookings_expected"]
        and check["notifications"] == check["notifications_expected"]
        and check["days_over_quota"] == 0
        and check["windows_over_capacity"] == 0
        and check["counters_disagree"] == 0
        and check["groups_split"] == 0
        and check["floor_bookings"] in (None, check["bookings"])
        and check["floor_notifications"] in (None, check["notifications"])
    )
    return check


def _floor(stack, found, winners_path):
    """Write the draw's bookings, notifications and counters with set-based SQL in a fresh
    database (median of BENCH_DRAW_REPEAT runs, each on emptied tables)."""
    config = stack.config
    db = config.draw_db
    log(f"draw floor: {found['bookings']:,} bookings as set-based SQL in a fresh {db}")
    stack.create_db(db)
    stack.manage("migrate", "--noinput", db=db)
    first = date.fromisoformat(found["first_day"])
    values = {
        "offices": found["releases"],
        "first_day": first.isoformat(),
        "days": (date.fromisoformat(found["last_day"]) - first).days + 1,
        "winners": winners_path,
    }
    setup = render(SQL_DIR / "draw_floor_setup.sql", **values)
    stack.psql_file(stack.write("draw_floor_setup.sql", setup), db)
    _write_history(stack, db, first)
    script = stack.write("draw_floor.sql", render(SQL_DIR / "draw_floor.sql", **values))
    reset = stack.write("draw_floor_reset.sql", render(SQL_DIR / "draw_floor_reset.sql", **values))
    times = []
    meter = CpuMeter()
    for run in range(config.draw_repeat):
        if run:
            stack.psql_file(reset, db)
        started = time.monotonic()
        stack.psql_file(script, db)
        times.append(time.monotonic() - started)
    cpu = meter.shares()
    # The released days' rows only: the weeks before them are the history both databases hold.
    bookings, notifications, counted = stack.query(
        f"""SELECT (SELECT count(*) FROM {BOOKING_TABLE} WHERE date >= %(first)s),
                   (SELECT count(*) FROM {NOTIFICATION_TABLE}),
                   (SELECT coalesce(sum(online_booked), 0) FROM {OFFICE_DAY_TABLE}
                    WHERE date >= %(first)s)""",
        {"first": first},
        db=db,
    )[0]
    stack.drop_db(db)
    return {
        "seconds": statistics.median(times),
        "runs_s": [round(t, 3) for t in times],
        "bookings": bookings,
        "notifications": notifications,
        "counted": counted,
        "others_cpu": cpu["others"],
        "cpu": cpu,
    }


def _write_history(stack, db, first_day):
    """Give the draw's offices the weeks before the release, then VACUUM ANALYZE."""
    history = render(SQL_DIR / "draw_history.sql", first_day=first_day, weeks=HISTORY_WEEKS)
    stack.psql_file(stack.write("draw_history.sql", history), db)


def ballot_draw(stack):
    """Make the releases and their entries in a database of their own and a copy of it, draw
    them all one after another in the one and side by side on the worker processes in the
    other (timed), then time the floor."""
    config = stack.config
    alone, side = f"{config.draw_db}_one", f"{config.draw_db}_side"
    log(
        f"draw: {config.draw_offices} offices, one release each, {config.draw_entries:,} "
        f"entries (made in bulk in {alone}; not timed)"
    )
    stack.create_db(alone)
    stack.manage("migrate", "--noinput", db=alone)
    made = stack.step(
        "draw_setup", config.draw_offices, config.draw_entries, region("draw"), db=alone
    )
    _write_history(stack, alone, date.fromisoformat(made["first_day"]))
    stack.copy_db(alone, side)
    log(
        f"  draw: {made['applicants']:,} applicants entered in {made['setup_s']:.0f} s, "
        f"closed in {made['close_s']:.0f} s, {HISTORY_WEEKS} weeks of history before them; "
        f"copied to {side}"
    )
    winners_path = stack.tmp / "draw_winners.csv"
    # BENCH_PROFILE=1: py-spy records the draws one after another (wall time, waits on
    # PostgreSQL included).
    profile_path = OUT_DIR / "profile-draw.txt" if config.profile else None
    if profile_path:
        profile_path.unlink(missing_ok=True)
    found = _draw(stack, alone, made, 1, winners_path, profile_path)
    found["side_by_side"] = _draw(
        stack, side, made, config.draw_workers, stack.tmp / "draw_winners_side.csv"
    )
    floor = _floor(stack, found, winners_path)
    log(f"  draw floor: {floor['seconds']:.2f} s (runs {floor['runs_s']})")
    found["floor"] = floor
    found["check"] = draw_check(found, floor)
    found["side_by_side"]["check"] = draw_check(found["side_by_side"], floor)
    found["others_cpu"] = found["cpu"]["others"]
    if profile_path and profile_path.exists():
        found["profile"] = summarize_profile([profile_path])
    return found


def _draw(stack, db, made, workers, winners_path, profile_path=None):
    """Draw every release of the database once it is quiet, on `workers` processes."""
    quiet = settle(stack.config.quiet_wait)
    found = stack.step(
        "draw",
        ",".join(map(str, made["releases"])),
        winners_path,
        profile_path or "-",
        workers,
        db=db,
    )
    stack.drop_db(db)
    found.update(
        applicants=made["applicants"],
        setup_s=made["setup_s"],
        close_s=made["close_s"],
        quiet_before=quiet,
    )
    how = "one after another" if workers == 1 else f"{workers} at once"
    log(
        f"  draw ({how}): {found['releases_drawn']} releases drawn in {found['draw_s']:.1f} s "
        f"({found['entries'] / found['draw_s']:,.0f} entries/s); {found['bookings']:,} "
        f"bookings, {found['entries_won']:,} entries won, {found['entries_waiting']:,} wait"
        + ("" if quiet else " (the machine had not settled before it)")
    )
    return found
