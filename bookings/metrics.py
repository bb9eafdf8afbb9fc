"""What the operator watches: booking attempts as they happen, and the rows that are the truth.

Two kinds of numbers, kept two ways:

- **Events** (`antrean_booking_attempts_total`): counted in the web process that answers the
  attempt, with prometheus_client's counters. Under gunicorn each worker writes its counts into
  a file of `PROMETHEUS_MULTIPROC_DIR` and a scrape adds them up (antrean.metrics).
- **State** (the outbox, the queues, the ballots, what beat has left undone): read from the
  database at scrape time by `Collector`, in a fixed number of queries whatever the number of
  offices. The rows are the truth whichever process changed them (web, worker or beat), so no
  process keeps a copy that could drift or die with it.
"""

import re
from contextlib import contextmanager
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Q
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily

from bookings.models import ContactCheck, Entry, Notification, Release, Visit
from offices import clock
from offices.models import Office

BOOKED = "booked"
# A refusal whose error names no single rule: problems with the fields of the form or body.
INVALID = "invalid"
# Anything but a refusal: the request ended in a server error.
ERROR = "error"
# A label value comes from our own error codes only (`full`, `contact_limit`...), never from
# what a client typed.
_CODE = re.compile(r"[a-z_]{1,40}")

BOOKING_ATTEMPTS = Counter(
    "antrean_booking_attempts",
    "Attempts to book (one applicant or a group), by channel and outcome: booked, or the "
    "refusal's error code.",
    ["channel", "outcome"],
)

# How late work may be before it counts as overdue: a few runs of the beat task that does it
# (the outbox relay every second, the draws and the lapse of unconfirmed holds every minute).
OUTBOX_GRACE = timedelta(minutes=10)
BEAT_GRACE = timedelta(minutes=5)


def refusal_code(error: ValidationError) -> str:
    """Return the rule a refusal names (its error code), or `invalid` for field problems."""
    code = getattr(error, "code", None)
    return code if isinstance(code, str) and _CODE.fullmatch(code) else INVALID


@contextmanager
def booking_attempt(channel: str):
    """Count the booking attempt run inside: booked, refused (its code) or a server error."""
    try:
        yield
    except ValidationError as refusal:
        BOOKING_ATTEMPTS.labels(channel, refusal_code(refusal)).inc()
        raise
    except Exception:
        BOOKING_ATTEMPTS.labels(channel, ERROR).inc()
        raise
    BOOKING_ATTEMPTS.labels(channel, BOOKED).inc()


def _gauge(name, documentation, labels, rows):
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for values, number in rows:
        family.add_metric(values, number)
    return family


class Collector:
    """Read the outbox, the queues, the ballots and beat's overdue work from the database."""

    def __init__(self, now=None):
        self.now = now

    def collect(self):
        now = self.now or clock.now()
        yield from self._outbox(now)
        yield self._queues(now)
        yield from self._ballots(now)
        yield self._beat_overdue(now)

    def _outbox(self, now):
        pending, failed = Notification.Status.PENDING, Notification.Status.FAILED
        rows = {
            row["channel"]: row
            for row in Notification.objects.filter(status__in=[pending, failed])
            .order_by()
            .values("channel")
            .annotate(
                pending=Count("pk", filter=Q(status=pending)),
                failed=Count("pk", filter=Q(status=failed)),
                overdue=Count(
                    "pk", filter=Q(status=pending, next_attempt_at__lt=now - OUTBOX_GRACE)
                ),
            )
        }
        channels = Notification.Channel.values
        zero = {"pending": 0, "failed": 0, "overdue": 0}
        yield _gauge(
            "antrean_outbox_messages",
            "Messages in the outbox not sent: pending (waiting or being retried) or failed "
            "(given up), by channel.",
            ["status", "channel"],
            [
                ((status, channel), rows.get(channel, zero)[status])
                for status in ("pending", "failed")
                for channel in channels
            ],
        )
        yield _gauge(
            "antrean_outbox_overdue_messages",
            "Pending messages nobody has tried for 10 minutes past their time: workers, broker "
            "or the beat's outbox relay are not running.",
            ["channel"],
            [((channel,), rows.get(channel, zero)["overdue"]) for channel in channels],
        )

    def _queues(self, now):
        offices = list(Office.objects.order_by("code").only("pk", "code", "timezone"))
        today = {office.pk: office.today(now) for office in offices}
        waiting = {
            (row["office_id"], row["date"]): row["visits"]
            for row in Visit.objects.filter(state=Visit.State.WAITING, date__in=set(today.values()))
            .order_by()
            .values("office_id", "date")
            .annotate(visits=Count("pk"))
        }
        return _gauge(
            "antrean_queue_waiting",
            "Applicants checked in and waiting to be called at each office, today in its zone.",
            ["office"],
            [((office.code,), waiting.get((office.pk, today[office.pk]), 0)) for office in offices],
        )

    def _ballots(self, now):
        entries = dict(
            Entry.objects.filter(release__state__in=[Release.State.OPEN, Release.State.CLOSED])
            .order_by()
            .values_list("status")
            .annotate(rows=Count("pk"))
        )
        yield _gauge(
            "antrean_ballot_entries",
            "Entries in the ballots not drawn yet, by status.",
            ["status"],
            [((status,), entries.get(status, 0)) for status in Entry.Status.values],
        )
        releases = Release.objects.aggregate(
            last_drawn=Max("drawn_at"),
            **{state: Count("pk", filter=Q(state=state)) for state in Release.State.values},
        )
        yield _gauge(
            "antrean_ballot_releases",
            "Ballot releases by state: open for entries, closed awaiting the draw, drawn.",
            ["state"],
            [((state,), releases[state]) for state in Release.State.values],
        )
        last = releases["last_drawn"]
        yield _gauge(
            "antrean_ballot_last_draw_timestamp_seconds",
            "When the latest draw ran (Unix time; 0 before the first).",
            [],
            [((), last.timestamp() if last else 0)],
        )

    def _beat_overdue(self, now):
        draws = Release.objects.filter(draw_at__lt=now - BEAT_GRACE).exclude(
            state=Release.State.DRAWN
        )
        holds = ContactCheck.objects.filter(
            state=ContactCheck.State.PENDING, expires_at__lt=now - BEAT_GRACE
        )
        return _gauge(
            "antrean_beat_overdue",
            "Work the beat should have done 5 minutes ago: draws due and not run (or whose "
            "public value was never typed in), unconfirmed holds not lapsed.",
            ["task"],
            [(("run_due_ballots",), draws.count()), (("lapse_unconfirmed",), holds.count())],
        )
