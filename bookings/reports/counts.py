"""Monthly applicant counts per office: one aggregate query over bookings for a year."""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Q, Sum
from django.db.models.functions import ExtractMonth
from django.utils.dates import MONTHS

from bookings.models import Booking, Closure, Entry, Offer, Release

FIRST_YEAR = 2000
LAST_YEAR = 2100
PURPOSES = tuple(Booking.Purpose.values)

# A walk-in is registered checked in, so every checked-in booking is an applicant served.
SERVED = Q(status=Booking.Status.CHECKED_IN)
ONLINE = SERVED & Q(channel=Booking.Channel.ONLINE)
WALK_IN = SERVED & Q(channel=Booking.Channel.WALK_IN)
PRIORITY = WALK_IN & Q(walk_in_reason__in=sorted(Booking.PRIORITY_REASONS))
# Booked as one of a group (only online bookings have one). A member rescheduled alone has
# left its group and counts as a single booking; one cancelled alone is still a member.
GROUP_MEMBER = Q(group__isnull=False)

COUNTS = (
    "served",
    "online",
    "walk_in",
    "priority",
    "no_show",
    "cancelled",
    "booked",
    "group_booked",
    "group_checked_in",
)


def month_name(month: int) -> str:
    """Return a month's name in the active language, or "" for 0 (a total)."""
    return str(MONTHS[month]) if month in MONTHS else ""


@dataclass(frozen=True)
class MonthCount:
    """The applicant count of one office in one month of the office's own calendar."""

    office_code: str
    office_name: str
    year: int
    month: int
    served: int = 0
    online: int = 0
    walk_in: int = 0
    priority: int = 0
    no_show: int = 0
    cancelled: int = 0
    booked: int = 0
    group_booked: int = 0
    group_checked_in: int = 0
    served_by_purpose: dict[str, int] = field(default_factory=dict)

    @property
    def month_name(self) -> str:
        return month_name(self.month)

    @property
    def figures(self) -> tuple[int, ...]:
        """Return the counts in report column order: the totals, then served by purpose."""
        purposes = (self.served_by_purpose.get(p, 0) for p in PURPOSES)
        return (*(getattr(self, name) for name in COUNTS), *purposes)


def _aggregates():
    counts = {
        "served": Count("pk", filter=SERVED),
        "online": Count("pk", filter=ONLINE),
        "walk_in": Count("pk", filter=WALK_IN),
        "priority": Count("pk", filter=PRIORITY),
        "no_show": Count("pk", filter=Q(status=Booking.Status.NO_SHOW)),
        "cancelled": Count("pk", filter=Q(status=Booking.Status.CANCELLED)),
        "booked": Count("pk"),
        "group_booked": Count("pk", filter=GROUP_MEMBER),
        "group_checked_in": Count("pk", filter=SERVED & GROUP_MEMBER),
    }
    for purpose in PURPOSES:
        counts[f"served_{purpose}"] = Count("pk", filter=SERVED & Q(purpose=purpose))
    return counts


def monthly_counts(*, year: int, month: int | None = None, offices=None) -> list[MonthCount]:
    """Return the counts of each office and month of a year (or one month) in one query.

    A booking's month is that of its `date`, the office-local day of the appointment.
    `offices` (a queryset or a list) limits the offices; months without bookings are left out.
    Rows come ordered by office name, office code and month.
    """
    start, end = month_span(year, month)
    bookings = Booking.objects.filter(date__gte=start, date__lt=end)
    if offices is not None:
        bookings = bookings.filter(office__in=offices)
    rows = (
        bookings.values("office__name", "office__code", month=ExtractMonth("date"))
        .annotate(**_aggregates())
        .order_by("office__name", "office__code", "month")
    )
    return [_month_count(row, year) for row in rows]


def month_span(year: int, month: int | None) -> tuple[date, date]:
    """Return the first day of a year (or of one of its months) and the first day after it."""
    if month is None:
        return date(year, 1, 1), date(year + 1, 1, 1)
    start = date(year, month, 1)
    return start, date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)


def _month_count(row, year) -> MonthCount:
    return MonthCount(
        office_code=row["office__code"],
        office_name=row["office__name"],
        year=year,
        month=row["month"],
        **{name: row[name] for name in COUNTS},
        served_by_purpose={p: row[f"served_{p}"] for p in PURPOSES},
    )


