"""Run the web server, a Celery worker and beat together in the foreground; Ctrl-C stops all."""

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

logger = logging.getLogger("antrean.run")


def _commands(port):
    python = sys.executable
    return {
        "web": [python, "manage.py", "runserver", f"127.0.0.1:{port}"],
        "worker": [
            python, "-m", "celery", "-A", "antrean", "worker",
            "--loglevel=INFO", "--concurrency=2", "--hostname=worker@%h",
            # One worker for both queues here; production runs one per queue (deploy/).
            "--queues=messages,periodic",
        ],
        "beat": [
            python, "-m", "celery", "-A", "antrean", "beat", "--loglevel=INFO",
        ],
    }  # fmt: skip


def _show_banner(port):
    logins = BASE_DIR / "var" / "demo-logins.txt"
    lines = [
        "",
        f"  Antrean runs at http://127.0.0.1:{port}/  (admin: http://127.0.0.1:{port}/admin/)",
    ]
    if logins.exists():
        lines.append("  Demo logins (from var/demo-logins.txt):")
        lines += [f"    {line}" for line in logins.read_text(encoding="utf-8").splitlines()]
    lines += ["  E-mail is written to var/mail/, SMS to var/sms/. Press Ctrl-C to stop.", ""]
    logger.info("\n".join(lines))


# The embedded defaults keep personal data in files under var/ (SQLite, mail, SMS): every
# file the three processes create there is readable by their owner only.
PRIVATE_UMASK = 0o077


def main():
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    os.umask(PRIVATE_UMASK)
    port = os.environ.get("RUN_PORT", "8000")
    processes = {
        name: subprocess.Popen(command, cwd=BASE_DIR)  # noqa: S603 - our own fixed commands
        for name, command in _commands(port).items()
    }
    _show_banner(port)
    stopping = False

    def stop(*_args):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, process in processes.items():
            if process.poll() is not None:
                logger.warning(
                    "%s exited with code %s; stopping the others.", name, process.returncode
                )
                exit_code = process.returncode or 1
                stopping = True
        time.sleep(0.5)
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
