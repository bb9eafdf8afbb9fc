"""Reading wrk's and pgbench's output: pure functions of the text the tools print."""

import json

import pytest

from bench.load import (
    lua_table,
    parse_pgbench_log,
    parse_pgbench_output,
    percentiles,
    read_wrk_output,
    server_errors,
    status_counts,
    wrk_rate,
)

# wrk 4.1 with bench/lua/paths.lua, 3 threads, a cap of 5 answers each: wrk's own report,
# then the JSON line of common.lua's done().
WRK_PATHS = """\
Running 2s test @ http://127.0.0.1:18777
  3 threads and 3 connections
BENCH_THREAD_DONE
BENCH_THREAD_DONE
BENCH_THREAD_DONE
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.39ms    2.58ms  13.13ms   65.66%
    Req/Sec   308.52    254.61     2.06k    95.08%
  1876 requests in 2.10s, 661.56KB read
  Non-2xx or 3xx responses: 938
Requests/sec:    893.39
Transfer/sec:    315.05KB
BENCH_JSON {"wrk":{"requests":1876,"duration_us":2099859,"bytes":677435,"connect_errors":0,\
"read_errors":0,"write_errors":0,"status_errors":938,"timeouts":0,"p50_us":3483,"p90_us":7651,\
"p99_us":10075,"max_us":13133,"mean_us":3385.7},"statuses":{"healthz 200":938,"healthz 404":938},\
"latency":{"healthz":{"count":1876,"p50_us":2284,"p90_us":7733,"p99_us":10698,"max_us":13152},\
"all":{"count":1876,"p50_us":2284,"p90_us":7733,"p99_us":10698,"max_us":13152}},\
"elapsed_s":2.100744}
"""

# An API rush (bench/lua/api_book.lua) ended by SIGINT once its 4 threads had their share.
WRK_RUSH = """\
Running 2m test @ http://127.0.0.1:41234
  4 threads and 4 connections
BENCH_THREAD_DONE
BENCH_THREAD_DONE
BENCH_THREAD_DONE
BENCH_THREAD_DONE
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   140.12ms  210.40ms   1.30s    93.10%
    Req/Sec    30.11     12.02    60.00     70.00%
  3045 requests in 5.58s, 1.10MB read
  Non-2xx or 3xx responses: 2910
Requests/sec:    545.70
Transfer/sec:    201.33KB
BENCH_JSON {"wrk":{"requests":3045,"duration_us":5580000,"bytes":1153433,"connect_errors":0,\
"read_errors":0,"write_errors":0,"status_errors":2910,"timeouts":0,"p50_us":127000,\
"p90_us":174000,"p99_us":1211000,"max_us":1302000,"mean_us":140120.5},\
"statuses":{"book 201":135,"book 409 full":2904,"book 500":2},\
"latency":{"book":{"count":3041,"p50_us":127010,"p90_us":174200,"p99_us":1211300,\
"max_us":1302100},"all":{"count":3041,"p50_us":127010,"p90_us":174200,"p99_us":1211300,\
"max_us":1302100}},"elapsed_s":5.529000}
"""

# The HTML rush (bench/lua/html_flow.lua) counts each flow's outcome beside the answers.
HTML_STATUSES = {
    "form 200": 200,
    "form 409": 1815,
    "submit 302": 200,
    "check 200": 200,
    "confirm 302": 134,
    "confirm 409": 65,
    "confirm 500": 1,
    "booking 200": 134,
    "flow booked": 134,
    "flow full-at-form": 1815,
    "flow full-at-confirm": 65,
    "flow error-confirm-500": 1,
}

# wrk 4.1 killed by a segfault before done(): its report and the JSON line never came.
WRK_CRASHED = """\
Running 2m test @ http://127.0.0.1:41234
  100 threads and 100 connections
BENCH_THREAD_DONE
BENCH_THREAD_DONE
"""

# pgbench 15.20, as bench/floors.py runs it (-n -c 97 -j 2 -t 31 -f … -l).
PGBENCH_15 = """\
pgbench (15.20 (Debian 15.20-0+deb12u1))
transaction type: /tmp/antrean-bench-x/pgbench_sellout.sql
scaling factor: 1
query mode: simple
number of clients: 97
number of threads: 2
maximum number of tries: 1
number of transactions per client: 31
number of transactions actually processed: 3007/3007
number of failed transactions: 0 (0.000%)
latency average = 43.286 ms
initial connection time = 93.104 ms
tps = 2240.934672 (without initial connection time)
"""

# pgbench 13 printed tps twice and had no failed transactions.
PGBENCH_13 = """\
transaction type: /tmp/antrean-bench-x/pgbench_spread.sql
scaling factor: 1
query mode: simple
number of clients: 97
number of threads: 2
duration: 10 s
number of transactions actually processed: 13533
latency average = 71.702 ms
tps = 1339.874211 (including connections establishing)
tps = 1352.806903 (excluding connections establishing)
"""

