"""The floors: `/healthz` on the same server, a minimal Django booking view in our own stack,
and the booking transaction as SQL in pgbench."""

import shutil
from datetime import UTC, date, datetime, timedelta

from bench.config import (
    BOOKING_TABLE,
    OFFICE_TABLE,
    REGIONS,
    SQL_DIR,
    WINDOW_DAY_TABLE,
    WINDOW_TABLE,
    log,
)
from bench.load import measured, run_pgbench, run_wrk
from bench.phases import rush, slots_of, spread
from bench.stack import render, start_web

# bench/floor_site: its settings, its one URL, the offices of bench.steps.prepare it books.
FLOOR_SETTINGS = "bench.floor_site.settings"
FLOOR_PATH = "/bench/floor/book"
FLOOR_RUSH_OFFICE = "floor-rush"
FLOOR_SPREAD_PREFIX = "floor-spread-"


def healthz(stack, name="healthz", seconds=None):
    log(f"{name}: GET /healthz")
    return measured(
        stack,
        name,
        lambda _attempt: run_wrk(
            stack,
            name,
            "paths.lua",
            {"paths": ["/healthz"], "kind": "healthz"},
            seconds=seconds or stack.config.seconds,
        ),
    )


def pgbench_clients(stack):
    """The HTTP concurrency, or fewer if PostgreSQL has not that many free connections."""
    max_conn, used = stack.query(
        "SELECT current_setting('max_connections')::int, count(*) FROM pg_stat_activity "
        "WHERE backend_type = 'client backend'"
    )[0]
    return max(1, min(stack.config.concurrency, max_conn - used - 2))


def pgbench(stack, plan):
    if not shutil.which("pgbench"):
        log("pgbench is not installed: the SQL floors are skipped")
        return {"skipped": "pgbench not installed"}
    days = 60
    day0 = (datetime.now(UTC).date() + timedelta(days=400)).isoformat()
    offices = 20
    stack.psql_file(
        stack.write(
            "pgbench_setup.sql",
            render(SQL_DIR / "pgbench_setup.sql", offices=offices, days=days, day0=day0),
        ),
        stack.config.db,
    )
    ids = dict(
        stack.query(
            f"""SELECT o.code, min(w.id) FROM {OFFICE_TABLE} o
               JOIN {WINDOW_TABLE} w ON w.office_id = o.id
               WHERE o.code LIKE 'pgbench-%' GROUP BY o.code"""
        )
    )
    office_ids = dict(
        stack.query(f"SELECT code, id FROM {OFFICE_TABLE} WHERE code LIKE 'pgbench-%'")
    )
    spread_ids = sorted(office_ids[f"pgbench-{i:03d}"] for i in range(offices))
    spread_windows = sorted(ids[f"pgbench-{i:03d}"] for i in range(offices))
    if spread_ids != list(range(spread_ids[0], spread_ids[0] + offices)) or spread_windows != list(
        range(spread_windows[0], spread_windows[0] + 3 * offices, 3)
    ):
        raise RuntimeError("pgbench offices or windows did not get consecutive ids")
    clients = pgbench_clients(stack)
    cases = {
        "sellout": {
            "office0": office_ids["pgbench-sellout"],
            "window0": ids["pgbench-sellout"],
            "offices": 1,
            "days": 1,
            "day0": day0,
        },
        "hot": {
            "office0": office_ids["pgbench-hot"],
            "window0": ids["pgbench-hot"],
            "offices": 1,
            "days": 1,
            "day0": day0,
        },
        "spread": {
            "office0": spread_ids[0],
            "window0": spread_windows[0],
            "offices": offices,
            "days": days,
            "day0": day0,
        },
    }
    results = {"clients": clients}
    base = date.fromisoformat(day0)

    def run_case(name, values, attempt):
        if name != "spread":
            # A fresh office-day for each attempt (the setup made three).
            values = {**values, "day0": (base + timedelta(days=attempt)).isoformat()}
        script = stack.write(
            f"pgbench_{name}.sql", render(SQL_DIR / "pgbench_booking.sql", **values)
        )
        if name == "sellout":
            # As many attempts as the app's rush.
            limit = ["-t", str(max(1, -(-stack.config.rush_attempts // clients)))]
        else:
            limit = ["-T", str(stack.config.seconds)]
        log(f"pgbench {name}: {clients} clients, {' '.join(limit)}")
        found = run_pgbench(stack, f"{name}-{attempt}", script, clients, limit)
        if name == "sellout":
            found["sold"] = stack.query(
                f"SELECT count(*) FROM {BOOKING_TABLE} WHERE office_id = %s AND date = %s",
                (values["office0"], values["day0"]),
            )[0][0]
            found["ok"] = found["sold"] == 135
        return found

    for name, values in cases.items():
        results[name] = measured(
            stack,
            f"pgbench {name}",
            lambda attempt, name=name, values=values: run_case(name, values, attempt),
        )
    return results


def floor_view(stack, plan):
    """Serve the floor's view with the app's gunicorn flags; measure its sell-out of one
    office-day and its bookings that all succeed, then check its counters."""
    config = stack.config
    start_web(stack, "floor-gunicorn", FLOOR_SETTINGS)
    try:
        log(f"floor: the minimal booking view at {FLOOR_PATH}, warming up")
        warm_day = plan["offices"][FLOOR_RUSH_OFFICE]["days"][-1]
        run_wrk(stack, "floor-warm-reads", "paths.lua", {"paths": ["/healthz"]}, seconds=2)
        run_wrk(
            stack,
            "floor-warm",
            "api_book.lua",
            {
                "region": REGIONS["floor_warm"],
                "slots": slots_of(plan, FLOOR_RUSH_OFFICE, warm_day["date"]),
                "path": FLOOR_PATH,
            },
            connections=10,
            cap_total=200,
        )
        found = {
            "sellout": measured(
                stack,
                "floor_rush",
                lambda attempt: rush(
                    stack,
                    plan,
                    "floor_rush",
                    FLOOR_RUSH_OFFICE,
                    "api_book.lua",
                    config.rush_attempts,
                    "book",
                    "201",
                    attempt,
                    path=FLOOR_PATH,
                ),
            ),
            "spread": measured(
                stack,
                "floor_spread",
                lambda attempt: spread(
                    stack,
                    plan,
                    attempt,
                    name="floor_spread",
                    prefix=FLOOR_SPREAD_PREFIX,
                    path=FLOOR_PATH,
                ),
            ),
        }
    finally:
        stack.stop("floor-gunicorn")
    found["counters"] = floor_counters(stack)
    return found


def floor_counters(stack):
    """Return the floor's window-days over capacity and those whose counter is not the number
    of bookings in them."""
    over, wrong = stack.query(
        f"""
        SELECT count(*) FILTER (WHERE wd.booked > wd.capacity),
               count(*) FILTER (WHERE wd.booked <> coalesce(b.n, 0))
        FROM {WINDOW_DAY_TABLE} wd
        JOIN {WINDOW_TABLE} w ON w.id = wd.window_id
        JOIN {OFFICE_TABLE} o ON o.id = w.office_id
        LEFT JOIN (
          SELECT window_id, date, count(*) AS n FROM {BOOKING_TABLE}
          WHERE status = 'booked' GROUP BY window_id, date
        ) b ON b.window_id = wd.window_id AND b.date = wd.date
        WHERE o.code LIKE 'floor-%'
        """
    )[0]
    return {"windows_over_capacity": over, "counters_wrong": wrong, "ok": over == 0 == wrong}
