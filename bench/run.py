"""`make bench`: the booking rush, the reads, their floors, the report and memory (issue 8).

Sets up a fresh PostgreSQL database with the demo data, gunicorn and a Celery worker on
Redis, drives them with wrk (Lua scripts in bench/lua/), runs the same booking SQL with
pgbench, loads 2,000,000 bookings for the monthly report into a second database, prints
the table and writes it into bench/RESULTS.md. Whatever happens (failure, Ctrl-C), it
stops the processes it started and drops the databases it made.

Settings (environment variables): see bench/README.md.
"""

import json
import signal
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime

from bench.ballot_draw import ballot_draw
from bench.config import BASE_DIR, OUT_DIR, RESULTS, Config, log
from bench.entry_rush import entry_rush, make_release
from bench.floors import floor_view, healthz, pgbench
from bench.group_rush import group_rush
from bench.load import measured
from bench.machine import ensure_psql, ensure_wrk, machine, versions, wait_for_quiet
from bench.phases import (
    celery_drain,
    reads,
    report,
    slots_of,
    spread,
    warm_up,
    web_memory,
)
from bench.profiling import profile
from bench.results import build_table, write_results
from bench.rush_runs import api_rushes, html_rushes
from bench.stack import Stack, start_web
from bench.targets import exit_status, judge, verdict_lines
from bench.wire import wire


class Interrupted(Exception):
    """SIGTERM or SIGHUP: stop as Ctrl-C does, through the clean-up."""


def _raise_interrupted(signum, _frame):
    raise Interrupted(signal.Signals(signum).name)


def run(config, stack, results):
    results["machine"] = machine()
    results["versions"] = versions(config)
    server = (
        f"gunicorn {config.workers} {config.worker_class} workers"
        + (f" × {config.threads} threads" if config.worker_class == "gthread" else "")
        + f", DEBUG=0, CONN_MAX_AGE=600, broker Redis ({config.redis}), e-mail and SMS to files, "
        f"rate limits off; {config.concurrency} concurrent clients (wrk, one connection per thread)"
    )
    results["server"] = server
    log(f"database {config.db}: migrate, seed_demo, {config.extra_offices} bench offices")
    stack.create_db(config.db)
    stack.redis_flush()
    stack.manage("migrate", "--noinput")
    stack.manage("collectstatic", "--noinput")
    plan = stack.step("prepare", config.extra_offices)
    results["app_settings"] = plan["settings"]
    start_web(stack)
    log(f"gunicorn on 127.0.0.1:{stack.port}: {server}")
    warm_up(stack, plan)
    if config.wants("healthz"):
        results["healthz"] = healthz(stack)
    if config.wants("reads"):
        results["reads"] = reads(stack, plan)
    if config.wants("api_rush"):
        results["api_rush"] = api_rushes(stack, plan, config.rush_attempts)
    if config.wants("html_rush"):
        results["html_rush"] = html_rushes(stack, plan, config.html_flows)
    if config.wants("group_rush"):
        results["group_rush"] = measured(
            stack, "group_rush", lambda attempt: group_rush(stack, plan, attempt)
        )
    if config.wants("entry_rush"):
        release = make_release(stack)
        results["entry_rush"] = measured(
            stack, "entry_rush", lambda attempt: entry_rush(stack, release, attempt)
        )
    if config.wants("spread"):
        results["spread"] = measured(stack, "spread", lambda attempt: spread(stack, plan, attempt))
    if config.wants("healthz"):
        results["healthz_end"] = healthz(stack, "healthz_end", seconds=max(3, config.seconds // 2))
    if config.wants("queries") and "api_rush" in results:
        check = results["api_rush"]["check"]
        full_window = slots_of(plan, "palembang", check["date"])[0][2]
        log("queries and in-process time per kind of request (Django test client)")
        results["queries"] = stack.step("queries", "palembang", check["date"], full_window, 50)
    results["memory"] = web_memory(stack)
    if config.profile:
        results["profile"] = profile(stack, plan)
    if config.wants("wire"):
        results["wire"] = wire(stack, plan)
    stack.stop("gunicorn")
    if config.wants("floor"):
        # Alone on the machine's cores, as the app's server was: after it stopped.
        results["floor"] = floor_view(stack, plan)
    if config.wants("celery"):
        results["memory"]["celery"] = celery_drain(stack)
    if config.wants("pgbench"):
        results["pgbench"] = pgbench(stack, plan)
    if config.wants("draw"):
        results["draw"] = ballot_draw(stack)
    stack.drop_db(config.db)
    if config.wants("report"):
        results["report"] = report(stack)


def main():
    config = Config()
    OUT_DIR.mkdir(exist_ok=True)
    ensure_wrk()
    ensure_psql()
    # SIGINT too: a shell that starts the run in the background makes Python ignore it.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_interrupted)
    results = {"config": {k: v for k, v in vars(config).items() if k != "only"}}
    try:
        results["quiet"] = wait_for_quiet(config)
    except (KeyboardInterrupt, Interrupted) as exc:
        log(f"interrupted ({exc.__class__.__name__}) while waiting; nothing was started")
        return 130
    started = time.monotonic()
    results["started"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    stack = Stack(config)
    try:
        run(config, stack, results)
    except (KeyboardInterrupt, Interrupted) as exc:
        log(f"interrupted ({exc.__class__.__name__}): stopping and cleaning up")
        stack.close()
        return 130
    except Exception:
        log("failed: stopping and cleaning up")
        stack.close()
        (OUT_DIR / "failed.json").write_text(json.dumps(results, indent=2, default=str))
        raise
    stack.close()
    results["duration_s"] = round(time.monotonic() - started)
    targets = judge(results)
    table = build_table(results, targets)
    raw = {**results, "targets": [asdict(t) for t in targets]}
    (OUT_DIR / "latest.json").write_text(json.dumps(raw, indent=2, default=str))
    (OUT_DIR / "latest.md").write_text(table, encoding="utf-8")
    print(table)
    if config.write_results and not config.only:
        write_results(table)
        log(f"wrote {RESULTS.relative_to(BASE_DIR)} and bench/out/latest.json")
    print("\n".join(verdict_lines(targets)))
    return exit_status(targets)


if __name__ == "__main__":
    sys.exit(main())
