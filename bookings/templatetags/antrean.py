"""Dates, sessions and fees in the applicant's language and office zone; the language switch."""

from datetime import date
from functools import cache, lru_cache
from urllib.parse import quote

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.html import format_html_join
from django.utils.translation import get_language, get_language_info

register = template.Library()


def _time(value):
    separator = "." if (get_language() or "id").startswith("id") else ":"
    return f"{value:%H}{separator}{value:%M}"


@register.filter
def long_date(value):
    """Return 'Rabu, 6 September 2017' (or 'Wednesday, 6 September 2017')."""
    if not value:
        return ""
    if type(value) is date:  # not a datetime: equal instants in two zones are two days
        return _long_day(value, get_language())
    return date_format(value, "l, j F Y")


@lru_cache(maxsize=1024)
def _long_day(day, language):
    # Django's date format takes longer than the rest of a page's heading, and a crowd asks
    # for the same few days: each is formatted once per language and process.
    return date_format(day, "l, j F Y")


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


@register.simple_tag
def language_switch(language, back):
    """Return the links that show the page at `back` in the site's other languages, each
    named in itself."""
    query = quote(back, safe="/")
    return format_html_join(
        "",
        '<a href="{}?next={}" class="btn btn-light btn-sm" lang="{}" hreflang="{}" '
        'rel="nofollow">{}</a>',
        ((url, query, code, code, name) for code, url, name in _other_languages(language)),
    )


@cache
def _other_languages(language) -> tuple:
    # Every page not kept whole draws the switch: reversing its address each time cost as
    # much as a fifth of /healthz.
    return tuple(
        (code, reverse("language", args=[code]), get_language_info(code)["name_local"])
        for code, _name in settings.LANGUAGES
        if code != language
    )
