"""The results page: the Markdown table of a run, written into RESULTS.md between the marks."""

from bench.capacity import lines as capacity_lines
from bench.config import RESULTS
from bench.load import status_counts
from bench.rush_runs import share_of_healthz, spread_of
from bench.targets import BUDGETS

BEGIN_MARK = "<!-- bench:begin (written by `make bench`; edit outside these marks) -->"
END_MARK = "<!-- bench:end -->"


def ms(us):
    return f"{us / 1000:.0f}" if us >= 10_000 else f"{us / 1000:.1f}"


def lat(summary, kind="all"):
    spread = summary["latency"][kind]
    return f"{ms(spread['p50_us'])} / {ms(spread['p90_us'])} / {ms(spread['p99_us'])}"


def statuses_text(summary):
    parts = sorted(summary["statuses"].items())
    return ", ".join(f"{k}: {v:,}" for k, v in parts)


def _run_lines(r):
    """Return the lines that say where and how the run was made."""
    lines = []
    m, v = r["machine"], r["versions"]
    lines += [
        f"Run of {r['started']} (UTC), {r['duration_s'] / 60:.1f} min.",
        "",
        f"- Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB memory, Linux "
        f"{m['kernel']}; the load generator (wrk, pgbench) runs on the same machine.",
        f"- App: commit {v.get('app', '?')}. Versions: Python {v['python']}, Django "
        f"{v['django']}, PostgreSQL {v['postgresql']} "
        f"(max_connections {v['max_connections']}), gunicorn {v['gunicorn']}, wrk {v['wrk']}, "
        f"pgbench {v['pgbench']}.",
        f"- Load average at the start: {' '.join(f'{x:.2f}' for x in r['quiet']['load'])} "
        f"(1, 5, 15 min; waited {r['quiet']['waited_s']} s for a quiet machine"
        + ("" if r["quiet"]["quiet"] in (None, True) else ", it did not get quiet")
        + ").",
        f"- Server: {r['server']}.",
        "- App settings in effect: "
        + ", ".join(f"`{k}` {v}" for k, v in r.get("app_settings", {}).items())
        + ".",
        "",
    ]
    return lines


