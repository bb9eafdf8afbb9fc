"""Waits at the counters per office and month: check-in to first call, and service time.

One query over a year reads two histograms, the visits per office, month and whole minute of
wait and of service; the median and 90th percentile come from them in Python, exact to the
minute without reading a row per visit. Percentiles are by nearest rank: the p-th percentile
is the least minute within which at least p % of the applicants were called (or served), so
for waits of 1 to 10 minutes the median is 5 and the 90th percentile 9.
"""

from collections import Counter
from dataclasses import dataclass

from django.db import NotSupportedError
from django.db.models import Count, F, Func, IntegerField, Q, Value
from django.db.models.functions import ExtractMonth, Least

from bookings.models import Visit

from .counts import month_name, month_span

# Minutes are counted up to this (ten hours, longer than a day at the office), so a clock
# left running or a wrong timestamp cannot make a histogram of thousands of rows.
CAP = 600
WAIT, SERVICE = "wait", "service"


class WholeMinutes(Func):
    """The whole minutes of a duration (a datetime minus a datetime), rounded down.

    Django has no portable way to turn a duration into a number, so each database gets its own
    SQL: SQLite holds a difference of datetimes as microseconds, PostgreSQL as an interval.
    """

    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(f"WholeMinutes has no SQL for {connection.vendor}.")

    def as_sqlite(self, compiler, connection, **extra_context):
        # Integer division of integers: rounded towards zero, so down for a wait.
        return super().as_sql(
            compiler, connection, template="(%(expressions)s / 60000000)", **extra_context
        )

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            template="CAST(FLOOR(EXTRACT(EPOCH FROM %(expressions)s) / 60) AS integer)",
            **extra_context,
        )


def _minutes(start: str, end: str):
    return Least(WholeMinutes(F(end) - F(start)), Value(CAP))


def percentile(histogram: dict[int, int], percent: int) -> int | None:
    """Return the nearest-rank percentile of a histogram {minute: applicants}, or None if empty.

    That is the least minute at or below which at least `percent` % of the applicants fall.
    """
    total = sum(histogram.values())
    if not total:
        return None
    rank = -(-percent * total // 100)  # ceil without floats: 90 % of 10 is rank 9, not 9.0000001
    seen = 0
    for minute in sorted(histogram):
        seen += histogram[minute]
        if seen >= rank:
            return minute
    raise AssertionError("unreachable: the ranks add up to the total")


@dataclass(frozen=True)
class WaitMonth:
    """The waits of one office in one month of the office's own calendar, in whole minutes."""

    office_code: str
    office_name: str
    year: int
    month: int
    called: int = 0
    missed: int = 0
    median_wait: int | None = None
    p90_wait: int | None = None
    median_service: int | None = None

    @property
    def month_name(self) -> str:
        return month_name(self.month)

    @property
    def measured(self) -> bool:
        return bool(self.called) or self.median_service is not None

    @property
    def figures(self) -> tuple:
        """Return the figures in report column order, or blanks for a month without data."""
        if not self.measured:
            return (None,) * 5
        return (self.median_wait, self.p90_wait, self.median_service, self.called, self.missed)


def wait_months(*, year: int, month: int | None = None, offices=None) -> list[WaitMonth]:
    """Return the waits of each office and month of a year (or one month) in one query.

    A visit's month is that of its `date`, the office-local day. The wait runs from the
    booking's check-in to the visit's first call and counts every visit called (missed ones
    too); the service runs from the start of service to its end and counts finished visits.
    `offices` (a queryset or a list) limits the offices; months without a call are left out.
    Rows come ordered by office name, office code and month, as the counts are.
    """
    start, end = month_span(year, month)
    visits = Visit.objects.filter(date__gte=start, date__lt=end)
    if offices is not None:
        visits = visits.filter(office__in=offices)

    def histogram(rows, kind, minutes, **extra):
        return (
            rows.values("office__code", "office__name", month=ExtractMonth("date"))
            .annotate(kind=Value(kind), minutes=minutes, visits=Count("pk"), **extra)
            .order_by()
        )

    waits = histogram(
        visits.filter(called_at__isnull=False, booking__checked_in_at__isnull=False),
        WAIT,
        _minutes("booking__checked_in_at", "called_at"),
        missed=Count("pk", filter=Q(state=Visit.State.MISSED)),
    )
    services = histogram(
        visits.filter(state=Visit.State.DONE, serving_at__isnull=False, finished_at__isnull=False),
        SERVICE,
        _minutes("serving_at", "finished_at"),
        missed=Value(0),
    )
    found: dict[tuple, dict] = {}
    for row in waits.union(services, all=True):
        key = (row["office__name"], row["office__code"], row["month"])
        figures = found.setdefault(key, {WAIT: Counter(), SERVICE: Counter(), "missed": 0})
        # A clock set back could make a negative span: count it as no wait at all.
        figures[row["kind"]][max(row["minutes"], 0)] += row["visits"]
        figures["missed"] += row["missed"]
    return [
        WaitMonth(
            office_code=code,
            office_name=name,
            year=year,
            month=month_number,
            called=figures[WAIT].total(),
            missed=figures["missed"],
            median_wait=percentile(figures[WAIT], 50),
            p90_wait=percentile(figures[WAIT], 90),
            median_service=percentile(figures[SERVICE], 50),
        )
        for (name, code, month_number), figures in sorted(found.items())
    ]


def by_office(months: list[WaitMonth]) -> list[tuple[WaitMonth, list[WaitMonth]]]:
    """Group rows (ordered as wait_months returns them) by office, each with all twelve months,
    those without data as empty rows; each group comes with its first row, for the names."""
    groups: list[list[WaitMonth]] = []
    for row in months:
        if groups and groups[-1][-1].office_code == row.office_code:
            groups[-1].append(row)
        else:
            groups.append([row])
    result = []
    for rows in groups:
        first = rows[0]
        present = {row.month: row for row in rows}
        twelve = [
            present.get(n) or WaitMonth(first.office_code, first.office_name, first.year, n)
            for n in range(1, 13)
        ]
        result.append((first, twelve))
    return result
