"""The API and HTML rushes made BENCH_RUSH_RUNS times, each on a fresh office-day with new NIKs
(issue 18)."""

import statistics

from bench.config import log, region
from bench.load import measured, run_wrk
from bench.phases import rush

TRIES = 3  # a run and at most two more when others disturbed it (bench.load.measured)
UNIT_SECONDS = 3  # the /healthz measured just before each run


def spread_of(values):
    """Return the min, median and max of a list of figures (None each when it is empty)."""
    if not values:
        return {"min": None, "median": None, "max": None}
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def median_run(runs):
    """Return the run of the median rate (the lower of the two middle ones when even)."""
    ordered = sorted(runs, key=lambda run: run["rps"])
    return ordered[(len(ordered) - 1) // 2]


def run_summary(summary):
    """Return what the table and the targets need of one run of the rush."""
    return {
        "rps": summary["rps"],
        "p99_ms": summary["latency"]["all"]["p99_us"] / 1000,
        "date": summary["check"]["date"],
        "ok": summary["check"]["ok"] and summary["every_attempt_ok"],
        "attempts": summary["attempts"],
        "others_cpu": summary["others_cpu"],
        "healthz_rps": summary.get("healthz_rps"),
    }


def share_of_healthz(run, healthz):
    """A run's rate as a share of the /healthz measured just before it, else of `healthz`."""
    return run["rps"] / (run.get("healthz_rps") or healthz["rps"])


def api_rushes(stack, plan, attempts):
    """The API rush on Palembang: `attempts` bookings by API each run."""
    return rushes(stack, plan, "api_rush", "palembang", "api_book.lua", attempts, "book", "201")


def html_rushes(stack, plan, flows):
    """The HTML rush on Makassar: `flows` browsers each run, from the form to the booking."""
    return rushes(stack, plan, "html_rush", "makassar", "html_flow.lua", flows, "flow", "booked")


def rushes(stack, plan, name, office, script, attempts, kind, success):
    """Run a rush BENCH_RUSH_RUNS times on the office's bookable days from the second on (the
    last one is the page weights' own): each run, and each run made again, on a day of its
    own. Return the median run's summary with every run's figures in `runs`."""
    runs = stack.config.rush_runs
    days = iter(plan["offices"][office]["days"][1:-1])
    left = len(plan["offices"][office]["days"][1:-1])
    if left < runs:
        log(f"{name}: {office} has {left} fresh bookable days: {left} runs, not {runs}")
        runs = left
    summaries = []
    for number in range(runs):
        # Days for the runs still to come are kept back: a run made again takes a spare one.
        tries = max(1, min(TRIES, left - (runs - number - 1)))

        def once(attempt, number=number):
            # A /healthz of its own just before: the run's unit, under the machine as the
            # rush finds it (other tenants change both from one minute to the next).
            unit = run_wrk(
                stack, f"{name}-healthz", "paths.lua", {"paths": ["/healthz"]}, seconds=UNIT_SECONDS
            )
            found = rush(
                stack,
                plan,
                name,
                office,
                script,
                attempts,
                kind,
                success,
                attempt,
                day=next(days),
                region_code=region(name, TRIES * number + attempt),
            )
            found["healthz_rps"] = unit["rps"]
            return found

        log(f"{name}: run {number + 1} of {runs}")
        summary = measured(stack, f"{name} {number + 1}", once, tries=tries)
        left -= summary["attempts"]
        summaries.append(summary)
    kept = dict(median_run(summaries))
    kept["runs"] = [run_summary(s) for s in summaries]
    # The runs' checks count as one: every run, and every run made again, must pass.
    kept["every_attempt_ok"] = all(run["ok"] for run in kept["runs"])
    return kept
