"""Template filters for dates, sessions and fees in the applicant's language and office zone."""

from django import template
from django.utils.dateformat import format as date_format
from django.utils.translation import get_language

register = template.Library()


def _time(value):
    separator = "." if (get_language() or "id").startswith("id") else ":"
    return f"{value:%H}{separator}{value:%M}"


@register.filter
def long_date(value):
    """Return 'Rabu, 6 September 2017' (or 'Wednesday, 6 September 2017')."""
    return date_format(value, "l, j F Y") if value else ""


@register.filter
def session(window):
    """Return a window's span: '08.00–10.00' in Indonesian, '08:00–10:00' in English."""
    return f"{_time(window.start)}–{_time(window.end)}" if window else ""


@register.filter
def clock_time(value):
    """Return a time of day: '14.00' in Indonesian, '14:00' in English."""
    return _time(value)


@register.filter
def local_time(value, office):
    """Return 'Jumat, 1 September 2017, 14.00 WIB': an instant in the office's own time."""
    local = value.astimezone(office.zone)
    return f"{long_date(local.date())}, {_time(local)} {office.zone_abbreviation}"


@register.filter
def appointment(booking):
    """Return 'Rabu, 6 September 2017, 08.00–10.00 WIB' for a booking."""
    zone = booking.office.zone_abbreviation
    if booking.window_id:
        return f"{long_date(booking.date)}, {session(booking.window)} {zone}"
    return f"{long_date(booking.date)} ({zone})"


@register.filter
def rupiah(amount):
    """Return 'Rp 350.000': a dot groups thousands."""
    if amount is None:
        return ""
    return "Rp " + f"{int(amount):,}".replace(",", ".")
