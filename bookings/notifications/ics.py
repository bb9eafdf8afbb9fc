"""An appointment as an iCalendar (.ics) event, for calendars and e-mail attachments."""

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event


def booking_ics(booking) -> bytes:
    """Return an .ics file with one event at the booking's office and window."""
    description = _(
        "Booking code: %(code)s. Bring your KTP, Kartu Keluarga and supporting documents."
    ) % {"code": booking.code}
    return _ics(booking, booking, description, f"{settings.SITE_URL}/bookings/{booking.code}/")


def group_ics(group, members) -> bytes:
    """Return an .ics file with one event for a group: its window, every member's code."""
    codes = "; ".join(f"{member.full_name}: {member.code}" for member in members)
    description = _(
        "Group code: %(code)s. Booking codes: %(codes)s. Each applicant brings their KTP, "
        "Kartu Keluarga and supporting documents."
    ) % {"code": group.code, "codes": codes}
    return _ics(group, members[0], description, f"{settings.SITE_URL}/groups/{group.code}/")


def _ics(subject, booking, description, url) -> bytes:
    # subject: what the event is (its code and sequence); booking: where and when.
    calendar = Calendar()
    calendar.add("prodid", "-//Antrean Paspor//antrean//ID")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{subject.code}@antrean")
    event.add("sequence", subject.reschedule_count)
    event.add("dtstamp", timezone.now())
    event.add("dtstart", booking.starts_at)
    event.add("dtend", booking.ends_at)
    event.add("summary", _("Passport appointment at %(office)s") % {"office": booking.office.name})
    event.add("location", f"{booking.office.name}, {booking.office.address}")
    event.add("description", description)
    event.add("url", url)
    if booking.status == "cancelled":
        event.add("status", "CANCELLED")
    calendar.add_component(event)
    return calendar.to_ical()
