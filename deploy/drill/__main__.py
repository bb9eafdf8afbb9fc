"""Run the drill: `.venv/bin/python -m deploy.drill` (DRILL_* settings: see README, "Drill")."""

import os
import shutil
import signal
import subprocess
import sys
import time

from bench.config import Config, log
from bench.load import server_errors, status_counts
from bench.machine import ensure_psql, ensure_wrk
from bench.phases import office_day_state, rush_day, slots_of
from bench.stack import free_port, start_beat

from .checks import (
    counter_problems,
    delivered,
    judge_deliveries,
    notification_rows,
    pending_count,
    relay_runs,
    sent_after,
    traffic,
)
from .processes import (
    DrillStack,
    app_queues,
    start_group,
    start_nginx,
    start_worker,
)
from .rush import KillHalfWay, rush, warm_up

RUSH_OFFICES = ("bench-00", "bench-01", "bench-02")
SOCKET_ERRORS = ("connect_errors", "read_errors", "write_errors", "timeouts")


class Interrupted(Exception):
    """SIGTERM or SIGHUP: stop as Ctrl-C does, through the clean-up."""


def _interrupted(signum, _frame):
    raise Interrupted(signal.Signals(signum).name)


def _env(name, default):
    value = os.environ.get(name)
    return type(default)(value) if value not in (None, "") else default


def drill_config():
    config = Config()
    config.db = _env("DRILL_DB", "antrean_drill")
    config.redis = _env("DRILL_BROKER", "redis://127.0.0.1:6379/4")
    config.cache_url = _env("DRILL_CACHE", "rediscache://127.0.0.1:6379/5")
    config.concurrency = _env("DRILL_CONNECTIONS", 50)
    config.keep = _env("DRILL_KEEP", 0)
    config.attempts = _env("DRILL_ATTEMPTS", 3000)
    config.group_workers = _env("DRILL_WEB_WORKERS", 2)
    config.celery_concurrency = _env("DRILL_CELERY_CONCURRENCY", 1)
    config.drain_seconds = _env("DRILL_DRAIN_SECONDS", 300)
    return config


def start(stack, config):
    """Database and data, two web groups, nginx, two workers on every queue, one beat."""
    log(f"database {config.db}: migrate, demo data and {len(RUSH_OFFICES)} rush offices")
    stack.create_db(config.db)
    stack.redis_flush()
    stack.manage("migrate", "--noinput")
    stack.manage("collectstatic", "--noinput")
    try:
        plan = stack.step("prepare", len(RUSH_OFFICES))
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"bench.steps prepare failed: {exc.stderr[-3000:]}") from exc
    ports = {"web-a": free_port(), "web-b": free_port()}
    for name, port in ports.items():
        start_group(stack, name, port, config.group_workers)
    access_log = start_nginx(stack, stack.port, list(ports.values()))
    queues = app_queues(stack)
    for name in ("worker-a", "worker-b"):
        start_worker(stack, name, queues, config.celery_concurrency)
    start_beat(stack, loglevel="INFO")
    log(
        f"nginx on {stack.port} over web-a {ports['web-a']} and web-b {ports['web-b']} "
        f"({config.group_workers} sync workers each); worker-a and worker-b (-c "
        f"{config.celery_concurrency}) on {', '.join(queues)}; beat, the outbox relay every "
        "second"
    )
    return plan, ports, access_log, queues


def wait_for_outbox(stack, seconds):
    """Wait until no message is pending (the survivor and the relay); return the wait."""
    started = time.monotonic()
    last_said = 0
    while True:
        left = pending_count(stack)
        waited = time.monotonic() - started
        if left == 0 or waited > seconds:
            return waited, left
        if waited - last_said >= 10:
            log(f"outbox: {left} messages pending after {waited:.0f} s")
            last_said = waited
        time.sleep(1)


