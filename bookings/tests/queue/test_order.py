"""The order of calls: priority first but not forever, walk-ins interleaved, nobody held up."""

from datetime import timedelta

import pytest

from bookings.queue.order import (
    ONLINE,
    PRIORITY,
    WALK_IN,
    Policy,
    line_at_check_in,
    next_line,
    recent_needed,
    upcoming,
)

P, A, B = PRIORITY, ONLINE, WALK_IN
POLICY = Policy(priority_calls_in_row=2, online_calls_per_walk_in=3)


@pytest.mark.parametrize(
    ("waiting", "recent", "expected"),
    [
        # Nobody waits: nobody is called.
        ("", "", None),
        # Priority first...
        ("PAB", "", P),
        ("PAB", "A", P),
        ("PAB", "P", P),
        # ... but not forever: after two priority calls in a row, an ordinary applicant.
        ("PAB", "PP", A),
        ("PB", "PP", B),
        ("PAB", "APP", P),
        # ... unless nobody ordinary waits.
        ("P", "PPPPP", P),
        # Among the ordinary, online first, a walk-in after every three online calls.
        ("AB", "", A),
        ("AB", "AA", A),
        ("AB", "AAA", B),
        ("AB", "BAAA", A),
        ("AB", "AAAB", B),
        # Priority calls between online calls do not break the online run.
        ("AB", "APAPA", B),
        ("PAB", "PPAAA", B),
        # A line with nobody waiting never holds the others up.
        ("B", "", B),
        ("B", "BBBBB", B),
        ("A", "AAAAAA", A),
    ],
)
def test_next_line(waiting, recent, expected):
    """`recent`: the latest calls' lines, newest first."""
    assert next_line(set(waiting), list(recent), POLICY) == expected


def test_upcoming_follows_next_line_call_by_call():
    lines = {P: ["p1", "p2", "p3"], A: [f"a{i}" for i in range(1, 8)], B: ["b1", "b2"]}

    called = upcoming(lines, [], POLICY)

    assert called == [
        "p1", "p2", "a1", "p3", "a2", "a3", "b1", "a4", "a5", "a6", "b2", "a7",
    ]  # fmt: skip


def test_upcoming_continues_from_the_calls_already_made():
    assert upcoming({A: ["a1", "a2"], B: ["b1"]}, list("AAA"), POLICY) == ["b1", "a1", "a2"]
    assert upcoming({P: ["p1"], A: ["a1"]}, list("PP"), POLICY) == ["a1", "p1"]


def test_the_history_needed_spans_an_online_run_with_priority_runs_between():
    policy = Policy(priority_calls_in_row=2, online_calls_per_walk_in=3)
    recent = list("PPAPPAPPA")  # three online calls, each after a full priority run

    assert len(recent) <= recent_needed(policy)
    assert next_line({A, B}, recent[: recent_needed(policy)], policy) == B


@pytest.mark.parametrize(
    ("walk_in", "priority", "window_ended", "expected"),
    [
        (False, False, False, A),  # on time or early: the online line, from the window's start
        (False, False, True, B),  # after the window ended: with the walk-ins
        (True, False, False, B),
        (True, True, False, P),
        (False, True, True, P),
    ],
)
def test_line_at_check_in(walk_in, priority, window_ended, expected, now):
    ends = now + timedelta(minutes=-1 if window_ended else 1)

    line = line_at_check_in(walk_in=walk_in, priority=priority, window_ends_at=ends, now=now)

    assert line == expected
