"""What a message says: the e-mail (text, HTML, .ics) and the SMS, in the applicant's language.

A message about a group goes once to the contact its members share and names every member
it concerns, each with their own booking code.
"""

import unicodedata

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Prefetch, prefetch_related_objects
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext_lazy as _

from bookings.models import Booking, ClosureMove, Notification
from offices.models import PassportFee

from .ics import booking_ics, group_ics
from .links import booking_link, offer_link

CALENDAR_KINDS = frozenset(
    {Notification.Kind.CONFIRMATION, Notification.Kind.RESCHEDULE, Notification.Kind.MOVED}
)
CLOSURE_KINDS = frozenset({Notification.Kind.MOVED, Notification.Kind.CLOSED})
# A message about bookings that are cancelled by it: it names them, and is sent anyway.
CANCELLING_KINDS = frozenset({Notification.Kind.CANCELLATION, Notification.Kind.CLOSED})

# A group's members with what their messages show, in the order they were entered: fetched
# with the notification in one query, whatever the size of the group.
GROUP_MEMBERS = Prefetch(
    "group__members", queryset=Booking.objects.select_related("office", "window").order_by("pk")
)


# The papers every applicant brings, alone or in a group, besides their own KTP-el.
PAPERS = (
    _("Kartu Keluarga (family card)"),
    _("Birth certificate, school diploma or marriage book"),
)


def documents(booking) -> list:
    """Return what the applicant brings to the office for this application."""
    items = [_("Your KTP-el (electronic identity card)"), *PAPERS]
    if booking.application_type == Booking.ApplicationType.RENEWAL:
        items.append(_("Your old passport"))
    items.append(_("This booking code, on paper or on your phone"))
    return items


def group_documents(members) -> list:
    """Return what each applicant of a group brings: the same papers, their own code."""
    items = [_("KTP-el (electronic identity card)"), *PAPERS]
    if any(m.application_type == Booking.ApplicationType.RENEWAL for m in members):
        items.append(_("For a passport renewal: the old passport"))
    items.append(_("Their own booking code, on paper or on a phone"))
    return items


def members_of(notification) -> list[Booking]:
    """Return every member of a group message's group, in the order they were entered."""
    prefetch_related_objects([notification], GROUP_MEMBERS)  # nothing left once fetched
    return list(notification.group.members.all())


def addressee(notification):
    """Return what holds the contact and language a message uses: the booking, a group's first
    member, or the ballot entry."""
    # Members share the contact and the language; a group all of whose members left has none.
    if notification.entry_id is not None:
        return notification.entry
    if notification.group_id is None:
        return notification.booking
    return next(iter(members_of(notification)), None)


def concerned(notification) -> list[Booking]:
    """Return the members a group message names.

    A cancellation names those it cancelled: all at one moment, the latest (a member
    cancelled alone before was told alone). Any other kind names those still booked.
    """
    members = members_of(notification)
    if notification.kind in CANCELLING_KINDS:
        cancelled = [m for m in members if m.status == Booking.Status.CANCELLED and m.cancelled_at]
        last = max((m.cancelled_at for m in cancelled), default=None)
        return [m for m in cancelled if m.cancelled_at == last]
    return [m for m in members if m.status == Booking.Status.BOOKED]


def _clock(value):
    separator = "." if (translation.get_language() or "id").startswith("id") else ":"
    return f"{value:%H}{separator}{value:%M}"


def short_appointment(booking) -> str:
    """Return 'Rab 6 Sep 2017 08.00-10.00 WIB': the appointment in a few plain characters."""
    office = booking.office
    start, end = booking.starts_at.astimezone(office.zone), booking.ends_at.astimezone(office.zone)
    # A hyphen, not an en dash: one character outside the GSM alphabet halves an SMS.
    return (
        f"{date_format(booking.date, 'D j M Y')} {_clock(start)}-{_clock(end)} "
        f"{office.zone_abbreviation}"
    )


def plain_name(name: str) -> str:
    """Return a name in plain Latin letters, for an SMS."""
    # A KTP name may carry a mark (Ş) outside the GSM alphabet, which would halve the SMS.
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()


