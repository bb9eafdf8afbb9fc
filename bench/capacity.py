"""The capacity plan for the whole country, worked out from the costs a run measured (issue 18)."""

import math

# The country, as DESIGN.md and issue 18 give it.
OFFICES = 125
PLACES_PER_OFFICE_DAY = 150
ONLINE_PLACES_PER_OFFICE_DAY = 135  # 15 a day are kept for walk-ins
MESSAGES_PER_BOOKING = 4  # a confirmation and a reminder, each by e-mail and by SMS
CONFIRMATIONS_PER_BOOKING = 2  # sent at once: the e-mail and the SMS

# Assumptions, not measurements: each is said as such in the plan.
REQUESTS_PER_BOOKING = 30  # pages and API calls, look-ups, people who look and do not book
BUSIEST_HOUR_SHARE = 0.15  # of an ordinary day's traffic
RELEASE_CROWD = 1_000_000  # people who arrive within the release minute
CALENDAR_VIEWS_EACH = 2  # and one day page, one form and one attempt each
SELL_OUT_SECONDS = 10  # the country's places sell within the first seconds
PEAK_FACTOR = 2  # the first seconds at twice the minute's average
HEADROOM = 0.6  # cores planned at 60% of what they can do
WAITING_ROOM_SECONDS = 180  # a waiting room lets the minute's crowd in over three minutes
GZIP_MS = 0.1  # a page compressed for a browser (wrk does not ask for it)
BALLOT_ENTRIES = 1_000_000  # over the week a release is open, half in its first hour


PLAIN_SQL = "the same booking as plain SQL (pgbench spread)"  # PostgreSQL alone, no web


def request_cost(summary, cores):
    """Return what one request of a measured phase cost, in ms of one core: web and PostgreSQL.

    A phase's CPU is measured as shares of the whole machine; over its rate that is each
    request's cost, gunicorn and HTTP included.
    """
    rate = summary.get("rps") or summary.get("tps")
    cpu = summary.get("cpu") or {}
    if not rate or not cpu:
        return None
    return {
        "web": 1000 * cores * cpu.get("web", 0) / rate,
        "postgres": 1000 * cores * cpu.get("postgres", 0) / rate,
    }


def _in_process_estimate(r, cores, name):
    """Estimate a page's cost under gunicorn as `/healthz`'s and its in-process excess."""
    queries, healthz = r.get("queries", {}), r.get("healthz")
    page, unit = queries.get(name), queries.get("healthz")
    base = request_cost(healthz, cores) if healthz else None
    if not (page and unit and base and page.get("cpu_ms") is not None):
        return None
    beyond = page["cpu_ms"] - page.get("healthz_cpu_ms", unit["cpu_ms"])
    return {"web": base["web"] + max(beyond, 0), "postgres": base["postgres"]}


def costs(r):
    """Return each kind of request's cost (ms of one core: web, PostgreSQL) and how it is known."""
    cores = r["machine"]["cores"]
    measured = {
        "`/healthz`": r.get("healthz"),
        "office calendar page": r.get("reads", {}).get("calendar"),
        "availability API": r.get("reads", {}).get("availability"),
        "booking attempt in a rush (mostly refused)": r.get("api_rush"),
        "booking that succeeds (API)": r.get("spread"),
        "HTML flow, per request (mostly sold-out forms)": r.get("html_rush"),
        "ballot entry (API)": r.get("entry_rush"),
        PLAIN_SQL: r.get("pgbench", {}).get("spread"),
    }
    found = {}
    for name, summary in measured.items():
        cost = request_cost(summary, cores) if summary else None
        if cost:
            if name == PLAIN_SQL:
                cost["web"] = None  # pgbench has no web side
            found[name] = cost | {"how": "measured"}
    for name, page in (
        ("day page", "day page"),
        ("booking form, window sold out", "booking form, window full (409)"),
    ):
        cost = _in_process_estimate(r, cores, page)
        if cost:
            found[name] = cost | {"how": "estimated: `/healthz` plus its in-process cost beyond"}
    return found


