"""Every target and correctness check of a run, judged in one place: what fails `make bench`."""

import statistics
from dataclasses import dataclass

from bench.load import server_errors
from bench.rush_runs import run_summary, share_of_healthz
from bench.wire import FIRST_VISIT_LIMIT, LATER_VISIT_LIMIT


@dataclass(frozen=True)
class Target:
    name: str
    met: bool
    result: str  # what the run measured, in words
    measured: float | None = None  # a speed target's figure, in the threshold's unit
    threshold: float | None = None
    correctness: bool = False  # a failed correctness check fails the run; a speed miss does not
    listed: bool = True  # in the table of RESULTS.md (the targets of issues 8 and 15)

    @property
    def verdict(self):
        return f"{'✅ met' if self.met else '❌ missed'}: {self.result}"


def _at_least(name, measured, threshold, result):
    return Target(name, measured >= threshold, result, measured, threshold)


def _share_at_least(name, ratio, threshold, result=None):
    """A rate's share of its floor against the least it may be, said as a percentage."""
    said = f"{ratio:.0%} ({ratio / threshold:.2f}× the target)"
    return _at_least(name, ratio, threshold, result or said)


def _under(name, measured, threshold, result):
    return Target(name, measured < threshold, result, measured, threshold)


def _passed(summary):
    """Whether a measurement's check passed, in the run kept and in every run made again."""
    return (
        summary.get("every_attempt_ok", True)
        and summary.get("ok", True)
        and summary.get("check", {}).get("ok", True)
    )


def _check(name, summary, result, *, listed=True):
    passed = _passed(summary)
    kept_ok = summary.get("check", summary).get("ok", True)  # a rush's check, or pgbench's
    if kept_ok and not passed:
        result += "; a run of it made again failed its check"
    return Target(name, passed, result, correctness=True, listed=listed)


def _rush_sold(c):
    return c["bookings_after"] - c["bookings_before"]


