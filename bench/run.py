"""`make bench`: the booking rush, the reads, their floors, the report and memory (issue 8).

Sets up a fresh PostgreSQL database with the demo data, gunicorn and a Celery worker on
Redis, drives them with wrk (Lua scripts in bench/lua/), runs the same booking SQL with
pgbench, loads 2,000,000 bookings for the monthly report into a second database, prints
the table and writes it into bench/RESULTS.md. Whatever happens (failure, Ctrl-C), it
stops the processes it started and drops the databases it made.

Settings (environment variables): see bench/README.md.
"""

import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

import psycopg2

BASE_DIR = Path(__file__).resolve().parent.parent
BENCH_DIR = BASE_DIR / "bench"
LUA_DIR = BENCH_DIR / "lua"
SQL_DIR = BENCH_DIR / "sql"
OUT_DIR = BENCH_DIR / "out"
RESULTS = BENCH_DIR / "RESULTS.md"
BEGIN_MARK = "<!-- bench:begin (written by `make bench`; edit outside these marks) -->"
END_MARK = "<!-- bench:end -->"

# NIK region codes (6 digits, real province codes): one per run so no two runs share a NIK.
REGIONS = {
    "warmup": "110101",
    "api_rush": "167101",
    "html_rush": "737101",
    "spread": "317101",
    "profile": "910101",
    "warmup_html": "510101",
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
        self.html_flows = _env("BENCH_HTML_FLOWS", 2000)
        self.extra_offices = _env("BENCH_OFFICES", 20)
        self.report_rows = _env("BENCH_REPORT_ROWS", 2_000_000)
        self.report_offices = _env("BENCH_REPORT_OFFICES", 125)
        self.report_repeat = _env("BENCH_REPORT_REPEAT", 5)
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


OTHERS_LIMIT = 0.10  # more of the machine than this used by others: measure again


def settle(seconds=60):
    """Wait until other processes use under 5% of the CPU for 10 s (at most `seconds`)."""
    deadline = time.monotonic() + seconds
    calm = 0
    while time.monotonic() < deadline:
        meter = CpuMeter()
        time.sleep(5)
        calm = calm + 1 if meter.stop() < 0.05 else 0
        if calm >= 2:
            return True
    return False


class LoadGeneratorCrashed(RuntimeError):
    """wrk ended on a signal before it printed its summary."""


def measured(stack, name, run_once):
    """Run a measurement; while others took over OTHERS_LIMIT of the CPU, wait and run it again.

    At most twice more, within the run's retry budget; keeps the cleanest run and notes how
    many were made. A run in which wrk crashed (seen: a segfault now and then in the HTML
    rush) is made again too, budget or not, and counted in `crashes`.
    """
    best = None
    checks = []
    crashes = 0
    for attempt in range(3):
        try:
            result = run_once(attempt)
        except LoadGeneratorCrashed as exc:
            crashes += 1
            if attempt == 2 and best is None:
                raise
            log(f"{name}: {exc}; measuring again")
            continue
        result["crashes"] = crashes
        result["attempt"] = attempt + 1
        if "check" in result:
            checks.append(result["check"]["ok"])
        elif "ok" in result:
            checks.append(result["ok"])
        if best is None or result["others_cpu"] < best["others_cpu"]:
            best = result
        if result["others_cpu"] <= OTHERS_LIMIT or attempt == 2:
            break
        if time.monotonic() - stack.started > stack.config.retry_budget:
            log(f"{name}: others took {result['others_cpu']:.0%} of the CPU; no time left to retry")
            break
        log(f"{name}: others took {result['others_cpu']:.0%} of the CPU; measuring again")
        settle()
    best["attempts"] = attempt + 1
    best["crashes"] = crashes
    best["every_attempt_ok"] = all(checks)  # a discarded run's failed check still counts
    return best


class Interrupted(Exception):
    """SIGTERM or SIGHUP: stop as Ctrl-C does, through the clean-up."""


def _raise_interrupted(signum, _frame):
    raise Interrupted(signal.Signals(signum).name)


def render(template_path, **values):
    """Return a bench/sql template with its {{names}} filled in."""
    text = template_path.read_text(encoding="utf-8")

    def fill(match):
        return str(values[match.group(1)])

    return re.sub(r"\{\{(\w+)\}\}", fill, text)


# ---- the machine ---------------------------------------------------------------------------


def loadavg():
    with open("/proc/loadavg", encoding="ascii") as handle:
        return tuple(float(x) for x in handle.read().split()[:3])


def wait_for_quiet(config):
    """Wait until the 1-minute load stays under the threshold for the hold time (bounded)."""
    if config.quiet_wait <= 0:
        return {"waited_s": 0, "quiet": None, "load": loadavg()}
    started = time.monotonic()
    quiet_since = None
    log(
        f"waiting for a quiet machine: 1-minute load < {config.quiet_load} for "
        f"{config.quiet_hold} s (at most {config.quiet_wait} s; now {loadavg()[0]:.2f})"
    )
    while True:
        now = time.monotonic()
        load = loadavg()
        if load[0] < config.quiet_load:
            quiet_since = quiet_since or now
            if now - quiet_since >= config.quiet_hold:
                log(f"quiet: load {load}")
                return {"waited_s": round(now - started), "quiet": True, "load": load}
        else:
            quiet_since = None
        if now - started >= config.quiet_wait:
            log(f"still busy after {config.quiet_wait} s (load {load}); measuring anyway")
            return {"waited_s": round(now - started), "quiet": False, "load": load}
        time.sleep(5)


def machine():
    model = ""
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="ascii") as handle:
        mem_kb = int(handle.readline().split()[1])
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
    }


