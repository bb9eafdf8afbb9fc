"""What a message says: the e-mail (text, HTML, .ics) and the SMS, in the applicant's language."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext_lazy as _

from bookings.models import Booking, Notification
from offices.models import PassportFee

from .ics import booking_ics
from .links import booking_link

CALENDAR_KINDS = frozenset({Notification.Kind.CONFIRMATION, Notification.Kind.RESCHEDULE})


def documents(booking) -> list:
    """Return what the applicant brings to the office for this application."""
    items = [
        _("Your KTP-el (electronic identity card)"),
        _("Kartu Keluarga (family card)"),
        _("Birth certificate, school diploma or marriage book"),
    ]
    if booking.application_type == Booking.ApplicationType.RENEWAL:
        items.append(_("Your old passport"))
    items.append(_("This booking code, on paper or on your phone"))
    return items


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
    }


def email_message(notification, *, now=None) -> EmailMultiAlternatives:
    """Return the e-mail (text, HTML, .ics for a new schedule) in the booking's language."""
    booking = notification.booking
    with translation.override(booking.language):
        context = message_context(notification, now=now)
        subject = " ".join(
            render_to_string("bookings/notifications/email/subject.txt", context).split()
        )
        text = render_to_string("bookings/notifications/email/message.txt", context)
        html = render_to_string("bookings/notifications/email/message.html", context)
        message = EmailMultiAlternatives(
            subject, text, to=[booking.email], headers={"Content-Language": booking.language}
        )
        message.attach_alternative(html, "text/html")
        if context["has_calendar"]:
            message.attach(f"antrean-{booking.code}.ics", booking_ics(booking), "text/calendar")
    return message


def sms_text(notification) -> str:
    """Return the short text message in the booking's language (one SMS where it fits)."""
    with translation.override(notification.booking.language):
        context = message_context(notification)
        return " ".join(render_to_string("bookings/notifications/sms/message.txt", context).split())
