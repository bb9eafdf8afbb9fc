"""The phases of a run: warm-up, reads, the two rushes, the spread, Celery's drain, the report."""

import time

from bench.config import (
    BASE_DIR,
    BOOKING_TABLE,
    NOTIFICATION_TABLE,
    OFFICE_DAY_TABLE,
    OFFICE_TABLE,
    OUT_DIR,
    REGIONS,
    SQL_DIR,
    WINDOW_DAY_TABLE,
    WINDOW_TABLE,
    log,
    region,
)
from bench.load import measured, run_wrk, server_errors, status_counts
from bench.machine import CpuMeter, children, peak_rss_mb
from bench.stack import render, start_beat, start_celery, web_workers


def slots_of(plan, code, day=None):
    office = plan["offices"][code]
    days = [d for d in office["days"] if day is None or d["date"] == day]
    return [[code, d["date"], w[0]] for d in days for w in d["windows"]]


def rush_day(plan, code, index=1):
    """A bookable day of an office from the second on: never today, nor a window begun."""
    days = plan["offices"][code]["days"]
    return days[min(index, len(days) - 1)]


def warm_up(stack, plan):
    """Let every worker import, compile templates and open its connection before measuring."""
    log("warming up the workers")
    paths = [
        "/healthz",
        "/api/v1/offices/palembang/availability",
        "/offices/palembang/",
        "/offices/makassar/",
    ]
    run_wrk(stack, "warm-reads", "paths.lua", {"paths": paths}, connections=10, seconds=3)
    slots = slots_of(plan, "bench-warm")
    run_wrk(
        stack,
        "warm-book",
        "api_book.lua",
        {"region": REGIONS["warmup"], "slots": slots},
        connections=10,
        cap_total=200,
    )
    day = plan["offices"]["bench-warm"]["days"][-1]
    run_wrk(
        stack,
        "warm-html",
        "html_flow.lua",
        {"region": REGIONS["warmup_html"], "slots": slots_of(plan, "bench-warm", day["date"])},
        connections=5,
        cap_total=20,
    )


def reads(stack, plan):
    demo = ("palembang", "makassar", "jayapura")
    availability = [f"/api/v1/offices/{code}/availability" for code in demo]
    calendar = [
        f"/offices/{code}/?month={month}"
        for code in demo
        for month in plan["offices"][code]["months"]
    ]
    results = {}
    for name, paths in (("availability", availability), ("calendar", calendar)):
        log(f"{name}: GET {', '.join(paths[:3])}{' …' if len(paths) > 3 else ''}")
        results[name] = measured(
            stack,
            name,
            lambda _attempt, name=name, paths=paths: run_wrk(
                stack,
                name,
                "paths.lua",
                {"paths": paths, "kind": name},
                seconds=stack.config.seconds,
            ),
        )
        results[name]["paths"] = paths
    return results


def office_day_state(stack, office_id, day):
    rows = stack.query(
        f"""
        SELECT
          (SELECT count(*) FROM {BOOKING_TABLE}
             WHERE office_id = %(o)s AND date = %(d)s AND status = 'booked'),
          (SELECT online_quota - online_booked FROM {OFFICE_DAY_TABLE}
             WHERE office_id = %(o)s AND date = %(d)s),
          (SELECT coalesce(sum(wd.capacity - wd.booked), 0) FROM {WINDOW_DAY_TABLE} wd
             JOIN {WINDOW_TABLE} w ON w.id = wd.window_id
             WHERE w.office_id = %(o)s AND wd.date = %(d)s),
          (SELECT count(*) FROM {WINDOW_DAY_TABLE} wd
             JOIN {WINDOW_TABLE} w ON w.id = wd.window_id
             WHERE w.office_id = %(o)s AND wd.date = %(d)s AND wd.booked > wd.capacity)
        """,
        {"o": office_id, "d": day},
    )[0]
    return {
        "bookings": rows[0],
        "day_left": rows[1],
        "windows_left": rows[2],
        "windows_over": rows[3],
    }


def rush(
    stack,
    plan,
    name,
    code,
    script,
    attempts,
    kind,
    success_status,
    attempt=0,
    *,
    day=None,
    region_code=None,
    path=None,
):
    """Sell out one office-day (the second bookable one on, or `day`) and check the outcome."""
    office = plan["offices"][code]
    day = day or rush_day(plan, code, 1 + attempt)
    free_before = min(day["remaining"], sum(w[1] for w in day["windows"]))
    before = office_day_state(stack, office["id"], day["date"])
    log(f"{name}: {attempts} attempts on {code} {day['date']} ({free_before} places free)")
    summary = run_wrk(
        stack,
        name,
        script,
        {
            "region": region_code or region(name, attempt),
            "slots": slots_of(plan, code, day["date"]),
            "duplicate": plan["markers"]["duplicate"],
            **({"path": path} if path else {}),
        },
        cap_total=attempts,
    )
    time.sleep(1)  # let requests still in flight when wrk stopped finish
    after = office_day_state(stack, office["id"], day["date"])
    successes = status_counts(summary, kind).get(success_status, 0)
    summary["check"] = {
        "office": code,
        "date": day["date"],
        "free_before": free_before,
        "bookings_before": before["bookings"],
        "bookings_after": after["bookings"],
        "successes": successes,
        "places_left": min(x for x in (after["day_left"], after["windows_left"]) if x is not None),
        "windows_over_capacity": after["windows_over"],
        "server_errors": server_errors(summary),
    }
    c = summary["check"]
    c["ok"] = (
        c["bookings_after"] - c["bookings_before"] == c["free_before"]
        and c["successes"] == c["free_before"]
        and c["places_left"] == 0
        and c["windows_over_capacity"] == 0
        and c["server_errors"] == 0
    )
    return summary