def versions(config):
    import django
    import gunicorn

    with closing(psycopg2.connect(config.url("postgres"))) as conn, conn.cursor() as cur:
        cur.execute("SHOW server_version")
        pg_version = cur.fetchone()[0]
        cur.execute("SHOW max_connections")
        max_connections = int(cur.fetchone()[0])
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=BASE_DIR, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", ".", ":!bench"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "app": (head or "unknown") + (" with uncommitted changes" if dirty else ""),
        "python": platform.python_version(),
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
        "postgresql": pg_version,
        "max_connections": max_connections,
        "wrk": (wrk.stdout or wrk.stderr).split("[")[0].replace("wrk", "").strip(),
        "pgbench": _tool_version("pgbench"),
    }


def _tool_version(name):
    if not shutil.which(name):
        return None
    result = subprocess.run([name, "--version"], capture_output=True, text=True, check=False)
    return result.stdout.strip().split()[-1] if result.stdout else None


def ensure_wrk():
    """Return the path of wrk, installing it with apt-get when missing; stop clearly otherwise."""
    found = shutil.which("wrk")
    if found:
        return found
    if shutil.which("apt-get") and os.geteuid() == 0:
        log("wrk is missing: installing it with apt-get")
        install = ["apt-get", "install", "-y", "-q", "wrk"]
        if subprocess.run(install, check=False).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], check=False)
            subprocess.run(install, check=False)
        found = shutil.which("wrk")
    if not found:
        raise SystemExit(
            "bench: wrk (the load generator, https://github.com/wg/wrk) is not installed and "
            "could not be installed here. Install it (Debian/Ubuntu: `sudo apt-get install "
            "wrk`; macOS: `brew install wrk`) and run `make bench` again."
        )
    return found


class CpuMeter:
    """CPU the rest of the machine used meanwhile: busy time minus ours minus PostgreSQL's.

    Other engineers' test runs on the same 2 cores distort the figures; this says how much.
    """

    HZ = os.sysconf("SC_CLK_TCK")

    def __init__(self):
        self.started = time.monotonic()
        self.busy, self.procs = self._snapshot()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.children = usage.ru_utime + usage.ru_stime

    @staticmethod
    def _busy():
        with open("/proc/stat", encoding="ascii") as handle:
            values = [int(x) for x in handle.readline().split()[1:9]]
        return sum(values) - values[3] - values[4]  # minus idle and iowait

    @staticmethod
    def _processes():
        found = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as h:
                    text = h.read()
            except OSError:
                continue
            comm = text[text.index("(") + 1 : text.rindex(")")]
            rest = text[text.rindex(")") + 2 :].split()
            spent = int(rest[11]) + int(rest[12])
            if comm.startswith("postgres"):
                # The postmaster collects the time of the backends that ended (pgbench's).
                spent += int(rest[13]) + int(rest[14])
            found[int(entry.name)] = (int(rest[1]), comm, spent)
        return found

    def _snapshot(self):
        return self._busy(), self._processes()

    def stop(self):
        """Return the share (0–1) of the machine's CPU used by processes other than ours."""
        return self.shares()["others"]

    def shares(self, finished=None):
        """Return the shares (0–1) of the machine's CPU: web, wrk, postgres, redis, bench, others.

        `finished` gives the CPU seconds of children reaped meanwhile (wrk, pgbench), which
        /proc no longer shows.
        """
        busy, procs = self._snapshot()
        elapsed = time.monotonic() - self.started
        mine = {os.getpid()}
        parents = {pid: info[0] for pid, info in procs.items()}
        changed = True
        while changed:
            changed = False
            for pid, parent in parents.items():
                if parent in mine and pid not in mine:
                    mine.add(pid)
                    changed = True
        used = {"web": 0, "wrk": 0, "postgres": 0, "redis": 0, "bench": 0}
        per_worker = []
        for pid, (_parent, comm, jiffies) in procs.items():
            spent = jiffies - self.procs.get(pid, (0, comm, 0))[2]
            if comm.startswith("postgres"):
                used["postgres"] += spent
            elif comm.startswith("redis-server"):
                used["redis"] += spent  # the broker the web workers publish to
            elif pid in mine and comm == "gunicorn":
                used["web"] += spent
                if spent > 0:
                    per_worker.append(spent)
            elif pid in mine and comm in ("wrk", "pgbench"):
                used["wrk"] += spent
            elif pid in mine:
                used["bench"] += spent
        for kind, seconds in (finished or {}).items():
            used[kind] += seconds * self.HZ
        capacity = elapsed * self.HZ * (os.cpu_count() or 1)
        if not capacity:
            return dict.fromkeys((*used, "others"), 0.0)
        found = {key: round(value / capacity, 3) for key, value in used.items()}
        found["others"] = round(max(0, (busy - self.busy) - sum(used.values())) / capacity, 3)
        # Each web worker's share of one core: a worker near 0 got no connections.
        found["web_workers"] = sorted(round(w / (elapsed * self.HZ), 2) for w in per_worker)
        return found


def ensure_psql():
    """Stop clearly when psql (which loads the SQL files) is missing."""
    if shutil.which("psql"):
        return
    if shutil.which("apt-get") and os.geteuid() == 0:
        log("psql is missing: installing postgresql-client with apt-get")
        subprocess.run(["apt-get", "install", "-y", "-q", "postgresql-client"], check=False)
    if not shutil.which("psql"):
        raise SystemExit(
            "bench: psql is not installed. Install the PostgreSQL client (Debian/Ubuntu: "
            "`sudo apt-get install postgresql-client`, which brings pgbench too)."
        )


