"""BENCH_PROFILE=1: py-spy on every web worker, one run per kind of request, and its summary."""

import re
import subprocess
import sys
import time
from pathlib import Path

from bench.config import OUT_DIR, REGIONS, log
from bench.load import run_wrk
from bench.phases import rush_day, slots_of
from bench.stack import web_workers


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
        # The HTML flow where every step has a place to offer (form, submit, check, confirm,
        # booking page), on one day of each office as in a rush.
        "html": (
            "html_flow.lua",
            {
                "region": REGIONS["profile_html"],
                "slots": [
                    s
                    for c in plan["offices"]
                    if c.startswith("bench-0")
                    for s in slots_of(plan, c, rush_day(plan, c, 2)["date"])
                ],
            },
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
            if not count.isdigit():  # a line cut short where py-spy stopped writing
                continue
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