def bench_booking_count(stack, prefix="bench-"):
    return stack.query(
        f"""SELECT count(*) FROM {BOOKING_TABLE} b JOIN {OFFICE_TABLE} o ON o.id = b.office_id
           WHERE o.code LIKE %s AND o.code <> 'bench-warm'""",
        (prefix + "%",),
    )[0][0]


def spread(stack, plan, attempt=0, *, name="spread", prefix="bench-", path=None):
    """Book over every window-day of the offices named `prefix`…: each booking should succeed."""
    slots = [
        slot
        for code in plan["offices"]
        if code.startswith(prefix) and code != "bench-warm"
        for slot in slots_of(plan, code)
    ]
    before = bench_booking_count(stack, prefix)
    log(f"{name}: bookings over {len(slots)} windows of {len(slots) // 3} office-days")
    summary = run_wrk(
        stack,
        name,
        "api_book.lua",
        {"region": region(name, attempt), "slots": slots, **({"path": path} if path else {})},
        seconds=stack.config.seconds,
    )
    time.sleep(1)
    made = bench_booking_count(stack, prefix) - before
    counts = status_counts(summary, "book")
    summary["check"] = {
        "slots": len(slots),
        "created_201": counts.get("201", 0),
        "other_answers": sum(v for k, v in counts.items() if k != "201"),
        "bookings_in_db": made,
        "server_errors": server_errors(summary),
    }
    c = summary["check"]
    # wrk drops requests still in flight at the end of its run; the server may still book them.
    c["ok"] = (
        c["other_answers"] == 0
        and c["server_errors"] == 0
        and c["created_201"] <= made <= c["created_201"] + stack.config.concurrency
    )
    return summary


def web_memory(stack):
    """Return the peak and current resident memory of each web worker, and the highest peak."""
    web = {
        str(pid): dict(zip(("peak_mb", "rss_mb"), peak_rss_mb(pid), strict=True))
        for pid in web_workers(stack)
    }
    return {"web": web, "web_peak_mb": max(w["peak_mb"] for w in web.values())}


def celery_drain(stack, timeout=150):
    """Start a Celery worker and beat (whose relay hands the outbox on), let the worker
    deliver every pending notification, report its memory."""
    total, pending = stack.query(
        f"SELECT count(*), count(*) FILTER (WHERE status = 'pending') FROM {NOTIFICATION_TABLE}"
    )[0]
    log(f"celery: delivering {pending} pending notifications (of {total})")
    started = time.monotonic()
    process = start_celery(stack)
    start_beat(stack)
    left = pending
    while time.monotonic() - started < timeout:
        time.sleep(1)
        left = stack.query(f"SELECT count(*) FROM {NOTIFICATION_TABLE} WHERE status = 'pending'")[
            0
        ][0]
        if left == 0 or process.poll() is not None:
            break
    elapsed = time.monotonic() - started
    pids = [process.pid, *children(process.pid)] if process.poll() is None else []
    memory = {pid: peak_rss_mb(pid) for pid in pids}
    stack.stop("beat")
    stack.stop("celery")
    failed = stack.query(f"SELECT count(*) FROM {NOTIFICATION_TABLE} WHERE status = 'failed'")[0][0]
    mail = len(list((stack.tmp / "mail").glob("*"))) if (stack.tmp / "mail").exists() else 0
    sms = len(list((stack.tmp / "sms").glob("*"))) if (stack.tmp / "sms").exists() else 0
    return {
        "notifications": total,
        "pending_before": pending,
        "pending_after": left,
        "failed": failed,
        "seconds": round(elapsed, 1),
        "per_second": round((pending - left) / elapsed, 1) if elapsed else 0,
        "mail_files": mail,
        "sms_files": sms,
        "processes": {str(pid): {"peak_mb": m[0], "rss_mb": m[1]} for pid, m in memory.items()},
        "peak_mb": max((m[0] for m in memory.values()), default=0),
        "concurrency": stack.config.celery_concurrency,
    }


INDEXES_SQL = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s"


def report(stack):
    config = stack.config
    db = config.report_db
    log(f"report: {config.report_rows:,} bookings over {config.report_offices} offices, 24 months")
    stack.create_db(db)
    stack.manage("migrate", "--noinput", db=db)
    migrated = stack.query(INDEXES_SQL, (BOOKING_TABLE,), db=db)
    started = time.monotonic()
    stack.psql_file(
        stack.write(
            "report_load.sql",
            render(
                SQL_DIR / "report_load.sql",
                offices=config.report_offices,
                rows=config.report_rows,
                days=731,
                start="2023-01-01",
            ),
        ),
        db,
    )
    load_s = time.monotonic() - started
    loaded = stack.query(INDEXES_SQL, (BOOKING_TABLE,), db=db)
    log(f"report: loaded in {load_s:.0f} s; timing monthly_counts() against the bare SQL")
    explain_path = OUT_DIR / "report-explain.txt"

    def timed(_attempt):
        meter = CpuMeter()
        found = stack.step("report", "2023,2024", config.report_repeat, explain_path, db=db)
        found["others_cpu"] = meter.stop()
        return found

    answer = measured(stack, "report", timed)
    answer["load_s"] = round(load_s, 1)
    answer["indexes_are_the_apps"] = sorted(migrated) == sorted(loaded)
    answer["explain_file"] = str(explain_path.relative_to(BASE_DIR))
    stack.drop_db(db)
    return answer
