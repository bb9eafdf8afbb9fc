"""The entry rush (issue 15): a crowd entering one office's ballot through the API."""

import time

from bench.config import ENTRY_APPLICANT_TABLE, ENTRY_TABLE, log, region
from bench.load import run_wrk, status_counts

OFFICE = "bench-ballot"


def make_release(stack):
    """Make the office and its release that takes entries during the run; return its data."""
    return stack.step("entry_release", OFFICE)


def _entries(stack, release_id):
    return stack.query(
        f"""SELECT (SELECT count(*) FROM {ENTRY_TABLE} WHERE release_id = %(r)s),
                  (SELECT count(*) FROM {ENTRY_APPLICANT_TABLE} WHERE release_id = %(r)s)""",
        {"r": release_id},
    )[0]


def entry_check(counts, entries_made, concurrency):
    """Return the rush's check: no 5xx, and the entries in the database those answered 201
    (wrk drops requests still in flight at its end: the server may still take them)."""
    created = counts.get("201", 0)
    check = {
        "created_201": created,
        "refused_4xx": sum(v for k, v in counts.items() if k[:1] == "4"),
        "server_errors": sum(v for k, v in counts.items() if k[:1] == "5"),
        "entries_in_db": entries_made,
    }
    check["ok"] = check["server_errors"] == 0 and created <= entries_made <= created + concurrency
    return check


def entry_rush(stack, release, attempt=0):
    """Enter the release from a crowd of new applicants; check what the database took."""
    attempts = stack.config.entry_attempts
    before, applicants_before = _entries(stack, release["release"])
    log(f"entry_rush: {attempts} entries of 1-5 applicants into release {release['release']}")
    summary = run_wrk(
        stack,
        "entry_rush",
        "ballot_enter.lua",
        {
            "region": region("entry_rush", attempt),
            "release": release["release"],
            "choices": release["choices"],
        },
        cap_total=attempts,
    )
    time.sleep(1)  # let requests still in flight when wrk stopped finish
    after, applicants_after = _entries(stack, release["release"])
    summary["check"] = {
        **entry_check(status_counts(summary, "enter"), after - before, stack.config.concurrency),
        "office": release["office"],
        "applicants_in_db": applicants_after - applicants_before,
    }
    return summary
