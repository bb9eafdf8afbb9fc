"""The load tools: run wrk and pgbench, read their output, measure again when disturbed."""

import json
import os
import re
import resource
import signal
import subprocess
import time
from dataclasses import dataclass

from bench.config import LUA_DIR, log
from bench.machine import OTHERS_LIMIT, CpuMeter, loadavg, settle

# What bench/lua/common.lua prints on wrk's stdout.
THREAD_DONE = "BENCH_THREAD_DONE"
SUMMARY = "BENCH_JSON "


class LoadGeneratorCrashed(RuntimeError):
    """wrk ended on a signal before it printed its summary."""


# ---- wrk -----------------------------------------------------------------------------------


@dataclass
class WrkOutput:
    summary: dict | None  # the JSON line of common.lua's done(); None when wrk printed none
    threads_done: int  # threads that said they had had their share of answers


def read_wrk_output(lines, threads, on_all_done=None):
    """Return what wrk printed; call on_all_done once all `threads` have had their share."""
    done = 0
    summary = None
    for line in lines:
        if line.startswith(THREAD_DONE):
            done += 1
            if done == threads and on_all_done:
                on_all_done()
        elif line.startswith(SUMMARY):
            summary = json.loads(line[len(SUMMARY) :])
    return WrkOutput(summary, done)


def wrk_rate(summary):
    """Return (answers, seconds, answers per second) of a wrk summary."""
    answers = summary["latency"]["all"]["count"]
    # From the first request sent to the last answer; wrk's own duration when none came.
    elapsed = summary["elapsed_s"] or summary["wrk"]["duration_us"] / 1e6
    return answers, elapsed, answers / elapsed if elapsed else 0.0


def status_counts(summary, kind=None):
    """Return {status: count} for one kind of request (all kinds when None)."""
    counts = {}
    for key, count in summary["statuses"].items():
        k, _, status = key.partition(" ")
        if kind is None or k == kind:
            counts[status] = counts.get(status, 0) + count
    return counts


def server_errors(summary):
    """Return how many answers were 5xx (a flow's outcome is not an answer)."""
    return sum(
        count
        for key, count in summary["statuses"].items()
        if key.split(" ")[1][:1] == "5" and not key.startswith("flow ")
    )


def lua_table(value):
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {lua_table(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(lua_table(v) for v in value) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value))


