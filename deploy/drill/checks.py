"""What the drill checks after the kill: counters, the sale, each message delivered, survivors."""

# ruff: noqa: S608 - the SQL names tables from bench.config constants; values are parameters

import re
from collections import Counter
from pathlib import Path

from bench.config import (
    BOOKING_TABLE,
    NOTIFICATION_TABLE,
    OFFICE_DAY_TABLE,
    OFFICE_TABLE,
    WINDOW_DAY_TABLE,
    WINDOW_TABLE,
)

from .nginx import read_access_log

ACTIVE = "('booked', 'checked_in')"


def counter_problems(stack, office_ids):
    """Return one line per window-day or office-day of the offices over capacity or whose
    counter differs from its active bookings; none when every counter holds."""
    windows = stack.query(
        f"""
        SELECT o.code, wd.date, w.start, wd.capacity, wd.booked,
          (SELECT count(*) FROM {BOOKING_TABLE} b
             WHERE b.window_id = wd.window_id AND b.date = wd.date AND b.status IN {ACTIVE})
        FROM {WINDOW_DAY_TABLE} wd
        JOIN {WINDOW_TABLE} w ON w.id = wd.window_id
        JOIN {OFFICE_TABLE} o ON o.id = w.office_id
        WHERE o.id = ANY(%s)
        """,
        (list(office_ids),),
    )
    days = stack.query(
        f"""
        SELECT o.code, od.date, od.quota, od.online_quota, od.booked, od.online_booked,
          (SELECT count(*) FROM {BOOKING_TABLE} b
             WHERE b.office_id = od.office_id AND b.date = od.date AND b.status IN {ACTIVE})
        FROM {OFFICE_DAY_TABLE} od JOIN {OFFICE_TABLE} o ON o.id = od.office_id
        WHERE o.id = ANY(%s)
        """,
        (list(office_ids),),
    )
    problems = [
        f"window {code} {day} {start}: {booked} booked of {capacity}, {active} active bookings"
        for code, day, start, capacity, booked, active in windows
        if booked > capacity or booked != active
    ]
    problems += [
        f"office-day {code} {day}: {booked} booked of {quota} ({online} online of "
        f"{online_quota}), {active} active bookings"
        for code, day, quota, online_quota, booked, online, active in days
        if booked > quota or online > online_quota or booked != active
    ]
    return problems, len(windows), len(days)


def booked_on(stack, office_days):
    """Return the active bookings of the (office id, date) pairs."""
    where = " OR ".join(["(office_id = %s AND date = %s)"] * len(office_days))
    params = [value for pair in office_days for value in pair]
    return stack.query(
        f"SELECT count(*) FROM {BOOKING_TABLE} WHERE status IN {ACTIVE} AND ({where})", params
    )[0][0]


def notification_rows(stack):
    """Return (booking id, channel, status, attempts, address) of every booking's message."""
    return stack.query(
        f"""
        SELECT b.id, n.channel, n.status, n.attempts,
               CASE n.channel WHEN 'email' THEN b.email ELSE b.phone END
        FROM {NOTIFICATION_TABLE} n JOIN {BOOKING_TABLE} b ON b.id = n.booking_id
        """
    )


def pending_count(stack):
    return stack.query(f"SELECT count(*) FROM {NOTIFICATION_TABLE} WHERE status = 'pending'")[0][0]


def sent_after(stack, instant):
    """Return how many messages were sent after `instant` (seconds since the epoch)."""
    return stack.query(
        f"SELECT count(*) FROM {NOTIFICATION_TABLE} WHERE sent_at > to_timestamp(%s)", (instant,)
    )[0][0]


TO_LINE = re.compile(r"^To: (\S+)", re.MULTILINE)


def delivered(mail_dir: Path, sms_dir: Path):
    """Count what reached each (channel, address): each e-mail and SMS written to the files.

    Django's file backend may append several e-mails to one file (a new file per second and
    backend object), so messages are counted by their To: header, not by file.
    """
    found = Counter()
    for channel, folder in (("email", mail_dir), ("sms", sms_dir)):
        if not folder.exists():
            continue
        for path in folder.iterdir():
            for address in TO_LINE.findall(path.read_text(encoding="utf-8", errors="replace")):
                found[(channel, address)] += 1
    return found


def judge_deliveries(rows, found):
    """Compare the outbox rows with what was delivered: statuses, rows never delivered,
    deliveries beyond one per row, deliveries that match no row."""
    statuses = Counter(status for _b, _c, status, _a, _addr in rows)
    expected = Counter((channel, address) for _b, channel, _s, _a, address in rows)
    missing = sum(max(0, n - found.get(key, 0)) for key, n in expected.items())
    duplicates = sum(max(0, found.get(key, 0) - n) for key, n in expected.items())
    unknown = sum(n for key, n in found.items() if key not in expected)
    bookings = {booking for booking, *_rest in rows}
    retried = sum(1 for *_rest, attempts, _addr in rows if attempts > 1)
    return {
        "bookings": len(bookings),
        "rows": len(rows),
        "statuses": dict(statuses),
        "deliveries": sum(found.values()),
        "missing": missing,
        "duplicates": duplicates,
        "unknown": unknown,
        "rows_retried": retried,
    }


def traffic(text, *, kill_at, dead, alive):
    """Sum nginx's log around the kill: who answered what, before and after it.

    `dead` and `alive` are the groups' "127.0.0.1:port" addresses.
    """
    figures = Counter()
    for ended, _method, status, addrs, _statuses in read_access_log(text):
        when = "after" if ended > kill_at else "before"
        served_by = addrs[-1] if addrs else "-"
        if status >= 500:
            figures[f"{when}_5xx"] += 1
            if dead in addrs:
                figures[f"{when}_5xx_dead_group"] += 1
        elif served_by == alive:
            figures[f"{when}_answered_by_survivor"] += 1
        elif served_by == dead:
            figures[f"{when}_answered_by_killed"] += 1
        if len(addrs) > 1:
            figures[f"{when}_passed_to_next"] += 1
    return dict(figures)


RELAY_LINE = re.compile(r"relay_notifications\[[^\]]+\] succeeded in [\d.]+s: (\d+)")


def relay_runs(log_text):
    """Return (runs, rows handed on) of the outbox relay in a worker's INFO log."""
    found = RELAY_LINE.findall(log_text)
    return len(found), sum(int(n) for n in found)