def message_context(notification, *, now=None) -> dict:
    """Return what the message templates show; call it in the applicant's language."""
    booking = notification.booking
    fee = PassportFee.objects.filter(passport_type=booking.passport_type).first()
    return {
        "booking": booking,
        "office": booking.office,
        "kind": notification.kind,
        "fee": fee,
        "documents": documents(booking),
        "link": booking_link(booking, now=now),
        "site_url": settings.SITE_URL,
        "short_appointment": short_appointment(booking),
        "has_calendar": notification.kind in CALENDAR_KINDS,
        "move": _closure_move(notification, booking),
    }


def group_context(notification, *, now=None) -> dict:
    """Return what a group message's templates show; call it in the contact's language."""
    group = notification.group
    # Nobody concerned any more: delivery drops such a message (obsolete_reason); shown
    # anyway, it names every member.
    members = concerned(notification) or members_of(notification)
    fees = dict(
        PassportFee.objects.filter(
            passport_type__in={m.passport_type for m in members}
        ).values_list("passport_type", "amount")
    )
    first = members[0]  # members share the office, day and window
    return {
        "group": group,
        "contact": addressee(notification),
        "first": first,
        "applicants": [{"booking": m, "fee": fees.get(m.passport_type)} for m in members],
        "sms_applicants": ", ".join(f"{plain_name(m.full_name)} {m.code}" for m in members),
        "office": first.office,
        "kind": notification.kind,
        "documents": group_documents(members),
        "link": booking_link(group, now=now),
        "site_url": settings.SITE_URL,
        "short_appointment": short_appointment(first),
        "has_calendar": notification.kind in CALENDAR_KINDS,
        "members": members,
        "move": _closure_move(notification, first),
    }


def _closure_move(notification, booking):
    # What a closure did, for its messages: the day closed, the reason, the time to choose.
    if notification.kind not in CLOSURE_KINDS:
        return None
    return ClosureMove.objects.latest_for(booking)


def entry_context(notification, *, now=None) -> dict:
    """Return what a ballot entry's message shows: its waiting-list place, or the offer."""
    entry = notification.entry
    release = entry.release
    offer = entry.offers.select_related("window").order_by("-made_at").first()
    ballot = f"{settings.SITE_URL.rstrip('/')}/ballots/{release.pk}/?code={entry.code}"
    return {
        "entry": entry,
        "names": [a.full_name for a in entry.applicants.all()],
        "release": release,
        "office": release.office,
        "kind": notification.kind,
        "offer": offer,
        "offer_link": offer_link(offer) if offer else "",
        "offer_expires": offer.expires_at.astimezone(release.office.zone) if offer else None,
        "short_offer": _short_session(release.office, offer.day, offer.window) if offer else "",
        "ballot_link": ballot,
        "site_url": settings.SITE_URL,
        "has_calendar": False,
    }


def _short_session(office, day, window) -> str:
    return (
        f"{date_format(day, 'D j M Y')} {_clock(window.start)}-{_clock(window.end)} "
        f"{office.zone_abbreviation}"
    )


def _templates_and_context(notification, *, now=None):
    if notification.entry_id is not None:
        return "entry_", entry_context(notification, now=now)
    if notification.group_id is None:
        return "", message_context(notification, now=now)
    return "group_", group_context(notification, now=now)


def _calendar(notification, context) -> tuple[str, bytes]:
    if notification.group_id is None:
        booking = context["booking"]
        return f"antrean-{booking.code}.ics", booking_ics(booking)
    group = context["group"]
    return f"antrean-{group.code}.ics", group_ics(group, context["members"])


def email_message(notification, *, now=None) -> EmailMultiAlternatives:
    """Return the e-mail (text, HTML, .ics for a new schedule) in the applicant's language."""
    to = addressee(notification)
    with translation.override(to.language):
        prefix, context = _templates_and_context(notification, now=now)
        folder = "bookings/notifications/email/"
        subject = " ".join(render_to_string(f"{folder}{prefix}subject.txt", context).split())
        text = render_to_string(f"{folder}{prefix}message.txt", context)
        html = render_to_string(f"{folder}{prefix}message.html", context)
        message = EmailMultiAlternatives(
            subject, text, to=[to.email], headers={"Content-Language": to.language}
        )
        message.attach_alternative(html, "text/html")
        if context["has_calendar"]:
            message.attach(*_calendar(notification, context), "text/calendar")
    return message


def sms_text(notification) -> str:
    """Return the short text message in the applicant's language (one SMS where it fits)."""
    with translation.override(addressee(notification).language):
        prefix, context = _templates_and_context(notification)
        text = render_to_string(f"bookings/notifications/sms/{prefix}message.txt", context)
        return " ".join(text.split())