def judge(results):
    """Return the targets and checks of a run's results, in the order of the table."""
    found = []
    h = results.get("healthz")
    api = results.get("api_rush")
    found += _api_rush_targets(api, h)
    found += _html_rush_targets(results.get("html_rush"), h)
    group = results.get("group_rush")
    if group:
        c = group["check"]
        found.append(
            _check(
                "Group rush: no overbooking, no group split, no place a pair could take, no 5xx",
                group,
                f"{_rush_sold(c)} applicants in {c['groups_booked']} groups answered 201 for "
                f"{c['free_before']} free places, {c['groups_split']} split, "
                f"{c['left_for_a_pair']} left for a pair, {c['server_errors']} 5xx",
            )
        )
    found += _entry_rush_targets(results.get("entry_rush"), h)
    sp = results.get("spread")
    pg = results.get("pgbench", {})
    floor = results.get("floor")
    if sp and floor:
        ratio = sp["rps"] / floor["spread"]["rps"]
        found.append(
            _share_at_least(
                "Bookings that all succeed: req/s ≥ 50% of the minimal Django view's, same "
                "server, same concurrency",
                ratio,
                0.5,
            )
        )
    if sp and pg.get("spread"):
        ratio = sp["rps"] / pg["spread"]["tps"]
        found.append(
            _share_at_least(
                "Bookings that all succeed: req/s ≥ 50% of pgbench tx/s, same SQL, same "
                "concurrency",
                ratio,
                0.5,
            )
        )
    reads = results.get("reads", {})
    for kind, label, least in (
        ("availability", "Availability", 0.7),
        ("calendar", "Calendar page", 0.5),
    ):
        if reads.get(kind) and h:
            name = f"{label}: req/s ≥ {least:.0%} of `/healthz`"
            found.append(_share_at_least(name, reads[kind]["rps"] / h["rps"], least))
    found += budget_targets(results.get("queries"))
    found += wire_targets(results.get("wire"))
    rep = results.get("report")
    if rep:
        app = sum(rep["app_s"].values())
        bare = sum(rep["bare_s"].values())
        ratio = app / bare if bare else 0
        found.append(
            Target(
                "Report: within 2× the bare SQL",
                ratio <= 2,
                f"{ratio:.2f}× over 24 months",
                ratio,
                2,
            )
        )
        found.append(
            _under(
                "Report: under 5 s",
                app,
                5,
                f"{app:.2f} s for 24 months (the slower year {max(rep['app_s'].values()):.2f} s)",
            )
        )
    found += _draw_targets(results.get("draw"))
    mem = results.get("memory")
    if mem:
        web = mem["web_peak_mb"]
        found.append(
            _under("Web worker < 150 MB resident after the rush", web, 150, f"{web:.0f} MB peak")
        )
    # Checks that guard the measurements themselves; the table shows their figures elsewhere.
    if sp:
        c = sp["check"]
        found.append(
            _check(
                "Bookings that all succeed: each answered 201 and in the database, no 5xx",
                sp,
                f"{c['created_201']:,} answered 201, {c['other_answers']:,} other answers, "
                f"{c['bookings_in_db']:,} bookings in the database, {c['server_errors']} 5xx",
                listed=False,
            )
        )
    if floor:
        found.append(_floor_check(floor))
    if pg.get("sellout"):
        found.append(
            _check(
                "pgbench sell-out: every place sold, none twice",
                pg["sellout"],
                f"sold {pg['sellout']['sold']} of 135",
                listed=False,
            )
        )
    runs = {
        "`/healthz`": h,
        "availability": reads.get("availability"),
        "calendar": results.get("reads", {}).get("calendar"),
        "`/healthz` at the end": results.get("healthz_end"),
    }
    errors = {name: server_errors(s) for name, s in runs.items() if s}
    if errors:
        found.append(
            Target(
                "Reads: no 5xx",
                not any(errors.values()),
                ", ".join(f"{name} {count} 5xx" for name, count in errors.items()),
                correctness=True,
                listed=False,
            )
        )
    return found


def _html_rush_targets(html, h):
    """The HTML flow of issue 18: its rate and p99 the median of its runs, every run checked."""
    return _rush_targets(
        html,
        h,
        rate=("HTML flow: req/s ≥ 40% of `/healthz`", 0.4),
        p99=("HTML flow: p99 < 500 ms", 500),
        check="HTML rush: no overbooking, no place left unsold, no 5xx",
        outcome=lambda c: (
            f"{_rush_sold(c)} bookings for {c['free_before']} free places, "
            f"{c['places_left']} left, {c['server_errors']} 5xx"
        ),
    )


def _api_rush_targets(api, h):
    """The API rush of issue 18: its rate and p99 the median of its runs, every run checked."""
    clients = f" at {api['connections']} clients" if api and "connections" in api else ""
    return _rush_targets(
        api,
        h,
        rate=("Rush: attempts/s ≥ 60% of `/healthz`", 0.6),
        p99=(f"Rush: p99 < 200 ms{clients}", 200),
        check="Rush: no overbooking, no place left unsold, no 5xx",
        outcome=lambda c: (
            f"{_rush_sold(c)} bookings for {c['free_before']} free places, "
            f"{c['successes']} answered 201, {c['places_left']} places left, "
            f"{c['windows_over_capacity']} windows over capacity, {c['server_errors']} 5xx"
        ),
    )


