"""The rush through nginx, and the kill of one web group and one worker half-way through it."""

import threading
import time

from bench.config import REGIONS, log
from bench.load import run_wrk

from .checks import booked_on
from .processes import kill_group


class KillHalfWay(threading.Thread):
    """SIGKILL the `victims` once half of the places on sale are sold (at most `seconds`)."""

    def __init__(self, stack, office_days, threshold, victims, seconds=300):
        super().__init__(daemon=True)
        self.stack = stack
        self.office_days = office_days
        self.threshold = threshold
        self.victims = victims
        self.seconds = seconds
        self.finished = threading.Event()
        self.killed_at = None
        self.sold_at_kill = None
        self.killed = {}
        self.error = None

    def run(self):
        deadline = time.monotonic() + self.seconds
        try:
            while not self.finished.is_set() and time.monotonic() < deadline:
                sold = booked_on(self.stack, self.office_days)
                if sold >= self.threshold:
                    self.sold_at_kill = sold
                    self.killed_at = time.time()
                    for name in self.victims:
                        self.killed[name] = kill_group(self.stack, name)
                    log(f"SIGKILL {', '.join(self.victims)} with {sold} places sold: {self.killed}")
                    return
                time.sleep(0.05)
        except Exception as exc:  # noqa: BLE001 - reported by the drill as a failed kill
            self.error = exc


def rush(stack, slots, attempts, killer):
    """Run the booking rush through nginx with the killer watching; return wrk's summary."""
    killer.start()
    try:
        summary = run_wrk(
            stack,
            "rush",
            "api_book.lua",
            {"region": REGIONS["api_rush"], "slots": slots},
            cap_total=attempts,
        )
    finally:
        killer.finished.set()
        killer.join(timeout=30)
    time.sleep(1)  # let requests still in flight when wrk stopped finish
    return summary


def warm_up(stack, plan_office, slots):
    """Let every web worker import and connect, and each Celery worker deliver a first batch."""
    paths = ["/healthz", f"/api/v1/offices/{plan_office}/availability"]
    run_wrk(stack, "warm-reads", "paths.lua", {"paths": paths}, connections=8, seconds=3)
    run_wrk(
        stack,
        "warm-book",
        "api_book.lua",
        {"region": REGIONS["warmup"], "slots": slots},
        connections=8,
        cap_total=40,
    )
