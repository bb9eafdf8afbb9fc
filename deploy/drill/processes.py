"""The drill's processes: two gunicorn groups, nginx, two Celery workers, one beat, and the kill."""

import json
import os
import signal
import subprocess
import sys

from bench.config import BASE_DIR
from bench.machine import children
from bench.stack import Stack, gunicorn_command, wait_healthy, worker_command

from .nginx import nginx_conf


class DrillStack(Stack):
    """The bench's stack (temp dir, database, processes torn down by close()) with the drill's
    environment: Redis cache, behind a proxy, lost messages swept after a minute."""

    def __init__(self, config, extra_env):
        super().__init__(config)
        self.extra_env = extra_env

    def app_env(self, db=None):
        return {**super().app_env(db), "VAR_DIR": str(self.tmp), **self.extra_env}


def start_group(stack, name, port, workers):
    """Start one web group: a gunicorn master and its sync workers on 127.0.0.1:`port`."""
    stack.start(name, gunicorn_command(port, workers), f"{name}.log")
    wait_healthy(stack, name, port, seconds=60)


def start_nginx(stack, port, upstreams):
    """Start nginx in the foreground with the drill's config; wait until it answers."""
    prefix = stack.tmp / "nginx"
    prefix.mkdir()
    conf = stack.write("nginx.conf", nginx_conf(prefix=prefix, port=port, upstreams=upstreams))
    check = subprocess.run(  # noqa: S603 - fixed arguments
        ["nginx", "-t", "-q", "-c", str(conf), "-p", str(prefix)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    if check.returncode:
        raise RuntimeError(f"nginx refused its config {conf}: {check.stderr}")
    stack.start("nginx", ["nginx", "-c", str(conf), "-p", str(prefix)], "nginx.log")
    wait_healthy(stack, "nginx", port)
    return prefix / "nginx-access.log"


def app_queues(stack):
    """Return the Celery queues the app sends tasks to, as its settings say at run time."""
    result = subprocess.run(
        [sys.executable, "-m", "deploy.drill.queues"],
        cwd=BASE_DIR,
        env=stack.app_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def start_worker(stack, name, queues, concurrency):
    """Start one Celery worker (prefork) on every queue the app uses; INFO logs its tasks."""
    command = worker_command(name, concurrency, "INFO", "--queues", ",".join(queues))
    return stack.start(name, command, f"{name}.log")


def kill_group(stack, name):
    """SIGKILL a process and all of its group (a gunicorn master and its workers, a Celery
    worker and its pool); return the ids killed."""
    process = stack.processes[name]
    pids = [process.pid, *children(process.pid)]
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    return pids
