"""Signals for staff: patterns that may be brokers or bots, read from recent bookings.

They only flag. Nothing here cancels or blocks: staff look, and may set a block with a reason.
Each signal is one aggregate query over the bookings of the offices shown whose appointment
falls from `since` on (the office-day index finds them), whatever the table's size.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, F, Max, Q
from django.db.models.functions import Substr, TruncSecond

from bookings.models import Booking, NikRelease
from bookings.nik import mask_email, mask_nik, mask_phone

# How many NIKs behind one contact or address, and bookings in one second at one office,
# make a signal; how many rows each signal shows at most.
MANY_NIKS = 3
BURST = 5
REPEATED_NO_SHOWS = 2
SHOWN = 20


@dataclass(frozen=True)
class Signals:
    phones: list
    emails: list
    clients: list
    bursts: list
    mismatches: int
    mismatched: list
    far: list
    no_shows: list
    releases: list


def read_signals(offices, since: date) -> Signals:
    """Return the signals of the bookings at these offices with appointments from `since`."""
    recent = Booking.objects.filter(office__in=offices, date__gte=since)
    online = recent.filter(channel=Booking.Channel.ONLINE)

    def behind(field, mask):
        rows = (
            online.exclude(**{field: ""})
            .values(field)
            .annotate(
                niks=Count("nik", distinct=True),
                bookings=Count("pk"),
                offices=Count("office", distinct=True),
                last=Max("created_at"),
            )
            .filter(niks__gte=MANY_NIKS)
            .order_by("-niks", "-last")[:SHOWN]
        )
        return [{**row, "who": mask(row[field])} for row in rows]

    bursts = (
        online.annotate(second=TruncSecond("created_at"))
        .values("office__name", "second")
        .annotate(bookings=Count("pk"))
        .filter(bookings__gte=BURST)
        .order_by("-bookings", "-second")[:SHOWN]
    )
    mismatched = recent.filter(birth_date_mismatch=True, status=Booking.Status.BOOKED)
    far = (
        recent.exclude(office__province_code="")
        .annotate(province=Substr("nik", 1, 2))
        .exclude(province=F("office__province_code"))
        .values("office__name", "province")
        .annotate(bookings=Count("pk"))
        .order_by("-bookings")[:SHOWN]
    )
    no_shows = (
        recent.filter(status=Booking.Status.NO_SHOW)
        .exclude(phone="")
        .values("phone")
        .annotate(no_shows=Count("pk"), last=Max("date"))
        .filter(no_shows__gte=REPEATED_NO_SHOWS)
        .order_by("-no_shows", "-last")[:SHOWN]
    )
    releases = (
        NikRelease.objects.filter(Q(office__in=offices) | Q(booking__office__in=offices))
        .filter(created_at__date__gte=since)
        .select_related("booking__office", "office")[:SHOWN]
    )
    return Signals(
        phones=behind("phone", mask_phone),
        emails=behind("email", mask_email),
        clients=behind("client", lambda key: key[:6]),
        bursts=list(bursts),
        mismatches=mismatched.count(),
        mismatched=[
            {"code": b.code, "office": b.office.name, "date": b.date, "nik": mask_nik(b.nik)}
            for b in mismatched.select_related("office").order_by("-created_at")[:SHOWN]
        ],
        far=list(far),
        no_shows=[{**row, "who": mask_phone(row["phone"])} for row in no_shows],
        releases=list(releases),
    )
