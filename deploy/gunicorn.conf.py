"""gunicorn's settings for one web machine (antrean-web.service), explained in deploy/README.md."""

import multiprocessing
import os
import sys
from pathlib import Path

# The project's own hooks: with PROMETHEUS_MULTIPROC_DIR set (antrean-web.service), the master
# empties the metrics' folder at start and forgets each worker that exits (antrean.metrics).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from antrean.gunicorn_conf import child_exit, on_starting  # noqa: F401

# The address nginx reaches: every nginx in front lists this machine in its upstream block.
# Open the port to those machines only (a firewall rule): gunicorn itself speaks plain HTTP.
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")

# Sync workers, 3 per core: as fast as gthread in bench/RESULTS.md ("gunicorn: the workers
# compared") and spread evenly, since every request comes from the kernel's accept queue.
# A sync worker cannot be held by a slow phone: nginx buffers each request and answer whole.
worker_class = "sync"
workers = int(os.environ.get("GUNICORN_WORKERS", 3 * multiprocessing.cpu_count()))

# Connections waiting for a worker during a release minute (the bench's value).
backlog = 2048

# A request still running after this many seconds is a bug or a hung dependency: the worker
# is killed and logged ("WORKER TIMEOUT"). nginx waits a little longer (65 s), so that this is
# the timeout that decides. The slowest page, a monthly report export, takes a few seconds.
timeout = 60
# On a restart or reload, a worker finishes what it serves within this before it is killed.
graceful_timeout = 30
# Sync workers close each connection after one answer; nginx opens a new one per request.
keepalive = 2

# No recycling by default: a new worker starts with empty per-process caches (the pages kept
# whole, the rendered form), and the bench saw no growth to cure.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 0))
max_requests_jitter = max_requests // 10

# The workers' heartbeat file in memory, not on a disk that may stall under a backup.
worker_tmp_dir = "/dev/shm"  # noqa: S108 - gunicorn's advice; one file per worker, 0 bytes

# The nginx machines' addresses (comma-separated): gunicorn takes the scheme from their
# X-Forwarded-Proto for its own use. Django reads that header itself (SECURE_PROXY_SSL_HEADER,
# on with BEHIND_PROXY=1), and the client's address from X-Real-IP.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")

# Logs to journald (stdout and stderr); the access log names the client nginx saw.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%({x-real-ip}i)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