def _measure_lines(r):
    """Return the table of the HTTP runs and pgbench, each beside its floor."""
    lines = []
    h = r.get("healthz")
    rows = []

    def add(summary, cells):
        cpu = summary.get("cpu") or {}
        split = " / ".join(
            f"{100 * cpu.get(k, 0):.0f}" for k in ("web", "wrk", "postgres", "others")
        )
        again = (
            f" (run {summary['attempt']} of {summary['attempts']})"
            if summary.get("attempts", 1) > 1
            else ""
        )
        if summary.get("crashes"):
            again += f" (wrk crashed {summary['crashes']}× before: measured again)"
        rows.append((*cells, f"{split} %{again}"))

    if h:
        add(h, ("`/healthz` (floor)", f"{h['rps']:,.0f} req/s", lat(h), statuses_text(h), "—", ""))
    api = r.get("api_rush")
    if api and h:
        ratio = api["rps"] / h["rps"]
        c = api["check"]
        pg = r.get("pgbench", {}).get("sellout")
        view = r.get("floor", {}).get("sellout")
        floor = f"{ratio:.2f} of `/healthz`"
        if view:
            floor += f"; {api['rps'] / view['rps']:.2f} of the floor view's sell-out"
        if pg:
            floor += f"; {api['rps'] / pg['tps']:.2f} of pgbench sell-out ({pg['tps']:,.0f} tx/s)"
        runs = api.get("runs", [])
        add(
            api,
            (
                f"API rush: {api['answers']:,} attempts on one office-day"
                + (f" (the median run of {len(runs)}, by rate)" if len(runs) > 1 else ""),
                f"{api['rps']:,.0f} attempts/s",
                lat(api),
                statuses_text(api),
                floor,
                f"sold {c['bookings_after'] - c['bookings_before']} of {c['free_before']} free, "
                f"{c['places_left']} left, {c['server_errors']} 5xx",
            ),
        )
    if api and h and len(api.get("runs", [])) > 1:
        rows.append(_rush_runs_row("API rush", "attempts/s", api, h))
    html = r.get("html_rush")
    if html and h:
        c = html["check"]
        flows = sum(status_counts(html, "flow").values())
        flow_rate = flows / html["elapsed_s"] if html["elapsed_s"] else 0
        runs = html.get("runs", [])
        add(
            html,
            (
                f"HTML rush: {flows:,} browsers (form, submit, check, confirm, booking page)"
                + (f" (the median run of {len(runs)}, by rate)" if len(runs) > 1 else ""),
                f"{html['rps']:,.0f} req/s, {flow_rate:,.0f} flows/s",
                lat(html)
                + (f" (confirm {lat(html, 'confirm')})" if "confirm" in html["latency"] else ""),
                statuses_text(html),
                f"{html['rps'] / h['rps']:.2f} of `/healthz`",
                f"sold {c['bookings_after'] - c['bookings_before']} of {c['free_before']} free, "
                f"{c['places_left']} left, {c['server_errors']} 5xx",
            ),
        )
    if html and h and len(html.get("runs", [])) > 1:
        rows.append(_rush_runs_row("HTML rush", "req/s", html, h))
    group = r.get("group_rush")
    if group and h:
        c = group["check"]
        add(
            group,
            (
                f"Group rush: {group['answers']:,} groups of 2-5 on one office-day",
                f"{group['rps']:,.0f} groups/s",
                lat(group),
                statuses_text(group),
                f"{group['rps'] / h['rps']:.2f} of `/healthz`",
                f"sold {c['bookings_after'] - c['bookings_before']} of {c['free_before']} free "
                f"in {c['groups_booked']} groups, {c['groups_split']} split, "
                f"{c['server_errors']} 5xx",
            ),
        )
    entries = r.get("entry_rush")
    if entries and h:
        c = entries["check"]
        add(
            entries,
            (
                f"Entry rush: {entries['answers']:,} entries of 1-5 applicants into one ballot",
                f"{entries['rps']:,.0f} entries/s",
                lat(entries),
                statuses_text(entries),
                f"{entries['rps'] / h['rps']:.2f} of `/healthz`",
                f"{c['entries_in_db']:,} entries ({c['applicants_in_db']:,} applicants) in the "
                f"database, {c['refused_4xx']} 4xx, {c['server_errors']} 5xx",
            ),
        )
    sp = r.get("spread")
    pg = r.get("pgbench", {})
    view = r.get("floor")
    if sp:
        floors = []
        if view:
            floors.append(f"{sp['rps'] / view['spread']['rps']:.2f} of the floor view's")
        if pg.get("spread"):
            ratio = sp["rps"] / pg["spread"]["tps"]
            floors.append(f"{ratio:.2f} of pgbench spread ({pg['spread']['tps']:,.0f} tx/s)")
        floor = "; ".join(floors)
        c = sp["check"]
        add(
            sp,
            (
                f"API bookings that all succeed ({c['slots']:,} windows of "
                f"{c['slots'] // 3:,} office-days)",
                f"{sp['rps']:,.0f} bookings/s",
                lat(sp),
                statuses_text(sp),
                floor,
                f"{c['bookings_in_db']:,} bookings in the database",
            ),
        )
    for key, label in (
        ("availability", "Availability API, whole horizon"),
        ("calendar", "Office calendar page, each month of the horizon"),
    ):
        s = r.get("reads", {}).get(key)
        if s and h:
            ratio = s["rps"] / h["rps"]
            add(
                s,
                (
                    label,
                    f"{s['rps']:,.0f} req/s",
                    lat(s),
                    statuses_text(s),
                    f"{ratio:.2f} of `/healthz`",
                    "",
                ),
            )
    h2 = r.get("healthz_end")
    if h2:
        add(
            h2,
            (
                "`/healthz` again at the end",
                f"{h2['rps']:,.0f} req/s",
                lat(h2),
                statuses_text(h2),
                "drift check",
                "",
            ),
        )
    if view:
        for key, label in (
            ("sellout", "Minimal Django view (floor): sell-out of one office-day"),
            ("spread", "Minimal Django view (floor): bookings that all succeed"),
        ):
            f = view[key]
            c = f["check"]
            add(
                f,
                (
                    label,
                    f"{f['rps']:,.0f} req/s",
                    lat(f),
                    statuses_text(f),
                    f"{f['rps'] / h['rps']:.2f} of `/healthz`" if h else "",
                    f"sold {c['bookings_after'] - c['bookings_before']} of {c['free_before']} "
                    f"free, {c['places_left']} left"
                    if key == "sellout"
                    else f"{c['bookings_in_db']:,} bookings in the database",
                ),
            )
    for key, label in (
        ("sellout", "pgbench: sell-out of one office-day (floor of the rush)"),
        ("hot", "pgbench: one hot office-day that never fills"),
        ("spread", "pgbench: spread over 1,200 office-days (floor)"),
    ):
        p = pg.get(key)
        if p:
            extra = f"sold {p['sold']} of 135" if key == "sellout" else ""
            add(
                p,
                (
                    label,
                    f"{p['tps']:,.0f} tx/s",
                    f"{ms(p['p50_us'])} / {ms(p['p90_us'])} / {ms(p['p99_us'])}",
                    f"{p['transactions']:,} tx, {p['failed']} failed",
                    f"{pg['clients']} clients",
                    extra,
                ),
            )
    lines += [
        "| measure | rate | p50 / p90 / p99 ms | answers | ratio to floor | check "
        "| CPU: web / load generator / PostgreSQL / others |",
        "| --- | ---: | ---: | --- | --- | --- | ---: |",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _spread_text(values, fmt):
    found = spread_of(values)
    return " / ".join(fmt(found[k]) for k in ("min", "median", "max"))


def _rush_runs_row(label, unit, rush, h):
    """Return the row of a rush's spread over its runs (min / median / max)."""
    runs = rush["runs"]
    ratios = [share_of_healthz(run, h) for run in runs]
    paired = all(run.get("healthz_rps") for run in runs)
    failed = sum(not run["ok"] for run in runs)
    again = sum(run["attempts"] > 1 for run in runs)
    return (
        f"{label}, each of {len(runs)} runs on a fresh office-day (min / median / max)",
        _spread_text([run["rps"] for run in runs], lambda v: f"{v:,.0f}") + f" {unit}",
        "p99 " + _spread_text([run["p99_ms"] for run in runs], lambda v: f"{v:.0f}"),
        f"{len(runs) - failed} of {len(runs)} runs passed their check",
        _spread_text(ratios, lambda v: f"{v:.2f}")
        + (" of the `/healthz` just before each run" if paired else " of `/healthz`"),
        f"{failed} failed",
        f"{again} made again" if again else "",
    )


def _report_lines(r):
    """Return the table of the monthly report against the bare SQL."""
    lines = []
    rep = r.get("report")
    if rep:
        app = sum(rep["app_s"].values())
        bare = sum(rep["bare_s"].values())
        ratio = app / bare if bare else 0
        lines += [
            "",
            "| report (median of "
            f"{r['config']['report_repeat']}) | `monthly_counts()` | bare aggregate SQL | ratio |",
            "| --- | ---: | ---: | ---: |",
        ]
        for year in rep["years"]:
            a, b = rep["app_s"][str(year)], rep["bare_s"][str(year)]
            lines.append(
                f"| {year} (12 months × {r['config']['report_offices']} offices) | "
                f"{a:.2f} s | {b:.2f} s | {a / b:.2f} |"
            )
        lines.append(f"| 24 months | {app:.2f} s | {bare:.2f} s | {ratio:.2f} |")
        lines.append(
            f"| EXPLAIN ANALYZE, {rep['years'][0]} | {rep['app_plan_ms']:.0f} ms | "
            f"{rep['bare_plan_ms']:.0f} ms | {rep['app_plan_ms'] / rep['bare_plan_ms']:.2f} |"
        )
        lines.append(
            f"\n{rep['rows']:,} bookings loaded in {rep['load_s']:.0f} s; results of both agree "
            f"({rep['mismatches']} differing rows); indexes on the table are the app's own: "
            f"{'yes' if rep['indexes_are_the_apps'] else 'NO'}; indexes the plans use: "
            f"{', '.join(rep['indexes_used']) or 'none (sequential scan)'}. Plans: "
            f"`{rep['explain_file']}`. Others' CPU while timing: {rep.get('others_cpu', 0):.0%}."
        )
    return lines


def _draw_lines(r):
    """Return the table of the draw of every release against its SQL floor (issue 15)."""
    d = r.get("draw")
    if not d:
        return []
    floor = d["floor"]
    cpu = d["cpu"]
    split = " / ".join(f"{100 * cpu.get(k, 0):.0f}" for k in ("bench", "postgres", "others"))
    drawn = f"{d['releases']} releases of {d['first_day']}…{d['last_day']}: {d['entries']:,} "
    drawn += f"entries of {d['applicants']:,} applicants for {d['places']:,} places"
    ways = [("one after another", d)]
    side = d.get("side_by_side")
    if side:
        ways.append((f"{side['workers']} at once, as the workers draw them", side))
    lines = [
        "",
        f"| draw (issue 15): {drawn} | `ballots.draw_due`, each release | set-based SQL floor "
        f"(median of {len(floor['runs_s'])}) | ratio |",
        "| --- | ---: | ---: | ---: |",
        *(
            f"| {how} | {w['draw_s']:,.1f} s ({w['entries'] / w['draw_s']:,.0f} entries/s) | "
            f"{floor['seconds']:.2f} s | {w['draw_s'] / floor['seconds']:,.1f} |"
            for how, w in ways
        ),
        "",
        f"The draws booked {d['bookings']:,} applicants ({d['entries_won']:,} entries won, "
        f"{d['groups']:,} of them groups), put {d['entries_waiting']:,} entries on the waiting "
        f"list and struck {d['entries_struck']:,}; it wrote {d['notifications']:,} "
        "notifications for the winners"
        + (
            f" and {d['entry_notifications']:,} for the waiting entries (not in the floor)"
            if "entry_notifications" in d
            else ""
        )
        + f". One release: p50 {d['release_p50_s']:.2f} s, p90 {d['release_p90_s']:.2f} s, "
        f"max {d['release_max_s']:.2f} s"
        + (
            f" one after another, p50 {side['release_p50_s']:.2f} s, p90 "
            f"{side['release_p90_s']:.2f} s at once (each draw of the same seed and value"
            f" wrote the same: {side['bookings']:,} bookings)"
            if side
            else ""
        )
        + f". The floor wrote {floor['bookings']:,} bookings and "
        f"{floor['notifications']:,} notifications (runs: "
        + ", ".join(f"{t:.2f}" for t in floor["runs_s"])
        + f" s). Entries made in bulk in {d['setup_s']:.0f} s and closed in "
        f"{d['close_s']:.1f} s (not timed). CPU while drawing: the draw's process / PostgreSQL "
        f"/ others {split} %"
        + (
            ""
            if d.get("quiet_before") in (None, True)
            else " (others did not settle under 5% before it)"
        )
        + ".",
    ]
    prof = d.get("profile")
    if prof:
        parts = "; ".join(
            f"{share}% {frame.split(' (')[0]}" for share, frame in prof["project"][:10]
        )
        lines.append(f"Profile of the draws (py-spy, wall time): {parts}.")
    return lines


def _memory_lines(r):
    """Return the line on the web and Celery workers' memory."""
    lines = []
    mem = r.get("memory")
    if mem:
        web = mem["web_peak_mb"]
        lines += [
            "",
            f"Memory after the rush: web worker peak resident {web:.0f} MB (each worker: "
            + ", ".join(f"{p['peak_mb']:.0f}" for p in mem["web"].values())
            + " MB)"
            + (
                f"; Celery worker peak {mem['celery']['peak_mb']:.0f} MB (prefork, "
                f"{mem['celery']['concurrency']} children; delivered "
                f"{mem['celery']['pending_before'] - mem['celery']['pending_after']:,} "
                f"notifications in {mem['celery']['seconds']} s, "
                f"{mem['celery']['failed']} failed, {mem['celery']['pending_after']} left)"
                if mem.get("celery")
                else ""
            )
            + ".",
        ]
    return lines


def _query_lines(r):
    """Return the table of SQL statements and in-process time per request."""
    lines = []
    queries = r.get("queries")
    if queries:
        healthz_cpu = queries.get("healthz", {}).get("cpu_ms")
        lines += [
            "",
            "| request (Django test client, in-process; median) | status | SQL statements "
            "| wall ms | CPU ms | CPU ÷ `/healthz` (asked in turn) | budget |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name, q in queries.items():
            cpu, unit = q.get("cpu_ms"), q.get("healthz_cpu_ms", healthz_cpu)
            ratio = f"{cpu / unit:.1f}×" if cpu is not None and unit else "—"
            budget = f"≤ {BUDGETS[name]}×" if name in BUDGETS else ""
            lines.append(
                f"| {name} | {q['status']} | {q['queries']} | {q['ms']:.2f} | "
                f"{cpu:.2f} | {ratio} | {budget} |"
                if cpu is not None
                else f"| {name} | {q['status']} | {q['queries']} | {q['ms']:.2f} | — | — | |"
            )
    return lines


def _wire_lines(r):
    """Return the table of each applicant page's weight on the wire (issue 18)."""
    wire = r.get("wire")
    if not wire:
        return []
    if "skipped" in wire:
        return ["", f"Page weights on the wire: skipped ({wire['skipped']})."]
    if "failed" in wire:
        return ["", f"Page weights on the wire: failed ({wire['failed']})."]
    lines = [
        "",
        "| page (Chromium, 390×844 phone, Indonesian) | first visit | later visit "
        "| page's Content-Encoding | largest on first visit |",
        "| --- | ---: | ---: | --- | --- |",
    ]
    for name, visits in wire.items():
        first, later = visits["first"], visits["later"]
        largest = ", ".join(
            f"{path.rsplit('/', 1)[-1] or path} {size / 1000:.1f} KB{f' ({enc})' if enc else ''}"
            for path, _type, size, enc, _cached in first["resources"][:3]
        )
        lines.append(
            f"| {name} (`{visits['path']}`) | {first['bytes'] / 1000:.1f} KB, "
            f"{first['requests']} requests | {later['bytes'] / 1000:.1f} KB, "
            f"{later['requests']} requests ({later['from_cache']} from cache) | "
            f"{first['encoding'] or 'none'} | {largest} |"
        )
    asked = next(iter(wire.values()))["first"].get("accept_encoding")
    lines.append(
        "\nBytes received per page load as Chromium counts them (headers and bodies as sent; "
        "KB = 1,000 bytes), until the network is idle: a first visit in a fresh context, a "
        "later one in the same context, its HTTP cache warm."
        + (f" Chromium sent `Accept-Encoding: {asked}`." if asked else "")
    )
    return lines


def _profile_lines(r):
    """Return the summary of the py-spy profiles (BENCH_PROFILE=1)."""
    lines = []
    prof = r.get("profile")
    if prof and "skipped" not in prof:
        lines += [
            "",
            "Profile (py-spy --gil: Python holding the GIL, every web worker; share of the "
            "samples spent in and under):",
            "",
        ]
        for name, found in prof.items():
            parts = "; ".join(f"{share}% {frame.split(' (')[0]}" for share, frame in found["parts"])
            lines.append(f"- {name} ({found['rps']:,.0f} req/s under py-spy): {parts}")
    return lines


def _target_lines(targets):
    """Return the table of the targets of issues 8 and 15, as judged."""
    lines = []
    listed = [t for t in targets if t.listed]
    if listed:
        lines += ["", "| target | result |", "| --- | --- |"]
        lines += [f"| {t.name} | {t.verdict} |" for t in listed]
    return lines


def build_table(r, targets):
    """Return the Markdown of the results: the run, the details, the targets judged."""
    lines = [
        *_run_lines(r),
        *_measure_lines(r),
        *_report_lines(r),
        *_draw_lines(r),
        *_memory_lines(r),
        *_query_lines(r),
        *_wire_lines(r),
        *_profile_lines(r),
        *capacity_lines(r),
        *_target_lines(targets),
    ]
    return "\n".join(lines) + "\n"


def write_results(table):
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    block = f"{BEGIN_MARK}\n{table}{END_MARK}"
    if BEGIN_MARK in text and END_MARK in text:
        head, rest = text.split(BEGIN_MARK, 1)
        tail = rest.split(END_MARK, 1)[1]
        text = head + block + tail
    else:
        text = f"# Benchmark results\n\n## Latest run\n\n{block}\n" + text
    RESULTS.write_text(text, encoding="utf-8")
