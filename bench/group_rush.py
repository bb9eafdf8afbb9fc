"""The group rush: families of two to five racing single bookings' crowd for one office-day."""

import time

from bench.config import (
    BOOKING_TABLE,
    OFFICE_DAY_TABLE,
    WINDOW_DAY_TABLE,
    WINDOW_TABLE,
    log,
    region,
)
from bench.load import run_wrk, server_errors, status_counts
from bench.phases import office_day_state, rush_day, slots_of

OFFICE = "rush-groups"  # bench.steps makes it, in Jayapura's zone
SIZES = range(2, 6)  # as api_book_group.lua draws them


def _groups_state(stack, office_id, day):
    """Return how many groups of the office-day are split or outside 2..5, and the places a
    pair could still take (the fewest of the day's and the roomiest window's)."""
    split, day_left, window_left = stack.query(
        f"""
        SELECT
          (SELECT count(*) FROM (
             SELECT group_id FROM {BOOKING_TABLE}
              WHERE office_id = %(o)s AND date = %(d)s AND group_id IS NOT NULL
              GROUP BY group_id
             HAVING count(*) NOT BETWEEN 2 AND 5 OR count(DISTINCT window_id) > 1
                 OR count(DISTINCT status) > 1) AS bad),
          (SELECT online_quota - online_booked FROM {OFFICE_DAY_TABLE}
             WHERE office_id = %(o)s AND date = %(d)s),
          (SELECT coalesce(max(wd.capacity - wd.booked), 0) FROM {WINDOW_DAY_TABLE} wd
             JOIN {WINDOW_TABLE} w ON w.id = wd.window_id
             WHERE w.office_id = %(o)s AND wd.date = %(d)s)
        """,
        {"o": office_id, "d": day},
    )[0]
    return split, min(day_left if day_left is not None else 0, window_left)


def group_rush(stack, plan, attempt=0):
    """Book groups on the API until the office-day is sold out; check nothing was split."""
    office = plan["offices"][OFFICE]
    day = rush_day(plan, OFFICE, 1 + attempt)
    free_before = min(day["remaining"], sum(w[1] for w in day["windows"]))
    before = office_day_state(stack, office["id"], day["date"])
    attempts = max(1, stack.config.rush_attempts // 3)
    log(f"group_rush: {attempts} groups of 2-5 on {OFFICE} {day['date']} ({free_before} free)")
    summary = run_wrk(
        stack,
        "group_rush",
        "api_book_group.lua",
        {"region": region("group_rush", attempt), "slots": slots_of(plan, OFFICE, day["date"])},
        cap_total=attempts,
    )
    time.sleep(1)  # let requests still in flight when wrk stopped finish
    after = office_day_state(stack, office["id"], day["date"])
    split, left_for_a_pair = _groups_state(stack, office["id"], day["date"])
    booked = {size: status_counts(summary, f"group{size}").get("201", 0) for size in SIZES}
    summary["check"] = {
        "office": OFFICE,
        "date": day["date"],
        "free_before": free_before,
        "bookings_before": before["bookings"],
        "bookings_after": after["bookings"],
        "groups_booked": sum(booked.values()),
        "places_answered": sum(size * count for size, count in booked.items()),
        "groups_split": split,
        "left_for_a_pair": left_for_a_pair,
        "windows_over_capacity": after["windows_over"],
        "server_errors": server_errors(summary),
    }
    c = summary["check"]
    # wrk drops requests still in flight at its end: the server may still book them.
    in_flight = 5 * stack.config.concurrency
    sold = c["bookings_after"] - c["bookings_before"]
    c["ok"] = (
        c["places_answered"] <= sold <= min(c["free_before"], c["places_answered"] + in_flight)
        and c["groups_split"] == 0
        and c["left_for_a_pair"] < 2
        and c["windows_over_capacity"] == 0
        and c["server_errors"] == 0
    )
    return summary
