"""The notification outbox: rows written with a booking change, queued on commit or by the relay."""

import logging
from collections.abc import Iterable, Sequence
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from antrean import bulk
from bookings.models import Booking, BookingGroup, Entry, Notification
from offices import clock

from .tasks import (
    QUEUE_BATCH,
    deliver_notification,
    deliver_notifications,
    send_contact_code_task,
    split_notifications,
)

RELAY_BATCH = 1000
RELAY_BATCHES = 20

logger = logging.getLogger(__name__)


# The field of a contact each channel reaches; an empty one is a channel the contact lacks.
ADDRESSES = {Notification.Channel.EMAIL: "email", Notification.Channel.SMS: "phone"}


def record_notifications(booking: Booking, kind: str, *, group=None, now=None) -> list[int]:
    """Write one pending row per channel the applicant can be reached on; queue them on commit.

    With a group, the rows are about the whole group, sent once to the contact its members
    share (`booking` is one of them); without, about the booking alone.
    Call it inside the transaction of the change it reports. A row that exists already for
    this booking or group, kind and change is left as it is, so calling it twice writes
    nothing more (a new booking's or group's: record_new_confirmation).
    Returns the ids of the rows that wait for their first attempt.
    """
    rows = _rows_per_channel(booking, kind, group, now)
    if not rows:
        return []
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    subject = {"group": group} if group is not None else {"booking": booking}
    waiting = list(
        Notification.objects.filter(
            **subject,
            kind=kind,
            sequence=rows[0].sequence,
            status=Notification.Status.PENDING,
            attempts=0,
        ).values_list("pk", flat=True)
    )
    transaction.on_commit(partial(queue_change, [(pk, 0) for pk in waiting]))
    return waiting


def record_new_confirmation(booking: Booking, *, group=None, now=None) -> list[int]:
    """Write the confirmation of a booking or group inserted in this transaction, one row per
    channel its contact has, inserted plainly (none can exist yet; on the booking's path, so
    in one lean statement: bulk.insert), due at once: the relay hands it to Celery within a
    second (relay_due): the booking request does not publish it. Returns their ids."""
    now = now or clock.now()
    rows = _rows_per_channel(booking, Notification.Kind.CONFIRMATION, group, now, due=now)
    if not rows:
        return []
    bulk.insert(rows)
    return [row.pk for row in rows]


def _rows_per_channel(booking, kind, group, now, *, due=None) -> list[Notification]:
    # The unsaved rows of one message about a booking, or its group, one per channel it has,
    # for the relay from `due` (by default once it would have been lost: queued on commit).
    subject = {"group": group} if group is not None else {"booking": booking}
    sequence = (group or booking).reschedule_count
    due = due or _lost_after(now or clock.now())
    return [
        Notification(**subject, kind=kind, channel=channel, sequence=sequence, next_attempt_at=due)
        for channel, field in ADDRESSES.items()
        if getattr(booking, field)
    ]


def record_entry_notifications(entries, kind: str, *, now=None, first=False) -> list[int]:
    """Write one pending row per channel of each ballot entry's contact about its place on the
    waiting list or an offer; queue them on commit. `entries` is a queryset of entries, a
    draw's whole waiting list written in one statement. As record_notifications: once per
    entry and kind; with first (the entries took this state in this transaction, as at
    their draw, so none can have such a row) the rows are inserted without looking for one.
    Returns the ids of the rows written."""
    now = now or clock.now()
    entry = Entry._meta
    subquery, params = entries.order_by().values("pk").query.sql_with_params()
    ids = _record_per_channel(
        prototype=Notification(kind=kind, created_at=now, next_attempt_at=_lost_after(now)),
        subjects={"entry": "s.id"},
        source=f"{connection.ops.quote_name(entry.db_table)} AS s",
        where=f"s.id IN ({subquery})",
        params=params,
        skip_conflicts=not first,
    )
    _queue_on_commit(ids)
    return ids


