"""gunicorn's hooks for metrics across workers: `gunicorn -c python:antrean.gunicorn_conf`.

With PROMETHEUS_MULTIPROC_DIR set, each worker writes its counts into files there and a
scrape adds up all of them (antrean.metrics). The master empties the directory before the
first worker starts, so the counts of an earlier run are not added again.
"""

import os
import shutil
from pathlib import Path

from prometheus_client import multiprocess


def on_starting(server):
    """Empty (or make) PROMETHEUS_MULTIPROC_DIR before any worker writes into it."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return
    path = Path(folder)
    if path.is_dir():
        for child in path.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
    path.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    """Let the files of a worker that exited stop counting in gauges of live processes."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