def free_port():
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def peak_rss_mb(pid):
    """Return (peak, current) resident memory of a process in MB, from /proc."""
    values = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            key, _, rest = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                values[key] = int(rest.split()[0]) / 1024
    return round(values.get("VmHWM", 0), 1), round(values.get("VmRSS", 0), 1)


def children(pid):
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text(encoding="ascii").split()
        found.extend(int(x) for x in text)
    return found


# ---- the stack: databases, processes, temp dir; torn down whatever happens ----------------


class Stack:
    def __init__(self, config):
        self.config = config
        self.tmp = Path(tempfile.mkdtemp(prefix="antrean-bench-"))
        self.processes = {}
        self.databases = []
        self.port = free_port()
        self.secret = secrets.token_urlsafe(48)
        self.started = time.monotonic()

    def app_env(self, db=None):
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": self.config.url(db or self.config.db),
                "CELERY_BROKER_URL": self.config.redis,
                "DEBUG": "0",
                "SECRET_KEY": self.secret,
                "ALLOWED_HOSTS": "127.0.0.1",
                "RATELIMIT_ENABLE": "0",
                "SECURE_SSL_REDIRECT": "0",
                "CONN_MAX_AGE": "600",
                "EMAIL_FILE_PATH": str(self.tmp / "mail"),
                "SMS_FILE_PATH": str(self.tmp / "sms"),
                "STATIC_ROOT": str(self.tmp / "static"),
                "SITE_URL": f"http://127.0.0.1:{self.port}",
                "LOG_LEVEL": "WARNING",
                "BENCH_TMP": str(self.tmp),
                "PYTHONUNBUFFERED": "1",
            }
        )
        for name in ("EMAIL_URL", "CACHE_URL", "CELERY_TASK_ALWAYS_EAGER"):
            env.pop(name, None)
        return env

    # databases

    def admin_sql(self, *statements):
        with closing(psycopg2.connect(self.config.url("postgres"))) as conn:
            conn.autocommit = True
            with conn.cursor() as cur:
                for statement in statements:
                    cur.execute(statement)

    def create_db(self, name):
        self.admin_sql(
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
        )
        self.databases.append(name)

    def drop_db(self, name):
        self.admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.databases:
            self.databases.remove(name)

    def query(self, sql, params=None, db=None):
        with closing(psycopg2.connect(self.config.url(db or self.config.db))) as conn:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else None

    def psql_file(self, path, db):
        subprocess.run(
            ["psql", self.config.url(db), "-v", "ON_ERROR_STOP=1", "-q", "-f", str(path)],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    # processes

    def manage(self, *args, db=None):
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.app_env(db),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def step(self, *args, db=None):
        """Run a bench.steps command and return its JSON answer."""
        result = subprocess.run(
            [sys.executable, "-m", "bench.steps", *map(str, args)],
            cwd=BASE_DIR,
            env=self.app_env(db),
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(result.stdout.strip().splitlines()[-1])

    def start(self, name, command, log_name):
        handle = open(self.tmp / log_name, "w", encoding="utf-8")  # noqa: SIM115
        process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=self.app_env(),
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[name] = process
        return process

    def stop(self, name, timeout=20):
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        # Each was started in its own session: signal its process group (its workers) by id.
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        except ProcessLookupError:
            pass

    def redis_flush(self):
        import redis

        try:
            redis.Redis.from_url(self.config.redis, socket_timeout=3).flushdb()
        except redis.RedisError as exc:
            log(f"Redis {self.config.redis} not flushed: {exc}")

    def close(self):
        for name in reversed(list(self.processes)):  # wrk before the server it loads
            self.stop(name)
        if self.config.keep:
            log(f"BENCH_KEEP=1: kept {self.databases} and {self.tmp}")
            return
        for name in list(self.databases):
            try:
                self.drop_db(name)
            except psycopg2.Error as exc:
                log(f"could not drop {name}: {exc}")
        self.redis_flush()
        shutil.rmtree(self.tmp, ignore_errors=True)


# ---- the web server ------------------------------------------------------------------------


def start_web(stack):
    config = stack.config
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "antrean.wsgi",
        "--bind",
        f"127.0.0.1:{stack.port}",
        "--workers",
        str(config.workers),
        "--worker-class",
        config.worker_class,
        "--backlog",
        "2048",
        "--log-level",
        "warning",
        "--graceful-timeout",
        "5",
        "--timeout",
        "60",
    ]
    if config.worker_class == "gthread":
        command += ["--threads", str(config.threads)]
    stack.start("gunicorn", command, "gunicorn.log")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{stack.port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(
        "gunicorn did not answer /healthz: " + (stack.tmp / "gunicorn.log").read_text()[-2000:]
    )


def web_workers(stack):
    return children(stack.processes["gunicorn"].pid)


# ---- wrk -----------------------------------------------------------------------------------


def lua_table(value):
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {lua_table(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(lua_table(v) for v in value) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value))


def run_wrk(stack, name, script, data, *, connections=None, seconds=None, cap_total=0):
    """Run wrk, one connection per thread (the Lua keeps per-connection state); return figures.

    With cap_total, each thread stops after its share of answers and wrk is ended as soon as
    all have; otherwise it runs for `seconds`.
    """
    connections = connections or stack.config.concurrency
    per_thread = -(-cap_total // connections) if cap_total else 0
    data = {**data, "cap": per_thread}
    data_path = stack.tmp / f"{name}.lua"
    data_path.write_text("return " + lua_table(data) + "\n", encoding="utf-8")
    duration = seconds or 120
    command = [
        "wrk",
        "-t",
        str(connections),
        "-c",
        str(connections),
        "-d",
        f"{duration}s",
        "--timeout",
        "30s",
        "-s",
        str(LUA_DIR / script),
        f"http://127.0.0.1:{stack.port}",
        "--",
        str(data_path),
    ]
    load = loadavg()
    meter = CpuMeter()
    process = subprocess.Popen(
        command,
        cwd=LUA_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    stack.processes[f"wrk-{name}"] = process
    done_threads = 0
    summary = None
    for line in process.stdout:
        if line.startswith("BENCH_THREAD_DONE"):
            done_threads += 1
            if done_threads == connections:
                process.send_signal(signal.SIGINT)  # wrk ends its wait and reports at once
        elif line.startswith("BENCH_JSON "):
            summary = json.loads(line[len("BENCH_JSON ") :])
    _pid, _status, usage = os.wait4(process.pid, 0)
    cpu = meter.shares({"wrk": usage.ru_utime + usage.ru_stime})
    others_cpu = cpu["others"]
    process.returncode = os.waitstatus_to_exitcode(_status)
    stack.processes.pop(f"wrk-{name}", None)
    if summary is None:
        error = LoadGeneratorCrashed if process.returncode < 0 else RuntimeError
        raise error(
            f"wrk {name} gave no summary (exit {process.returncode}; a negative one is the "
            f"signal that ended it; {done_threads} of {connections} threads had had their "
            f"share): {process.stderr.read()[-2000:]}"
        )
    answers = summary["latency"]["all"]["count"]
    elapsed = summary["elapsed_s"] or summary["wrk"]["duration_us"] / 1e6
    rate = answers / elapsed if elapsed else 0
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(summary["statuses"].items()))
    log(
        f"  {name}: {answers:,} answers in {elapsed:.1f} s ({rate:,.0f}/s); {statuses}; "
        f"CPU: {', '.join(f'{k} {v:.0%}' for k, v in cpu.items() if k != 'web_workers')}; "
        f"per web worker (of a core): {cpu['web_workers']}"
    )
    summary.update(
        {
            "name": name,
            "connections": connections,
            "answers": answers,
            "rps": answers / elapsed if elapsed else 0.0,
            "load_at_start": load,
            "others_cpu": others_cpu,
            "cpu": cpu,
        }
    )
    return summary


def status_counts(summary, kind=None):
    """Return {status: count} for one kind of request (all kinds when None)."""
    counts = {}
    for key, count in summary["statuses"].items():
        k, _, status = key.partition(" ")
        if kind is None or k == kind:
            counts[status] = counts.get(status, 0) + count
    return counts


def server_errors(summary):
    return sum(
        count
        for key, count in summary["statuses"].items()
        if key.split(" ")[1][:1] == "5" and not key.startswith("flow ")
    )


# ---- the phases ----------------------------------------------------------------------------


def slots_of(plan, code, day=None):
    office = plan["offices"][code]
    days = [d for d in office["days"] if day is None or d["date"] == day]
    return [[code, d["date"], w[0]] for d in days for w in d["windows"]]


def office_day_state(stack, office_id, day):
    rows = stack.query(
        """
        SELECT
          (SELECT count(*) FROM bookings_booking
             WHERE office_id = %(o)s AND date = %(d)s AND status = 'booked'),
          (SELECT online_quota - online_booked FROM bookings_officeday
             WHERE office_id = %(o)s AND date = %(d)s),
          (SELECT coalesce(sum(wd.capacity - wd.booked), 0) FROM bookings_windowday wd
             JOIN offices_servicewindow w ON w.id = wd.window_id
             WHERE w.office_id = %(o)s AND wd.date = %(d)s),
          (SELECT count(*) FROM bookings_windowday wd
             JOIN offices_servicewindow w ON w.id = wd.window_id
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


def rush_day(plan, code, index=1):
    """A bookable day of an office from the second on: never today, nor a window begun."""
    days = plan["offices"][code]["days"]
    return days[min(index, len(days) - 1)]


def rush(stack, plan, name, code, script, attempts, kind, success_status, attempt=0):
    office = plan["offices"][code]
    day = rush_day(plan, code, 1 + attempt)
    free_before = min(day["remaining"], sum(w[1] for w in day["windows"]))
    before = office_day_state(stack, office["id"], day["date"])
    log(f"{name}: {attempts} attempts on {code} {day['date']} ({free_before} places free)")
    summary = run_wrk(
        stack,
        name,
        script,
        {
            "region": region(name, attempt),
            "slots": slots_of(plan, code, day["date"]),
            "duplicate": plan["markers"]["duplicate"],
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


def bench_booking_count(stack):
    return stack.query(
        """SELECT count(*) FROM bookings_booking b JOIN offices_office o ON o.id = b.office_id
           WHERE o.code LIKE 'bench-%' AND o.code <> 'bench-warm'"""
    )[0][0]


def spread(stack, plan, attempt=0):
    slots = [
        slot
        for code in plan["offices"]
        if code.startswith("bench-") and code != "bench-warm"
        for slot in slots_of(plan, code)
    ]
    before = bench_booking_count(stack)
    log(f"spread: bookings over {len(slots)} windows of {len(slots) // 3} office-days")
    summary = run_wrk(
        stack,
        "spread",
        "api_book.lua",
        {"region": region("spread", attempt), "slots": slots},
        seconds=stack.config.seconds,
    )
    time.sleep(1)
    made = bench_booking_count(stack) - before
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


def celery_drain(stack, timeout=150):
    """Start a Celery worker, let it deliver every pending notification, report its memory."""
    total, pending = stack.query(
        "SELECT count(*), count(*) FILTER (WHERE status = 'pending') FROM bookings_notification"
    )[0]
    config = stack.config
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "antrean",
        "worker",
        "--pool",
        "prefork",
        "--concurrency",
        str(config.celery_concurrency),
        "--loglevel",
        "WARNING",
        "--hostname",
        "bench@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    log(f"celery: delivering {pending} pending notifications (of {total})")
    started = time.monotonic()
    process = stack.start("celery", command, "celery.log")
    left = pending
    while time.monotonic() - started < timeout:
        time.sleep(1)
        left = stack.query("SELECT count(*) FROM bookings_notification WHERE status = 'pending'")[
            0
        ][0]
        if left == 0 or process.poll() is not None:
            break
    elapsed = time.monotonic() - started
    pids = [process.pid, *children(process.pid)] if process.poll() is None else []
    memory = {pid: peak_rss_mb(pid) for pid in pids}
    stack.stop("celery")
    failed = stack.query("SELECT count(*) FROM bookings_notification WHERE status = 'failed'")[0][0]
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
        "concurrency": config.celery_concurrency,
    }


# ---- pgbench -------------------------------------------------------------------------------


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
        _write(
            stack,
            "pgbench_setup.sql",
            render(SQL_DIR / "pgbench_setup.sql", offices=offices, days=days, day0=day0),
        ),
        stack.config.db,
    )
    ids = dict(
        stack.query(
            """SELECT o.code, min(w.id) FROM offices_office o
               JOIN offices_servicewindow w ON w.office_id = o.id
               WHERE o.code LIKE 'pgbench-%' GROUP BY o.code"""
        )
    )
    office_ids = dict(
        stack.query("SELECT code, id FROM offices_office WHERE code LIKE 'pgbench-%'")
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
        script = _write(
            stack, f"pgbench_{name}.sql", render(SQL_DIR / "pgbench_booking.sql", **values)
        )
        if name == "sellout":
            # As many attempts as the app's rush.
            limit = ["-t", str(max(1, -(-stack.config.rush_attempts // clients)))]
        else:
            limit = ["-T", str(stack.config.seconds)]
        log(f"pgbench {name}: {clients} clients, {' '.join(limit)}")
        found = _run_pgbench(stack, f"{name}-{attempt}", script, clients, limit)
        if name == "sellout":
            found["sold"] = stack.query(
                "SELECT count(*) FROM bookings_booking WHERE office_id = %s AND date = %s",
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


def _write(stack, name, text):
    path = stack.tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def _run_pgbench(stack, name, script, clients, limit):
    prefix = stack.tmp / f"pgbench-{name}"
    command = [
        "pgbench",
        "-n",
        "-c",
        str(clients),
        "-j",
        "2",
        *limit,
        "-f",
        str(script),
        "-l",
        "--log-prefix",
        str(prefix),
        stack.config.url(stack.config.db),
    ]
    load = loadavg()
    meter = CpuMeter()
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=stack.tmp
    ) as process:
        stdout, stderr = process.communicate()
        # communicate() reaps pgbench; its CPU comes from our children's resource usage.
    children_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    spent = children_cpu.ru_utime + children_cpu.ru_stime - meter.children
    cpu = meter.shares({"wrk": spent})
    others_cpu = cpu["others"]
    result = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    if result.returncode != 0:
        raise RuntimeError(f"pgbench {name} failed: {result.stderr[-2000:]}")
    tps = float(re.search(r"tps = ([\d.]+)", result.stdout).group(1))
    failed = re.search(r"number of failed transactions: (\d+)", result.stdout)
    latencies = []
    for log_file in stack.tmp.glob(f"pgbench-{name}.*"):
        for line in log_file.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3:
                latencies.append(int(parts[2]))
    latencies.sort()

    def pct(p):
        return latencies[max(0, min(len(latencies) - 1, -(-p * len(latencies) // 100) - 1))]

    return {
        "tps": tps,
        "transactions": len(latencies),
        "failed": int(failed.group(1)) if failed else 0,
        "p50_us": pct(50) if latencies else 0,
        "p90_us": pct(90) if latencies else 0,
        "p99_us": pct(99) if latencies else 0,
        "load_at_start": load,
        "others_cpu": others_cpu,
        "cpu": cpu,
    }


# ---- the report ----------------------------------------------------------------------------


def report(stack):
    config = stack.config
    db = config.report_db
    log(f"report: {config.report_rows:,} bookings over {config.report_offices} offices, 24 months")
    stack.create_db(db)
    stack.manage("migrate", "--noinput", db=db)
    migrated = stack.query(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'bookings_booking'", db=db
    )
    started = time.monotonic()
    stack.psql_file(
        _write(
            stack,
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
    loaded = stack.query(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'bookings_booking'", db=db
    )
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


# ---- profile (BENCH_PROFILE=1): py-spy on every web worker, one run per kind of request ---


def profile(stack, plan):
    py_spy = Path(sys.executable).parent / "py-spy"
    if not py_spy.exists():
        log("BENCH_PROFILE=1 needs py-spy in .venv (pip install py-spy==0.4.3); skipped")
        return {"skipped": "py-spy not installed"}
    seconds = stack.config.seconds
    full_day = rush_day(plan, "palembang")  # sold out by the API rush: the 409 path
    scenarios = {
        "book": (
            "api_book.lua",
            {
                "region": REGIONS["profile"],
                "slots": [
                    s for c in plan["offices"] if c.startswith("bench-0") for s in slots_of(plan, c)
                ],
            },
        ),
        "full": (
            "api_book.lua",
            {"region": "910102", "slots": slots_of(plan, "palembang", full_day["date"])},
        ),
        "availability": ("paths.lua", {"paths": ["/api/v1/offices/palembang/availability"]}),
        "healthz": ("paths.lua", {"paths": ["/healthz"]}),
    }
    found = {}
    for name, (script, data) in scenarios.items():
        recorders = []
        for pid in web_workers(stack):
            out = OUT_DIR / f"profile-{name}-{pid}.txt"
            command = [
                str(py_spy), "record", "-p", str(pid), "-d", str(seconds + 2), "-r", "250",
                "-f", "raw", "-o", str(out), "--nonblocking", "--gil",
            ]  # fmt: skip
            recorders.append(
                (
                    out,
                    subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
                )
            )
        time.sleep(1)
        summary = run_wrk(stack, f"profile-{name}", script, data, seconds=seconds)
        for _out, process in recorders:
            process.wait(timeout=60)
        found[name] = {
            "rps": round(summary["rps"], 1),
            **summarize_profile([o for o, _ in recorders]),
        }
    return found


def summarize_profile(files):
    """Return the biggest shares of the samples: inclusive for project code, self for all."""
    inclusive, own, total = {}, {}, 0
    for path in files:
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            stack_text, _, count = line.rpartition(" ")
            count = int(count)
            total += count
            frames = [re.sub(r":\d+\)$", ")", f) for f in stack_text.split(";")]
            for frame in set(frames):
                inclusive[frame] = inclusive.get(frame, 0) + count
            own[frames[-1]] = own.get(frames[-1], 0) + count

    def top(counts, keep, limit):
        rows = sorted(counts.items(), key=lambda kv: -kv[1])
        return [[round(100 * v / total, 1), k] for k, v in rows if keep(k)][:limit]

    project = re.compile(r"\((bookings|offices|antrean)/")
    interesting = re.compile(
        r"CursorWrapper\._execute |is_usable|Task\.delay|Template\.render|"
        r"BaseForm\.full_clean|Operation\._get_values|close_graceful|Atomic\.__exit__"
    )
    return {
        "samples": total,
        "project": top(inclusive, lambda k: bool(project.search(k)), 25),
        "parts": top(inclusive, lambda k: bool(interesting.search(k)), 12),
        "self": top(own, lambda k: True, 15),
    }


# ---- the table -----------------------------------------------------------------------------


def ms(us):
    return f"{us / 1000:.0f}" if us >= 10_000 else f"{us / 1000:.1f}"


def lat(summary, kind="all"):
    spread = summary["latency"][kind]
    return f"{ms(spread['p50_us'])} / {ms(spread['p90_us'])} / {ms(spread['p99_us'])}"


def statuses_text(summary):
    parts = sorted(summary["statuses"].items())
    return ", ".join(f"{k}: {v:,}" for k, v in parts)


def verdict(ok, text):
    return f"{'✅ met' if ok else '❌ missed'}: {text}"


def build_table(r):
    """Return the Markdown of the results: the run, the targets, the details."""
    lines = []
    m, v = r["machine"], r["versions"]
    lines += [
        f"Run of {r['started']} (UTC), {r['duration_s'] / 60:.1f} min.",
        "",
        f"- Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB memory, Linux "
        f"{m['kernel']}; the load generator (wrk, pgbench) runs on the same machine.",
        f"- App: commit {v.get('app', '?')}. Versions: Python {v['python']}, Django "
        f"{v['django']}, PostgreSQL {v['postgresql']} "
        f"(max_connections {v['max_connections']}), gunicorn {v['gunicorn']}, wrk {v['wrk']}, "
        f"pgbench {v['pgbench']}.",
        f"- Load average at the start: {' '.join(f'{x:.2f}' for x in r['quiet']['load'])} "
        f"(1, 5, 15 min; waited {r['quiet']['waited_s']} s for a quiet machine"
        + ("" if r["quiet"]["quiet"] in (None, True) else ", it did not get quiet")
        + ").",
        f"- Server: {r['server']}.",
        "- App settings in effect: "
        + ", ".join(f"`{k}` {v}" for k, v in r.get("app_settings", {}).items())
        + ".",
        "",
    ]
    h = r.get("healthz")
    rows = []
    targets = []

    def add(summary, cells):
        cpu = summary.get("cpu") or {}
        split = " / ".join(
            f"{100 * cpu.get(k, 0):.0f}" for k in ("web", "wrk", "postgres", "others")
        )
        again = (
            f" (run {summary['attempt']} of {summary['attempts']})"
            if summary.get("attempts", 1) > 1
            else ""
        )
        if summary.get("crashes"):
            again += f" (wrk crashed {summary['crashes']}× before: measured again)"
        rows.append((*cells, f"{split} %{again}"))

    if h:
        add(h, ("`/healthz` (floor)", f"{h['rps']:,.0f} req/s", lat(h), statuses_text(h), "—", ""))
    api = r.get("api_rush")
    if api and h:
        ratio = api["rps"] / h["rps"]
        p99 = api["latency"]["all"]["p99_us"] / 1000
        c = api["check"]
        pg = r.get("pgbench", {}).get("sellout")
        floor = f"{ratio:.2f} of `/healthz`"
        if pg:
            floor += f"; {api['rps'] / pg['tps']:.2f} of pgbench sell-out ({pg['tps']:,.0f} tx/s)"
        add(
            api,
            (
                f"API rush: {api['answers']:,} attempts on one office-day",
                f"{api['rps']:,.0f} attempts/s",
                lat(api),
                statuses_text(api),
                floor,
                f"sold {c['bookings_after'] - c['bookings_before']} of {c['free_before']} free, "
                f"{c['places_left']} left, {c['server_errors']} 5xx",
            ),
        )
        targets.append(
            (
                "Rush: attempts/s ≥ 40% of `/healthz`",
                verdict(ratio >= 0.4, f"{ratio:.0%} ({ratio / 0.4:.2f}× the target)"),
            )
        )
        targets.append(
            (
                "Rush: p99 < 200 ms",
                verdict(p99 < 200, f"p99 {p99:.0f} ms ({p99 / 200:.2f}× the limit)"),
            )
        )
        targets.append(
            (
                "Rush: no overbooking, no place left unsold, no 5xx",
                verdict(
                    c["ok"],
                    f"{c['bookings_after'] - c['bookings_before']} bookings for "
                    f"{c['free_before']} free places, {c['successes']} answered 201, "
                    f"{c['places_left']} places left, {c['windows_over_capacity']} windows over "
                    f"capacity, {c['server_errors']} 5xx",
                ),
            )
        )
    html = r.get("html_rush")
    if html and h:
        c = html["check"]
        flows = sum(status_counts(html, "flow").values())
        flow_rate = flows / html["elapsed_s"] if html["elapsed_s"] else 0
        add(
            html,
            (
                f"HTML rush: {flows:,} browsers (form, submit, check, confirm, booking page)",
                f"{html['rps']:,.0f} req/s, {flow_rate:,.0f} flows/s",
                lat(html)
                + (f" (confirm {lat(html, 'confirm')})" if "confirm" in html["latency"] else ""),
                statuses_text(html),
                f"{html['rps'] / h['rps']:.2f} of `/healthz`",
                f"sold {c['bookings_after'] - c['bookings_before']} of {c['free_before']} free, "
                f"{c['places_left']} left, {c['server_errors']} 5xx",
            ),
        )
        targets.append(
            (
                "HTML rush: no overbooking, no place left unsold, no 5xx",
                verdict(
                    c["ok"],
                    f"{c['bookings_after'] - c['bookings_before']} bookings for "
                    f"{c['free_before']} free places, {c['places_left']} left, "
                    f"{c['server_errors']} 5xx",
                ),
            )
        )
    sp = r.get("spread")
    pg = r.get("pgbench", {})
    if sp:
        floor = ""
        if pg.get("spread"):
            ratio = sp["rps"] / pg["spread"]["tps"]
            floor = f"{ratio:.2f} of pgbench spread ({pg['spread']['tps']:,.0f} tx/s)"
            targets.append(
                (
                    "Bookings that all succeed: req/s ≥ 50% of pgbench tx/s, same SQL, same "
                    "concurrency",
                    verdict(ratio >= 0.5, f"{ratio:.0%} ({ratio / 0.5:.2f}× the target)"),
                )
            )
        c = sp["check"]
        add(
            sp,
            (
                f"API bookings that all succeed ({c['slots']:,} windows of "
                f"{c['slots'] // 3:,} office-days)",
                f"{sp['rps']:,.0f} bookings/s",
                lat(sp),
                statuses_text(sp),
                floor,
                f"{c['bookings_in_db']:,} bookings in the database",
            ),
        )
    for key, label in (
        ("availability", "Availability API, whole horizon"),
        ("calendar", "Office calendar page, each month of the horizon"),
    ):
        s = r.get("reads", {}).get(key)
        if s and h:
            ratio = s["rps"] / h["rps"]
            add(
                s,
                (
                    label,
                    f"{s['rps']:,.0f} req/s",
                    lat(s),
                    statuses_text(s),
                    f"{ratio:.2f} of `/healthz`",
                    "",
                ),
            )
            if key == "availability":
                targets.append(
                    (
                        "Availability: req/s ≥ 70% of `/healthz`",
                        verdict(ratio >= 0.7, f"{ratio:.0%} ({ratio / 0.7:.2f}× the target)"),
                    )
                )
    h2 = r.get("healthz_end")
    if h2:
        add(
            h2,
            (
                "`/healthz` again at the end",
                f"{h2['rps']:,.0f} req/s",
                lat(h2),
                statuses_text(h2),
                "drift check",
                "",
            ),
        )
    for key, label in (
        ("sellout", "pgbench: sell-out of one office-day (floor of the rush)"),
        ("hot", "pgbench: one hot office-day that never fills"),
        ("spread", "pgbench: spread over 1,200 office-days (floor)"),
    ):
        p = pg.get(key)
        if p:
            extra = f"sold {p['sold']} of 135" if key == "sellout" else ""
            add(
                p,
                (
                    label,
                    f"{p['tps']:,.0f} tx/s",
                    f"{ms(p['p50_us'])} / {ms(p['p90_us'])} / {ms(p['p99_us'])}",
                    f"{p['transactions']:,} tx, {p['failed']} failed",
                    f"{pg['clients']} clients",
                    extra,
                ),
            )
    lines += [
        "| measure | rate | p50 / p90 / p99 ms | answers | ratio to floor | check "
        "| CPU: web / load generator / PostgreSQL / others |",
        "| --- | ---: | ---: | --- | --- | --- | ---: |",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    rep = r.get("report")
    if rep:
        app = sum(rep["app_s"].values())
        bare = sum(rep["bare_s"].values())
        ratio = app / bare if bare else 0
        lines += [
            "",
            "| report (median of "
            f"{r['config']['report_repeat']}) | `monthly_counts()` | bare aggregate SQL | ratio |",
            "| --- | ---: | ---: | ---: |",
        ]
        for year in rep["years"]:
            a, b = rep["app_s"][str(year)], rep["bare_s"][str(year)]
            lines.append(
                f"| {year} (12 months × {r['config']['report_offices']} offices) | "
                f"{a:.2f} s | {b:.2f} s | {a / b:.2f} |"
            )
        lines.append(f"| 24 months | {app:.2f} s | {bare:.2f} s | {ratio:.2f} |")
        lines.append(
            f"| EXPLAIN ANALYZE, {rep['years'][0]} | {rep['app_plan_ms']:.0f} ms | "
            f"{rep['bare_plan_ms']:.0f} ms | {rep['app_plan_ms'] / rep['bare_plan_ms']:.2f} |"
        )
        lines.append(
            f"\n{rep['rows']:,} bookings loaded in {rep['load_s']:.0f} s; results of both agree "
            f"({rep['mismatches']} differing rows); indexes on the table are the app's own: "
            f"{'yes' if rep['indexes_are_the_apps'] else 'NO'}; indexes the plans use: "
            f"{', '.join(rep['indexes_used']) or 'none (sequential scan)'}. Plans: "
            f"`{rep['explain_file']}`. Others' CPU while timing: {rep.get('others_cpu', 0):.0%}."
        )
        targets.append(
            (
                "Report: within 2× the bare SQL",
                verdict(ratio <= 2, f"{ratio:.2f}× over 24 months"),
            )
        )
        targets.append(
            (
                "Report: under 5 s",
                verdict(
                    app < 5,
                    f"{app:.2f} s for 24 months "
                    f"(the slower year {max(rep['app_s'].values()):.2f} s)",
                ),
            )
        )
    mem = r.get("memory")
    if mem:
        web = mem["web_peak_mb"]
        lines += [
            "",
            f"Memory after the rush: web worker peak resident {web:.0f} MB (each worker: "
            + ", ".join(f"{p['peak_mb']:.0f}" for p in mem["web"].values())
            + " MB)"
            + (
                f"; Celery worker peak {mem['celery']['peak_mb']:.0f} MB (prefork, "
                f"{mem['celery']['concurrency']} children; delivered "
                f"{mem['celery']['pending_before'] - mem['celery']['pending_after']:,} "
                f"notifications in {mem['celery']['seconds']} s, "
                f"{mem['celery']['failed']} failed, {mem['celery']['pending_after']} left)"
                if mem.get("celery")
                else ""
            )
            + ".",
        ]
        targets.append(
            (
                "Web worker < 150 MB resident after the rush",
                verdict(web < 150, f"{web:.0f} MB peak"),
            )
        )
    queries = r.get("queries")
    if queries:
        lines += [
            "",
            "| request (Django test client, in-process) | status | SQL statements | server ms |",
            "| --- | ---: | ---: | ---: |",
        ]
        for name, q in queries.items():
            lines.append(f"| {name} | {q['status']} | {q['queries']} | {q['ms']:.2f} |")
    prof = r.get("profile")
    if prof and "skipped" not in prof:
        lines += [
            "",
            "Profile (py-spy --gil: Python holding the GIL, every web worker; share of the "
            "samples spent in and under):",
            "",
        ]
        for name, found in prof.items():
            parts = "; ".join(f"{share}% {frame.split(' (')[0]}" for share, frame in found["parts"])
            lines.append(f"- {name} ({found['rps']:,.0f} req/s under py-spy): {parts}")
    if targets:
        lines += ["", "| target | result |", "| --- | --- |"]
        lines += [f"| {t} | {res} |" for t, res in targets]
    return "\n".join(lines) + "\n"


def write_results(table):
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    block = f"{BEGIN_MARK}\n{table}{END_MARK}"
    if BEGIN_MARK in text and END_MARK in text:
        head, rest = text.split(BEGIN_MARK, 1)
        tail = rest.split(END_MARK, 1)[1]
        text = head + block + tail
    else:
        text = f"# Benchmark results\n\n## Latest run\n\n{block}\n" + text
    RESULTS.write_text(text, encoding="utf-8")


# ---- main ----------------------------------------------------------------------------------


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
    rushes = (
        # name, office, script, attempts, kind of request counted, its success status
        ("api_rush", "palembang", "api_book.lua", config.rush_attempts, "book", "201"),
        ("html_rush", "makassar", "html_flow.lua", config.html_flows, "flow", "booked"),
    )
    for name, code, script, attempts, kind, success in rushes:
        if config.wants(name):
            results[name] = measured(
                stack,
                name,
                partial(rush, stack, plan, name, code, script, attempts, kind, success),
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
    web = {
        str(pid): dict(zip(("peak_mb", "rss_mb"), peak_rss_mb(pid), strict=True))
        for pid in web_workers(stack)
    }
    results["memory"] = {"web": web, "web_peak_mb": max(w["peak_mb"] for w in web.values())}
    if config.profile:
        results["profile"] = profile(stack, plan)
    stack.stop("gunicorn")
    if config.wants("celery"):
        results["memory"]["celery"] = celery_drain(stack)
    if config.wants("pgbench"):
        results["pgbench"] = pgbench(stack, plan)
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
    table = build_table(results)
    (OUT_DIR / "latest.json").write_text(json.dumps(results, indent=2, default=str))
    (OUT_DIR / "latest.md").write_text(table, encoding="utf-8")
    print(table)
    if config.write_results and not config.only:
        write_results(table)
        log(f"wrote {RESULTS.relative_to(BASE_DIR)} and bench/out/latest.json")
    return 0 if all_checks_pass(results) else 1


def all_checks_pass(results):
    parts = [results[k] for k in ("api_rush", "html_rush", "spread") if k in results]
    if "sellout" in results.get("pgbench", {}):
        parts.append(results["pgbench"]["sellout"])
    return all(p.get("every_attempt_ok", True) and p.get("ok", True) for p in parts) and all(
        p["check"]["ok"] for p in parts if "check" in p
    )


if __name__ == "__main__":
    sys.exit(main())
