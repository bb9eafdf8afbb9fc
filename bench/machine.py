"""The machine: its facts and versions, the tools the run needs, quiet waits, CPU shares."""

import os
import platform
import resource
import shutil
import subprocess
import time
from contextlib import closing
from pathlib import Path

import django
import gunicorn
import psycopg2

from bench.config import BASE_DIR, log

OTHERS_LIMIT = 0.10  # more of the machine than this used by others: measure again


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


def settle(seconds=60):
    """Wait until other processes, and PostgreSQL on its own (autovacuum after what a phase
    wrote), use under 5% of the CPU for 10 s (at most `seconds`)."""
    deadline = time.monotonic() + seconds
    calm = 0
    while time.monotonic() < deadline:
        meter = CpuMeter()
        time.sleep(5)
        shares = meter.shares()
        calm = calm + 1 if shares["others"] < 0.05 and shares["postgres"] < 0.05 else 0
        if calm >= 2:
            return True
    return False


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