def run_wrk(stack, name, script, data, *, connections=None, seconds=None, cap_total=0):
    """Run wrk, one connection per thread (the Lua keeps per-connection state); return figures.

    With cap_total, each thread stops after its share of answers and wrk is ended as soon as
    all have; otherwise it runs for `seconds`.
    """
    connections = connections or stack.config.concurrency
    per_thread = -(-cap_total // connections) if cap_total else 0
    data = {**data, "cap": per_thread}
    data_path = stack.write(f"{name}.lua", "return " + lua_table(data) + "\n")
    duration = seconds or 120
    command = [
        "wrk",
        "-t",
        str(connections),
        "-c",
        str(connections),
        "-d",
        f"{duration}s",
        "--timeout",
        "30s",
        "-s",
        str(LUA_DIR / script),
        f"http://127.0.0.1:{stack.port}",
        "--",
        str(data_path),
    ]
    load = loadavg()
    meter = CpuMeter()
    process = subprocess.Popen(
        command,
        cwd=LUA_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    stack.processes[f"wrk-{name}"] = process
    # SIGINT: wrk ends its wait and reports at once.
    output = read_wrk_output(
        process.stdout, connections, lambda: process.send_signal(signal.SIGINT)
    )
    _pid, _status, usage = os.wait4(process.pid, 0)
    cpu = meter.shares({"wrk": usage.ru_utime + usage.ru_stime})
    process.returncode = os.waitstatus_to_exitcode(_status)
    stack.processes.pop(f"wrk-{name}", None)
    summary = output.summary
    if summary is None:
        error = LoadGeneratorCrashed if process.returncode < 0 else RuntimeError
        raise error(
            f"wrk {name} gave no summary (exit {process.returncode}; a negative one is the "
            f"signal that ended it; {output.threads_done} of {connections} threads had had "
            f"their share): {process.stderr.read()[-2000:]}"
        )
    answers, elapsed, rps = wrk_rate(summary)
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(summary["statuses"].items()))
    log(
        f"  {name}: {answers:,} answers in {elapsed:.1f} s ({rps:,.0f}/s); {statuses}; "
        f"CPU: {', '.join(f'{k} {v:.0%}' for k, v in cpu.items() if k != 'web_workers')}; "
        f"per web worker (of a core): {cpu['web_workers']}"
    )
    summary.update(
        {
            "name": name,
            "connections": connections,
            "answers": answers,
            "rps": rps,
            "load_at_start": load,
            "others_cpu": cpu["others"],
            "cpu": cpu,
        }
    )
    return summary


# ---- pgbench -------------------------------------------------------------------------------


def parse_pgbench_output(text):
    """Return {"tps", "failed"} from pgbench's report on stdout."""
    # The first tps line: pgbench before 14 printed a second one, without connection time.
    tps = re.search(r"tps = ([\d.]+)", text)
    if tps is None:
        raise ValueError(f"no tps in pgbench's output: {text[-2000:]}")
    failed = re.search(r"number of failed transactions: (\d+)", text)  # pgbench 15 and later
    return {"tps": float(tps.group(1)), "failed": int(failed.group(1)) if failed else 0}


def parse_pgbench_log(text):
    """Return the latencies (µs) of a pgbench -l transaction log: its third column."""
    latencies = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            latencies.append(int(parts[2]))
    return latencies


def percentiles(latencies):
    """Return p50, p90 and p99 (nearest rank) of a list of latencies, 0 when it is empty."""
    ordered = sorted(latencies)

    def pct(p):
        if not ordered:
            return 0
        return ordered[max(0, min(len(ordered) - 1, -(-p * len(ordered) // 100) - 1))]

    return {"p50_us": pct(50), "p90_us": pct(90), "p99_us": pct(99)}


def run_pgbench(stack, name, script, clients, limit):
    prefix = stack.tmp / f"pgbench-{name}"
    command = [
        "pgbench",
        "-n",
        "-c",
        str(clients),
        "-j",
        "2",
        *limit,
        "-f",
        str(script),
        "-l",
        "--log-prefix",
        str(prefix),
        stack.config.url(stack.config.db),
    ]
    load = loadavg()
    meter = CpuMeter()
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=stack.tmp
    ) as process:
        stdout, stderr = process.communicate()
        # communicate() reaps pgbench; its CPU comes from our children's resource usage.
    children_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    spent = children_cpu.ru_utime + children_cpu.ru_stime - meter.children
    cpu = meter.shares({"wrk": spent})
    if process.returncode != 0:
        raise RuntimeError(f"pgbench {name} failed: {stderr[-2000:]}")
    report = parse_pgbench_output(stdout)
    latencies = []
    for log_file in stack.tmp.glob(f"pgbench-{name}.*"):
        latencies += parse_pgbench_log(log_file.read_text())
    return {
        "tps": report["tps"],
        "transactions": len(latencies),
        "failed": report["failed"],
        **percentiles(latencies),
        "load_at_start": load,
        "others_cpu": cpu["others"],
        "cpu": cpu,
    }


# ---- measuring again -----------------------------------------------------------------------


def measured(stack, name, run_once, tries=3):
    """Run a measurement; while others took over OTHERS_LIMIT of the CPU, wait and run it again.

    At most `tries` times in all, within the run's retry budget; keeps the cleanest run and
    notes how many were made. A run in which wrk crashed (seen: a segfault now and then in the HTML
    rush) is made again too, budget or not, and counted in `crashes`.
    """
    best = None
    checks = []
    crashes = 0
    for attempt in range(tries):
        try:
            result = run_once(attempt)
        except LoadGeneratorCrashed as exc:
            crashes += 1
            if attempt == tries - 1 and best is None:
                raise
            log(f"{name}: {exc}; measuring again")
            continue
        result["crashes"] = crashes
        result["attempt"] = attempt + 1
        if "check" in result:
            checks.append(result["check"]["ok"])
        elif "ok" in result:
            checks.append(result["ok"])
        if best is None or result["others_cpu"] < best["others_cpu"]:
            best = result
        if result["others_cpu"] <= OTHERS_LIMIT or attempt == tries - 1:
            break
        if time.monotonic() - stack.started > stack.config.retry_budget:
            log(f"{name}: others took {result['others_cpu']:.0%} of the CPU; no time left to retry")
            break
        log(f"{name}: others took {result['others_cpu']:.0%} of the CPU; measuring again")
        settle()
    best["attempts"] = attempt + 1
    best["crashes"] = crashes
    best["every_attempt_ok"] = all(checks)  # a discarded run's failed check still counts
    return best
