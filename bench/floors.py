"""The floors: `/healthz` on the same server, and the booking transaction as SQL in pgbench."""

import shutil
from datetime import UTC, date, datetime, timedelta

from bench.config import BOOKING_TABLE, OFFICE_TABLE, SQL_DIR, WINDOW_TABLE, log
from bench.load import measured, run_pgbench, run_wrk
from bench.stack import render


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
