"""Judging a run: a failed correctness check fails `make bench`, a missed speed target does not."""

import copy

import pytest

from bench.results import build_table
from bench.targets import exit_status, failed_checks, judge, missed_targets, verdict_lines


def wrk_run(rps, statuses, p50, p90, p99, **extra):
    """A summary of run_wrk() as measured() returns it (latencies in ms)."""
    spread = {"count": sum(statuses.values()), "p50_us": p50 * 1000, "p90_us": p90 * 1000}
    spread |= {"p99_us": p99 * 1000, "max_us": p99 * 1100}
    return {
        "rps": rps,
        "answers": spread["count"],
        "elapsed_s": spread["count"] / rps,
        "statuses": statuses,
        "latency": {"all": spread},
        "cpu": {"web": 0.8, "wrk": 0.1, "postgres": 0.05, "others": 0.02},
        "others_cpu": 0.02,
        "attempt": 1,
        "attempts": 1,
        "crashes": 0,
        "every_attempt_ok": True,
        **extra,
    }


def rush_check(sold=135, free=135, left=0, over=0, errors=0, successes=None):
    successes = sold if successes is None else successes
    ok = sold == free == successes and left == 0 and over == 0 and errors == 0
    return {
        "office": "palembang",
        "date": "2026-12-02",
        "free_before": free,
        "bookings_before": 0,
        "bookings_after": sold,
        "successes": successes,
        "places_left": left,
        "windows_over_capacity": over,
        "server_errors": errors,
        "ok": ok,
    }


def group_check(sold=135, split=0, left=1, errors=0):
    ok = split == 0 and left < 2 and errors == 0
    return {
        "office": "jayapura",
        "date": "2026-12-02",
        "free_before": 135,
        "bookings_before": 0,
        "bookings_after": sold,
        "groups_booked": 39,
        "places_answered": sold,
        "groups_split": split,
        "left_for_a_pair": left,
        "windows_over_capacity": 0,
        "server_errors": errors,
        "ok": ok,
    }


def pgbench_case(tps, transactions, **extra):
    return {
        "tps": tps,
        "transactions": transactions,
        "failed": 0,
        "p50_us": 9100,
        "p90_us": 24000,
        "p99_us": 709000,
        "cpu": {"postgres": 0.7},
        "others_cpu": 0.02,
        **extra,
    }


@pytest.fixture
def run():
    """The results of a full run, with the figures of RESULTS.md's run of 67aec0a."""
    return {
        "config": {"report_repeat": 5, "report_offices": 125},
        "started": "2026-11-29 15:14",
        "duration_s": 234,
        "machine": {"cores": 2, "cpu": "AMD EPYC", "memory_gb": 23.5, "kernel": "6.18"},
        "versions": {
            "app": "67aec0a",
            "python": "3.11.7",
            "django": "5.2.19",
            "postgresql": "15.20",
            "max_connections": 100,
            "gunicorn": "27.0.1",
            "wrk": "4.1.0",
            "pgbench": "15.20",
        },
        "quiet": {"load": (0.17, 0.86, 1.29), "waited_s": 110, "quiet": True},
        "server": "gunicorn 6 sync workers",
        "app_settings": {"CONN_MAX_AGE": 600},
        "healthz": wrk_run(1130, {"healthz 200": 11480}, 88, 104, 113),
        "api_rush": wrk_run(
            550, {"book 201": 135, "book 409 full": 2906}, 127, 174, 1211, check=rush_check()
        ),
        "html_rush": wrk_run(
            110,
            {"form 200": 200, "confirm 302": 135, "flow booked": 135, "flow full-at-form": 1815},
            899,
            1093,
            1246,
            check=rush_check(),
        ),
        "group_rush": wrk_run(
            400,
            {"group3 201": 39, "group2 409 group_full": 1, "group4 409 full": 960},
            150,
            200,
            900,
            check=group_check(sold=134),
        ),
        "spread": wrk_run(
            86,
            {"book 201": 885},
            1134,
            1237,
            1317,
            check={
                "slots": 1200,
                "created_201": 885,
                "other_answers": 0,
                "bookings_in_db": 982,
                "server_errors": 0,
                "ok": True,
            },
        ),
        "reads": {
            "availability": wrk_run(1231, {"availability 200": 12448}, 75, 100, 197),
            "calendar": wrk_run(126, {"calendar 200": 1270}, 783, 863, 915),
        },
        "healthz_end": wrk_run(831, {"healthz 200": 4260}, 119, 137, 146),
        "pgbench": {
            "clients": 97,
            "sellout": pgbench_case(2241, 3007, sold=135, ok=True, every_attempt_ok=True),
            "hot": pgbench_case(342, 3472),
            "spread": pgbench_case(1340, 13533),
        },
        "report": {
            "years": [2023, 2024],
            "app_s": {"2023": 0.98, "2024": 1.02},
            "bare_s": {"2023": 1.02, "2024": 1.17},
            "app_plan_ms": 1150.0,
            "bare_plan_ms": 1036.0,
            "rows": 2_000_000,
            "load_s": 33.0,
            "mismatches": 0,
            "indexes_are_the_apps": True,
            "indexes_used": [],
            "explain_file": "bench/out/report-explain.txt",
            "others_cpu": 0.0,
        },
        "memory": {"web": {"101": {"peak_mb": 108.2, "rss_mb": 101.0}}, "web_peak_mb": 108.2},
    }


