"""Which line a counter calls next: the one rule of fair calling, with nothing read or written.

Three lines wait (bookings.models.Visit.Line): P, priority applicants; A, applicants with a
booking whose window has begun; B, walk-ins and applicants who came after their window ended.
Priority is called first, but after the office's `priority_calls_in_row` priority calls in a
row an ordinary applicant is; among the ordinary, a walk-in after every
`online_calls_per_walk_in` online calls. A line with nobody waiting never holds the others up.
"""

from collections.abc import Sequence
from dataclasses import dataclass

ONLINE, WALK_IN, PRIORITY = "A", "B", "P"


@dataclass(frozen=True)
class Policy:
    """An office's calling rule, as staff set it."""

    priority_calls_in_row: int
    online_calls_per_walk_in: int

    @classmethod
    def of(cls, office):
        return cls(office.priority_calls_in_row, office.online_calls_per_walk_in)


def _run(recent: Sequence[str], line: str, *, ignoring: str = "") -> int:
    """Return how many of the latest calls, newest first, were of `line` in a row."""
    count = 0
    for called in recent:
        if called == ignoring:
            continue
        if called != line:
            break
        count += 1
    return count


def next_line(waiting: set[str], recent: Sequence[str], policy: Policy) -> str | None:
    """Return the line to call from, given the lines with someone waiting (and callable now)
    and the lines of the office's latest calls of the day, newest first; None if nobody waits."""
    ordinary = waiting & {ONLINE, WALK_IN}
    priority_due = not ordinary or _run(recent, PRIORITY) < policy.priority_calls_in_row
    if PRIORITY in waiting and priority_due:
        return PRIORITY
    if not ordinary:
        return None
    if ordinary == {ONLINE} or ordinary == {WALK_IN}:
        return ordinary.pop()
    online_run = _run(recent, ONLINE, ignoring=PRIORITY)
    return WALK_IN if online_run >= policy.online_calls_per_walk_in else ONLINE


def line_at_check_in(*, walk_in: bool, priority: bool, window_ends_at, now) -> str:
    """Return the line an applicant joins at check-in: priority, walk-in, or online while their
    window has not ended (one who comes after it joins the walk-ins)."""
    if priority:
        return PRIORITY
    if walk_in or window_ends_at <= now:
        return WALK_IN
    return ONLINE


def recent_needed(policy: Policy) -> int:
    """Return how many of the latest calls next_line needs to see: enough to count the online
    run with priority runs between its calls."""
    return (policy.priority_calls_in_row + 1) * (policy.online_calls_per_walk_in + 1)


def upcoming(lines: dict[str, Sequence], recent: Sequence[str], policy: Policy) -> list:
    """Return everyone waiting in the order the counters will call them, if nobody else comes:
    `lines` holds each line's waiting in their place's order, `recent` the latest calls' lines,
    newest first."""
    queues = {line: list(waiting)[::-1] for line, waiting in lines.items() if waiting}
    history = list(recent)
    called = []
    while queues:
        line = next_line(set(queues), history, policy)
        called.append(queues[line].pop())
        if not queues[line]:
            del queues[line]
        history.insert(0, line)
    return called
