"""Which days of an office on a ballot are open to booking: only those of a drawn release.

An office on first come, first served opens each day as it enters the booking horizon, and
asks nothing here. An office on a ballot opens a day only once a release covering it has
been drawn; before that, the day's places belong to the release's entries.
"""

from collections.abc import Iterable
from datetime import date

from offices.models import Office

from .models import Release


def is_released(office: Office, day: date) -> bool:
    """Return whether applicants may book this day (no query for a first-come office)."""
    if not office.by_ballot:
        return True
    return Release.objects.filter(
        office=office, state=Release.State.DRAWN, first_day__lte=day, last_day__gte=day
    ).exists()


def releases_between(offices: Iterable[Office], start: date, end: date) -> dict[int, list]:
    """Return the releases of each ballot office that cover any day from start to end.

    One query for all of them, none when no office is on a ballot.
    """
    ballot = [office.pk for office in offices if office.by_ballot]
    found = {pk: [] for pk in ballot}
    if ballot:
        rows = Release.objects.filter(office__in=ballot, first_day__lte=end, last_day__gte=start)
        # What a calendar needs, kept small: availability is cached with its releases.
        rows = rows.only(*SHOWN).order_by("first_day")
        for release in rows:
            found[release.office_id].append(release)
    return found


SHOWN = ("office_id", "first_day", "last_day", "opens_at", "closes_at", "draw_at", "state")


def covering(releases: list, day: date) -> Release | None:
    """Return the release of a list that covers a day, or None."""
    return next((r for r in releases if r.first_day <= day <= r.last_day), None)