def names(targets):
    return [t.name for t in targets]


def test_a_clean_run_passes_and_names_its_missed_speed_targets(run):
    targets = judge(run)

    assert exit_status(targets) == 0
    assert failed_checks(targets) == []
    assert names(missed_targets(targets)) == [
        "Rush: attempts/s ≥ 60% of `/healthz`",
        "Rush: p99 < 200 ms",
        "HTML flow: req/s ≥ 40% of `/healthz`",
        "HTML flow: p99 < 500 ms",
        "Bookings that all succeed: req/s ≥ 50% of pgbench tx/s, same SQL, same concurrency",
        "Calendar page: req/s ≥ 50% of `/healthz`",
    ]
    lines = verdict_lines(targets)
    assert lines[0] == "Correctness: all 6 checks passed."
    assert lines[1] == "Missed: 6 of 10 speed targets (not a failure):"
    assert lines[2] == "  - Rush: attempts/s ≥ 60% of `/healthz`: 49% (0.81× the target)"
    assert lines[3] == "  - Rush: p99 < 200 ms: p99 1211 ms (6.05× the limit)"
    assert lines[6].endswith("concurrency: 6% (0.13× the target)")


def test_each_target_has_its_measure_and_threshold(run):
    by_name = {t.name: t for t in judge(run)}

    rush = by_name["Rush: attempts/s ≥ 60% of `/healthz`"]
    assert (rush.met, rush.threshold) == (False, 0.6)
    assert rush.measured == pytest.approx(550 / 1130)
    assert rush.verdict == "❌ missed: 49% (0.81× the target)"
    p99 = by_name["Rush: p99 < 200 ms"]
    assert (p99.met, p99.measured, p99.threshold) == (False, 1211, 200)
    assert by_name["Report: under 5 s"].measured == pytest.approx(2.0)
    assert by_name["Web worker < 150 MB resident after the rush"].met


def test_the_table_lists_the_targets_of_issue_8_in_order(run):
    table = build_table(run, judge(run))

    rows = table.split("| target | result |\n| --- | --- |\n")[1].splitlines()
    assert [row.split(" | ")[0] for row in rows] == [
        "| Rush: attempts/s ≥ 60% of `/healthz`",
        "| Rush: p99 < 200 ms",
        "| Rush: no overbooking, no place left unsold, no 5xx",
        "| HTML flow: req/s ≥ 40% of `/healthz`",
        "| HTML flow: p99 < 500 ms",
        "| HTML rush: no overbooking, no place left unsold, no 5xx",
        "| Group rush: no overbooking, no group split, no place a pair could take, no 5xx",
        "| Bookings that all succeed: req/s ≥ 50% of pgbench tx/s, same SQL, same concurrency",
        "| Availability: req/s ≥ 70% of `/healthz`",
        "| Calendar page: req/s ≥ 50% of `/healthz`",
        "| Report: within 2× the bare SQL",
        "| Report: under 5 s",
        "| Web worker < 150 MB resident after the rush",
    ]
    assert "| Rush: p99 < 200 ms | ❌ missed: p99 1211 ms (6.05× the limit) |" in rows


def test_an_oversold_rush_fails_the_run(run):
    run["api_rush"]["check"] = rush_check(sold=136, successes=136)

    targets = judge(run)

    assert exit_status(targets) == 1
    [failed] = failed_checks(targets)
    assert failed.name == "Rush: no overbooking, no place left unsold, no 5xx"
    assert failed.verdict.startswith("❌ missed: 136 bookings for 135 free places")
    assert verdict_lines(targets)[0] == "FAILED: 1 of 6 correctness checks (exit 1):"


