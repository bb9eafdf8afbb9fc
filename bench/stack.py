"""The stack a run starts (databases, gunicorn, Celery, temp dir), torn down whatever happens."""

import json
import os
import re
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
from pathlib import Path

import psycopg2
import redis

from bench.config import BASE_DIR, log
from bench.machine import children


def free_port():
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def render(template_path, **values):
    """Return a bench/sql template with its {{names}} filled in."""
    text = template_path.read_text(encoding="utf-8")

    def fill(match):
        return str(values[match.group(1)])

    return re.sub(r"\{\{(\w+)\}\}", fill, text)


class Stack:
    """The run's databases, processes and temp dir; close() stops and removes them all."""

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
                "CONTACT_CONFIRMATION": "0",  # load tests: no code to type back
                "ALLOW_DEV_BACKENDS": "1",  # one machine, mail and SMS to files: on purpose
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
        if self.config.cache_url:
            env["CACHE_URL"] = self.config.cache_url
        return env

    def write(self, name, text):
        """Write a file into the temp dir and return its path."""
        path = self.tmp / name
        path.write_text(text, encoding="utf-8")
        return path

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

    def copy_db(self, source, name):
        """Make database `name` a copy of `source` (nobody may be connected to it)."""
        self.admin_sql(
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
            f'CREATE DATABASE "{name}" TEMPLATE "{source}"',
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

    def start(self, name, command, log_name, env=None):
        handle = open(self.tmp / log_name, "w", encoding="utf-8")  # noqa: SIM115
        process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env={**self.app_env(), **(env or {})},
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
        """Empty the broker's Redis database, and the app cache's when it is a Redis one."""
        cache = self.config.cache_url.replace("rediscache://", "redis://")
        for url in filter(None, (self.config.redis, cache if cache.startswith("redis") else "")):
            try:
                redis.Redis.from_url(url, socket_timeout=3).flushdb()
            except redis.RedisError as exc:
                log(f"Redis {url} not flushed: {exc}")

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


def gunicorn_command(port, workers, worker_class="sync", threads=1):
    """gunicorn serving the app on 127.0.0.1:`port` with the bench's flags (the drill's too)."""
    command = [
        str(Path(sys.executable).parent / "gunicorn"), "antrean.wsgi",
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
        "--worker-class", worker_class, "--backlog", "2048", "--log-level", "warning",
        "--graceful-timeout", "5", "--timeout", "60",
    ]  # fmt: skip
    if worker_class == "gthread":
        command += ["--threads", str(threads)]
    return command


def wait_healthy(stack, name, port, seconds=30):
    """Wait until 127.0.0.1:`port` answers /healthz with 200; raise with the log's tail if not
    (at once if the process `name` has exited)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        process = stack.processes.get(name)
        if process is not None and process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(
        f"{name} did not answer /healthz on {port}: "
        + (stack.tmp / f"{name}.log").read_text()[-2000:]
    )


def start_web(stack, name="gunicorn", settings_module="antrean.settings"):
    """Start gunicorn on the run's port with the bench's flags (the floor's site: its settings)."""
    config = stack.config
    command = gunicorn_command(stack.port, config.workers, config.worker_class, config.threads)
    stack.start(name, command, f"{name}.log", {"DJANGO_SETTINGS_MODULE": settings_module})
    wait_healthy(stack, name, stack.port)


def web_workers(stack):
    return children(stack.processes["gunicorn"].pid)


def celery_command(*arguments):
    """Celery's command line for the app."""
    return [sys.executable, "-m", "celery", "-A", "antrean", *arguments]


def worker_command(name, concurrency, loglevel, *options):
    """A prefork Celery worker without the chatter between workers (gossip, mingle, heartbeat)."""
    return celery_command(
        "worker", "--pool", "prefork", "--concurrency", str(concurrency), *options,
        "--loglevel", loglevel, "--hostname", f"{name}@%h",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    )  # fmt: skip


def start_celery(stack):
    """Start one Celery worker (prefork) on the bench's broker; return its process."""
    command = worker_command("bench", stack.config.celery_concurrency, "WARNING")
    return stack.start("celery", command, "celery.log")


def start_beat(stack, loglevel="WARNING"):
    """Start Celery beat on the app's schedule: its relay hands the outbox to the workers each
    second (the bench's worker takes messages only: the periodic queue's tasks wait)."""
    command = celery_command(
        "beat", "--schedule", str(stack.tmp / "beat-schedule"), "--loglevel", loglevel
    )
    return stack.start("beat", command, "beat.log")
