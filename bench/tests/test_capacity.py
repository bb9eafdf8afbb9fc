"""The capacity plan is worked out from the run's own costs, and says which are estimated."""

import copy

import pytest

from bench import capacity
from bench.results import build_table
from bench.targets import judge
from bench.tests.test_targets import issue_15, run  # noqa: F401 (the fixtures)


@pytest.fixture
def measured(issue_15):  # noqa: F811
    found = copy.deepcopy(issue_15)
    cores = found["machine"]["cores"]
    assert cores == 2

    def phase(summary, rps, web, postgres):
        """Give a measured phase its rate and its CPU, as shares of the machine."""
        summary["rps"] = rps
        summary["cpu"] = {"web": web, "wrk": 0.1, "postgres": postgres, "others": 0}
        return summary

    phase(found["healthz"], 1000, 0.4, 0.01)  # 0.8 ms web
    phase(found["reads"]["calendar"], 800, 0.4, 0.0)  # 1 ms
    phase(found["reads"]["availability"], 1000, 0.5, 0.0)
    phase(found["api_rush"], 1000, 0.6, 0.05)  # 1.2 ms web, 0.1 ms PostgreSQL
    phase(found["spread"], 250, 0.5, 0.25)  # 4 ms web, 2 ms PostgreSQL
    phase(found["html_rush"], 500, 0.5, 0.05)  # 2 ms web
    phase(found["entry_rush"], 100, 0.5, 0.1)  # 10 ms web
    found["pgbench"]["spread"]["tps"] = 1000
    found["pgbench"]["spread"]["cpu"] = {"postgres": 0.5}  # 1 ms
    found["queries"] = {
        "healthz": {"status": 200, "queries": 1, "ms": 0.5, "cpu_ms": 0.5},
        "day page": {"status": 200, "queries": 0, "ms": 0.6, "cpu_ms": 0.7, "healthz_cpu_ms": 0.5},
        "booking form, window full (409)": {"status": 409, "queries": 0, "ms": 1.3}
        | {"cpu_ms": 1.5, "healthz_cpu_ms": 0.6},
    }
    found["memory"]["celery"] = {"per_second": 100.0, "concurrency": 2, "peak_mb": 115}
    found["memory"]["celery"] |= {"pending_before": 9000, "pending_after": 0, "seconds": 90.0}
    found["memory"]["celery"] |= {"failed": 0}
    return found


def test_a_request_costs_its_phase_share_of_the_machine_over_its_rate():
    summary = {"rps": 500, "cpu": {"web": 0.8, "postgres": 0.1}}

    cost = capacity.request_cost(summary, cores=2)

    assert cost == pytest.approx({"web": 3.2, "postgres": 0.4})
    assert capacity.request_cost({"rps": 500}, cores=2) is None


def test_each_cost_is_measured_or_said_to_be_estimated(measured):
    found = capacity.costs(measured)

    assert found["booking that succeeds (API)"] == pytest.approx(
        {"web": 4.0, "postgres": 2.0, "how": "measured"}
    )
    assert found["the same booking as plain SQL (pgbench spread)"]["web"] is None
    assert found["the same booking as plain SQL (pgbench spread)"]["postgres"] == pytest.approx(1)
    # The pages the run does not load under gunicorn: /healthz's cost plus their excess in-process.
    assert found["day page"]["web"] == pytest.approx(0.8 + 0.2)
    assert found["booking form, window sold out"]["web"] == pytest.approx(0.8 + 0.9)
    assert found["day page"]["how"].startswith("estimated")


def test_the_release_minute_adds_each_part_at_its_cost(measured):
    minute = capacity.release_minute(capacity.costs(measured))

    arriving = 1_000_000 / 60
    expected = {
        "calendar views": 2 * arriving * 1.0,
        "day pages": arriving * 1.0,
        "booking forms (mostly sold out)": arriving * 1.7,
        "attempts": arriving * 1.2,
        "bookings, the first 10 s": 16_875 / 10 * 4.0,
        "gzip for browsers (estimated)": 4 * arriving * 0.1,
    }
    assert {what: cores for what, _rate, _cost, cores in minute["rows"]} == pytest.approx(
        {what: ms / 1000 for what, ms in expected.items()}
    )
    together = sum(expected.values()) / 1000
    assert minute["web_together"] == pytest.approx(together)
    assert minute["web_peak"] == pytest.approx(together * 2 / 0.6)
    # The crowd over the whole minute, the bookings over the ten seconds the places last.
    booking = expected["bookings, the first 10 s"] / 1000
    core_seconds = (together - booking) * 60 + booking * 10
    assert minute["web_waiting_room"] == pytest.approx(core_seconds / 180 / 0.6)
    assert minute["postgres"] == pytest.approx((1687.5 * 2.0 + arriving * 0.1) / 1000)


def test_the_workers_and_the_ballot_follow_from_their_measured_rates(measured):
    sending = capacity.workers(measured, places=16_875)
    drawn = capacity.ballot(capacity.costs(measured))

    assert sending["confirmations"] == 33_750
    assert sending["workers_for_a_minute"] == 6  # 562.5 a second at 100 each
    assert drawn["first_hour"] == pytest.approx(500_000 / 3600 * 10 / 1000)


def test_a_partial_run_plans_only_what_it_measured(measured):
    del measured["spread"]

    table = "\n".join(capacity.lines(measured))

    assert capacity.release_minute(capacity.costs(measured)) is None
    assert "| office calendar page | 1.00 | 0.00 | measured |" in table
    assert "A release minute" not in table
    assert "An ordinary day" in table


def test_the_results_page_carries_the_plan(measured):
    table = build_table(measured, judge(measured))

    assert "Capacity plan, from this run's costs" in table
    assert "| bookings, the first 10 s | 1,688 | 4.00 | 7 |" in table
    assert "**together, while the places sell**" in table