def total(counts: list[MonthCount]) -> MonthCount:
    """Return the sum of month rows as one row (month 0), named after the first row's office."""
    first = counts[0] if counts else MonthCount("", "", 0, 0)
    return MonthCount(
        office_code=first.office_code,
        office_name=first.office_name,
        year=first.year,
        month=0,
        **{name: sum(getattr(row, name) for row in counts) for name in COUNTS},
        served_by_purpose={
            p: sum(row.served_by_purpose.get(p, 0) for row in counts) for p in PURPOSES
        },
    )


def by_office(counts: list[MonthCount]) -> list[tuple[list[MonthCount], MonthCount]]:
    """Group month rows (ordered as monthly_counts returns them) by office, each with its total."""
    groups: list[list[MonthCount]] = []
    for row in counts:
        if groups and groups[-1][-1].office_code == row.office_code:
            groups[-1].append(row)
        else:
            groups.append([row])
    return [(months, total(months)) for months in groups]


def served_per_month(counts: list[MonthCount]) -> dict[int, int]:
    """Return the applicants served in each month 1–12, summed over the offices given."""
    served = dict.fromkeys(range(1, 13), 0)
    for row in counts:
        served[row.month] += row.served
    return served


@dataclass(frozen=True)
class BallotMonth:
    """What an office on a ballot handed out in a month: the entries and places of the releases
    whose first day is in it, and the freed places offered from waiting lists (by their day)."""

    office_code: str
    office_name: str
    month: int
    releases: int = 0
    entries: int = 0
    places: int = 0
    won: int = 0
    offered: int = 0
    accepted: int = 0

    @property
    def month_name(self) -> str:
        return month_name(self.month)


def ballot_months(*, year: int, month: int | None = None, offices=None) -> list[BallotMonth]:
    """Return the ballot figures of each office and month of a year (or one month), in two
    queries: releases with their entries, offers. Offices without a release are left out."""
    start, end = month_span(year, month)
    releases = Release.objects.filter(first_day__gte=start, first_day__lt=end)
    offers = Offer.objects.filter(day__gte=start, day__lt=end)
    if offices is not None:
        releases, offers = releases.filter(office__in=offices), offers.filter(office__in=offices)
    found = {}

    def at(code, name, month):
        return found.setdefault(
            (name, code, month),
            {"releases": 0, "entries": 0, "places": 0, "won": 0, "offered": 0, "accepted": 0},
        )

    listed = ~Q(entries__status=Entry.Status.WITHDRAWN)
    won = Q(entries__status=Entry.Status.WON)
    for row in releases.values(
        "pk", "office__code", "office__name", "first_day", "places"
    ).annotate(entered=Count("entries", filter=listed), winners=Count("entries", filter=won)):
        figures = at(row["office__code"], row["office__name"], row["first_day"].month)
        figures["releases"] += 1
        figures["entries"] += row["entered"]
        figures["won"] += row["winners"]
        figures["places"] += sum(((row["places"] or {}).get("days") or {}).values())
    accepted = Q(state=Offer.State.ACCEPTED)
    for row in offers.values("office__code", "office__name", month=ExtractMonth("day")).annotate(
        made=Count("pk"), taken=Count("pk", filter=accepted)
    ):
        figures = at(row["office__code"], row["office__name"], row["month"])
        figures["offered"] += row["made"]
        figures["accepted"] += row["taken"]
    return [
        BallotMonth(office_code=code, office_name=name, month=month, **figures)
        for (name, code, month), figures in sorted(found.items())
    ]


@dataclass(frozen=True)
class ClosureMonth:
    """The days an office closed in a month after their bookings were made (by the closed
    day's month), and how many applicants were moved or left to choose again."""

    office_code: str
    office_name: str
    month: int
    closures: int = 0
    moved: int = 0
    cancelled: int = 0

    @property
    def month_name(self) -> str:
        return month_name(self.month)


def closure_months(*, year: int, month: int | None = None, offices=None) -> list[ClosureMonth]:
    """Return the closures of each office and month of a year (or one month), in one query.
    Offices without a closure are left out."""
    start, end = month_span(year, month)
    rows = Closure.objects.filter(date__gte=start, date__lt=end)
    if offices is not None:
        rows = rows.filter(office__in=offices)
    rows = (
        rows.values("office__code", "office__name", month=ExtractMonth("date"))
        .annotate(closures=Count("pk"), moved_n=Sum("moved"), cancelled_n=Sum("cancelled"))
        .order_by("office__name", "office__code", "month")
    )
    return [
        ClosureMonth(
            office_code=row["office__code"],
            office_name=row["office__name"],
            month=row["month"],
            closures=row["closures"],
            moved=row["moved_n"],
            cancelled=row["cancelled_n"],
        )
        for row in rows
    ]