# pgbench -l: client, transaction, latency (µs), script, epoch s, µs.
PGBENCH_LOG = """\
0 1 2075 0 1796139827 685804
1 1 2058 0 1796139827 685811
0 2 97 0 1796139827 685909

3 2 0 0 1796139827 685924
"""


def test_read_wrk_output_takes_the_summary_line_and_counts_threads_done():
    output = read_wrk_output(WRK_PATHS.splitlines(keepends=True), threads=3)

    assert output.threads_done == 3
    assert output.summary["statuses"] == {"healthz 200": 938, "healthz 404": 938}
    assert output.summary["wrk"]["requests"] == 1876
    assert output.summary["latency"]["healthz"]["p99_us"] == 10698
    assert output.summary["elapsed_s"] == pytest.approx(2.100744)


def test_read_wrk_output_ends_wrk_once_every_thread_had_its_share():
    calls = []
    lines = WRK_RUSH.splitlines(keepends=True)

    read_wrk_output(lines, threads=4, on_all_done=lambda: calls.append("all four done"))
    read_wrk_output(lines, threads=5, on_all_done=lambda: calls.append("one still going"))

    assert calls == ["all four done"]


def test_read_wrk_output_without_summary_when_wrk_crashed():
    output = read_wrk_output(WRK_CRASHED.splitlines(), threads=100)

    assert output.summary is None
    assert output.threads_done == 2


def test_wrk_rate_counts_answers_over_the_lua_clock():
    summary = read_wrk_output(WRK_RUSH.splitlines(), threads=4).summary

    answers, seconds, rate = wrk_rate(summary)

    # The answers the Lua timed (3,041), not wrk's requests (3,045: four cut off by SIGINT).
    assert answers == 3041
    assert seconds == pytest.approx(5.529)
    assert rate == pytest.approx(3041 / 5.529)


def test_wrk_rate_falls_back_on_wrk_duration_then_zero():
    summary = json.loads(WRK_PATHS.splitlines()[-1].removeprefix("BENCH_JSON "))
    summary["elapsed_s"] = 0

    assert wrk_rate(summary) == (1876, pytest.approx(2.099859), pytest.approx(1876 / 2.099859))

    summary["wrk"]["duration_us"] = 0
    assert wrk_rate(summary) == (1876, 0, 0.0)


def test_status_counts_by_kind_of_request():
    summary = read_wrk_output(WRK_RUSH.splitlines(), threads=4).summary

    assert status_counts(summary, "book") == {"201": 135, "409 full": 2904, "500": 2}
    assert status_counts({"statuses": HTML_STATUSES}, "flow") == {
        "booked": 134,
        "full-at-form": 1815,
        "full-at-confirm": 65,
        "error-confirm-500": 1,
    }
    assert sum(status_counts({"statuses": HTML_STATUSES}).values()) == sum(HTML_STATUSES.values())


def test_server_errors_count_answers_not_flows():
    rush = read_wrk_output(WRK_RUSH.splitlines(), threads=4).summary
    reads = read_wrk_output(WRK_PATHS.splitlines(), threads=3).summary

    assert server_errors(rush) == 2
    assert server_errors({"statuses": HTML_STATUSES}) == 1  # "confirm 500", not its flow
    assert server_errors(reads) == 0


def test_lua_table_of_a_run_data_file():
    data = {"region": "167101", "slots": [["palembang", "2026-12-02", 7]], "cap": 30, "x": True}

    assert lua_table(data) == (
        '{region = "167101", slots = {{"palembang", "2026-12-02", 7}}, cap = 30, x = true}'
    )


def test_parse_pgbench_15_output():
    assert parse_pgbench_output(PGBENCH_15) == {"tps": 2240.934672, "failed": 0}


def test_parse_pgbench_output_counts_failed_transactions():
    text = PGBENCH_15.replace("failed transactions: 0 (0.000%)", "failed transactions: 3 (0.100%)")

    assert parse_pgbench_output(text)["failed"] == 3


def test_parse_pgbench_13_output_takes_the_first_tps():
    assert parse_pgbench_output(PGBENCH_13) == {"tps": 1339.874211, "failed": 0}


def test_parse_pgbench_output_without_tps():
    with pytest.raises(ValueError, match="no tps"):
        parse_pgbench_output("pgbench: error: connection to server failed\n")


def test_parse_pgbench_log_takes_the_latency_column():
    assert parse_pgbench_log(PGBENCH_LOG) == [2075, 2058, 97, 0]


def test_percentiles_nearest_rank():
    assert percentiles(list(range(100, 0, -1))) == {"p50_us": 50, "p90_us": 90, "p99_us": 99}
    assert percentiles([2075, 2058, 97, 0]) == {"p50_us": 97, "p90_us": 2075, "p99_us": 2075}
    assert percentiles([]) == {"p50_us": 0, "p90_us": 0, "p99_us": 0}
