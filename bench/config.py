"""What a bench run does and where: BENCH_* settings, paths, NIK regions, the run's log."""

import os
import sys
from datetime import datetime
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
BENCH_DIR = BASE_DIR / "bench"
LUA_DIR = BENCH_DIR / "lua"
SQL_DIR = BENCH_DIR / "sql"
OUT_DIR = BENCH_DIR / "out"
RESULTS = BENCH_DIR / "RESULTS.md"

# The app's tables the bench's Python queries, by name. bench/sql/pgbench_setup.sql and
# bench/sql/pgbench_booking.sql name the two counter tables too; bench/sql/report_load.sql
# names the booking, office and window tables; bench/sql/draw_floor*.sql name the tables the
# draw writes.
BOOKING_TABLE = "bookings_booking"
NOTIFICATION_TABLE = "bookings_notification"
OFFICE_TABLE = "offices_office"
WINDOW_TABLE = "offices_servicewindow"
OFFICE_DAY_TABLE = "offices_officeday"
WINDOW_DAY_TABLE = "offices_windowday"
ENTRY_TABLE = "bookings_entry"
ENTRY_APPLICANT_TABLE = "bookings_entryapplicant"

# NIK region codes (6 digits, real province codes): one per run so no two runs share a NIK.
REGIONS = {
    "warmup": "110101",
    "api_rush": "167101",
    "html_rush": "737101",
    "spread": "317101",
    "profile": "910101",
    "profile_html": "517101",
    "warmup_html": "510101",
    "group_rush": "947101",
    "entry_rush": "337401",
    "draw": "357801",
    "floor_warm": "127101",
    "floor_rush": "327301",
    "floor_spread": "747101",
}


def region(name, attempt=0):
    """The NIK region code of a run: a run measured again gets new NIKs."""
    code = REGIONS[name]
    return f"{code[:4]}{int(code[4:]) + attempt:02d}"


def _env(name, default):
    value = os.environ.get(name)
    return type(default)(value) if value not in (None, "") else default


class Config:
    """What the run does, from BENCH_* environment variables (bench/README.md lists them)."""

    def __init__(self):
        self.pg = _env("BENCH_PG", "postgres://root@127.0.0.1:5432")
        self.db = _env("BENCH_DB", "antrean_bench")
        self.report_db = _env("BENCH_REPORT_DB", "antrean_bench_report")
        self.redis = _env("BENCH_REDIS", "redis://127.0.0.1:6379/7")
        # The app's cache (CACHE_URL): production's, a Redis shared by every process (its
        # database is emptied at start and end); "memory" for each process's own.
        cache = _env("BENCH_CACHE_URL", "rediscache://127.0.0.1:6379/6")
        self.cache_url = "" if cache == "memory" else cache
        # Sync workers, 3 per core: as fast as gthread here (RESULTS.md) and every request is
        # a new connection the kernel gives to a free worker; gthread keeps a keep-alive
        # connection on the worker that accepted it, and some runs had one worker idle.
        self.workers = _env("BENCH_WORKERS", 6)
        self.worker_class = _env("BENCH_WORKER_CLASS", "sync")
        self.threads = _env("BENCH_THREADS", 1)
        self.celery_concurrency = _env("BENCH_CELERY_CONCURRENCY", 2)
        self.concurrency = _env("BENCH_CONCURRENCY", 100)
        self.seconds = _env("BENCH_SECONDS", 10)
        self.rush_attempts = _env("BENCH_RUSH_ATTEMPTS", 3000)
        self.rush_runs = _env("BENCH_RUSH_RUNS", 10)
        self.html_flows = _env("BENCH_HTML_FLOWS", 2000)
        self.extra_offices = _env("BENCH_OFFICES", 20)
        self.report_rows = _env("BENCH_REPORT_ROWS", 2_000_000)
        self.report_offices = _env("BENCH_REPORT_OFFICES", 125)
        self.report_repeat = _env("BENCH_REPORT_REPEAT", 5)
        self.entry_attempts = _env("BENCH_ENTRY_ATTEMPTS", 3000)
        self.draw_offices = _env("BENCH_DRAW_OFFICES", 125)
        self.draw_entries = _env("BENCH_DRAW_ENTRIES", 100_000)
        self.draw_repeat = _env("BENCH_DRAW_REPEAT", 3)
        self.draw_db = _env("BENCH_DRAW_DB", "antrean_bench_draw")
        # Draws at once, as a worker's pool takes those the beat hands on: one per core.
        self.draw_workers = _env("BENCH_DRAW_WORKERS", os.cpu_count() or 1)
        self.quiet_load = _env("BENCH_QUIET_LOAD", 0.5)
        self.quiet_hold = _env("BENCH_QUIET_HOLD", 60)
        self.quiet_wait = _env("BENCH_QUIET_WAIT", 180)
        self.profile = _env("BENCH_PROFILE", 0)
        self.keep = _env("BENCH_KEEP", 0)
        self.write_results = _env("BENCH_WRITE_RESULTS", 1)
        self.only = set(filter(None, _env("BENCH_ONLY", "").split(",")))
        # Seconds after the start past which a disturbed measurement is not made again.
        self.retry_budget = _env("BENCH_RETRY_BUDGET", 420)

    def wants(self, phase):
        return not self.only or phase in self.only

    def url(self, db):
        return f"{self.pg}/{db}"


def log(message):
    stamp = datetime.now().strftime("%H:%M:%S")
    print(f"[bench {stamp}] {message}", file=sys.stderr, flush=True)
