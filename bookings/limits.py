"""Rate limits per client address: one bucket per kind of action, shared by the pages and the
API, so switching between them gains nothing. Kept in the shared cache (RATELIMIT_USE_CACHE)."""

from django.conf import settings

# Making a booking or a ballot entry; looking one up, cancelling or withdrawing it.
BOOKING = "booking"
LOOKUP = "lookup"
# django-ratelimit reads a rate given as a dotted path at each request: settings may change.
BOOKING_RATE = "bookings.limits.booking_rate"
LOOKUP_RATE = "bookings.limits.lookup_rate"


def booking_rate(group, request):
    return settings.RATELIMIT_BOOKING


def lookup_rate(group, request):
    return settings.RATELIMIT_LOOKUP