def record_new_confirmations(bookings: Sequence[int], *, now=None) -> list[int]:
    """Write the confirmations of many bookings or groups inserted in this transaction (a
    draw's winners) in one statement per batch, and queue them on commit in batches.
    `bookings` are ids; a group's message goes once to the contact of its first member, whose
    id stands for the group here. Returns the ids written."""
    return record_for_bookings(bookings, Notification.Kind.CONFIRMATION, now=now)


def record_for_bookings(bookings: Sequence[int], kind: str, *, now=None) -> list[int]:
    """Write one kind of message about many bookings or groups at once (a draw's winners, a
    closure's moved) and queue them on commit in batches. `bookings` are ids, a group's first
    member standing for its group; each row takes the sequence of its booking or group as it
    stands in this transaction. Returns the ids written."""
    now = now or clock.now()
    qn = connection.ops.quote_name
    booking, group = qn(Booking._meta.db_table), qn(BookingGroup._meta.db_table)
    ids = _record_per_channel(
        prototype=Notification(kind=kind, created_at=now, next_attempt_at=_lost_after(now)),
        subjects={
            "booking": "CASE WHEN s.group_id IS NULL THEN s.id END",
            "group": "s.group_id",
            "sequence": "CASE WHEN s.group_id IS NULL THEN s.reschedule_count"
            " ELSE g.reschedule_count END",
        },
        source=(
            f"given JOIN {booking} AS s ON s.id = given.booking"
            f" LEFT JOIN {group} AS g ON g.id = s.group_id"
        ),
        names=("booking",),
        rows=[(pk,) for pk in bookings],
    )
    _queue_on_commit(ids)
    return ids


def _record_per_channel(*, prototype, subjects, source, where="true", params=(), **options):
    # One row per channel of each subject `s` of source (and where) with an address on it.
    channels = " UNION ALL ".join(["SELECT %s AS channel"] * len(ADDRESSES))
    address = " ".join(f"WHEN %s THEN s.{field}" for field in ADDRESSES.values())
    found = bulk.insert_select(
        Notification,
        prototype=prototype,
        selected={**subjects, "channel": "c.channel"},
        source=(
            f"{source} CROSS JOIN ({channels}) AS c"
            f" WHERE {where} AND (CASE c.channel {address} END) <> ''"
        ),
        params=[*ADDRESSES, *params, *ADDRESSES],
        returning=("pk",),
        **options,
    )
    return [pk for (pk,) in found]


def _lost_after(now):
    # Lost on the way to the broker or in it, a row is queued again by the relay from then on.
    return now + settings.NOTIFICATION_REQUEUE_AFTER


def _queue_on_commit(ids):
    if ids:
        transaction.on_commit(partial(queue_batches, [(pk, 0) for pk in ids]))


def queue_change(notifications: Iterable[tuple[int, int]]) -> int:
    """Hand the (id, attempts) pairs of one booking change to Celery as one message.

    One message for the e-mail and the SMS of a change: a booking publishes once, not once
    per channel (publishing was a fifth of a booking's time). A row that fails is retried on
    its own. Never raises, for the reasons of queue_delivery; returns how many were queued.
    """
    return queue_batches(notifications)


def queue_batches(notifications: Iterable[tuple[int, int]]) -> int:
    """Hand many (id, attempts) pairs to Celery in one message: up to QUEUE_BATCH for delivery,
    more for a worker to split into such (tasks.split_notifications). Returns how many were
    queued. Never raises, for the reasons of queue_delivery."""
    pairs = list(notifications)
    task = deliver_notifications if len(pairs) <= QUEUE_BATCH else split_notifications
    try:
        # A short argsrepr: Celery would otherwise format every pair for its logs.
        task.apply_async((pairs,), argsrepr=f"({len(pairs)} notifications)")
    except Exception as exc:  # noqa: BLE001 - any broker error; the relay re-queues
        ids = ", ".join(str(pk) for pk, _attempts in pairs)
        logger.warning("notifications %s not queued (%r); the relay will retry", ids, exc)
        return 0
    return len(pairs)


