"""The client's address, read one way by the rate limits and the admin lock-out."""

import hashlib
import hmac

from django.conf import settings


def client_ip(request) -> str:
    """Return the address in CLIENT_IP_META_KEY: REMOTE_ADDR, or the proxy's header behind one.

    Of a list (X-Forwarded-For), the last entry: the one our own proxy added.
    """
    value = request.META.get(settings.CLIENT_IP_META_KEY) or request.META.get("REMOTE_ADDR", "")
    return value.split(",")[-1].strip()


def client_key(request) -> str:
    """Return a short keyed hash of the client address: bookings from one address can be
    grouped for staff without the address itself being kept."""
    secret = hashlib.sha256(f"client:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(secret, client_ip(request).encode(), hashlib.sha256).hexdigest()[:16]