def _cores(rate, cost_ms):
    return rate * cost_ms / 1000


def release_minute(found):
    """Return the release minute's rows (what, per second, cost, web cores) and its totals.

    None when the run did not measure every part it needs.
    """
    needed = (
        "office calendar page",
        "day page",
        "booking form, window sold out",
        "booking attempt in a rush (mostly refused)",
        "booking that succeeds (API)",
    )
    if any(name not in found for name in needed):
        return None
    places = OFFICES * ONLINE_PLACES_PER_OFFICE_DAY
    arriving = RELEASE_CROWD / 60
    booked = places / SELL_OUT_SECONDS
    pages = arriving * (CALENDAR_VIEWS_EACH + 2)
    sold_out_form = found["booking form, window sold out"]["web"]
    parts = [
        ("calendar views", arriving * CALENDAR_VIEWS_EACH, found["office calendar page"]["web"]),
        ("day pages", arriving, found["day page"]["web"]),
        ("booking forms (mostly sold out)", arriving, sold_out_form),
        ("attempts", arriving, found["booking attempt in a rush (mostly refused)"]["web"]),
        (
            f"bookings, the first {SELL_OUT_SECONDS} s",
            booked,
            found["booking that succeeds (API)"]["web"],
        ),
        ("gzip for browsers (estimated)", pages, GZIP_MS),
    ]
    rows = [(what, rate, cost, _cores(rate, cost)) for what, rate, cost in parts]
    together = sum(row[3] for row in rows)
    # The crowd's requests come all minute; the bookings only while the places last.
    booking_cores = _cores(booked, found["booking that succeeds (API)"]["web"])
    core_seconds = (together - booking_cores) * 60 + booking_cores * SELL_OUT_SECONDS
    postgres = _cores(booked, found["booking that succeeds (API)"]["postgres"]) + _cores(
        arriving, found["booking attempt in a rush (mostly refused)"]["postgres"]
    )
    return {
        "rows": rows,
        "places": places,
        "web_together": together,
        "web_peak": together * PEAK_FACTOR / HEADROOM,
        "web_waiting_room": core_seconds / WAITING_ROOM_SECONDS / HEADROOM,
        "postgres": postgres,
        "postgres_planned": postgres / HEADROOM,
        "bookings_per_second": booked,
    }


def ordinary_day(found):
    """Return an ordinary day's busiest hour: requests and bookings a second, web cores."""
    mix = found.get("HTML flow, per request (mostly sold-out forms)")
    bookings = OFFICES * ONLINE_PLACES_PER_OFFICE_DAY
    per_second = bookings * REQUESTS_PER_BOOKING * BUSIEST_HOUR_SHARE / 3600
    return {
        "applicants": OFFICES * PLACES_PER_OFFICE_DAY,
        "online": bookings,
        "requests_per_day": bookings * REQUESTS_PER_BOOKING,
        "requests_per_second": per_second,
        "bookings_per_second": bookings * BUSIEST_HOUR_SHARE / 3600,
        "web_cores": _cores(per_second, mix["web"]) if mix else None,
        "messages_per_day": bookings * MESSAGES_PER_BOOKING,
    }


def workers(r, places):
    """Return the Celery workers that send the release's confirmations within a minute."""
    celery = r.get("memory", {}).get("celery")
    if not celery or not celery.get("per_second"):
        return None
    confirmations = places * CONFIRMATIONS_PER_BOOKING
    return {
        "confirmations": confirmations,
        "per_second": celery["per_second"],
        "children": celery["concurrency"],
        "one_worker_s": confirmations / celery["per_second"],
        "workers_for_a_minute": math.ceil(confirmations / 60 / celery["per_second"]),
    }