def queue_delivery(notifications: Iterable[tuple[int, int]]) -> int:
    """Hand (id, attempts) pairs to Celery, a message each; return how many were queued.

    Never raises: this runs after the booking has committed, and a broker outage must not
    turn a booking that succeeded into an error page. What was not queued stays pending in
    the outbox and the relay (relay_due) queues it when the broker is back.
    """
    queued = 0
    for pk, attempts in notifications:
        try:
            deliver_notification.delay(pk, attempts)
        except Exception as exc:  # noqa: BLE001 - any broker error; the relay re-queues
            # Stop at the first failure: each further try would wait for the same dead broker.
            logger.warning("notification %s not queued (%r); the relay will retry", pk, exc)
            break
        queued += 1
    return queued


def relay_due(*, now=None) -> int:
    """Hand to Celery the pending notifications whose attempt is due, and put their next one
    NOTIFICATION_REQUEUE_AFTER later; return how many. Beat runs it every second.

    Due: a new booking's confirmation, at once (record_new_confirmation); a row queued on
    commit, once the grace has passed without a delivery (written while the broker was
    down, or lost on the way or in it); after a failure, its back-off plus that grace (its
    own retry should have run by then); the long tail after the last quick retry. In
    batches of RELAY_BATCH, up to RELAY_BATCHES a run (a rush writes thousands a second);
    it stops at a broker that refuses. Rows another run is handing on are skipped
    (PostgreSQL); a duplicate is harmless anyway (deliver).
    """
    now = now or clock.now()
    handed = 0
    for _batch in range(RELAY_BATCHES):
        due = _claim_due(now)
        queued = queue_batches(due) if due else 0
        handed += queued
        if len(due) < RELAY_BATCH or not queued:
            break
    return handed


def _claim_due(now) -> list[tuple[int, int]]:
    # The (id, attempts) of a batch of due rows, their next attempt moved past the grace.
    with transaction.atomic():
        due = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status=Notification.Status.PENDING, next_attempt_at__lt=now)
            .order_by("next_attempt_at")
            .values_list("pk", "attempts")[:RELAY_BATCH]
        )
        if due:
            Notification.objects.filter(pk__in=[pk for pk, _attempts in due]).update(
                next_attempt_at=_lost_after(now)
            )
    return due


def retry_notification(*, notification: Notification) -> Notification:
    """Give a failed notification a fresh set of attempts and queue it when this commits.

    For the admin's "retry" action. Raises ValidationError coded not_failed if the
    notification has not failed.
    """
    with transaction.atomic():
        notification = Notification.objects.select_for_update().get(pk=notification.pk)
        if notification.status != Notification.Status.FAILED:
            raise ValidationError(
                _("Only a message that failed can be sent again."), code="not_failed"
            )
        _send_again([notification.pk])
    notification.refresh_from_db()
    return notification


def retry_failed_of_day(*, office, day) -> int:
    """Give every failed message about an office-day's bookings and groups fresh attempts.

    For the staff's "send again" on the day's page, after an SMS gateway or mail server
    outage. Returns how many will be sent again when this commits.
    """
    groups = Booking.objects.filter(office=office, date=day, group__isnull=False).values("group")
    with transaction.atomic():
        pks = list(
            # of=self: the booking is joined on the nullable side, which PostgreSQL cannot lock.
            Notification.objects.select_for_update(of=("self",))
            .filter(
                Q(booking__office=office, booking__date=day) | Q(group__in=groups),
                status=Notification.Status.FAILED,
            )
            .values_list("pk", flat=True)
        )
        _send_again(pks)
    return len(pks)


def _send_again(pks):
    # last_error stays until the next attempt, for staff to read.
    Notification.objects.filter(pk__in=pks).update(
        status=Notification.Status.PENDING,
        attempts=0,
        next_attempt_at=clock.now() + settings.NOTIFICATION_REQUEUE_AFTER,
    )
    transaction.on_commit(lambda: queue_delivery([(pk, 0) for pk in pks]))


def queue_contact_code(check_id: int, code: str) -> bool:
    """Hand a one-time code to Celery to send (after the commit of its check). Never raises:
    the applicant can ask for a new code; the code itself is never logged."""
    try:
        send_contact_code_task.delay(check_id, code)
    except Exception as exc:  # noqa: BLE001 - any broker error
        logger.warning("contact code %s not queued (%s)", check_id, type(exc).__name__)
        return False
    return True