def _rush_targets(rush, h, *, rate, p99, check, outcome):
    """A rush's rate (name, least share of `/healthz`) and p99 (name, limit in ms) judged on
    the median of its runs, and its check on every run; outcome(check) tells the median run's."""
    found = []
    runs = (rush or {}).get("runs") or ([run_summary(rush)] if rush else [])
    of = f" (median of {len(runs)} runs)" if len(runs) > 1 else ""
    if rush and h:
        ratio = statistics.median(share_of_healthz(run, h) for run in runs)
        found.append(_share_at_least(f"{rate[0]}{of}", ratio, rate[1]))
        latency, limit = statistics.median(run["p99_ms"] for run in runs), p99[1]
        found.append(
            _under(
                f"{p99[0]}{of}",
                latency,
                limit,
                f"p99 {latency:.0f} ms ({latency / limit:.2f}× the limit)",
            )
        )
    if rush:
        failed = sum(not run["ok"] for run in runs)
        several = len(runs) > 1
        found.append(
            _check(
                check + (f", in each of {len(runs)} runs" if several else ""),
                rush,
                (
                    f"{failed} of {len(runs)} runs failed their check; the median run: "
                    if several
                    else ""
                )
                + outcome(rush["check"]),
            )
        )
    return found


# Issue 18: a request's server CPU in-process, at most this many times `/healthz`'s.
BUDGETS = {
    "book (201)": 8,
    "book, window full (409)": 2,
    "booking form (GET)": 5,
    "booking form, answers refused (POST)": 5,
    "booking form with answers (GET)": 5,
    "calendar": 4,
    "day page": 4,
    "check page (GET)": 5,
    "booking page (GET)": 5,
}


def budget_targets(queries):
    """Judge each kind of request's CPU in-process against its budget in `/healthz`s."""
    if not queries or "healthz" not in queries or not queries["healthz"].get("cpu_ms"):
        return []
    healthz_cpu = queries["healthz"]["cpu_ms"]
    found = []
    for name, budget in BUDGETS.items():
        q = queries.get(name)
        if q is None or "cpu_ms" not in q:
            continue
        unit = q.get("healthz_cpu_ms", healthz_cpu)  # /healthz asked in turn with it
        ratio = q["cpu_ms"] / unit
        found.append(
            Target(
                f"Budget: {name} ≤ {budget}× `/healthz` in server CPU",
                ratio <= budget,
                f"{ratio:.1f}× ({q['cpu_ms']:.2f} ms against {unit:.2f} ms; "
                f"{ratio / budget:.2f}× the budget)",
                ratio,
                budget,
            )
        )
    return found


def wire_targets(wire):
    """Judge each applicant page's weight on the wire, first visit and later (issue 18)."""
    if not wire or "skipped" in wire:
        return []
    if "failed" in wire:
        return [Target("Weight: every applicant page measured", False, wire["failed"])]
    found = []
    for name, visits in wire.items():
        for visit, limit in (("first", FIRST_VISIT_LIMIT), ("later", LATER_VISIT_LIMIT)):
            weight = visits[visit]["bytes"]
            found.append(
                _under(
                    f"Weight: {name}, {visit} visit < {limit // 1000} KB",
                    weight / 1000,
                    limit / 1000,
                    f"{weight / 1000:.1f} KB in {visits[visit]['requests']} requests "
                    f"({weight / limit:.2f}× the limit)",
                )
            )
    return found


def _floor_check(floor):
    """The floor view's own outcome: a measurement of a floor that oversold proves nothing."""
    sell, sp, counters = floor["sellout"], floor["spread"], floor["counters"]
    c, s = sell["check"], sp["check"]
    passed = _passed(sell) and _passed(sp) and counters["ok"]
    return Target(
        "Floor view: its sell-out sold exactly its free places, every booking of its spread "
        "answered 201, its counters equal its bookings, no 5xx",
        passed,
        f"sell-out: {_rush_sold(c)} bookings for {c['free_before']} free places, "
        f"{c['places_left']} left, {c['server_errors']} 5xx; spread: {s['created_201']:,} "
        f"answered 201, {s['other_answers']:,} other answers, {s['bookings_in_db']:,} in the "
        f"database; {counters['windows_over_capacity']} window-days over capacity, "
        f"{counters['counters_wrong']} counters unlike their bookings",
        correctness=True,
        listed=False,
    )


