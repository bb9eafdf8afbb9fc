"""The booking as an iCalendar (.ics) event, for calendars and e-mail attachments."""

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event


def booking_ics(booking) -> bytes:
    """Return an .ics file with one event at the booking's office and window."""
    calendar = Calendar()
    calendar.add("prodid", "-//Antrean Paspor//antrean//ID")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{booking.code}@antrean")
    event.add("sequence", booking.reschedule_count)
    event.add("dtstamp", timezone.now())
    event.add("dtstart", booking.starts_at)
    event.add("dtend", booking.ends_at)
    event.add("summary", _("Passport appointment at %(office)s") % {"office": booking.office.name})
    event.add("location", f"{booking.office.name}, {booking.office.address}")
    event.add(
        "description",
        _("Booking code: %(code)s. Bring your KTP, Kartu Keluarga and supporting documents.")
        % {"code": booking.code},
    )
    event.add("url", f"{settings.SITE_URL}/bookings/{booking.code}/")
    if booking.status == "cancelled":
        event.add("status", "CANCELLED")
    calendar.add_component(event)
    return calendar.to_ical()