@pytest.mark.parametrize(
    "check",
    [
        rush_check(sold=130, left=5),  # unsold places while attempts kept coming
        rush_check(errors=3),  # a 5xx
        rush_check(over=1),  # a window over its capacity
    ],
)
def test_an_html_rush_that_sold_wrong_or_erred_fails_the_run(run, check):
    run["html_rush"]["check"] = check

    assert names(failed_checks(judge(run))) == [
        "HTML rush: no overbooking, no place left unsold, no 5xx"
    ]
    assert exit_status(judge(run)) == 1


def test_a_failed_check_of_a_run_made_again_still_fails(run):
    run["api_rush"]["every_attempt_ok"] = False  # the kept run passed, a discarded one did not

    [failed] = failed_checks(judge(run))

    assert failed.result.endswith("; a run of it made again failed its check")
    assert exit_status(judge(run)) == 1


def test_a_5xx_in_the_reads_fails_the_run(run):
    run["reads"]["calendar"]["statuses"]["calendar 502"] = 4

    [failed] = failed_checks(judge(run))

    assert failed.name == "Reads: no 5xx"
    assert "calendar 4 5xx" in failed.result
    assert not failed.listed


def test_the_floors_checks_fail_the_run_without_a_row_in_the_table(run):
    run["spread"]["check"] |= {"other_answers": 3, "ok": False}
    run["pgbench"]["sellout"] |= {"sold": 134, "ok": False}

    targets = judge(run)

    assert names(failed_checks(targets)) == [
        "Bookings that all succeed: each answered 201 and in the database, no 5xx",
        "pgbench sell-out: every place sold, none twice",
    ]
    assert exit_status(targets) == 1
    assert "pgbench sell-out: every place" not in build_table(run, targets)


def test_missed_speed_targets_alone_do_not_fail_the_run(run):
    slow = copy.deepcopy(run)
    slow["api_rush"]["rps"] = 100
    slow["reads"]["availability"]["rps"] = 200
    slow["report"]["app_s"] = {"2023": 4.0, "2024": 4.0}
    slow["memory"]["web_peak_mb"] = 400

    targets = judge(slow)

    assert len(missed_targets(targets)) == 10
    assert failed_checks(targets) == []
    assert exit_status(targets) == 0


def test_a_partial_run_judges_what_it_measured(run):
    partial = {"healthz": run["healthz"], "api_rush": run["api_rush"]}

    assert names(judge(partial)) == [
        "Rush: attempts/s ≥ 60% of `/healthz`",
        "Rush: p99 < 200 ms",
        "Rush: no overbooking, no place left unsold, no 5xx",
        "Reads: no 5xx",
    ]
    assert verdict_lines(judge({}))[0] == "Correctness: all 0 checks passed."


@pytest.mark.parametrize(
    "check",
    [
        group_check(split=1),  # a group whose members are not all in one window
        group_check(left=2),  # a pair could still have been booked
        group_check(errors=1),  # a 5xx
    ],
)
def test_a_group_rush_that_split_a_group_or_erred_fails_the_run(run, check):
    run["group_rush"]["check"] = check

    [failed] = failed_checks(judge(run))
    assert failed.name.startswith("Group rush:")
    assert "group" in build_table(run, judge(run)).lower()


@pytest.fixture
def issue_15(run):
    """A full run with the entry rush and the draw of issue 15."""
    run["entry_rush"] = wrk_run(
        300,
        {"enter 201": 3000},
        250,
        400,
        600,
        check={
            "created_201": 3000,
            "refused_4xx": 0,
            "server_errors": 0,
            "entries_in_db": 3040,
            "applicants_in_db": 4860,
            "office": "bench-ballot",
            "ok": True,
        },
    )
    run["draw"] = {
        "releases": 125,
        "releases_drawn": 125,
        "first_day": "2027-01-11",
        "last_day": "2027-01-15",
        "entries": 100_000,
        "applicants": 160_000,
        "places": 84_375,
        "setup_s": 60.0,
        "close_s": 9.0,
        "draw_s": 450.0,
        "release_p50_s": 3.6,
        "release_p90_s": 3.9,
        "release_max_s": 4.2,
        "entries_won": 54_000,
        "entries_waiting": 46_000,
        "entries_struck": 0,
        "groups": 15_000,
        "bookings": 84_375,
        "notifications": 108_000,
        "cpu": {"bench": 0.45, "postgres": 0.2, "others": 0.02},
        "others_cpu": 0.02,
        "floor": {
            "seconds": 3.0,
            "runs_s": [3.1, 3.0, 2.9],
            "bookings": 84_375,
            "notifications": 108_000,
        },
        "check": {
            "releases": 125,
            "releases_drawn": 125,
            "entries_undecided": 0,
            "bookings": 84_375,
            "bookings_expected": 84_375,
            "notifications": 108_000,
            "days_over_quota": 0,
            "windows_over_capacity": 0,
            "groups_split": 0,
            "ok": True,
        },
    }
    return run


