"""Parts of the public pages a crowd asks for over and over, rendered once and kept briefly."""

from django.template.loader import render_to_string
from django.utils.translation import get_language

from bookings.availability import keep_briefly


def kept_part(name: str, key: str, template: str, context) -> str:
    """Return `template` rendered with `context()`, kept for AVAILABILITY_CACHE_SECONDS under
    its name, key and the active language, as the places it shows are.

    Rendered without the request: a part shows nothing of who asks (no CSRF token, no session).
    """
    return keep_briefly(
        f"part:{name}:{key}:{get_language()}",
        lambda: render_to_string(template, context()),
    )