def run(stack, config):
    plan, ports, access_log, queues = start(stack, config)
    warm_up(stack, "bench-warm", slots_of(plan, "bench-warm"))
    days = [(code, rush_day(plan, code, 1)) for code in RUSH_OFFICES]
    office_days = [(plan["offices"][code]["id"], day["date"]) for code, day in days]
    slots = [slot for code, day in days for slot in slots_of(plan, code, day["date"])]
    on_sale = sum(min(day["remaining"], sum(w[1] for w in day["windows"])) for _c, day in days)
    log(
        f"rush: {config.attempts} attempts for {on_sale} places on {days[0][1]['date']} "
        f"at {', '.join(RUSH_OFFICES)}, {config.concurrency} connections through nginx"
    )
    killer = KillHalfWay(stack, office_days, on_sale // 2, ("web-a", "worker-a"))
    summary = rush(stack, slots, config.attempts, killer)
    if killer.killed_at is None:
        raise RuntimeError(f"the kill did not happen during the rush: {killer.error!r}")
    sold = sum(
        office_day_state(stack, plan["offices"][code]["id"], day["date"])["bookings"]
        for code, day in days
    )
    drain_s, left = wait_for_outbox(stack, config.drain_seconds)
    office_ids = [plan["offices"][code]["id"] for code in (*RUSH_OFFICES, "bench-warm")]
    problems, windows, office_day_rows = counter_problems(stack, office_ids)
    rows = notification_rows(stack)
    outbox = judge_deliveries(rows, delivered(stack.tmp / "mail", stack.tmp / "sms"))
    survivor_log = (stack.tmp / "worker-b.log").read_text(encoding="utf-8", errors="replace")
    return {
        "summary": summary,
        "on_sale": on_sale,
        "sold": sold,
        "killer": killer,
        "drain_s": drain_s,
        "pending_left": left,
        "problems": problems,
        "windows": windows,
        "office_days": office_day_rows,
        "outbox": outbox,
        "sent_after_kill": sent_after(stack, killer.killed_at),
        "relay": relay_runs(survivor_log),
        "traffic": traffic(
            access_log.read_text(encoding="utf-8"),
            kill_at=killer.killed_at,
            dead=f"127.0.0.1:{ports['web-a']}",
            alive=f"127.0.0.1:{ports['web-b']}",
        ),
        "queues": queues,
    }


def verdict(found, config):
    """Return the summary's lines and whether every check passed."""
    summary, killer, outbox = found["summary"], found["killer"], found["outbox"]
    seen = found["traffic"]
    book = status_counts(summary, "book")
    created = book.get("201", 0)
    wrk = summary["wrk"]
    socket_errors = sum(wrk[k] for k in SOCKET_ERRORS)
    in_flight = server_errors(summary) + socket_errors
    sold, on_sale = found["sold"], found["on_sale"]
    unanswered = sold - created  # booked in the database, the client got an error
    answers = ", ".join(f"{k}: {v}" for k, v in sorted(book.items()))
    checks = [
        (
            "1 counters",
            not found["problems"],
            f"{found['windows']} window-days and {found['office_days']} office-days: none over "
            f"capacity, each counter equal to its active bookings"
            if not found["problems"]
            else "; ".join(found["problems"][:10]),
        ),
        (
            "2 sale",
            sold <= on_sale and on_sale - sold <= in_flight and 0 <= unanswered <= in_flight,
            f"{sold} of {on_sale} places sold ({on_sale - sold} unsold); {created} answered 201; "
            f"{unanswered} booked whose client got an error; {in_flight} requests in flight "
            f"lost ({server_errors(summary)} 5xx, {socket_errors} socket errors); answers: "
            f"{answers}",
        ),
        (
            "3 delivery",
            found["pending_left"] == 0
            and outbox["missing"] == 0
            and outbox["unknown"] == 0
            and outbox["statuses"].get("failed", 0) == 0
            and outbox["duplicates"] <= config.celery_concurrency,
            f"{outbox['rows']} messages for {outbox['bookings']} bookings: "
            f"{outbox['statuses']}; {outbox['deliveries']} written to the files, "
            f"{outbox['missing']} never delivered, {outbox['duplicates']} delivered twice "
            f"(at most {config.celery_concurrency}: a row being sent by the killed worker), "
            f"{outbox['unknown']} matching no row; {outbox['rows_retried']} rows took more "
            f"than one attempt; outbox empty {found['drain_s']:.0f} s after the rush",
        ),
        (
            "4 survivors",
            seen.get("after_answered_by_survivor", 0) > 0 and found["sent_after_kill"] > 0,
            f"after the kill web-b answered {seen.get('after_answered_by_survivor', 0)} "
            f"requests (nginx passed {seen.get('after_passed_to_next', 0)} on from web-a, "
            f"{seen.get('after_5xx', 0)} ended in 5xx); worker-b sent "
            f"{found['sent_after_kill']} messages; the relay ran {found['relay'][0]} times on "
            f"worker-b and handed on {found['relay'][1]} rows",
        ),
    ]
    killed = "; ".join(f"{name} pids {pids}" for name, pids in killer.killed.items())
    lines = [
        "",
        "== Drill: two web groups behind nginx, two workers, one beat; SIGKILL mid-rush ==",
        f"queues: {', '.join(found['queues'])}",
        f"kill: with {killer.sold_at_kill} of {on_sale} places sold: {killed}",
        f"before the kill: web-a answered {seen.get('before_answered_by_killed', 0)}, "
        f"web-b {seen.get('before_answered_by_survivor', 0)}",
    ]
    lines += [f"[{'PASS' if ok else 'FAIL'}] {name}: {text}" for name, ok, text in checks]
    ok = all(passed for _name, passed, _text in checks)
    lines.append("drill: " + ("all checks passed" if ok else "FAILED"))
    return lines, ok


def main():
    config = drill_config()
    ensure_wrk()
    ensure_psql()
    if shutil.which("nginx") is None:
        log("nginx is missing: apt-get install -y nginx")
        return 2
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupted)
    started = time.monotonic()
    stack = DrillStack(
        config,
        {
            "BEHIND_PROXY": "1",
            "NOTIFICATION_REQUEUE_MINUTES": "1",
        },
    )
    try:
        found = run(stack, config)
    except (KeyboardInterrupt, Interrupted) as exc:
        log(f"interrupted ({exc.__class__.__name__}): stopping and cleaning up")
        return 130
    finally:
        stack.close()
    lines, ok = verdict(found, config)
    lines.append(f"took {time.monotonic() - started:.0f} s")
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
