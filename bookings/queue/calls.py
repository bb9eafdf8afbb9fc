"""Every change of a visit at a counter: sign in, call next, recall, skip, start, finish.

The staff's today page and the API call these and never change a visit themselves. Calls at
one office wait on the office-day's lock one at a time, so the order they follow is the one
bookings.queue.order decides and two counters never call the same applicant; each change is
also a conditional UPDATE, so a stale page cannot act on a visit that has moved on.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from offices import clock, places
from offices.models import Counter

from ..models import Visit
from . import board, order

MESSAGES = {
    "not_signed_in": _("Sign in to this counter first."),
    "not_interview_counter": _(
        "This counter does not give photo and interview, so it calls no queue numbers. "
        "Change its services in the counters' settings."
    ),
    "counter_busy": _(
        "This counter is still serving %(number)s. Finish or skip that applicant first."
    ),
    "nobody_called": _("This counter has called nobody."),
    "already_serving": _("%(number)s is already being served."),
    "counter_occupied": _("Finish or skip %(number)s before signing out."),
}


def _error(code, **params):
    return ValidationError(MESSAGES[code], code=code, params=params or None)


def sign_in(*, counter: Counter, by, now=None) -> Counter:
    """Sign a clerk in to a counter, out of any other, and in place of whoever was signed in."""
    with transaction.atomic():
        elsewhere = Counter.objects.filter(clerk=by).exclude(pk=counter.pk)
        for left in elsewhere.select_related("office"):
            _forget_today(left, now)
        elsewhere.update(clerk=None)
        Counter.objects.filter(pk=counter.pk).update(clerk=by)
        _forget_today(counter, now)
    counter.clerk = by
    return counter


def sign_out(*, counter: Counter, by, now=None) -> None:
    """Sign the clerk out of their counter once nobody is called to it."""
    with transaction.atomic():
        current = _at_counter(counter)
        if current is not None:
            raise _error("counter_occupied", number=current.booking.queue_number)
        Counter.objects.filter(pk=counter.pk, clerk=by).update(clerk=None)
        _forget_today(counter, now)


def _forget_today(counter, now):
    board.forget(counter.office_id, clock.office_today(counter.office, now))


def at_counter(counter: Counter) -> Visit | None:
    """Return the visit called to a counter and not yet finished, with its booking."""
    return _at_counter(counter, lock=False)


def _at_counter(counter, *, lock=True):
    visits = Visit.objects.select_related("booking", "booking__window").filter(
        counter=counter, state__in=Visit.AT_COUNTER
    )
    if lock:
        visits = visits.select_for_update(of=("self",))
    return visits.first()


def _heads(office, day, now) -> dict[str, Visit]:
    """Return the first applicant of each line who may be called now, by their place in it."""
    heads = {}
    for line in (order.PRIORITY, order.ONLINE, order.WALK_IN):
        waiting = Visit.objects.filter(
            office=office, date=day, state=Visit.State.WAITING, line=line
        )
        if line == order.ONLINE:
            waiting = waiting.filter(queued_at__lte=now)  # early arrivals wait for their window
        head = waiting.order_by("queued_at", "pk").first()
        if head is not None:
            heads[line] = head
    return heads


def _recent_lines(office, day, policy) -> list[str]:
    called = Visit.objects.filter(office=office, date=day, last_called_at__isnull=False)
    latest = called.order_by("-last_called_at", "-pk").values_list("line", flat=True)
    return list(latest[: order.recent_needed(policy)])


def call_next(*, counter: Counter, by, now=None) -> Visit | None:
    """Call the next applicant to a counter, chosen by the office's rule; None if nobody can be
    called now. Raises ValidationError coded not_signed_in, not_interview_counter or
    counter_busy."""
    now = now or clock.now()
    office = counter.office
    day = clock.office_today(office, now)
    policy = order.Policy.of(office)
    with transaction.atomic():
        if not places.lock_day(office, day):
            return None  # nobody checked in today: the day has no row yet
        counter = Counter.objects.get(pk=counter.pk)
        if counter.clerk_id != by.pk:
            raise _error("not_signed_in")
        if not counter.interview:
            raise _error("not_interview_counter")
        current = _at_counter(counter)
        if current is not None:
            raise _error("counter_busy", number=current.booking.queue_number)
        heads = _heads(office, day, now)
        line = order.next_line(set(heads), _recent_lines(office, day, policy), policy)
        if line is None:
            return None
        chosen = heads[line]
        Visit.objects.filter(pk=chosen.pk, state=Visit.State.WAITING).update(
            state=Visit.State.CALLED,
            counter=counter,
            called_by=by,
            calls=F("calls") + 1,
            called_at=Coalesce(F("called_at"), now),
            last_called_at=now,
        )
        board.forget(office.pk, day)
    return _at_counter(counter, lock=False)


def _change(counter, by, states, **changes) -> Visit:
    with transaction.atomic():
        if not Counter.objects.filter(pk=counter.pk, clerk=by).exists():
            raise _error("not_signed_in")
        visit = _at_counter(counter)
        if visit is None:
            raise _error("nobody_called")
        if visit.state not in states:
            raise _error("already_serving", number=visit.booking.queue_number)
        Visit.objects.filter(pk=visit.pk).update(**changes)
        board.forget(visit.office_id, visit.date)
    visit.refresh_from_db()
    return visit


def recall(*, counter: Counter, by) -> Visit:
    """Call the applicant at a counter once more (the display shows the number again)."""
    return _change(counter, by, {Visit.State.CALLED}, calls=F("calls") + 1)


def start(*, counter: Counter, by, now=None) -> Visit:
    """Start serving the applicant called to a counter."""
    now = now or clock.now()
    return _change(counter, by, {Visit.State.CALLED}, state=Visit.State.SERVING, serving_at=now)


def finish(*, counter: Counter, by, now=None) -> Visit:
    """Finish serving the applicant at a counter; one never started is taken as served from
    their call."""
    now = now or clock.now()
    return _change(
        counter,
        by,
        set(Visit.AT_COUNTER),
        state=Visit.State.DONE,
        serving_at=Coalesce(F("serving_at"), F("last_called_at")),
        finished_at=now,
    )


def skip(*, counter: Counter, by, now=None) -> Visit:
    """Skip an applicant who does not answer: to the back of their line, or, after the office's
    skips_before_no_show, marked as not answering."""
    now = now or clock.now()
    with transaction.atomic():
        visit = _at_counter(counter)
        if visit is None or not Counter.objects.filter(pk=counter.pk, clerk=by).exists():
            raise _error("nobody_called" if visit is None else "not_signed_in")
        if visit.state != Visit.State.CALLED:
            raise _error("counter_busy", number=visit.booking.queue_number)
        if visit.skips + 1 >= counter.office.skips_before_no_show:
            changes = {"state": Visit.State.MISSED, "finished_at": now}
        else:
            changes = {"state": Visit.State.WAITING, "counter": None, "queued_at": now}
        Visit.objects.filter(pk=visit.pk).update(skips=F("skips") + 1, **changes)
        board.forget(visit.office_id, visit.date)
    visit.refresh_from_db()
    return visit
