"""The address browsers ask for an icon when a page names none (admin, print, JSON pages)."""

from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET


@cache_control(max_age=86400, public=True)  # a day: the icon's own URL changes with its content
@require_GET
def favicon(request):
    """Send the browser to the site's icon (the SVG base.html links), not to a 404."""
    return redirect(static("img/favicon.svg"))