def _entry_rush_targets(entries, h):
    """The entry rush of issue 15, judged by the API rush's targets of issue 8, and its check."""
    found = []
    if entries and h:
        ratio = entries["rps"] / h["rps"]
        p99 = entries["latency"]["all"]["p99_us"] / 1000
        found.append(
            _share_at_least(
                "Entry rush: entries/s ≥ 40% of `/healthz` (issue 8's target of the API rush)",
                ratio,
                0.4,
            )
        )
        found.append(
            _under(
                "Entry rush: p99 < 200 ms (issue 8's limit of the API rush)",
                p99,
                200,
                f"p99 {p99:.0f} ms ({p99 / 200:.2f}× the limit)",
            )
        )
    if entries:
        c = entries["check"]
        found.append(
            _check(
                "Entry rush: every entry answered 201 is in the database, no 5xx",
                entries,
                f"{c['created_201']:,} answered 201, {c['refused_4xx']:,} 4xx, "
                f"{c['entries_in_db']:,} entries in the database, {c['server_errors']} 5xx",
            )
        )
    return found


def _draw_targets(draw):
    """The draw of issue 15: within 3× its SQL floor as the workers draw (side by side, as
    the beat hands draws on), and what each way of drawing wrote checked."""
    if not draw:
        return []
    floor = draw["floor"]["seconds"]
    side = draw.get("side_by_side") or draw
    ratio = side["draw_s"] / floor if floor else float("inf")
    alone = (
        f"; one after another {draw['draw_s']:,.1f} s, {draw['draw_s'] / floor:,.1f}×"
        if side is not draw and floor
        else ""
    )
    workers = f" on {side['workers']} workers" if side.get("workers", 1) > 1 else ""
    checked = [("", draw)] + ([(" (side by side)", side)] if side is not draw else [])
    return [
        Target(
            "Draw: within 3× the SQL floor (the same bookings, notifications and counters)",
            ratio <= 3,
            f"{ratio:,.1f}× ({side['draw_s']:,.1f} s{workers} against {floor:.2f} s for "
            f"{side['entries']:,} entries{alone})",
            ratio,
            3,
        ),
        *(
            _check(
                "Draw: no counter over its quota, no group split, every entry decided, "
                f"its bookings and notifications as the outcome says{how}",
                found,
                f"{c['bookings']:,} bookings for {c['bookings_expected']:,} applicants won, "
                f"{c['notifications']:,} notifications, {c['days_over_quota']} days and "
                f"{c['windows_over_capacity']} windows over, {c['groups_split']} groups split, "
                f"{c['entries_undecided']} entries undecided, {c['releases_drawn']} of "
                f"{c['releases']} releases drawn",
            )
            for how, found in checked
            for c in [found["check"]]
        ),
    ]


def failed_checks(targets):
    return [t for t in targets if t.correctness and not t.met]


def missed_targets(targets):
    return [t for t in targets if not t.correctness and not t.met]


def exit_status(targets):
    """1 when a correctness check failed (overbooking, a place unsold, a 5xx), else 0."""
    return 1 if failed_checks(targets) else 0


def verdict_lines(targets):
    """Return the end of the run's output: each failed check, then each missed target."""
    lines = []
    failed = failed_checks(targets)
    checks = [t for t in targets if t.correctness]
    if failed:
        lines.append(f"FAILED: {len(failed)} of {len(checks)} correctness checks (exit 1):")
        lines += [f"  - {t.name}: {t.result}" for t in failed]
    else:
        lines.append(f"Correctness: all {len(checks)} checks passed.")
    missed = missed_targets(targets)
    speed = len(targets) - len(checks)
    if missed:
        lines.append(f"Missed: {len(missed)} of {speed} speed targets (not a failure):")
        lines += [f"  - {t.name}: {t.result}" for t in missed]
    else:
        lines.append(f"Speed: all {speed} targets met.")
    return lines