def ballot(found):
    """Return the web cores a ballot's entries take: over its week, and in its first hour."""
    entry = found.get("ballot entry (API)")
    if not entry:
        return None
    week = _cores(BALLOT_ENTRIES / (7 * 24 * 3600), entry["web"])
    first_hour = _cores(BALLOT_ENTRIES / 2 / 3600, entry["web"])
    return {"entry_ms": entry["web"], "week": week, "first_hour": first_hour}


def _ms(value):
    return "—" if value is None else f"{value:.2f}"


def lines(r):
    """Return the plan's Markdown: the costs measured, the ordinary day, the release minute."""
    if "machine" not in r:
        return []
    found = costs(r)
    if not found:
        return []
    out = [
        "",
        "Capacity plan, from this run's costs (ms of one core per request: each phase's CPU "
        "share of the machine over its rate, gunicorn and HTTP included):",
        "",
        "| request | web | PostgreSQL | known |",
        "| --- | ---: | ---: | --- |",
    ]
    out += [
        f"| {name} | {_ms(c['web'])} | {_ms(c['postgres'])} | {c['how']} |"
        for name, c in found.items()
    ]
    day = ordinary_day(found)
    out += [
        "",
        f"**An ordinary day**: {day['applicants']:,} applicants at {OFFICES} offices, "
        f"{day['online']:,} booked online; at {REQUESTS_PER_BOOKING} requests a booking "
        f"(assumed) and {BUSIEST_HOUR_SHARE:.0%} of the day in its busiest hour (assumed), "
        f"{day['requests_per_second']:.0f} requests and {day['bookings_per_second']:.1f} "
        "bookings a second"
        + (
            f": {day['web_cores']:.2f} of a web core at the HTML flow's cost per request"
            if day["web_cores"] is not None
            else ""
        )
        + f"; {day['messages_per_day']:,} messages a day.",
    ]
    minute = release_minute(found)
    if minute:
        out += [
            "",
            f"**A release minute** ({RELEASE_CROWD:,} people in the minute, assumed: "
            f"{CALENDAR_VIEWS_EACH} calendar views, a day page, a form and an attempt each; "
            f"{minute['places']:,} places sold in the first {SELL_OUT_SECONDS} s):",
            "",
            "| part | per second | web ms each | web cores |",
            "| --- | ---: | ---: | ---: |",
        ]
        out += [
            f"| {what} | {rate:,.0f} | {cost:.2f} | {cores:.0f} |"
            for what, rate, cost, cores in minute["rows"]
        ]
        out += [
            f"| **together, while the places sell** |  |  | **{minute['web_together']:.0f}** |",
            "",
            f"With the first seconds at {PEAK_FACTOR}× the average and cores at "
            f"{HEADROOM:.0%}: **{minute['web_peak']:.0f} web cores**; behind a waiting room "
            f"that lets the minute's crowd in over {WAITING_ROOM_SECONDS} s: "
            f"**{minute['web_waiting_room']:.0f}**. PostgreSQL: "
            f"{minute['bookings_per_second']:,.0f} bookings and the attempts a second take "
            f"{minute['postgres']:.1f} cores ({minute['postgres_planned']:.1f} at "
            f"{HEADROOM:.0%}).",
        ]
        sending = workers(r, minute["places"])
        if sending:
            out += [
                "",
                f"**Workers**: the release's {sending['confirmations']:,} confirmations at "
                f"this run's {sending['per_second']:,.0f} a second for a worker of "
                f"{sending['children']} children (to files) take one worker "
                f"{sending['one_worker_s'] / 60:.1f} min; "
                f"{sending['workers_for_a_minute']} such workers send them within a minute.",
            ]
    drawn = ballot(found)
    if drawn:
        out += [
            "",
            f"**On a ballot**: an entry costs {drawn['entry_ms']:.1f} ms of web CPU; "
            f"{BALLOT_ENTRIES:,} entries over the week the release is open are "
            f"{drawn['week']:.2f} of a core on average, half of them in its first hour "
            f"{drawn['first_hour']:.1f} cores.",
        ]
    return out
