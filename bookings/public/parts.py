"""Pages a crowd asks for over and over, rendered once and kept briefly."""

from django.contrib.messages import get_messages
from django.core.cache import caches
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import get_language

from bookings.availability import keep_briefly


def kept_page(request, key: str, template: str, context, *, status=200) -> HttpResponse:
    """Answer with `template` rendered with `context()`, kept for AVAILABILITY_CACHE_SECONDS
    in this process under its key and the active language, as the places it shows are.

    Only for pages that show nothing of who asks: no form, no session, no CSRF token. The
    key names the page whatever its link carried (a tracking parameter, say), and
    `context()` gives `page_path`, the address the language switch comes back to. A visitor
    with a message waiting gets the page rendered for them alone.
    """
    if len(get_messages(request)):
        return render(request, template, context(), status=status)
    content = keep_briefly(
        f"page:{key}:{get_language()}",
        lambda: render_to_string(template, context(), request).encode(),
        kept_in=caches["fragments"],
    )
    return HttpResponse(content, status=status)