def test_the_targets_of_issue_15_follow_those_of_issue_8(issue_15):
    targets = judge(issue_15)
    table = build_table(issue_15, targets)

    rows = table.split("| target | result |\n| --- | --- |\n")[1].splitlines()
    assert [row.split(" | ")[0] for row in rows][7:10] == [
        "| Entry rush: entries/s ≥ 40% of `/healthz` (issue 8's target of the API rush)",
        "| Entry rush: p99 < 200 ms (issue 8's limit of the API rush)",
        "| Entry rush: every entry answered 201 is in the database, no 5xx",
    ]
    assert [row.split(" | ")[0] for row in rows][15:17] == [
        "| Draw: within 3× the SQL floor (the same bookings, notifications and counters)",
        "| Draw: no counter over its quota, no group split, every entry decided, its bookings "
        "and notifications as the outcome says",
    ]
    by_name = {t.name: t for t in targets}
    draw = by_name["Draw: within 3× the SQL floor (the same bookings, notifications and counters)"]
    assert (draw.met, draw.measured, draw.threshold) == (False, 150, 3)
    assert draw.verdict == "❌ missed: 150.0× (450.0 s against 3.00 s for 100,000 entries)"
    assert "| 450.0 s (222 entries/s) | 3.00 s | 150.0 |" in table
    assert "| 300 entries/s |" in table and "0.27 of `/healthz`" in table
    assert exit_status(targets) == 0


def test_a_5xx_in_the_entry_rush_or_a_wrong_draw_fails_the_run(issue_15):
    issue_15["entry_rush"]["check"] |= {"server_errors": 2, "ok": False}
    issue_15["draw"]["check"] |= {"windows_over_capacity": 1, "ok": False}

    targets = judge(issue_15)

    assert names(failed_checks(targets)) == [
        "Entry rush: every entry answered 201 is in the database, no 5xx",
        "Draw: no counter over its quota, no group split, every entry decided, its bookings "
        "and notifications as the outcome says",
    ]
    assert exit_status(targets) == 1


def test_a_draw_within_3x_its_floor_meets_the_target(issue_15):
    issue_15["draw"]["draw_s"] = 8.5

    target = next(t for t in judge(issue_15) if t.name.startswith("Draw: within"))

    assert target.met and target.verdict.startswith("✅ met: 2.8×")


def test_the_draw_is_judged_as_the_workers_draw_side_by_side_with_the_other_way_shown(issue_15):
    draw = issue_15["draw"]
    draw["side_by_side"] = {
        **{k: draw[k] for k in ("releases", "entries", "bookings", "check")},
        "workers": 2,
        "draw_s": 8.1,
        "release_p50_s": 0.12,
        "release_p90_s": 0.15,
    }
    targets = judge(issue_15)
    table = build_table(issue_15, targets)

    by_name = {t.name: t for t in targets}
    judged = by_name[
        "Draw: within 3× the SQL floor (the same bookings, notifications and counters)"
    ]
    assert judged.met and judged.measured == pytest.approx(2.7)
    assert judged.verdict == (
        "✅ met: 2.7× (8.1 s on 2 workers against 3.00 s for 100,000 entries; "
        "one after another 450.0 s, 150.0×)"
    )
    assert "| one after another | 450.0 s (222 entries/s) | 3.00 s | 150.0 |" in table
    assert "| 2 at once, as the workers draw them | 8.1 s (12,346 entries/s) | 3.00 s | 2.7 |" in (
        table
    )
    checks = [t.name for t in targets if t.name.startswith("Draw: no counter")]
    assert checks[1].endswith("(side by side)")
